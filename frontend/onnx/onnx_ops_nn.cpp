// ONNX neural-network operators: MatMul, Gemm, Conv, ConvTranspose, pooling,
// normalizations (inference) and Softmax/LogSoftmax. loom's convolution and pooling
// are 2-D: 1-D operators are lifted to 2-D with a height of 1; 3-D is unsupported.
#include <algorithm>

#include "frontend/nn/activations.h"
#include "frontend/onnx/onnx_converter.h"

namespace loom::onnx {
namespace {

using Results = std::vector<Value>;

// numpy matmul: a 1-D left operand gains a leading 1, a 1-D right operand a trailing 1,
// and those dimensions are dropped from the result.
Value matmul_node(NodeContext& c) {
  Value a = c.input(0), b = c.input(1);
  if (a.rank() == 0 || b.rank() == 0)
    c.fail(ErrorCode::ShapeMismatch, "operands must not be scalars");
  bool a_vector = a.rank() == 1, b_vector = b.rank() == 1;
  if (a_vector) a = reshape(a, {1, a.shape()[0]});
  if (b_vector) b = reshape(b, {b.shape()[0], 1});
  Value y = matmul(a, b);
  if (!a_vector && !b_vector) return y;
  Shape shape(y.shape().begin(), y.shape().end() - 2);
  if (!a_vector) shape.push_back(y.shape()[y.rank() - 2]);
  if (!b_vector) shape.push_back(y.shape()[y.rank() - 1]);
  return reshape(y, shape);
}

Value gemm_node(NodeContext& c) {
  Value a = c.input(0), b = c.input(1);
  if (c.int_attr("transA", 0)) a = transpose(a);
  if (c.int_attr("transB", 0)) b = transpose(b);
  double alpha = c.float_attr("alpha", 1.0f), beta = c.float_attr("beta", 1.0f);
  Value y = matmul(a, b);
  if (alpha != 1.0) y = mul(y, alpha);
  if (Value bias = c.optional_input(2); bias.defined() && beta != 0.0)
    y = add(y, beta == 1.0 ? bias : mul(bias, beta));
  return y;
}

// Spatial geometry of a convolution or pooling window, per spatial axis.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads_lo, pads_hi;
};

// Resolves auto_pad (SAME_UPPER/SAME_LOWER/VALID) or explicit pads for input extents
// `in` (spatial axes only).
Window window_geometry(NodeContext& c, const std::vector<int64_t>& in,
                       const std::vector<int64_t>& kernel) {
  size_t n = in.size();
  Window w{kernel,
           c.ints_attr("strides").value_or(std::vector<int64_t>(n, 1)),
           c.ints_attr("dilations").value_or(std::vector<int64_t>(n, 1)),
           {},
           {}};
  std::vector<int64_t> pads = c.ints_attr("pads").value_or(std::vector<int64_t>(2 * n, 0));
  if (w.strides.size() != n || w.dilations.size() != n || pads.size() != 2 * n ||
      kernel.size() != n)
    c.fail(ErrorCode::InvalidAttribute,
           "kernel_shape, strides, dilations and pads disagree in rank");
  std::string auto_pad = c.string_attr("auto_pad", "NOTSET");
  for (size_t i = 0; i < n; ++i) {
    int64_t lo = pads[i], hi = pads[i + n];
    if (auto_pad == "VALID") {
      lo = hi = 0;
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      int64_t out = (in[i] + w.strides[i] - 1) / w.strides[i];
      int64_t span = (kernel[i] - 1) * w.dilations[i] + 1;
      int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + span - in[i]);
      lo = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      hi = total - lo;
    } else if (auto_pad != "NOTSET") {
      c.fail(ErrorCode::InvalidAttribute, "unknown auto_pad '" + auto_pad + "'");
    }
    w.pads_lo.push_back(lo);
    w.pads_hi.push_back(hi);
  }
  return w;
}

// loom's 2-D attribute lists from a Window; a 1-D window gets a leading unit axis.
struct Window2D {
  std::vector<int64_t> kernel, strides, dilations, pads;
};

Window2D to_2d(const Window& w) {
  if (w.kernel.size() == 2)
    return {
        w.kernel, w.strides, w.dilations, {w.pads_lo[0], w.pads_lo[1], w.pads_hi[0], w.pads_hi[1]}};
  return {
      {1, w.kernel[0]}, {1, w.strides[0]}, {1, w.dilations[0]}, {0, w.pads_lo[0], 0, w.pads_hi[0]}};
}

// [N, C, L] -> [N, C, 1, L] so that 2-D ops apply; rank 4 stays; others are unsupported.
Value lift_to_2d(NodeContext& c, Value x, const char* what) {
  if (x.rank() == 4) return x;
  if (x.rank() == 3) return reshape(x, {x.shape()[0], x.shape()[1], 1, x.shape()[2]});
  c.unsupported(std::string(what) + " of rank " + std::to_string(x.rank()) +
                " (only 1-D and 2-D spatial data are supported)");
}

Value lower_from_2d(Value y, int64_t rank) {
  if (rank == 4) return y;
  return reshape(y, {y.shape()[0], y.shape()[1], y.shape()[3]});
}

