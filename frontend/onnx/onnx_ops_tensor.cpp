// ONNX shape and data-movement operators: Reshape, Transpose, Flatten, Squeeze,
// Unsqueeze, Concat, Split, Slice, Gather, Pad, Expand, Tile, Constant,
// ConstantOfShape, Shape, Size, Range, CumSum. Shape-like inputs must be constants.
#include <algorithm>
#include <climits>
#include <numeric>

#include "frontend/onnx/onnx_converter.h"
#include "ir/shape_rules.h"

namespace loom::onnx {
namespace {

using Results = std::vector<Value>;

Value reshape_node(NodeContext& c) {
  Value x = c.input(0);
  std::vector<int64_t> target = c.constant_ints(1, "shape");
  bool allow_zero = c.int_attr("allowzero", 0) != 0;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] != 0 || allow_zero) continue;
    if (static_cast<int64_t>(i) >= x.rank())
      c.fail(ErrorCode::ShapeMismatch, "shape entry " + std::to_string(i) +
                                           " is 0 (copy) but the input has rank " +
                                           std::to_string(x.rank()));
    target[i] = x.shape()[i];
  }
  return reshape(x, target);
}

Value transpose_node(NodeContext& c) {
  Value x = c.input(0);
  std::optional<std::vector<int64_t>> perm = c.ints_attr("perm");
  return perm ? transpose(x, *perm) : transpose(x);
}

Value flatten_node(NodeContext& c) {
  Value x = c.input(0);
  int64_t axis = c.int_attr("axis", 1);
  if (axis < 0) axis += x.rank();
  if (axis < 0 || axis > x.rank()) c.fail(ErrorCode::InvalidAttribute, "axis is out of range");
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < x.rank(); ++i)
    (i < axis ? outer : inner) *= x.shape()[i];
  return reshape(x, {outer, inner});
}

// Axes from the attribute (older opsets) or from input 1 (opset 13 and later).
std::optional<std::vector<int64_t>> axes_operand(NodeContext& c, int64_t since_opset, int input) {
  if (c.opset() < since_opset) return c.ints_attr("axes");
  if (!c.has_input(input)) return std::nullopt;
  return c.constant_ints(input, "axes");
}

Value squeeze_node(NodeContext& c) {
  Value x = c.input(0);
  std::optional<std::vector<int64_t>> axes = axes_operand(c, 13, 1);
  std::vector<bool> drop(static_cast<size_t>(x.rank()), false);
  for (int64_t i = 0; i < x.rank(); ++i)
    drop[i] = !axes && x.shape()[i] == 1;
  for (int64_t axis : axes.value_or(std::vector<int64_t>{})) {
    axis = c.normalize_axis(axis, x.rank());
    if (x.shape()[axis] != 1)
      c.fail(ErrorCode::ShapeMismatch, "cannot squeeze axis " + std::to_string(axis) +
                                           " of extent " + std::to_string(x.shape()[axis]));
    drop[axis] = true;
  }
  Shape shape;
  for (int64_t i = 0; i < x.rank(); ++i)
    if (!drop[i]) shape.push_back(x.shape()[i]);
  return reshape(x, shape);
}

Value unsqueeze_node(NodeContext& c) {
  Value x = c.input(0);
  std::optional<std::vector<int64_t>> axes = axes_operand(c, 13, 1);
  if (!axes) c.fail(ErrorCode::InvalidArgument, "axes are required");
  int64_t rank = x.rank() + static_cast<int64_t>(axes->size());
  std::vector<bool> inserted(static_cast<size_t>(rank), false);
  for (int64_t axis : *axes)
    inserted[c.normalize_axis(axis, rank)] = true;
  Shape shape;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(inserted[i] ? 1 : x.shape()[next++]);
  return reshape(x, shape);
}

Value concat_node(NodeContext& c) {
  std::vector<Value> values;
  for (int i = 0; i < c.num_inputs(); ++i)
    values.push_back(c.input(i));
  return concat(values, c.normalize_axis(c.required_int_attr("axis"), values.at(0).rank()));
}

// x[start:stop] along `axis`.
Value slice_axis(Value x, int64_t axis, int64_t start, int64_t stop, int64_t step = 1) {
  std::vector<int64_t> starts(static_cast<size_t>(axis + 1), 0), stops(starts.size(), INT64_MAX),
      steps(starts.size(), 1);
  starts[axis] = start;
  stops[axis] = stop;
  steps[axis] = step;
  return slice(x, starts, stops, steps);
}

