// VJP rules of convolution and pooling and of their gradient ops, so that networks
// with convolutions and pooling have second-order derivatives.
//
// The three convolution ops are bilinear and adjoint to each other: writing
// conv(x, w), B(dy, w) = conv2d_backprop_input and F(x, dy) = conv2d_backprop_filter,
//   <conv(x, w), dy> = <x, B(dy, w)> = <w, F(x, dy)>
// for all x, w, dy. Differentiating each identity in each argument gives every rule.
#include "autodiff/emit.h"
#include "autodiff/vjp_table.h"

namespace loom::autodiff {

namespace {

using namespace emit;
using ir::Node;
using Cotangents = std::vector<Value*>;

// The node's window attributes, without the result-shape attribute of gradient ops.
Attrs window_attrs(const Node& n) {
  Attrs attrs = n.attrs();
  attrs.erase("input_shape");
  attrs.erase("filter_shape");
  return attrs;
}

Attrs with_shape(const Node& n, const std::string& name, const Shape& shape) {
  Attrs attrs = window_attrs(n);
  attrs.set(name, shape);
  return attrs;
}

// --- convolution -------------------------------------------------------------------------

Value* conv(Builder& b, const Node& n, Value* x, Value* w) {
  return b.op(Op::Conv2D, {x, w}, window_attrs(n));
}

// B(dy, w): the gradient of <conv(x, w), dy> with respect to x of shape x_shape.
Value* backprop_input(Builder& b, const Node& n, Value* dy, Value* w, const Shape& x_shape) {
  return b.op(Op::Conv2DBackpropInput, {dy, w}, with_shape(n, "input_shape", x_shape));
}

// F(x, dy): the gradient of <conv(x, w), dy> with respect to w of shape w_shape.
Value* backprop_filter(Builder& b, const Node& n, Value* x, Value* dy, const Shape& w_shape) {
  return b.op(Op::Conv2DBackpropFilter, {x, dy}, with_shape(n, "filter_shape", w_shape));
}

// y = conv(x, w): dx = B(g, w), dw = F(x, g).
Cotangents conv2d_vjp(Builder& b, const Node& n, Value* g) {
  Value* x = n.operand(0);
  Value* w = n.operand(1);
  return {backprop_input(b, n, g, w, x->shape()), backprop_filter(b, n, x, g, w->shape())};
}

// dx = B(dy, w) is <dx, g> = <conv(g, w), dy> = <F(g, dy), w>:
// d_dy = conv(g, w), d_w = F(g, dy).
Cotangents conv2d_backprop_input_vjp(Builder& b, const Node& n, Value* g) {
  Value* dy = n.operand(0);
  Value* w = n.operand(1);
  return {conv(b, n, g, w), backprop_filter(b, n, g, dy, w->shape())};
}

// dw = F(x, dy) is <dw, g> = <conv(x, g), dy> = <x, B(dy, g)>:
// d_x = B(dy, g), d_dy = conv(x, g).
Cotangents conv2d_backprop_filter_vjp(Builder& b, const Node& n, Value* g) {
  Value* x = n.operand(0);
  Value* dy = n.operand(1);
  return {backprop_input(b, n, dy, g, x->shape()), conv(b, n, x, g)};
}

// --- average pooling: avg_pool2d and avg_pool2d_grad are each other's adjoint --------------

Cotangents avg_pool2d_vjp(Builder& b, const Node& n, Value* g) {
  return {b.op(Op::AvgPool2DGrad, {g}, with_shape(n, "input_shape", n.operand(0)->shape()))};
}

Cotangents avg_pool2d_grad_vjp(Builder& b, const Node& n, Value* g) {
  return {b.op(Op::AvgPool2D, {g}, window_attrs(n))};
}

// --- max pooling -----------------------------------------------------------------------------

Cotangents max_pool2d_vjp(Builder& b, const Node& n, Value* g) {
  return {b.op(Op::MaxPool2DGrad, {n.operand(0), g}, n.attrs())};
}

// The pooling windows of a max_pool2d_grad node: kernel, strides, padding, output size.
struct PoolWindows {
  std::vector<int64_t> kernel, strides, pads;
  int64_t out_h, out_w;

  explicit PoolWindows(const Node& n)
      : kernel(n.attrs().get_ints(n.name(), "kernel")),
        strides(n.attrs().get_ints(n.name(), "strides")),
        pads(n.attrs().get_ints(n.name(), "pads")), out_h(n.operand(1)->shape()[2]),
        out_w(n.operand(1)->shape()[3]) {}

