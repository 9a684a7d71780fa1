#include "frontend/nn/normalization.h"

#include <numeric>

namespace loom::nn {

namespace {

// The axes of x other than the channel axis 1.
std::vector<int64_t> non_channel_axes(const Value& x) {
  std::vector<int64_t> axes{0};
  for (int64_t axis = 2; axis < x.rank(); ++axis)
    axes.push_back(axis);
  return axes;
}

// A [C] vector reshaped to broadcast along axis 1 of a rank-`rank` tensor.
Value per_channel(const Value& v, int64_t rank, const CallSite& loc) {
  Shape shape(static_cast<size_t>(rank), 1);
  shape[1] = v.shape()[0];
  return reshape(v, shape, loc);
}

void check_batch_input(const char* what, const Value& x, std::initializer_list<const Value*> per_c,
                       const CallSite& loc) {
  if (!x.defined()) throw_at(ErrorCode::InvalidArgument, std::string(what) + ": a null input", loc);
  if (x.rank() < 2 || !is_float(x.dtype()))
    throw_at(ErrorCode::ShapeMismatch,
             std::string(what) + ": input must be floating point [N, C, ...], got " +
                 x.type().str(),
             loc);
  TensorType channel_type{x.dtype(), {x.shape()[1]}};
  for (const Value* v : per_c)
    if (!v->defined() || v->type() != channel_type)
      throw_at(ErrorCode::ShapeMismatch,
               std::string(what) + ": per-channel operands must be " + channel_type.str() +
                   " for input " + x.type().str(),
               loc);
}

// gamma * (x - mean) * rsqrt(var + eps) + beta, with every per-channel operand [C].
Value normalize_per_channel(const Value& x, const Value& mean, const Value& variance,
                            const Value& gamma, const Value& beta, double eps,
                            const CallSite& loc) {
  int64_t rank = x.rank();
  Value scale = mul(gamma, rsqrt(add(variance, eps, loc), loc), loc);
  Value centered = sub(x, per_channel(mean, rank, loc), loc);
  return add(mul(centered, per_channel(scale, rank, loc), loc), per_channel(beta, rank, loc), loc);
}

} // namespace

BatchStatistics batch_norm_training(Value x, Value gamma, Value beta, double eps, CallSite loc) {
  check_batch_input("batch_norm_training", x, {&gamma, &beta}, loc);
  std::vector<int64_t> axes = non_channel_axes(x);
  double count = static_cast<double>(x.type().numel() / x.shape()[1]);
  if (count < 2)
    throw_at(ErrorCode::InvalidArgument,
             "batch_norm_training: needs at least 2 values per channel, input " + x.type().str(),
             loc);
  Value mean = div(reduce_sum(x, axes, false, loc), count, loc);
  Value centered = sub(x, per_channel(mean, x.rank(), loc), loc);
  Value sum_squares = reduce_sum(mul(centered, centered, loc), axes, false, loc);
  Value variance = div(sum_squares, count, loc);
  Value unbiased = div(sum_squares, count - 1.0, loc);
  Value normalized = normalize_per_channel(x, mean, variance, gamma, beta, eps, loc);
  return {normalized, mean, variance, unbiased};
}

Value batch_norm_inference(Value x, Value gamma, Value beta, Value mean, Value variance, double eps,
                           CallSite loc) {
  check_batch_input("batch_norm_inference", x, {&gamma, &beta, &mean, &variance}, loc);
  return normalize_per_channel(x, mean, variance, gamma, beta, eps, loc);
}

BatchNorm::BatchNorm(ParameterStore& store, const std::string& name, int64_t num_features,
                     BatchNormOptions options, CallSite loc)
    : store_(&store), options_(options) {
  if (num_features <= 0)
    throw_at(ErrorCode::InvalidArgument, "BatchNorm '" + name + "': num_features must be positive",
             loc);
  if (!(options.momentum >= 0.0 && options.momentum <= 1.0))
    throw_at(ErrorCode::InvalidArgument, "BatchNorm '" + name + "': momentum must be in [0, 1]",
             loc);
  Shape shape{num_features};
  gamma_ = store.parameter(join_name(name, "weight"), shape, Init::ones(), options.dtype, loc);
  beta_ = store.parameter(join_name(name, "bias"), shape, Init::zeros(), options.dtype, loc);
  running_mean_ =
      store.buffer(join_name(name, "running_mean"), shape, Init::zeros(), options.dtype, loc);
  running_var_ =
      store.buffer(join_name(name, "running_var"), shape, Init::ones(), options.dtype, loc);
}

Value BatchNorm::operator()(Value x, CallSite loc) const {
  if (!store_->training())
    return batch_norm_inference(x, gamma_, beta_, running_mean_, running_var_, options_.eps, loc);
  BatchStatistics stats = batch_norm_training(x, gamma_, beta_, options_.eps, loc);
  double m = options_.momentum;
  auto blend = [&](const Value& running, const Value& batch) {
    return add(mul(running, 1.0 - m, loc), mul(batch, m, loc), loc);
  };
  store_->update_buffer(running_mean_, blend(running_mean_, stats.mean), loc);
  store_->update_buffer(running_var_, blend(running_var_, stats.unbiased_variance), loc);
  return stats.normalized;
}

Value layer_norm(Value x, int64_t normalized_rank, Value gamma, Value beta, double eps,
                 CallSite loc) {
  if (!x.defined()) throw_at(ErrorCode::InvalidArgument, "layer_norm: a null input", loc);
  if (normalized_rank < 1 || normalized_rank > x.rank() || !is_float(x.dtype()))
    throw_at(ErrorCode::InvalidArgument,
             "layer_norm: cannot normalize the last " + std::to_string(normalized_rank) +
                 " axes of " + x.type().str(),
             loc);
  Shape normalized_shape(x.shape().end() - normalized_rank, x.shape().end());
  for (const Value* v : {&gamma, &beta})
    if (v->defined() && v->type() != TensorType{x.dtype(), normalized_shape})
      throw_at(ErrorCode::ShapeMismatch,
               "layer_norm: gamma and beta must be " +
                   TensorType{x.dtype(), normalized_shape}.str() + " for input " + x.type().str(),
               loc);
  std::vector<int64_t> axes(static_cast<size_t>(normalized_rank));
  std::iota(axes.begin(), axes.end(), x.rank() - normalized_rank);
  double count = static_cast<double>(shape_numel(normalized_shape));
  Value mean = div(reduce_sum(x, axes, true, loc), count, loc);
  Value centered = sub(x, mean, loc);
  Value variance = div(reduce_sum(mul(centered, centered, loc), axes, true, loc), count, loc);
  Value y = mul(centered, rsqrt(add(variance, eps, loc), loc), loc);
  if (gamma.defined()) y = mul(y, gamma, loc);
  if (beta.defined()) y = add(y, beta, loc);
  return y;
}

LayerNorm::LayerNorm(ParameterStore& store, const std::string& name, Shape normalized_shape,
                     double eps, DType dtype, CallSite loc)
    : eps_(eps) {
  if (normalized_shape.empty())
    throw_at(ErrorCode::InvalidArgument,
             "LayerNorm '" + name + "': normalized_shape must not be empty", loc);
  gamma_ = store.parameter(join_name(name, "weight"), normalized_shape, Init::ones(), dtype, loc);
  beta_ = store.parameter(join_name(name, "bias"), normalized_shape, Init::zeros(), dtype, loc);
}

Value LayerNorm::operator()(Value x, CallSite loc) const {
  return layer_norm(x, gamma_.rank(), gamma_, beta_, eps_, loc);
}

} // namespace loom::nn
