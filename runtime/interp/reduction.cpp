// Reduction kernels: reduce_sum, reduce_max, reduce_min, reduce_prod, argmax, argmin.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "ir/error.h"
#include "runtime/interp/compute_util.h"
#include "runtime/interp/index_util.h"
#include "runtime/interp/kernels.h"

namespace loom::interp {

namespace {

// Strides mapping an input multi-index to the row-major offset of its output element:
// reduced axes get stride 0. The offset is the same with or without keepdims, since a
// kept dimension of extent 1 contributes nothing to it.
Strides output_strides_for_input(const Shape& in_shape, const std::vector<int64_t>& axes) {
  Shape kept;
  for (int64_t d = 0; d < static_cast<int64_t>(in_shape.size()); ++d)
    if (std::find(axes.begin(), axes.end(), d) == axes.end()) kept.push_back(in_shape[d]);
  Strides kept_strides = row_major_strides(kept);
  Strides strides(in_shape.size(), 0);
  size_t next_kept = 0;
  for (int64_t d = 0; d < static_cast<int64_t>(in_shape.size()); ++d)
    if (std::find(axes.begin(), axes.end(), d) == axes.end())
      strides[d] = kept_strides[next_kept++];
  return strides;
}

// Folds every input element into the accumulator of its output element, visiting the
// input in row-major order (so each output accumulates its inputs in row-major order).
template <typename T, typename Acc, typename Combine>
std::vector<Acc> accumulate(const Tensor& x, const std::vector<int64_t>& axes, int64_t out_numel,
                            Acc init, Combine combine) {
  std::vector<Acc> acc(static_cast<size_t>(out_numel), init);
  const T* src = x.data<T>();
  IndexIterator it(x.shape(), {output_strides_for_input(x.shape(), axes)});
  for (int64_t i = 0; !it.done(); it.next(), ++i)
    acc[it.offset(0)] = combine(acc[it.offset(0)], src[i]);
  return acc;
}

// Sum and product accumulate in f64 (floats) or int64 (integers, wrapping).
template <typename T> using WideAcc = std::conditional_t<is_float_storage_v<T>, double, int64_t>;

template <typename T> WideAcc<T> wide_add(WideAcc<T> acc, T v) {
  if constexpr (is_float_storage_v<T>)
    return acc + static_cast<double>(to_compute(v));
  else
    return static_cast<int64_t>(static_cast<uint64_t>(acc) + static_cast<uint64_t>(v));
}
template <typename T> WideAcc<T> wide_mul(WideAcc<T> acc, T v) {
  if constexpr (is_float_storage_v<T>)
    return acc * static_cast<double>(to_compute(v));
  else
    return static_cast<int64_t>(static_cast<uint64_t>(acc) * static_cast<uint64_t>(v));
}

// The accumulator rounded once to the result dtype (integers wrap).
template <typename T, typename Acc> T round_once(Acc acc) {
  if constexpr (std::is_same_v<Acc, double>)
    return narrow_from_double<T>(acc);
  else
    return convert_scalar<T>(acc);
}

// Max and min accumulate in the compute type (exact); NaN, once seen, stays.
template <typename C> C max_combine(C acc, C v) {
  if constexpr (std::is_floating_point_v<C>)
    if (std::isnan(acc) || std::isnan(v)) return std::isnan(acc) ? acc : v;
  return v > acc ? v : acc;
}
template <typename C> C min_combine(C acc, C v) {
  if constexpr (std::is_floating_point_v<C>)
    if (std::isnan(acc) || std::isnan(v)) return std::isnan(acc) ? acc : v;
  return v < acc ? v : acc;
}

// The identity of max (lowest value) and min (highest value): -inf / +inf for floats.
template <typename C> C lowest_value() {
  if constexpr (std::is_floating_point_v<C>)
    return -std::numeric_limits<C>::infinity();
  else
    return std::numeric_limits<C>::min();
}
template <typename C> C highest_value() {
  if constexpr (std::is_floating_point_v<C>)
    return std::numeric_limits<C>::infinity();
  else
    return std::numeric_limits<C>::max();
}

enum class ReduceKind { Sum, Prod, Max, Min };

template <ReduceKind K>
std::vector<Tensor> reduce_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  const std::vector<int64_t>& axes = node.attrs().get_ints(node.name(), "axes");
  Tensor out(node.result()->dtype(), node.result()->shape());
  dispatch_dtype(x.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    if constexpr (std::is_same_v<T, bool>) {
      unsupported_dtype(node, x.dtype());
    } else {
      T* dst = out.data<T>();
      auto store_all = [&](const auto& acc) {
        for (size_t i = 0; i < acc.size(); ++i)
          dst[i] = round_once<T>(acc[i]);
      };
      if constexpr (K == ReduceKind::Sum)
        store_all(accumulate<T>(x, axes, out.numel(), WideAcc<T>{0}, wide_add<T>));
      else if constexpr (K == ReduceKind::Prod)
        store_all(accumulate<T>(x, axes, out.numel(), WideAcc<T>{1}, wide_mul<T>));
      else if constexpr (K == ReduceKind::Max)
        store_all(accumulate<T>(x, axes, out.numel(), lowest_value<C>(),
                                [](C acc, T v) { return max_combine(acc, to_compute(v)); }));
      else
        store_all(accumulate<T>(x, axes, out.numel(), highest_value<C>(),
                                [](C acc, T v) { return min_combine(acc, to_compute(v)); }));
    }
  });
  return {out};
}

// Index of the extreme element along one axis: the first one wins ties, and the first
// NaN beats everything (it is "the most extreme").
template <bool kMax>
std::vector<Tensor> arg_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  int64_t axis = node.attrs().get_int(node.name(), "axis");
  const Shape& shape = x.shape();
  int64_t extent = shape.at(axis);
  if (extent == 0)
    throw_error(ErrorCode::Internal, std::string(node.name()) + " over an empty axis");
  int64_t inner = row_major_strides(shape)[axis];
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  Tensor out(DType::I64, node.result()->shape());
  int64_t* dst = out.data<int64_t>();
  dispatch_dtype(x.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    if constexpr (std::is_same_v<T, bool>) {
      unsupported_dtype(node, x.dtype());
    } else {
      const T* src = x.data<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const T* line = src + o * extent * inner + i;
          int64_t best = 0;
          C best_value = to_compute(line[0]);
          for (int64_t k = 1; k < extent; ++k) {
            C v = to_compute(line[k * inner]);
            if constexpr (std::is_floating_point_v<C>)
              if (std::isnan(best_value)) break;
            bool better = kMax ? v > best_value : v < best_value;
            if constexpr (std::is_floating_point_v<C>) better = better || std::isnan(v);
            if (better) {
              best = k;
              best_value = v;
            }
          }
          dst[o * inner + i] = best;
        }
    }
  });
  return {out};
}

} // namespace

void register_reduction_kernels(KernelTable& t) {
  t.add(Op::ReduceSum, reduce_kernel<ReduceKind::Sum>);
  t.add(Op::ReduceProd, reduce_kernel<ReduceKind::Prod>);
  t.add(Op::ReduceMax, reduce_kernel<ReduceKind::Max>);
  t.add(Op::ReduceMin, reduce_kernel<ReduceKind::Min>);
  t.add(Op::ArgMax, arg_kernel<true>);
  t.add(Op::ArgMin, arg_kernel<false>);
}

} // namespace loom::interp
