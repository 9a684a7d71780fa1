// Gradients in the builder API: thin wrappers over autodiff::gradients (autodiff/autodiff.h).
//
// The gradient nodes are appended to the values' Graph, so a gradient is an ordinary Value
// that can be output, combined with other values (optimizer updates) or differentiated
// again (second-order derivatives).
#pragma once

#include <vector>

#include "frontend/ops.h"

namespace loom {

// d(loss)/d(wrt[j]) for each j. `loss` must be a floating-point scalar; every wrt value
// must be floating point and belong to the loss's Graph. A wrt value that does not
// influence the loss gets a zero gradient. Errors name `loc`.
std::vector<Value> grad(Value loss, const std::vector<Value>& wrt,
                        CallSite loc = CallSite::current());

// The vector-Jacobian product: d(sum_i <ys[i], cotangents[i]>)/d(wrt[j]) for each j.
// ys and cotangents pair up and have equal types (use it for non-scalar outputs).
std::vector<Value> vjp(const std::vector<Value>& ys, const std::vector<Value>& cotangents,
                       const std::vector<Value>& wrt, CallSite loc = CallSite::current());

} // namespace loom