  int64_t taps() const { return kernel[0] * kernel[1]; }
};

// `v` (NCHW, the input's shape) padded with zeros: top/left as the pooling pads, and
// bottom/right far enough for every window, including ceil_mode windows that run past
// the declared padding.
Value* pad_for_windows(Builder& b, Value* v, const PoolWindows& w) {
  const Shape& s = v->shape();
  int64_t bottom =
      std::max<int64_t>(0, (w.out_h - 1) * w.strides[0] + w.kernel[0] - s[2] - w.pads[0]);
  int64_t right =
      std::max<int64_t>(0, (w.out_w - 1) * w.strides[1] + w.kernel[1] - s[3] - w.pads[1]);
  return pad(b, v, {0, 0, w.pads[0], w.pads[1]}, {0, 0, bottom, right});
}

// The windows of `v` as [N, C, KH*KW, OH, OW]: entry (n, c, p*KW + q, i, j) is the
// window tap (p, q) of output (i, j), i.e. v_padded[n, c, i*sh + p, j*sw + q]. Taps
// are ordered row-major within the window, the order in which max pooling breaks ties.
Value* window_taps(Builder& b, Value* v, const PoolWindows& w) {
  Value* padded = pad_for_windows(b, v, w);
  const Shape& s = v->shape();
  std::vector<Value*> taps;
  for (int64_t p = 0; p < w.kernel[0]; ++p)
    for (int64_t q = 0; q < w.kernel[1]; ++q) {
      Value* tap = slice(
          b, padded, {0, 0, p, q},
          {s[0], s[1], p + (w.out_h - 1) * w.strides[0] + 1, q + (w.out_w - 1) * w.strides[1] + 1},
          {1, 1, w.strides[0], w.strides[1]});
      taps.push_back(reshape(b, tap, {s[0], s[1], 1, w.out_h, w.out_w}));
    }
  return b.op(Op::Concat, taps, {{"axis", int64_t{2}}});
}

// One-hot (in x's dtype) over the taps axis of the tap each window routes its gradient
// to: the first maximum, where a NaN counts as the maximum (as in max_pool2d_grad), and
// positions in the padding never win.
Value* chosen_taps(Builder& b, const Node& n, const PoolWindows& w) {
  Value* x = n.operand(0);
  const Shape& s = x->shape();
  Value* x_taps = window_taps(b, x, w);
  Value* inside =
      binary(b, Op::Ne, window_taps(b, full(b, x->type(), 1.0), w), scalar_like(b, x, 0.0));
  Value* window_max = b.op(Op::MaxPool2D, {x}, n.attrs());
  Value* is_max =
      binary(b, Op::Eq, x_taps, reshape(b, window_max, {s[0], s[1], 1, w.out_h, w.out_w}));
  Value* is_nan = binary(b, Op::Ne, x_taps, x_taps);
  Value* candidate = binary(b, Op::LogicalAnd, inside, binary(b, Op::LogicalOr, is_max, is_nan));
  Value* first = b.op(Op::ArgMax, {cast(b, candidate, x->dtype())},
                      {{"axis", int64_t{2}}, {"keepdims", false}});
  Value* one_hot = b.op(Op::OneHot, {first}, {{"depth", w.taps()}, {"dtype", x->dtype()}});
  return transpose(b, one_hot, {0, 1, 4, 2, 3});
}

// dx = max_pool2d_grad(x, dy) sends dy[o] to the chosen position of window o, so its
// adjoint reads g at that position: d_dy[o] = g[chosen(o)]. With respect to x the
// result is piecewise constant: no gradient.
Cotangents max_pool2d_grad_vjp(Builder& b, const Node& n, Value* g) {
  PoolWindows w(n);
  Value* routed = mul(b, window_taps(b, g, w), chosen_taps(b, n, w));
  return {nullptr, reduce_sum(b, routed, {2}, false)};
}

} // namespace

void register_conv_vjps(VjpTable& t) {
  t.define(Op::Conv2D, conv2d_vjp);
  t.define(Op::Conv2DBackpropInput, conv2d_backprop_input_vjp);
  t.define(Op::Conv2DBackpropFilter, conv2d_backprop_filter_vjp);
  t.define(Op::AvgPool2D, avg_pool2d_vjp);
  t.define(Op::AvgPool2DGrad, avg_pool2d_grad_vjp);
  t.define(Op::MaxPool2D, max_pool2d_vjp);
  t.define(Op::MaxPool2DGrad, max_pool2d_grad_vjp);
}

} // namespace loom::autodiff
