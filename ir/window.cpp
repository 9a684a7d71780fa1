#include "ir/window.h"

#include <string>

#include "ir/error.h"

namespace loom::ir {

namespace {

// strides [2], pads [4] (top, left, bottom, right) and, for convolutions, dilations [2].
Window2D window_of(const Node& n, bool dilated) {
  const Attrs& a = n.attrs();
  const auto& strides = a.get_ints(n.name(), "strides");
  const auto& pads = a.get_ints(n.name(), "pads");
  Window2D w{.stride_h = strides[0],
             .stride_w = strides[1],
             .pad_top = pads[0],
             .pad_left = pads[1],
             .pad_bottom = pads[2],
             .pad_right = pads[3]};
  if (dilated) {
    const auto& dilations = a.get_ints(n.name(), "dilations");
    w.dilation_h = dilations[0];
    w.dilation_w = dilations[1];
  }
  return w;
}

const Shape& operand_shape(const Node& n, int i) { return n.operand(i)->shape(); }

} // namespace

ConvGeometry conv_geometry(const Node& n) {
  ConvGeometry g;
  const Shape& result = n.result()->shape();
  switch (n.op()) {
  case Op::Conv2D:
    g.x = operand_shape(n, 0), g.w = operand_shape(n, 1), g.y = result;
    break;
  case Op::Conv2DBackpropInput:
    g.x = result, g.w = operand_shape(n, 1), g.y = operand_shape(n, 0);
    break;
  case Op::Conv2DBackpropFilter:
    g.x = operand_shape(n, 0), g.w = result, g.y = operand_shape(n, 1);
    break;
  default:
    throw_error(ErrorCode::Internal, "conv_geometry of " + std::string(n.name()));
  }
  g.window = window_of(n, true);
  g.groups = n.attrs().get_int(n.name(), "groups");
  return g;
}

PoolGeometry pool_geometry(const Node& n) {
  PoolGeometry g;
  const Shape& result = n.result()->shape();
  switch (n.op()) {
  case Op::MaxPool2D:
  case Op::AvgPool2D:
    g.x = operand_shape(n, 0), g.y = result;
    break;
  case Op::MaxPool2DGrad:
    g.x = operand_shape(n, 0), g.y = operand_shape(n, 1);
    break;
  case Op::AvgPool2DGrad:
    g.x = result, g.y = operand_shape(n, 0);
    break;
  default:
    throw_error(ErrorCode::Internal, "pool_geometry of " + std::string(n.name()));
  }
  const Attrs& a = n.attrs();
  const auto& kernel = a.get_ints(n.name(), "kernel");
  g.kernel_h = kernel[0], g.kernel_w = kernel[1];
  g.window = window_of(n, false);
  g.count_include_pad = a.has("count_include_pad") && a.get_bool(n.name(), "count_include_pad");
  return g;
}

} // namespace loom::ir
