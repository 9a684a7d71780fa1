// Source kernels: constant, iota, random_uniform, random_normal.
#include "ir/error.h"
#include "runtime/interp/compute_util.h"
#include "runtime/interp/kernels.h"
#include "runtime/interp/random_util.h"

namespace loom::interp {

namespace {

Tensor result_tensor(const ir::Node& node) {
  return Tensor(node.result()->dtype(), node.result()->shape());
}

std::vector<Tensor> constant_kernel(const ir::Node& node, const std::vector<Tensor>&) {
  return {Tensor::from_literal(node.attrs().get_literal("constant", "value"))};
}

std::vector<Tensor> iota_kernel(const ir::Node& node, const std::vector<Tensor>&) {
  Tensor out = result_tensor(node);
  int64_t axis = node.attrs().get_int("iota", "axis");
  const Shape& shape = out.shape();
  if (axis < 0 || axis >= out.rank())
    throw_error(ErrorCode::Internal,
                "iota: axis " + std::to_string(axis) + " out of range for " + out.type().str());
  int64_t stride = row_major_strides(shape)[axis];
  dispatch_dtype(out.dtype(), [&]<typename T>() {
    T* dst = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i)
      dst[i] = convert_scalar<T>((i / stride) % shape[axis]);
  });
  return {out};
}

// A float in [0, 1) rounded toward zero to a narrower type, so that it stays below 1
// (nearest-even rounding would turn values within half an ulp of 1 into 1).
template <typename T> T round_down_unit_interval(float f) {
  T narrow(f);
  if (static_cast<float>(narrow) > f) narrow.bits -= 1; // positive: one ulp down
  return narrow;
}

// Uniform in [0, 1): f64 uses 53 bits from r0 and r1; other floats 24 bits from r0.
template <typename T> T uniform_value(const PhiloxBlock& r) {
  if constexpr (std::is_same_v<T, double>)
    return uniform53_from_words(r[0], r[1]);
  else if constexpr (std::is_same_v<T, float>)
    return uniform_from_word(r[0]);
  else
    return round_down_unit_interval<T>(uniform_from_word(r[0]));
}

template <typename T> T normal_value(const PhiloxBlock& r) {
  return narrow_from_double<T>(normal_from_words(r[0], r[1]));
}

// Element i depends only on (seed, i, dtype): the loop order is irrelevant.
template <bool kNormal>
std::vector<Tensor> random_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  Tensor out = result_tensor(node);
  int64_t seed = load_as_int(in[0].dtype(), in[0].raw_data(), 0);
  dispatch_dtype(out.dtype(), [&]<typename T>() {
    if constexpr (is_float_storage_v<T>) {
      T* dst = out.data<T>();
      for (int64_t i = 0; i < out.numel(); ++i) {
        PhiloxBlock words = philox_words(seed, i);
        dst[i] = kNormal ? normal_value<T>(words) : uniform_value<T>(words);
      }
    } else {
      unsupported_dtype(node, out.dtype());
    }
  });
  return {out};
}

} // namespace

void register_source_kernels(KernelTable& t) {
  t.add(Op::Constant, constant_kernel);
  t.add(Op::Iota, iota_kernel);
  t.add(Op::RandomUniform, random_kernel<false>);
  t.add(Op::RandomNormal, random_kernel<true>);
}

} // namespace loom::interp
