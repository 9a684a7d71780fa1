#pragma once

#include "ir/ir.h"

namespace loom::passes {

// Algebraic simplification: local identities that remove work without changing any
// result (x*1, x+0, x-0, x/1, x^1, neg(neg(x)), cast to the same dtype, transpose of a
// transpose, reshape chains, broadcast of a broadcast, no-op slices/pads/reductions,
// reductions and transposes that only move size-1 dimensions, select with equal
// branches or a constant condition). A rewrite whose replacement has a smaller shape
// than the node (x[3] * ones[2,3]) broadcasts it. Note: x + 0 -> x keeps -0.0 where
// IEEE addition would give +0.0 (as XLA and LLVM's fast paths do); the two compare
// equal. Returns true if anything changed.
bool simplify(ir::Function& fn);

} // namespace loom::passes