Results split_node(NodeContext& c) {
  Value x = c.input(0);
  int64_t axis = c.normalize_axis(c.int_attr("axis", 0), x.rank());
  int64_t extent = x.shape()[axis];
  int64_t parts = c.num_outputs();
  std::vector<int64_t> sizes;
  if (c.opset() >= 13 && c.has_input(1))
    sizes = c.constant_ints(1, "split");
  else if (c.opset() < 13 && c.has_attr("split"))
    sizes = *c.ints_attr("split");
  else if (c.has_attr("num_outputs")) {
    int64_t chunk = (extent + c.int_attr("num_outputs", 1) - 1) / c.int_attr("num_outputs", 1);
    for (int64_t start = 0; start < extent; start += chunk)
      sizes.push_back(std::min(chunk, extent - start));
  } else {
    if (extent % parts != 0)
      c.fail(ErrorCode::ShapeMismatch, "axis extent " + std::to_string(extent) +
                                           " does not split into " + std::to_string(parts) +
                                           " equal parts");
    sizes.assign(static_cast<size_t>(parts), extent / parts);
  }
  if (static_cast<int64_t>(sizes.size()) != parts ||
      std::accumulate(sizes.begin(), sizes.end(), int64_t{0}) != extent)
    c.fail(ErrorCode::ShapeMismatch, "split sizes do not add up to the axis extent");
  Results results;
  int64_t start = 0;
  for (int64_t size : sizes) {
    results.push_back(slice_axis(x, axis, start, start + size));
    start += size;
  }
  return results;
}

Value slice_node(NodeContext& c) {
  Value x = c.input(0);
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.opset() < 10) {
    starts = c.ints_attr("starts").value_or(std::vector<int64_t>{});
    ends = c.ints_attr("ends").value_or(std::vector<int64_t>{});
    axes = c.ints_attr("axes").value_or(std::vector<int64_t>{});
  } else {
    starts = c.constant_ints(1, "starts");
    ends = c.constant_ints(2, "ends");
    if (c.has_input(3)) axes = c.constant_ints(3, "axes");
    if (c.has_input(4)) steps = c.constant_ints(4, "steps");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    c.fail(ErrorCode::InvalidArgument, "starts, ends, axes and steps differ in length");
  size_t rank = static_cast<size_t>(x.rank());
  std::vector<int64_t> all_starts(rank, 0), all_stops(rank, INT64_MAX), all_steps(rank, 1);
  for (size_t i = 0; i < axes.size(); ++i) {
    size_t axis = static_cast<size_t>(c.normalize_axis(axes[i], x.rank()));
    if (steps[i] == 0) c.fail(ErrorCode::InvalidArgument, "a step is 0");
    all_starts[axis] = starts[i];
    all_stops[axis] = ends[i];
    all_steps[axis] = steps[i];
  }
  return slice(x, all_starts, all_stops, all_steps);
}

Value gather_node(NodeContext& c) {
  Value x = c.input(0);
  return gather(x, c.input(1), c.normalize_axis(c.int_attr("axis", 0), x.rank()));
}

// `count` slices of x along `axis` joined end to end.
Value edge_pieces(Value x, int64_t axis, int64_t count, bool before, const std::string& mode,
                  NodeContext& c) {
  int64_t extent = x.shape()[axis];
  if (mode == "edge") {
    Value edge = before ? slice_axis(x, axis, 0, 1) : slice_axis(x, axis, extent - 1, extent);
    Shape shape = x.shape();
    shape[axis] = count;
    return broadcast_to(edge, shape);
  }
  if (mode == "reflect") {
    if (count >= extent) c.unsupported("reflect padding wider than the axis");
    // Mirror images that exclude the edge element itself.
    return before ? slice_axis(x, axis, count, 0, -1)
                  : slice_axis(x, axis, extent - 2, extent - 2 - count, -1);
  }
  if (mode == "wrap") {
    if (count > extent) c.unsupported("wrap padding wider than the axis");
    return before ? slice_axis(x, axis, extent - count, extent) : slice_axis(x, axis, 0, count);
  }
  c.fail(ErrorCode::InvalidAttribute, "unknown pad mode '" + mode + "'");
}

