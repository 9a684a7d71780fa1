// The compile() driver: one entry point for every target.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "runtime/executable.h"

namespace loom {

struct CompileOptions {
  std::string target = "interp"; // "interp"; later "cpu", "cuda"
};

// Compiles a private copy of `fn` (later changes to fn do not affect the result).
// Throws Error(Unsupported) for an unknown target, Error(VerifyError) for invalid IR.
std::unique_ptr<Executable> compile(const ir::Function& fn, const CompileOptions& options = {});

// Targets this build can compile for.
std::vector<std::string> available_targets();

} // namespace loom
