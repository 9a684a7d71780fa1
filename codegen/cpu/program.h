// Lowers a whole (optimized) function to one LLVM module: one kernel per group plus
// the entry function that runs them in schedule order over the function's buffers.
#pragma once

#include <llvm/IR/Module.h>

#include <memory>
#include <string>

#include "ir/ir.h"

namespace loom::codegen {

struct LoweredProgram {
  std::unique_ptr<llvm::Module> module;
  int64_t arena_bytes = 0;
  int kernels = 0;           // generated loop kernels
  int library_calls = 0;     // BLAS / runtime library calls
  int interpreter_calls = 0; // groups run on the reference interpreter
};

// fn must be verified; it is not modified.
// `donated` pairs a parameter with the value written into its buffer: reads of such a
// parameter are never deferred past that value's node.
using Donation = std::pair<const ir::Value*, const ir::Value*>; // (parameter, value)
LoweredProgram lower_program(const ir::Function& fn, llvm::LLVMContext& ctx,
                             const std::string& entry_name,
                             const std::vector<Donation>& donated = {});

} // namespace loom::codegen
