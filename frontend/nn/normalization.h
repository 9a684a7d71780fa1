// Batch normalization and layer normalization.
#pragma once

#include <string>

#include "frontend/nn/parameters.h"

namespace loom::nn {

// Batch statistics of x [N, C, ...] per channel (axis 1), over every other axis.
struct BatchStatistics {
  Value normalized;        // gamma * (x - mean) / sqrt(var + eps) + beta
  Value mean;              // [C]
  Value variance;          // [C], biased (divides by the count): used to normalize
  Value unbiased_variance; // [C], divides by count - 1: what running statistics track
};

// Training-mode batch norm with the batch's own statistics; gamma and beta are [C].
BatchStatistics batch_norm_training(Value x, Value gamma, Value beta, double eps = 1e-5,
                                    CallSite loc = CallSite::current());
// Inference-mode batch norm with given (running) statistics.
Value batch_norm_inference(Value x, Value gamma, Value beta, Value mean, Value variance,
                           double eps = 1e-5, CallSite loc = CallSite::current());

struct BatchNormOptions {
  double momentum = 0.1; // running = (1 - momentum) * running + momentum * batch
  double eps = 1e-5;
  DType dtype = DType::F32;
};

// Batch norm over channel axis 1 with parameters "<name>.weight" (gamma, ones) and
// "<name>.bias" (beta, zeros) and buffers "<name>.running_mean" (zeros) and
// "<name>.running_var" (ones). In training mode it normalizes with batch statistics and
// records the updated running statistics in the store (as PyTorch does, the running
// variance tracks the unbiased batch variance); in inference mode it uses the running
// statistics.
class BatchNorm {
public:
  BatchNorm(ParameterStore& store, const std::string& name, int64_t num_features,
            BatchNormOptions options = {}, CallSite loc = CallSite::current());
  Value operator()(Value x, CallSite loc = CallSite::current()) const;

  Value weight() const { return gamma_; }
  Value bias() const { return beta_; }
  Value running_mean() const { return running_mean_; }
  Value running_var() const { return running_var_; }

private:
  ParameterStore* store_;
  BatchNormOptions options_;
  Value gamma_, beta_, running_mean_, running_var_;
};

// Normalizes over the last `normalized_rank` axes of x, then scales by gamma and shifts
// by beta (both shaped like those axes; pass null Values for no affine transform).
Value layer_norm(Value x, int64_t normalized_rank, Value gamma, Value beta, double eps = 1e-5,
                 CallSite loc = CallSite::current());

// Layer norm over trailing axes `normalized_shape`, with "<name>.weight" (ones) and
// "<name>.bias" (zeros).
class LayerNorm {
public:
  LayerNorm(ParameterStore& store, const std::string& name, Shape normalized_shape,
            double eps = 1e-5, DType dtype = DType::F32, CallSite loc = CallSite::current());
  Value operator()(Value x, CallSite loc = CallSite::current()) const;

  Value weight() const { return gamma_; }
  Value bias() const { return beta_; }

private:
  double eps_;
  Value gamma_, beta_;
};

} // namespace loom::nn
