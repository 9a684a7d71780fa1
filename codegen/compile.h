// The compile() driver: one entry point for every target.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "runtime/executable.h"

namespace loom {

struct CompileOptions {
  std::string target = "interp"; // "interp" or "cpu"
  // Outputs that update an input (Function::output_aliases, e.g. a training step's new
  // parameters) are written into that input's buffer when the memory planner finds it
  // safe, and the returned output shares the input's storage: the caller's input tensor
  // is updated in place (JAX's donated arguments). Off by default.
  bool donate_inputs = false;
};

// Compiles a private copy of `fn` (later changes to fn do not affect the result).
// Throws Error(Unsupported) for an unknown target, Error(VerifyError) for invalid IR.
std::unique_ptr<Executable> compile(const ir::Function& fn, const CompileOptions& options = {});

// Targets this build can compile for.
std::vector<std::string> available_targets();

} // namespace loom
