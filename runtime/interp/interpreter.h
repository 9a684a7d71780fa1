// The reference interpreter: defines loom's semantics (docs/ops.md) and is the
// oracle every backend is tested against.
#pragma once

#include <memory>
#include <vector>

#include "ir/ir.h"
#include "runtime/executable.h"

namespace loom::interp {

// Evaluates `fn` on arguments in parameter order; returns outputs in order.
// Arguments must already match the parameter types (Executable::run checks that).
std::vector<Tensor> evaluate(const ir::Function& fn, const std::vector<Tensor>& args);

// Executable that interprets a private copy of a function.
std::unique_ptr<Executable> make_interpreter_executable(const ir::Function& fn);

} // namespace loom::interp
