#pragma once

#include "ir/ir.h"

namespace loom::passes {

// Common subexpression elimination: a node equal to an earlier one (same op, operands,
// attributes and result types) is replaced by it. Constants with equal contents are
// merged too. Every loom op is pure (random ops are functions of their seed operand),
// so this is always sound. Returns true if anything changed.
bool eliminate_common_subexpressions(ir::Function& fn);

} // namespace loom::passes
