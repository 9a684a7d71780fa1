// The CPU backend: IR -> LLVM IR -> native code (ORC JIT in-process, or an object file).
// LLVM stays behind this interface: nothing here includes LLVM headers.
#pragma once

#include <memory>
#include <string>

#include "ir/ir.h"
#include "runtime/executable.h"

namespace loom::codegen {

struct CpuOptions {
  std::string pipeline = "O2"; // loom pass pipeline level run before lowering
  std::string entry_name = "loom_entry";
  bool donate_inputs = false; // see CompileOptions::donate_inputs
};

// JIT-compiles a private copy of fn.
std::unique_ptr<Executable> compile_cpu(const ir::Function& fn, const CpuOptions& options = {});

// The optimized LLVM IR of fn's CPU code (what compile_cpu runs).
std::string emit_cpu_llvm_ir(const ir::Function& fn, const CpuOptions& options = {});

// Writes a host object file defining
//   int32_t <entry_name>(void* const* inputs, void* const* outputs, uint8_t* arena)
// (link with the loom runtime library) and returns the arena size it needs in bytes.
int64_t emit_cpu_object(const ir::Function& fn, const std::string& path,
                        const CpuOptions& options = {});

// The CPU backend's rewrites that run before loom's pass pipeline (compile_cpu and
// the emitters run them too; tools that print the optimized IR call this first).
void prepare_for_cpu(ir::Function& fn);

// Which ops the CPU backend lowers to generated code or calls for directly (the rest
// run on the interpreter's kernels inside compiled executables).
bool cpu_supports(Op op);

} // namespace loom::codegen
