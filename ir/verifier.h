// IR invariant checker, run after parsing, deserializing and (in tests and debug
// builds) after every pass.
#pragma once

#include "ir/ir.h"

namespace loom::ir {

// Checks: operand counts, attribute kinds and ranges and result types (by re-running
// the op's shape rule), SSA order (operands defined earlier in the same function),
// def-use lists in sync, parameters first, outputs present and uniquely named, and
// nested bodies recursively. Throws Error(VerifyError) naming the node, its source
// location and what is wrong.
void verify(const Function& fn);
void verify(const Module& module);

} // namespace loom::ir
