// Activation functions beyond the primitive ops (relu, sigmoid, tanh are in frontend/ops.h).
// All are built from differentiable ops, so they train and differentiate twice.
#pragma once

#include "frontend/ops.h"

namespace loom::nn {

// exp(x - max) / sum(exp(x - max)) along `axis`: stable for any finite logits.
Value softmax(Value x, int64_t axis = -1, CallSite loc = CallSite::current());
// (x - max) - log(sum(exp(x - max))) along `axis`: finite for any finite logits.
Value log_softmax(Value x, int64_t axis = -1, CallSite loc = CallSite::current());
// log(sum(exp(x))) over `axis`, computed as max + log(sum(exp(x - max))).
Value logsumexp(Value x, int64_t axis = -1, bool keepdims = false,
                CallSite loc = CallSite::current());

// x for x > 0, slope * x otherwise.
Value leaky_relu(Value x, double slope = 0.01, CallSite loc = CallSite::current());
// x for x > 0, alpha * (exp(x) - 1) otherwise.
Value elu(Value x, double alpha = 1.0, CallSite loc = CallSite::current());
// x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))) (the exact, erf-based GELU).
Value gelu(Value x, CallSite loc = CallSite::current());
// x * sigmoid(x) (also called swish).
Value silu(Value x, CallSite loc = CallSite::current());
// log(1 + exp(x)), computed without overflow for any finite x.
Value softplus(Value x, CallSite loc = CallSite::current());

} // namespace loom::nn