std::vector<int64_t> spatial_dims(Value x) { return {x.shape().begin() + 2, x.shape().end()}; }

// Adds a per-channel bias [C] to y [N, C, ...].
Value add_channel_bias(Value y, Value bias) {
  Shape shape(static_cast<size_t>(y.rank()), 1);
  shape[1] = bias.shape()[0];
  return add(y, reshape(bias, shape));
}

Value conv_node(NodeContext& c) {
  Value x = c.input(0), w = c.input(1);
  std::vector<int64_t> kernel = c.ints_attr("kernel_shape").value_or(spatial_dims(w));
  Window2D win = to_2d(window_geometry(c, spatial_dims(x), kernel));
  Value y = conv2d(lift_to_2d(c, x, "input"), lift_to_2d(c, w, "filter"), win.strides, win.pads,
                   win.dilations, c.int_attr("group", 1));
  y = lower_from_2d(y, x.rank());
  if (Value bias = c.optional_input(2); bias.defined()) y = add_channel_bias(y, bias);
  return y;
}

// ConvTranspose as the input gradient of the convolution it transposes.
Value conv_transpose_node(NodeContext& c) {
  Value x = c.input(0), w = c.input(1);
  int64_t groups = c.int_attr("group", 1);
  std::vector<int64_t> in = spatial_dims(x),
                       kernel = c.ints_attr("kernel_shape").value_or(spatial_dims(w));
  size_t n = in.size();
  std::vector<int64_t> strides = c.ints_attr("strides").value_or(std::vector<int64_t>(n, 1));
  std::vector<int64_t> dilations = c.ints_attr("dilations").value_or(std::vector<int64_t>(n, 1));
  std::vector<int64_t> pads = c.ints_attr("pads").value_or(std::vector<int64_t>(2 * n, 0));
  std::vector<int64_t> output_padding =
      c.ints_attr("output_padding").value_or(std::vector<int64_t>(n, 0));
  std::optional<std::vector<int64_t>> output_shape = c.ints_attr("output_shape");
  std::string auto_pad = c.string_attr("auto_pad", "NOTSET");
  if (strides.size() != n || dilations.size() != n || pads.size() != 2 * n ||
      output_padding.size() != n)
    c.fail(ErrorCode::InvalidAttribute,
           "strides, dilations, pads and output_padding disagree in rank");
  Shape out_shape{x.shape()[0], w.shape()[1] * groups};
  for (size_t i = 0; i < n; ++i) {
    int64_t span = (kernel[i] - 1) * dilations[i] + 1;
    int64_t full = strides[i] * (in[i] - 1) + output_padding[i] + span;
    if (output_shape || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      int64_t out =
          output_shape ? (*output_shape)[output_shape->size() - n + i] : in[i] * strides[i];
      // A larger output than the filter reaches gets zeros at the end (negative total).
      int64_t total = full - out;
      bool upper = auto_pad == "SAME_UPPER";
      pads[i] = total < 0 ? 0 : upper ? total / 2 : total - total / 2;
      pads[i + n] = total - pads[i];
    } else if (auto_pad == "VALID") {
      pads[i] = pads[i + n] = 0;
    }
    out_shape.push_back(full - pads[i] - pads[i + n]);
    pads[i + n] = std::max<int64_t>(pads[i + n], 0);
  }
  // The forward convolution floors its output extent, so the output padding rows are
  // part of the gradient's input shape but never reached by the filter.
  Window win{
      kernel, strides, dilations, {pads.begin(), pads.begin() + n}, {pads.begin() + n, pads.end()}};
  Window2D win2 = to_2d(win);
  Shape shape_2d = out_shape;
  if (n == 1) shape_2d.insert(shape_2d.begin() + 2, 1);
  Value y = conv2d_backprop_input(lift_to_2d(c, x, "input"), lift_to_2d(c, w, "filter"), shape_2d,
                                  win2.strides, win2.pads, win2.dilations, groups);
  y = lower_from_2d(y, x.rank());
  if (Value bias = c.optional_input(2); bias.defined()) y = add_channel_bias(y, bias);
  return y;
}

Results pool_node(NodeContext& c, bool is_max) {
  Value x = c.input(0);
  if (c.wants_output(1)) c.unsupported("the Indices output of MaxPool is not supported");
  std::optional<std::vector<int64_t>> kernel = c.ints_attr("kernel_shape");
  if (!kernel) c.fail(ErrorCode::InvalidAttribute, "kernel_shape is required");
  Window window = window_geometry(c, spatial_dims(x), *kernel);
  for (int64_t d : window.dilations)
    if (d != 1) c.unsupported("dilated pooling");
  Window2D win = to_2d(window);
  bool ceil_mode = c.int_attr("ceil_mode", 0) != 0;
  Value x2 = lift_to_2d(c, x, "input");
  Value y = is_max ? max_pool2d(x2, win.kernel, win.strides, win.pads, ceil_mode)
                   : avg_pool2d(x2, win.kernel, win.strides, win.pads, ceil_mode,
                                c.int_attr("count_include_pad", 0) != 0);
  return {lower_from_2d(y, x.rank())};
}

