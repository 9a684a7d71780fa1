// Loss functions. Classification losses take logits with the classes along the LAST
// axis ([N, C], or [N, T, C] for sequences) and are computed through a stable
// log-sum-exp, so they stay finite for logits of any finite magnitude.
#pragma once

#include "frontend/ops.h"

namespace loom::nn {

// How per-example losses are combined.
enum class Reduction {
  Mean, // average over all examples (a scalar)
  Sum,  // sum over all examples (a scalar)
  None, // one loss per example (the logits' shape without the class axis)
};

// -log softmax(logits)[label] per example. `labels` are integers (i32 or i64) with the
// logits' shape minus the class axis, each in [0, C); a label outside [-C, C) selects
// no class and contributes 0 (negative labels count from the end, as in one_hot).
Value cross_entropy(Value logits, Value labels, Reduction reduction = Reduction::Mean,
                    CallSite loc = CallSite::current());
// -sum_c target[c] * log softmax(logits)[c] per example, for one-hot or probability
// targets of the logits' type.
Value cross_entropy_with_probs(Value logits, Value targets, Reduction reduction = Reduction::Mean,
                               CallSite loc = CallSite::current());
// -log_probs[label] per example, for log-probabilities (e.g. from log_softmax).
Value nll_loss(Value log_probs, Value labels, Reduction reduction = Reduction::Mean,
               CallSite loc = CallSite::current());
// (prediction - target)^2 per element; target broadcasts to the prediction's shape.
Value mse_loss(Value prediction, Value target, Reduction reduction = Reduction::Mean,
               CallSite loc = CallSite::current());

// The fraction (a scalar of the logits' dtype) of examples whose largest logit is at the
// label's class (first maximum on ties). Not differentiable; for evaluation.
Value accuracy(Value logits, Value labels, CallSite loc = CallSite::current());

// Combines per-example losses per `reduction`.
Value reduce_loss(Value per_example, Reduction reduction, CallSite loc = CallSite::current());

} // namespace loom::nn
