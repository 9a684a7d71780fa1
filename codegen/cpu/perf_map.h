// Symbols for Linux perf: with LOOM_PERF_MAP=1 in the environment, every function the
// CPU JIT links (each executable's entry and kernels) is appended to
// /tmp/perf-<pid>.map as "start size loom:name", the file `perf report` reads for code
// that no file on disk holds. Starts and sizes are the linker's, so a sample is never
// charged to a neighbouring function.
#pragma once

#include <string>

namespace llvm::orc {
class LLJIT;
}

namespace loom::codegen {

// Adds the map writer to the JIT's linker when LOOM_PERF_MAP=1. Returns whether it did.
bool attach_perf_map(llvm::orc::LLJIT& jit);

// This process's map file.
std::string perf_map_path();

} // namespace loom::codegen
