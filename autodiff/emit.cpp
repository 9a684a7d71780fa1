#include "autodiff/emit.h"

#include <algorithm>

namespace loom::autodiff::emit {

Value* unary(Builder& b, Op op, Value* x) { return b.op(op, {x}); }

Value* binary(Builder& b, Op op, Value* x, Value* y) { return b.op(op, {x, y}); }

Value* scalar_like(Builder& b, const Value* like, double value) {
  return b.scalar(like->dtype(), value);
}

Value* full(Builder& b, const TensorType& type, double value) {
  Value* scalar = b.scalar(type.dtype, value);
  return type.rank() == 0 ? scalar : broadcast_to(b, scalar, type.shape);
}

Value* scale(Builder& b, Value* x, double c) { return mul(b, x, scalar_like(b, x, c)); }

Value* select_or_zero(Builder& b, Value* cond, Value* x) {
  return b.op(Op::Select, {cond, x, scalar_like(b, x, 0.0)});
}

Value* zero_or_select(Builder& b, Value* cond, Value* x) {
  return b.op(Op::Select, {cond, scalar_like(b, x, 0.0), x});
}

Value* cast(Builder& b, Value* x, DType dtype) {
  if (x->dtype() == dtype) return x;
  return b.op(Op::Cast, {x}, {{"dtype", dtype}});
}

Value* reshape(Builder& b, Value* x, const Shape& shape) {
  if (x->shape() == shape) return x;
  return b.op(Op::Reshape, {x}, {{"shape", shape}});
}

Value* transpose(Builder& b, Value* x, const std::vector<int64_t>& perm) {
  return b.op(Op::Transpose, {x}, {{"perm", perm}});
}

Value* broadcast_to(Builder& b, Value* x, const Shape& shape) {
  if (x->shape() == shape) return x;
  return b.op(Op::BroadcastTo, {x}, {{"shape", shape}});
}

Value* reduce_sum(Builder& b, Value* x, const std::vector<int64_t>& axes, bool keepdims) {
  return b.op(Op::ReduceSum, {x}, {{"axes", axes}, {"keepdims", keepdims}});
}

Value* slice(Builder& b, Value* x, const std::vector<int64_t>& start,
             const std::vector<int64_t>& stop, const std::vector<int64_t>& step) {
  bool whole = stop == x->shape() &&
               std::all_of(start.begin(), start.end(), [](int64_t s) { return s == 0; }) &&
               std::all_of(step.begin(), step.end(), [](int64_t s) { return s == 1; });
  if (whole) return x;
  return b.op(Op::Slice, {x}, {{"start", start}, {"stop", stop}, {"step", step}});
}

Value* slice_axis(Builder& b, Value* x, int64_t axis, int64_t begin, int64_t end) {
  std::vector<int64_t> start(x->shape().size(), 0), stop = x->shape(), step(x->shape().size(), 1);
  start[axis] = begin;
  stop[axis] = end;
  return slice(b, x, start, stop, step);
}

Value* pad(Builder& b, Value* x, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi,
           double value) {
  auto is_zero = [](int64_t p) { return p == 0; };
  if (std::all_of(lo.begin(), lo.end(), is_zero) && std::all_of(hi.begin(), hi.end(), is_zero))
    return x;
  return b.op(Op::Pad, {x}, {{"pads_lo", lo}, {"pads_hi", hi}, {"value", value}});
}

Value* sum_to_shape(Builder& b, Value* x, const Shape& shape) {
  const Shape& from = x->shape();
  if (from == shape) return x;
  size_t leading = from.size() - shape.size(); // dimensions broadcasting added in front
  std::vector<int64_t> axes;
  for (size_t d = 0; d < from.size(); ++d) {
    bool added = d < leading;
    bool stretched = !added && shape[d - leading] == 1 && from[d] != 1;
    if (added || stretched) axes.push_back(static_cast<int64_t>(d));
  }
  Value* summed = axes.empty() ? x : reduce_sum(b, x, axes, false);
  return reshape(b, summed, shape);
}

Shape keepdims_shape(const Shape& input, const std::vector<int64_t>& axes) {
  Shape out = input;
  for (int64_t axis : axes)
    out[axis] = 1;
  return out;
}

} // namespace loom::autodiff::emit
