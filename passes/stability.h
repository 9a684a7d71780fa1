#pragma once

#include "ir/ir.h"

namespace loom::passes {

// Numerical-stability rewrites: formulas that overflow, underflow or lose precision
// are replaced by equivalent stable ones.
//  - log(exp(x))                          -> x
//  - log(exp(a) / q)                      -> a - log(q)   (log of a softmax becomes
//    a log-softmax; log moves inside a broadcast_to so it runs on the small tensor)
//  - log(reduce_sum(exp(x)))              -> m + log(reduce_sum(exp(x - m))), m the
//    reduce_max of x over the same axes (0 where it is not finite, so an all -inf row
//    still gives -inf); skipped when x already has its maximum subtracted
//  - log(sigmoid(x))                      -> min(x, 0) - log(1 + exp(-|x|))
//  - 1 / (1 + exp(-x))                    -> sigmoid(x)
// Returns true if anything changed.
bool improve_stability(ir::Function& fn);

} // namespace loom::passes
