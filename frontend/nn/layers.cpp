#include "frontend/nn/layers.h"

namespace loom::nn {

namespace {

void check_positive(const std::string& what, const std::string& quantity, int64_t value,
                    const CallSite& loc) {
  if (value <= 0)
    throw_at(ErrorCode::InvalidArgument,
             what + ": " + quantity + " must be positive, got " + std::to_string(value), loc);
}

void check_input(const std::string& what, const Value& x, const Value& weight,
                 const CallSite& loc) {
  if (!x.defined()) throw_at(ErrorCode::InvalidArgument, what + ": a null loom::Value", loc);
  if (x.dtype() != weight.dtype())
    throw_at(ErrorCode::DTypeMismatch,
             what + ": input " + x.type().str() + " does not match the layer's dtype " +
                 std::string(dtype_name(weight.dtype())),
             loc);
}

} // namespace

// --- Linear ------------------------------------------------------------------------

Linear::Linear(ParameterStore& store, const std::string& name, int64_t in_features,
               int64_t out_features, LinearOptions options, CallSite loc)
    : name_(name) {
  check_positive("Linear '" + name + "'", "in_features", in_features, loc);
  check_positive("Linear '" + name + "'", "out_features", out_features, loc);
  weight_ = store.parameter(join_name(name, "weight"), {in_features, out_features},
                            options.weight_init, options.dtype, loc);
  if (options.bias)
    bias_ = store.parameter(join_name(name, "bias"), {out_features}, options.bias_init,
                            options.dtype, loc);
}

Value Linear::operator()(Value x, CallSite loc) const {
  std::string what = "Linear '" + name_ + "'";
  check_input(what, x, weight_, loc);
  int64_t in_features = weight_.shape()[0];
  if (x.rank() < 1 || x.shape().back() != in_features)
    throw_at(ErrorCode::ShapeMismatch,
             what + ": input " + x.type().str() + " must be [..., " + std::to_string(in_features) +
                 "]",
             loc);
  Value y;
  if (x.rank() == 1) { // matmul needs a matrix: treat x as one row
    y = reshape(matmul(reshape(x, {1, in_features}, loc), weight_, loc), {weight_.shape()[1]}, loc);
  } else {
    y = matmul(x, weight_, loc);
  }
  return bias_.defined() ? add(y, bias_, loc) : y;
}

// --- Conv2d ------------------------------------------------------------------------

Conv2d::Conv2d(ParameterStore& store, const std::string& name, int64_t in_channels,
               int64_t out_channels, std::vector<int64_t> kernel, Conv2dOptions options,
               CallSite loc)
    : options_(std::move(options)) {
  std::string what = "Conv2d '" + name + "'";
  check_positive(what, "in_channels", in_channels, loc);
  check_positive(what, "out_channels", out_channels, loc);
  check_positive(what, "groups", options_.groups, loc);
  if (kernel.size() != 2 || kernel[0] <= 0 || kernel[1] <= 0)
    throw_at(ErrorCode::InvalidArgument,
             what + ": kernel must be [KH, KW] with positive sizes, got " + shape_str(kernel), loc);
  if (in_channels % options_.groups != 0 || out_channels % options_.groups != 0)
    throw_at(ErrorCode::InvalidArgument,
             what + ": groups " + std::to_string(options_.groups) +
                 " must divide in_channels and out_channels",
             loc);
  weight_ = store.parameter(join_name(name, "weight"),
                            {out_channels, in_channels / options_.groups, kernel[0], kernel[1]},
                            options_.weight_init, options_.dtype, loc);
  if (options_.bias)
    bias_ = store.parameter(join_name(name, "bias"), {out_channels}, options_.bias_init,
                            options_.dtype, loc);
}

Value Conv2d::operator()(Value x, CallSite loc) const {
  check_input("Conv2d", x, weight_, loc);
  Value y =
      conv2d(x, weight_, options_.strides, options_.pads, options_.dilations, options_.groups, loc);
  if (!bias_.defined()) return y;
  return add(y, reshape(bias_, {1, bias_.shape()[0], 1, 1}, loc), loc);
}

// --- Pooling and reshaping ---------------------------------------------------------

Value MaxPool2d::operator()(Value x, CallSite loc) const {
  return max_pool2d(x, kernel, strides, pads, ceil_mode, loc);
}

Value AvgPool2d::operator()(Value x, CallSite loc) const {
  return avg_pool2d(x, kernel, strides, pads, ceil_mode, count_include_pad, loc);
}

Value global_avg_pool2d(Value x, CallSite loc) {
  if (!x.defined() || x.rank() != 4)
    throw_at(ErrorCode::ShapeMismatch,
             "global_avg_pool2d: input must be [N, C, H, W], got " +
                 (x.defined() ? x.type().str() : std::string("a null Value")),
             loc);
  double window = static_cast<double>(x.shape()[2] * x.shape()[3]);
  return div(reduce_sum(x, {2, 3}, /*keepdims=*/false, loc), window, loc);
}

Value flatten(Value x, int64_t start_axis, CallSite loc) {
  if (!x.defined()) throw_at(ErrorCode::InvalidArgument, "flatten: a null loom::Value", loc);
  int64_t rank = x.rank();
  if (start_axis < -rank || start_axis >= rank)
    throw_at(ErrorCode::InvalidAttribute,
             "flatten: start_axis " + std::to_string(start_axis) + " is out of range for " +
                 x.type().str(),
             loc);
  if (start_axis < 0) start_axis += rank;
  Shape shape(x.shape().begin(), x.shape().begin() + start_axis);
  shape.push_back(shape_numel(Shape(x.shape().begin() + start_axis, x.shape().end())));
  return reshape(x, shape, loc);
}

// --- Dropout -----------------------------------------------------------------------

Value dropout(Value x, double rate, Value seed, bool training, CallSite loc) {
  if (!x.defined()) throw_at(ErrorCode::InvalidArgument, "dropout: a null loom::Value", loc);
  if (!(rate >= 0.0 && rate < 1.0))
    throw_at(ErrorCode::InvalidArgument,
             "dropout: rate must be in [0, 1), got " + std::to_string(rate), loc);
  if (!is_float(x.dtype()))
    throw_at(ErrorCode::DTypeMismatch,
             "dropout: needs a floating-point input, got " + x.type().str(), loc);
  if (!training || rate == 0.0) return x;
  Value keep = ge(random_uniform(seed, x.shape(), x.dtype(), loc), rate, loc);
  return select(keep, mul(x, 1.0 / (1.0 - rate), loc), 0.0, loc);
}

Dropout::Dropout(ParameterStore& store, double rate, CallSite loc) : store_(&store), rate_(rate) {
  if (!(rate >= 0.0 && rate < 1.0))
    throw_at(ErrorCode::InvalidArgument,
             "Dropout: rate must be in [0, 1), got " + std::to_string(rate), loc);
}

Value Dropout::operator()(Value x, CallSite loc) const {
  if (!store_->training() || rate_ == 0.0) return dropout(x, rate_, Value(), false, loc);
  return dropout(x, rate_, store_->next_seed(loc), true, loc);
}

// --- Embedding ---------------------------------------------------------------------

Embedding::Embedding(ParameterStore& store, const std::string& name, int64_t num_embeddings,
                     int64_t dim, Init init, DType dtype, CallSite loc) {
  check_positive("Embedding '" + name + "'", "num_embeddings", num_embeddings, loc);
  check_positive("Embedding '" + name + "'", "dim", dim, loc);
  weight_ = store.parameter(join_name(name, "weight"), {num_embeddings, dim}, init, dtype, loc);
}

Value Embedding::operator()(Value indices, CallSite loc) const {
  return gather(weight_, indices, 0, loc);
}

} // namespace loom::nn
