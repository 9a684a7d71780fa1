#include "frontend/nn/activations.h"

#include <numbers>

namespace loom::nn {

namespace {

void check_float(const char* what, const Value& x, const CallSite& loc) {
  if (!x.defined())
    throw_at(ErrorCode::InvalidArgument, std::string(what) + ": a null loom::Value", loc);
  if (!is_float(x.dtype()))
    throw_at(ErrorCode::DTypeMismatch,
             std::string(what) + ": needs a floating-point operand, got " + x.type().str(), loc);
}

// x - max(x) along `axis` (kept as a dimension of 1): every element is <= 0, so exp of
// it cannot overflow and the largest term of the sum is exactly 1.
Value shift_by_max(const Value& x, int64_t axis, const CallSite& loc) {
  return sub(x, reduce_max(x, {axis}, /*keepdims=*/true, loc), loc);
}

} // namespace

Value softmax(Value x, int64_t axis, CallSite loc) {
  check_float("softmax", x, loc);
  Value e = exp(shift_by_max(x, axis, loc), loc);
  return div(e, reduce_sum(e, {axis}, /*keepdims=*/true, loc), loc);
}

Value log_softmax(Value x, int64_t axis, CallSite loc) {
  check_float("log_softmax", x, loc);
  Value shifted = shift_by_max(x, axis, loc);
  Value sum = reduce_sum(exp(shifted, loc), {axis}, /*keepdims=*/true, loc);
  return sub(shifted, log(sum, loc), loc);
}

Value logsumexp(Value x, int64_t axis, bool keepdims, CallSite loc) {
  check_float("logsumexp", x, loc);
  Value max = reduce_max(x, {axis}, /*keepdims=*/true, loc);
  Value sum = reduce_sum(exp(sub(x, max, loc), loc), {axis}, /*keepdims=*/true, loc);
  Value result = add(max, log(sum, loc), loc);
  return keepdims ? result : reduce_sum(result, {axis}, /*keepdims=*/false, loc);
}

Value leaky_relu(Value x, double slope, CallSite loc) {
  check_float("leaky_relu", x, loc);
  return select(gt(x, 0.0, loc), x, mul(x, slope, loc), loc);
}

Value elu(Value x, double alpha, CallSite loc) {
  check_float("elu", x, loc);
  // exp of min(x, 0): the branch select discards must not overflow, or its gradient
  // (0 * inf) would poison the result with NaN.
  Value negative_part = mul(sub(exp(minimum(x, 0.0, loc), loc), 1.0, loc), alpha, loc);
  return select(gt(x, 0.0, loc), x, negative_part, loc);
}

Value gelu(Value x, CallSite loc) {
  check_float("gelu", x, loc);
  Value cdf = mul(add(erf(mul(x, std::numbers::sqrt2 / 2.0, loc), loc), 1.0, loc), 0.5, loc);
  return mul(x, cdf, loc);
}

Value silu(Value x, CallSite loc) {
  check_float("silu", x, loc);
  return mul(x, sigmoid(x, loc), loc);
}

Value softplus(Value x, CallSite loc) {
  check_float("softplus", x, loc);
  // x > 0: x + log(1 + exp(-x)); otherwise log(1 + exp(x)). Each branch sees its input
  // clamped to its own side of 0, so neither overflows, and the derivative at 0 is 1/2.
  auto log1p_exp = [&](const Value& v) { return log(add(exp(v, loc), 1.0, loc), loc); };
  Value positive = add(x, log1p_exp(neg(maximum(x, 0.0, loc), loc)), loc);
  Value non_positive = log1p_exp(minimum(x, 0.0, loc));
  return select(gt(x, 0.0, loc), positive, non_positive, loc);
}

} // namespace loom::nn
