// Symbols for Linux perf: with LOOM_PERF_MAP=1 in the environment, every function the
// CPU JIT links (each executable's entry and kernels) is appended to
// /tmp/perf-<pid>.map as "start size loom:name", the file `perf report` reads for code
// that no file on disk holds. Starts and sizes are the linker's, so a sample is never
// charged to a neighbouring function.
#pragma once

namespace llvm {
class Module;
namespace orc {
class LLJIT;
}
} // namespace llvm

namespace loom::codegen {

// Adds the map writer to the JIT's linker when LOOM_PERF_MAP=1. Returns whether it did.
bool attach_perf_map(llvm::orc::LLJIT& jit);

// When LOOM_PERF_MAP=1, links m's kernels as external symbols: the JIT's linker drops
// the names of internal ones. Call before adding m to the JIT.
void keep_kernel_names_for_perf(llvm::Module& m);

} // namespace loom::codegen