Value pad_node(NodeContext& c) {
  Value x = c.input(0);
  int64_t rank = x.rank();
  std::vector<int64_t> pads = c.opset() < 11 ? c.ints_attr("pads").value_or(std::vector<int64_t>{})
                                             : c.constant_ints(1, "pads");
  std::vector<int64_t> axes;
  if (c.opset() >= 18 && c.has_input(3))
    axes = c.constant_ints(3, "axes");
  else
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  if (pads.size() != 2 * axes.size())
    c.fail(ErrorCode::InvalidArgument, "pads must hold two entries per padded axis");
  double fill = c.opset() < 11 ? c.float_attr("value", 0.0f) : 0.0;
  if (c.opset() >= 11 && c.has_input(2)) {
    Tensor value = c.constant_input(2, "constant_value");
    if (value.numel() > 0) fill = value.at(0);
  }
  std::string mode = c.string_attr("mode", "constant");
  std::vector<int64_t> lo(static_cast<size_t>(rank), 0), hi(lo);
  for (size_t i = 0; i < axes.size(); ++i) {
    size_t axis = static_cast<size_t>(c.normalize_axis(axes[i], rank));
    lo[axis] = pads[i];
    hi[axis] = pads[i + axes.size()];
  }
  // Negative pads crop.
  for (int64_t axis = 0; axis < rank; ++axis) {
    int64_t start = std::max<int64_t>(0, -lo[axis]);
    int64_t stop = x.shape()[axis] - std::max<int64_t>(0, -hi[axis]);
    if (start != 0 || stop != x.shape()[axis]) x = slice_axis(x, axis, start, stop);
    lo[axis] = std::max<int64_t>(0, lo[axis]);
    hi[axis] = std::max<int64_t>(0, hi[axis]);
  }
  if (mode == "constant") return pad(x, lo, hi, fill);
  for (int64_t axis = 0; axis < rank; ++axis) {
    std::vector<Value> pieces;
    if (lo[axis] > 0) pieces.push_back(edge_pieces(x, axis, lo[axis], true, mode, c));
    pieces.push_back(x);
    if (hi[axis] > 0) pieces.push_back(edge_pieces(x, axis, hi[axis], false, mode, c));
    if (pieces.size() > 1) x = concat(pieces, axis);
  }
  return x;
}

Value expand_node(NodeContext& c) {
  Value x = c.input(0);
  std::vector<int64_t> shape = c.constant_ints(1, "shape");
  std::optional<Shape> target = broadcast_shapes(x.shape(), shape);
  if (!target)
    c.fail(ErrorCode::ShapeMismatch,
           "cannot broadcast " + x.type().str() + " to " + shape_str(shape));
  return broadcast_to(x, *target);
}

// Tile as broadcast: [d0, d1] -> [1, d0, 1, d1] -> [r0, d0, r1, d1] -> [r0*d0, r1*d1].
Value tile_node(NodeContext& c) {
  Value x = c.input(0);
  std::vector<int64_t> repeats = c.constant_ints(1, "repeats");
  if (static_cast<int64_t>(repeats.size()) != x.rank())
    c.fail(ErrorCode::InvalidArgument, "repeats must have one entry per input axis");
  Shape interleaved, expanded, result;
  for (int64_t i = 0; i < x.rank(); ++i) {
    interleaved.insert(interleaved.end(), {1, x.shape()[i]});
    expanded.insert(expanded.end(), {repeats[i], x.shape()[i]});
    result.push_back(repeats[i] * x.shape()[i]);
  }
  return reshape(broadcast_to(reshape(x, interleaved), expanded), result);
}

Tensor constant_attribute(NodeContext& c) {
  if (auto tensor = c.tensor_attr("value")) return *tensor;
  if (c.has_attr("value_float"))
    return Tensor::full(DType::F32, {}, c.float_attr("value_float", 0));
  if (c.has_attr("value_int"))
    return Tensor::full(DType::I64, {}, static_cast<double>(c.int_attr("value_int", 0)));
  if (auto floats = c.floats_attr("value_floats"))
    return Tensor::from_vector<float>({static_cast<int64_t>(floats->size())}, *floats);
  if (auto ints = c.ints_attr("value_ints"))
    return Tensor::from_vector<int64_t>({static_cast<int64_t>(ints->size())}, *ints);
  c.unsupported("only tensor, float and int constants are supported (not strings or sparse)");
}