Value global_pool(Value x, bool is_max) {
  std::vector<int64_t> axes;
  for (int64_t i = 2; i < x.rank(); ++i)
    axes.push_back(i);
  if (is_max) return reduce_max(x, axes, true);
  int64_t count = 1;
  for (int64_t axis : axes)
    count *= x.shape()[axis];
  return div(reduce_sum(x, axes, true), static_cast<double>(count));
}

// Reshapes a per-channel vector [C] to broadcast against x [N, C, ...].
Value per_channel(Value v, Value x) {
  Shape shape(static_cast<size_t>(x.rank()), 1);
  shape[1] = v.shape()[0];
  return reshape(v, shape);
}

Results batch_norm_node(NodeContext& c) {
  if (c.int_attr("training_mode", 0) != 0 || c.wants_output(1) || c.wants_output(2))
    c.unsupported("training-mode batch normalization (batch statistics) is not supported");
  Value x = c.input(0);
  double eps = c.float_attr("epsilon", 1e-5f);
  Value scale = per_channel(c.input(1), x), bias = per_channel(c.input(2), x);
  Value mean = per_channel(c.input(3), x), var = per_channel(c.input(4), x);
  Value y = add(mul(sub(x, mean), mul(scale, rsqrt(add(var, eps)))), bias);
  return {y};
}

Value instance_norm_node(NodeContext& c) {
  Value x = c.input(0);
  double eps = c.float_attr("epsilon", 1e-5f);
  std::vector<int64_t> axes;
  for (int64_t i = 2; i < x.rank(); ++i)
    axes.push_back(i);
  double count = 1;
  for (int64_t axis : axes)
    count *= static_cast<double>(x.shape()[axis]);
  Value mean = div(reduce_sum(x, axes, true), count);
  Value centered = sub(x, mean);
  Value var = div(reduce_sum(mul(centered, centered), axes, true), count);
  Value y = mul(centered, rsqrt(add(var, eps)));
  return add(mul(y, per_channel(c.input(1), x)), per_channel(c.input(2), x));
}

// Normalizes over axes [axis, rank); optional outputs Mean and InvStdDev keep those
// axes as 1.
Results layer_norm_node(NodeContext& c) {
  Value x = c.input(0);
  int64_t axis = c.normalize_axis(c.int_attr("axis", -1), x.rank());
  double eps = c.float_attr("epsilon", 1e-5f);
  std::vector<int64_t> axes;
  double count = 1;
  for (int64_t i = axis; i < x.rank(); ++i) {
    axes.push_back(i);
    count *= static_cast<double>(x.shape()[i]);
  }
  Value mean = div(reduce_sum(x, axes, true), count);
  Value centered = sub(x, mean);
  Value inv_std = rsqrt(add(div(reduce_sum(mul(centered, centered), axes, true), count), eps));
  Value y = mul(mul(centered, inv_std), c.input(1));
  if (Value bias = c.optional_input(2); bias.defined()) y = add(y, bias);
  return {y, mean, inv_std};
}

// Softmax and LogSoftmax: along one axis since opset 13; before, over the flattened
// axes [axis, rank) (default axis 1).
Value softmax_node(NodeContext& c, bool log) {
  Value x = c.input(0);
  auto apply = [log](Value v, int64_t axis) {
    return log ? nn::log_softmax(v, axis) : nn::softmax(v, axis);
  };
  if (c.opset() >= 13) return apply(x, c.normalize_axis(c.int_attr("axis", -1), x.rank()));
  int64_t axis = c.normalize_axis(c.int_attr("axis", 1), x.rank());
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < x.rank(); ++i)
    (i < axis ? outer : inner) *= x.shape()[i];
  return reshape(apply(reshape(x, {outer, inner}), 1), x.shape());
}

} // namespace

void register_nn_ops(ConverterTable& table) {
  auto single = [](Value (*fn)(NodeContext&)) {
    return [fn](NodeContext& c) { return Results{fn(c)}; };
  };
  table["MatMul"] = single(matmul_node);
  table["Gemm"] = single(gemm_node);
  table["Conv"] = single(conv_node);
  table["ConvTranspose"] = single(conv_transpose_node);
  table["MaxPool"] = [](NodeContext& c) { return pool_node(c, true); };
  table["AveragePool"] = [](NodeContext& c) { return pool_node(c, false); };
  table["GlobalAveragePool"] = [](NodeContext& c) {
    return Results{global_pool(c.input(0), false)};
  };
  table["GlobalMaxPool"] = [](NodeContext& c) { return Results{global_pool(c.input(0), true)}; };
  table["BatchNormalization"] = batch_norm_node;
  table["InstanceNormalization"] = single(instance_norm_node);
  table["LayerNormalization"] = layer_norm_node;
  table["Softmax"] = [](NodeContext& c) { return Results{softmax_node(c, false)}; };
  table["LogSoftmax"] = [](NodeContext& c) { return Results{softmax_node(c, true)}; };
}

} // namespace loom::onnx
