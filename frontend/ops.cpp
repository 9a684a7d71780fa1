// Builders for sources, elementwise ops, reductions and matmul.
#include "frontend/ops.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "frontend/ops_support.h"

namespace loom {

namespace frontend_detail {

Graph& graph_of(Op op, const Value& value, const CallSite& loc) {
  if (!value.defined())
    throw_at(ErrorCode::InvalidArgument,
             std::string(op_name(op)) + ": operand is a null loom::Value (default-constructed)",
             loc);
  return *value.graph();
}

int64_t normalize_axis(Op op, int64_t axis, const TensorType& type, const CallSite& loc) {
  int64_t rank = type.rank();
  if (axis < -rank || axis >= rank)
    throw_at(ErrorCode::InvalidAttribute,
             std::string(op_name(op)) + ": axis " + std::to_string(axis) + " is out of range for " +
                 type.str(),
             loc);
  return axis < 0 ? axis + rank : axis;
}

} // namespace frontend_detail

using frontend_detail::graph_of;
using frontend_detail::normalize_axis;

namespace {

// Whether `number` survives conversion to `dtype` unchanged. Floats accept rounding
// (0.1 is fine for f32); integers and bool must not silently change the value, so that
// `i < 0.5` on integers is an error instead of `i < 0`.
bool representable(double number, DType dtype) {
  if (is_float(dtype)) return true;
  if (dtype == DType::Bool) return number == 0.0 || number == 1.0;
  if (std::trunc(number) != number) return false; // fractions, NaN, infinities
  switch (dtype) {
  case DType::I8:
    return number >= -128.0 && number <= 127.0;
  case DType::I32:
    return number >= -2147483648.0 && number <= 2147483647.0;
  default:
    return number >= -9223372036854775808.0 && number < 9223372036854775808.0;
  }
}

// The operand as a Value: a number becomes a scalar (shape []) constant in `graph` with
// the dtype of `like`, the Value operand it is combined with.
Value materialize(Op op, const Operand& operand, const Value& like, Graph& graph,
                  const CallSite& loc) {
  if (!operand.is_number()) return operand.value();
  DType dtype = like.dtype();
  if (!representable(operand.number(), dtype)) {
    std::ostringstream message;
    message << op_name(op) << ": the number " << operand.number()
            << " is not representable in the other operand's type " << like.type().str();
    throw_at(ErrorCode::DTypeMismatch, message.str(), loc);
  }
  return graph.scalar(operand.number(), dtype, loc);
}

// The Value among `operands` that decides the graph and the dtype of numbers.
Value first_value(Op op, std::initializer_list<const Operand*> operands, const CallSite& loc) {
  for (const Operand* operand : operands) {
    if (operand->is_number()) continue;
    graph_of(op, operand->value(), loc);
    return operand->value();
  }
  throw_at(ErrorCode::InvalidArgument,
           std::string(op_name(op)) + ": at least one operand must be a loom::Value, not a number",
           loc);
}

Value unary(Op op, const Value& x, const CallSite& loc) {
  return graph_of(op, x, loc).add_node(op, {x}, {}, loc);
}

Value binary(Op op, const Operand& a, const Operand& b, const CallSite& loc) {
  Value like = first_value(op, {&a, &b}, loc);
  Graph& graph = *like.graph();
  Value lhs = materialize(op, a, like, graph, loc);
  Value rhs = materialize(op, b, like, graph, loc);
  return graph.add_node(op, {lhs, rhs}, {}, loc);
}

// Axes normalized into [0, rank), sorted, each at most once.
std::vector<int64_t> normalize_axes(Op op, std::vector<int64_t> axes, const TensorType& type,
                                    const CallSite& loc) {
  for (int64_t& axis : axes)
    axis = normalize_axis(op, axis, type, loc);
  std::sort(axes.begin(), axes.end());
  auto repeated = std::adjacent_find(axes.begin(), axes.end());
  if (repeated != axes.end())
    throw_at(ErrorCode::InvalidAttribute,
             std::string(op_name(op)) + ": axis " + std::to_string(*repeated) +
                 " is listed twice for " + type.str(),
             loc);
  return axes;
}

Value reduction(Op op, const Value& x, std::vector<int64_t> axes, bool keepdims,
                const CallSite& loc) {
  Graph& graph = graph_of(op, x, loc);
  axes = normalize_axes(op, std::move(axes), x.type(), loc);
  return graph.add_node(op, {x}, {{"axes", std::move(axes)}, {"keepdims", keepdims}}, loc);
}

std::vector<int64_t> all_axes(Op op, const Value& x, const CallSite& loc) {
  graph_of(op, x, loc);
  std::vector<int64_t> axes(static_cast<size_t>(x.rank()));
  for (size_t i = 0; i < axes.size(); ++i)
    axes[i] = static_cast<int64_t>(i);
  return axes;
}

Value arg_reduction(Op op, const Value& x, int64_t axis, bool keepdims, const CallSite& loc) {
  Graph& graph = graph_of(op, x, loc);
  axis = normalize_axis(op, axis, x.type(), loc);
  return graph.add_node(op, {x}, {{"axis", axis}, {"keepdims", keepdims}}, loc);
}

Value random(Op op, const Value& seed, Shape shape, DType dtype, const CallSite& loc) {
  return graph_of(op, seed, loc)
      .add_node(op, {seed}, {{"shape", std::move(shape)}, {"dtype", dtype}}, loc);
}

} // namespace

// --- Sources -------------------------------------------------------------------------

Value iota(Graph& graph, Shape shape, DType dtype, int64_t axis, CallSite loc) {
  axis = normalize_axis(Op::Iota, axis, TensorType{dtype, shape}, loc);
  return graph.add_node(Op::Iota, {},
                        {{"shape", std::move(shape)}, {"dtype", dtype}, {"axis", axis}}, loc);
}

Value random_uniform(Value seed, Shape shape, DType dtype, CallSite loc) {
  return random(Op::RandomUniform, seed, std::move(shape), dtype, loc);
}

Value random_normal(Value seed, Shape shape, DType dtype, CallSite loc) {
  return random(Op::RandomNormal, seed, std::move(shape), dtype, loc);
}

// --- Elementwise unary ---------------------------------------------------------------

#define UNARY_OP(id, name, traits)                                                                 \
  Value name(Value x, CallSite loc) { return unary(Op::id, x, loc); }
#include "ir/ops.def"

Value cast(Value x, DType dtype, CallSite loc) {
  return graph_of(Op::Cast, x, loc).add_node(Op::Cast, {x}, {{"dtype", dtype}}, loc);
}

// --- Elementwise binary --------------------------------------------------------------

#define BINARY_OP(id, name, traits)                                                                \
  Value name(Operand a, Operand b, CallSite loc) { return binary(Op::id, a, b, loc); }
#include "ir/ops.def"

Value select(Value cond, Operand a, Operand b, CallSite loc) {
  Graph& graph = graph_of(Op::Select, cond, loc);
  Value like = first_value(Op::Select, {&a, &b}, loc);
  Value on_true = materialize(Op::Select, a, like, graph, loc);
  Value on_false = materialize(Op::Select, b, like, graph, loc);
  return graph.add_node(Op::Select, {cond, on_true, on_false}, {}, loc);
}

// The left operand was written first, so its location is the expression's.
Value operator+(Operand a, Operand b) { return add(a, b, a.loc()); }
Value operator-(Operand a, Operand b) { return sub(a, b, a.loc()); }
Value operator*(Operand a, Operand b) { return mul(a, b, a.loc()); }
Value operator/(Operand a, Operand b) { return div(a, b, a.loc()); }
Value operator<(Operand a, Operand b) { return lt(a, b, a.loc()); }
Value operator<=(Operand a, Operand b) { return le(a, b, a.loc()); }
Value operator>(Operand a, Operand b) { return gt(a, b, a.loc()); }
Value operator>=(Operand a, Operand b) { return ge(a, b, a.loc()); }

Value operator-(Operand x) {
  // Only an Operand built explicitly from a number gets here: C++ negates numbers itself.
  return neg(first_value(Op::Neg, {&x}, x.loc()), x.loc());
}

// --- Reductions ----------------------------------------------------------------------

Value reduce_sum(Value x, std::vector<int64_t> axes, bool keepdims, CallSite loc) {
  return reduction(Op::ReduceSum, x, std::move(axes), keepdims, loc);
}
Value reduce_max(Value x, std::vector<int64_t> axes, bool keepdims, CallSite loc) {
  return reduction(Op::ReduceMax, x, std::move(axes), keepdims, loc);
}
Value reduce_min(Value x, std::vector<int64_t> axes, bool keepdims, CallSite loc) {
  return reduction(Op::ReduceMin, x, std::move(axes), keepdims, loc);
}
Value reduce_prod(Value x, std::vector<int64_t> axes, bool keepdims, CallSite loc) {
  return reduction(Op::ReduceProd, x, std::move(axes), keepdims, loc);
}

Value reduce_sum(Value x, CallSite loc) {
  return reduction(Op::ReduceSum, x, all_axes(Op::ReduceSum, x, loc), false, loc);
}
Value reduce_max(Value x, CallSite loc) {
  return reduction(Op::ReduceMax, x, all_axes(Op::ReduceMax, x, loc), false, loc);
}
Value reduce_min(Value x, CallSite loc) {
  return reduction(Op::ReduceMin, x, all_axes(Op::ReduceMin, x, loc), false, loc);
}
Value reduce_prod(Value x, CallSite loc) {
  return reduction(Op::ReduceProd, x, all_axes(Op::ReduceProd, x, loc), false, loc);
}

Value argmax(Value x, int64_t axis, bool keepdims, CallSite loc) {
  return arg_reduction(Op::ArgMax, x, axis, keepdims, loc);
}
Value argmin(Value x, int64_t axis, bool keepdims, CallSite loc) {
  return arg_reduction(Op::ArgMin, x, axis, keepdims, loc);
}

// --- Linear algebra ------------------------------------------------------------------

Value matmul(Value a, Value b, CallSite loc) {
  return graph_of(Op::MatMul, a, loc).add_node(Op::MatMul, {a, b}, {}, loc);
}

} // namespace loom