Value constant_of_shape_node(NodeContext& c) {
  std::vector<int64_t> shape = c.constant_ints(0, "shape");
  Tensor fill = c.tensor_attr("value").value_or(Tensor::full(DType::F32, {1}, 0.0));
  return constant_value(c.graph(), Tensor::full(fill.dtype(), shape, fill.at(0)));
}

Value shape_node(NodeContext& c) {
  Value x = c.input(0);
  int64_t rank = x.rank();
  int64_t start = c.int_attr("start", 0), end = c.int_attr("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims(x.shape().begin() + start, x.shape().begin() + end);
  return constant_value(c.graph(), Tensor::from_vector<int64_t>({end - start}, dims));
}

Value size_node(NodeContext& c) {
  return constant_value(
      c.graph(), Tensor::full(DType::I64, {}, static_cast<double>(c.input(0).type().numel())));
}

// start + i * delta for i in [0, max(ceil((limit - start) / delta), 0)).
Value range_node(NodeContext& c) {
  Tensor start = c.constant_input(0, "start"), limit = c.constant_input(1, "limit"),
         delta = c.constant_input(2, "delta");
  double first = start.at(0), step = delta.at(0);
  if (step == 0) c.fail(ErrorCode::InvalidArgument, "delta is 0");
  int64_t count =
      std::max<int64_t>(0, static_cast<int64_t>(std::ceil((limit.at(0) - first) / step)));
  Tensor out(start.dtype(), {count});
  if (is_float(start.dtype())) {
    for (int64_t i = 0; i < count; ++i)
      store_from_double(out.dtype(), out.raw_data(), i, first + static_cast<double>(i) * step);
  } else {
    int64_t base = load_as_int(start.dtype(), start.raw_data(), 0);
    int64_t stride = load_as_int(delta.dtype(), delta.raw_data(), 0);
    for (int64_t i = 0; i < count; ++i)
      store_from_double(out.dtype(), out.raw_data(), i, static_cast<double>(base + i * stride));
  }
  return constant_value(c.graph(), out);
}

// CumSum along `axis` as a matmul with a triangular 0/1 matrix: y = x @ T with
// T[i, j] = 1 when input position i contributes to output position j.
Value cumsum_node(NodeContext& c) {
  Value x = c.input(0);
  int64_t axis = c.normalize_axis(c.constant_ints(1, "axis").at(0), x.rank());
  bool exclusive = c.int_attr("exclusive", 0) != 0, reverse = c.int_attr("reverse", 0) != 0;
  int64_t n = x.shape()[axis];
  Tensor triangle(x.dtype(), {n, n});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      bool contributes = reverse ? (exclusive ? i > j : i >= j) : (exclusive ? i < j : i <= j);
      store_from_double(x.dtype(), triangle.raw_data(), i * n + j, contributes ? 1.0 : 0.0);
    }
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < x.rank(); ++i)
    if (i != axis) perm.push_back(i);
  perm.push_back(axis);
  Value moved = transpose(x, perm);
  Shape moved_shape = moved.shape();
  Value summed = matmul(reshape(moved, {-1, n}), constant_value(c.graph(), triangle));
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[perm[i]] = static_cast<int64_t>(i);
  return transpose(reshape(summed, moved_shape), inverse);
}

} // namespace

void register_tensor_ops(ConverterTable& table) {
  auto single = [](Value (*fn)(NodeContext&)) {
    return [fn](NodeContext& c) { return Results{fn(c)}; };
  };
  table["Reshape"] = single(reshape_node);
  table["Transpose"] = single(transpose_node);
  table["Flatten"] = single(flatten_node);
  table["Squeeze"] = single(squeeze_node);
  table["Unsqueeze"] = single(unsqueeze_node);
  table["Concat"] = single(concat_node);
  table["Split"] = split_node;
  table["Slice"] = single(slice_node);
  table["Gather"] = single(gather_node);
  table["Pad"] = single(pad_node);
  table["Expand"] = single(expand_node);
  table["Tile"] = single(tile_node);
  table["Constant"] = [](NodeContext& c) {
    return Results{constant_value(c.graph(), constant_attribute(c))};
  };
  table["ConstantOfShape"] = single(constant_of_shape_node);
  table["Shape"] = single(shape_node);
  table["Size"] = single(size_node);
  table["Range"] = single(range_node);
  table["CumSum"] = single(cumsum_node);
}

} // namespace loom::onnx
