// Small typed helpers over ir::Builder for writing VJP rules (internal to autodiff).
// Each creates one or a few nodes whose types come from the op's shape rule.
#pragma once

#include <vector>

#include "ir/builder.h"

namespace loom::autodiff::emit {

using ir::Builder;
using ir::Value;

Value* unary(Builder& b, Op op, Value* x);
Value* binary(Builder& b, Op op, Value* x, Value* y);

inline Value* neg(Builder& b, Value* x) { return unary(b, Op::Neg, x); }
inline Value* add(Builder& b, Value* x, Value* y) { return binary(b, Op::Add, x, y); }
inline Value* sub(Builder& b, Value* x, Value* y) { return binary(b, Op::Sub, x, y); }
inline Value* mul(Builder& b, Value* x, Value* y) { return binary(b, Op::Mul, x, y); }
inline Value* div(Builder& b, Value* x, Value* y) { return binary(b, Op::Div, x, y); }

// A rank-0 constant of `like`'s dtype.
Value* scalar_like(Builder& b, const Value* like, double value);
// A tensor of `type` filled with `value` (a scalar constant broadcast to the shape).
Value* full(Builder& b, const TensorType& type, double value);
inline Value* zeros_like(Builder& b, const Value* like) { return full(b, like->type(), 0.0); }
// x * c for a number c.
Value* scale(Builder& b, Value* x, double c);
// cond ? x : 0, broadcasting all three.
Value* select_or_zero(Builder& b, Value* cond, Value* x);
// cond ? 0 : x, broadcasting all three.
Value* zero_or_select(Builder& b, Value* cond, Value* x);
// x converted to `dtype`; returns x itself if it already has that dtype.
Value* cast(Builder& b, Value* x, DType dtype);

// The data-movement helpers return x itself when the op would not change it.
Value* reshape(Builder& b, Value* x, const Shape& shape);
Value* transpose(Builder& b, Value* x, const std::vector<int64_t>& perm);
Value* broadcast_to(Builder& b, Value* x, const Shape& shape);
Value* reduce_sum(Builder& b, Value* x, const std::vector<int64_t>& axes, bool keepdims);
Value* slice(Builder& b, Value* x, const std::vector<int64_t>& start,
             const std::vector<int64_t>& stop, const std::vector<int64_t>& step);
// x[begin:end] along `axis`, the other dimensions whole.
Value* slice_axis(Builder& b, Value* x, int64_t axis, int64_t begin, int64_t end);
Value* pad(Builder& b, Value* x, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi,
           double value = 0.0);

// Undoes numpy broadcasting: sums `x` over the axes along which `shape` was broadcast
// to x's shape, then reshapes to `shape`. Returns x itself when the shapes agree.
Value* sum_to_shape(Builder& b, Value* x, const Shape& shape);

// The shape of a reduction's result with keepdims: reduced axes become 1.
Shape keepdims_shape(const Shape& input, const std::vector<int64_t>& axes);

} // namespace loom::autodiff::emit
