// Builders for convolutions, pooling and their gradients.
#include "frontend/ops.h"
#include "frontend/ops_support.h"

namespace loom {

using frontend_detail::graph_of;

namespace {

// The IR's [top, left, bottom, right] from either that or [pad_h, pad_w].
std::vector<int64_t> expand_pads(Op op, std::vector<int64_t> pads, const CallSite& loc) {
  if (pads.size() == 2) return {pads[0], pads[1], pads[0], pads[1]};
  if (pads.size() == 4) return pads;
  throw_at(ErrorCode::InvalidAttribute,
           std::string(op_name(op)) + ": pads " + shape_str(pads) +
               " must be [top, left, bottom, right] or [pad_h, pad_w]",
           loc);
}

Attrs conv_attrs(Op op, std::vector<int64_t> strides, std::vector<int64_t> pads,
                 std::vector<int64_t> dilations, int64_t groups, const CallSite& loc) {
  return {{"strides", std::move(strides)},
          {"pads", expand_pads(op, std::move(pads), loc)},
          {"dilations", std::move(dilations)},
          {"groups", groups}};
}

// Pooling attributes; strides default to the kernel (non-overlapping windows).
Attrs pool_attrs(Op op, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                 std::vector<int64_t> pads, bool ceil_mode, const CallSite& loc) {
  if (strides.empty()) strides = kernel;
  return {{"kernel", std::move(kernel)},
          {"strides", std::move(strides)},
          {"pads", expand_pads(op, std::move(pads), loc)},
          {"ceil_mode", ceil_mode}};
}

} // namespace

Value conv2d(Value x, Value w, std::vector<int64_t> strides, std::vector<int64_t> pads,
             std::vector<int64_t> dilations, int64_t groups, CallSite loc) {
  Op op = Op::Conv2D;
  Graph& graph = graph_of(op, x, loc);
  return graph.add_node(
      op, {x, w},
      conv_attrs(op, std::move(strides), std::move(pads), std::move(dilations), groups, loc), loc);
}

Value conv2d_backprop_input(Value dy, Value w, Shape input_shape, std::vector<int64_t> strides,
                            std::vector<int64_t> pads, std::vector<int64_t> dilations,
                            int64_t groups, CallSite loc) {
  Op op = Op::Conv2DBackpropInput;
  Graph& graph = graph_of(op, dy, loc);
  Attrs attrs =
      conv_attrs(op, std::move(strides), std::move(pads), std::move(dilations), groups, loc);
  attrs.set("input_shape", std::move(input_shape));
  return graph.add_node(op, {dy, w}, std::move(attrs), loc);
}

Value conv2d_backprop_filter(Value x, Value dy, Shape filter_shape, std::vector<int64_t> strides,
                             std::vector<int64_t> pads, std::vector<int64_t> dilations,
                             int64_t groups, CallSite loc) {
  Op op = Op::Conv2DBackpropFilter;
  Graph& graph = graph_of(op, x, loc);
  Attrs attrs =
      conv_attrs(op, std::move(strides), std::move(pads), std::move(dilations), groups, loc);
  attrs.set("filter_shape", std::move(filter_shape));
  return graph.add_node(op, {x, dy}, std::move(attrs), loc);
}

Value max_pool2d(Value x, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                 std::vector<int64_t> pads, bool ceil_mode, CallSite loc) {
  Op op = Op::MaxPool2D;
  Graph& graph = graph_of(op, x, loc);
  return graph.add_node(
      op, {x},
      pool_attrs(op, std::move(kernel), std::move(strides), std::move(pads), ceil_mode, loc), loc);
}

Value max_pool2d_grad(Value x, Value dy, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                      std::vector<int64_t> pads, bool ceil_mode, CallSite loc) {
  Op op = Op::MaxPool2DGrad;
  Graph& graph = graph_of(op, x, loc);
  return graph.add_node(
      op, {x, dy},
      pool_attrs(op, std::move(kernel), std::move(strides), std::move(pads), ceil_mode, loc), loc);
}

Value avg_pool2d(Value x, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                 std::vector<int64_t> pads, bool ceil_mode, bool count_include_pad, CallSite loc) {
  Op op = Op::AvgPool2D;
  Graph& graph = graph_of(op, x, loc);
  Attrs attrs =
      pool_attrs(op, std::move(kernel), std::move(strides), std::move(pads), ceil_mode, loc);
  attrs.set("count_include_pad", count_include_pad);
  return graph.add_node(op, {x}, std::move(attrs), loc);
}

Value avg_pool2d_grad(Value dy, Shape input_shape, std::vector<int64_t> kernel,
                      std::vector<int64_t> strides, std::vector<int64_t> pads, bool ceil_mode,
                      bool count_include_pad, CallSite loc) {
  Op op = Op::AvgPool2DGrad;
  Graph& graph = graph_of(op, dy, loc);
  Attrs attrs =
      pool_attrs(op, std::move(kernel), std::move(strides), std::move(pads), ceil_mode, loc);
  attrs.set("count_include_pad", count_include_pad);
  attrs.set("input_shape", std::move(input_shape));
  return graph.add_node(op, {dy}, std::move(attrs), loc);
}

} // namespace loom
