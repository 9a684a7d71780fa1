// Builders for data movement: reshape, transpose, broadcast_to, slice, concat, pad,
// gather, scatter_add, one_hot.
#include <algorithm>

#include "frontend/ops.h"
#include "frontend/ops_support.h"

namespace loom {

using frontend_detail::graph_of;
using frontend_detail::normalize_axis;

namespace {

// `shape` with its single -1 (if any) replaced by the extent that keeps the element
// count of `from`.
Shape infer_reshape(Shape shape, const TensorType& from, const CallSite& loc) {
  auto fail = [&](ErrorCode code, const std::string& why) {
    throw_at(code, "reshape: cannot reshape " + from.str() + " to " + shape_str(shape) + ": " + why,
             loc);
  };
  auto unknown = shape.end();
  int64_t known_numel = 1;
  for (auto it = shape.begin(); it != shape.end(); ++it) {
    if (*it == -1) {
      if (unknown != shape.end()) fail(ErrorCode::InvalidAttribute, "only one dimension may be -1");
      unknown = it;
    } else if (*it < 0) {
      fail(ErrorCode::InvalidAttribute,
           "dimensions must be >= 0 (or -1 for one inferred dimension)");
    } else if (*it != 0 && known_numel > kMaxElements / *it) {
      fail(ErrorCode::InvalidAttribute, "too many elements");
    } else {
      known_numel *= *it;
    }
  }
  if (unknown == shape.end()) return shape;
  if (known_numel == 0 || from.numel() % known_numel != 0)
    fail(ErrorCode::ShapeMismatch, "no extent for the -1 dimension preserves the element count " +
                                       std::to_string(from.numel()));
  *unknown = from.numel() / known_numel;
  return shape;
}

struct SliceBounds {
  int64_t start, stop;
};

// Python's slice.indices(): a negative bound counts from the end of a dimension of
// `extent` elements, then bounds clamp into the range the step can visit; an empty
// slice gets stop == start, the form the IR requires.
SliceBounds normalize_slice_bounds(int64_t start, int64_t stop, int64_t step, int64_t extent) {
  auto from_end = [extent](int64_t i) { return i < 0 ? i + extent : i; };
  if (step > 0) {
    start = std::clamp(from_end(start), int64_t{0}, extent);
    stop = std::clamp(from_end(stop), int64_t{0}, extent);
    return {start, std::max(stop, start)};
  }
  // Walking backwards, -1 is the position before the first element.
  start = std::clamp(from_end(start), int64_t{-1}, extent - 1);
  stop = std::clamp(from_end(stop), int64_t{-1}, extent - 1);
  return {start, std::min(stop, start)};
}

} // namespace

Value reshape(Value x, Shape shape, CallSite loc) {
  Graph& graph = graph_of(Op::Reshape, x, loc);
  shape = infer_reshape(std::move(shape), x.type(), loc);
  return graph.add_node(Op::Reshape, {x}, {{"shape", std::move(shape)}}, loc);
}

Value transpose(Value x, std::vector<int64_t> perm, CallSite loc) {
  Graph& graph = graph_of(Op::Transpose, x, loc);
  // Out-of-range entries are left for the shape rule, which reports the whole perm.
  for (int64_t& axis : perm)
    if (axis < 0 && axis >= -x.rank()) axis += x.rank();
  return graph.add_node(Op::Transpose, {x}, {{"perm", std::move(perm)}}, loc);
}

Value transpose(Value x, CallSite loc) {
  graph_of(Op::Transpose, x, loc);
  std::vector<int64_t> reversed(static_cast<size_t>(x.rank()));
  for (size_t i = 0; i < reversed.size(); ++i)
    reversed[i] = x.rank() - 1 - static_cast<int64_t>(i);
  return transpose(x, std::move(reversed), loc);
}

Value broadcast_to(Value x, Shape shape, CallSite loc) {
  return graph_of(Op::BroadcastTo, x, loc)
      .add_node(Op::BroadcastTo, {x}, {{"shape", std::move(shape)}}, loc);
}

Value slice(Value x, std::vector<int64_t> starts, std::vector<int64_t> stops,
            std::vector<int64_t> steps, CallSite loc) {
  Graph& graph = graph_of(Op::Slice, x, loc);
  const TensorType& type = x.type();
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (stops.size() != starts.size() || steps.size() != starts.size() ||
      static_cast<int64_t>(starts.size()) > type.rank())
    throw_at(ErrorCode::InvalidAttribute,
             "slice: starts " + shape_str(starts) + ", stops " + shape_str(stops) + " and steps " +
                 shape_str(steps) + " must have equal lengths of at most the rank of " + type.str(),
             loc);
  std::vector<int64_t> start(type.shape.size()), stop(type.shape.size()), step(type.shape.size());
  for (size_t d = 0; d < type.shape.size(); ++d) {
    bool given = d < starts.size();
    step[d] = given ? steps[d] : 1;
    if (step[d] == 0)
      throw_at(ErrorCode::InvalidAttribute,
               "slice: step 0 on axis " + std::to_string(d) + " of " + type.str(), loc);
    SliceBounds bounds = given ? normalize_slice_bounds(starts[d], stops[d], step[d], type.shape[d])
                               : SliceBounds{0, type.shape[d]};
    start[d] = bounds.start;
    stop[d] = bounds.stop;
  }
  return graph.add_node(
      Op::Slice, {x},
      {{"start", std::move(start)}, {"stop", std::move(stop)}, {"step", std::move(step)}}, loc);
}

Value concat(const std::vector<Value>& values, int64_t axis, CallSite loc) {
  if (values.empty()) throw_at(ErrorCode::InvalidArgument, "concat: needs at least one value", loc);
  Graph& graph = graph_of(Op::Concat, values[0], loc);
  axis = normalize_axis(Op::Concat, axis, values[0].type(), loc);
  return graph.add_node(Op::Concat, values, {{"axis", axis}}, loc);
}

Value pad(Value x, std::vector<int64_t> lo, std::vector<int64_t> hi, double value, CallSite loc) {
  return graph_of(Op::Pad, x, loc)
      .add_node(Op::Pad, {x},
                {{"pads_lo", std::move(lo)}, {"pads_hi", std::move(hi)}, {"value", value}}, loc);
}

Value gather(Value x, Value indices, int64_t axis, CallSite loc) {
  Graph& graph = graph_of(Op::Gather, x, loc);
  axis = normalize_axis(Op::Gather, axis, x.type(), loc);
  return graph.add_node(Op::Gather, {x, indices}, {{"axis", axis}}, loc);
}

Value scatter_add(Value x, Value indices, Value updates, int64_t axis, CallSite loc) {
  Graph& graph = graph_of(Op::ScatterAdd, x, loc);
  axis = normalize_axis(Op::ScatterAdd, axis, x.type(), loc);
  return graph.add_node(Op::ScatterAdd, {x, indices, updates}, {{"axis", axis}}, loc);
}

Value one_hot(Value indices, int64_t depth, DType dtype, CallSite loc) {
  return graph_of(Op::OneHot, indices, loc)
      .add_node(Op::OneHot, {indices}, {{"depth", depth}, {"dtype", dtype}}, loc);
}

} // namespace loom
