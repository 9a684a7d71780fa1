// Window geometry of the 2-D convolution and pooling ops, read from a node in one place
// for every consumer (the interpreter, the CPU lowering and its loop kernels, the CPU
// preparation): which operand, result or attribute holds each shape, and the window.
#pragma once

#include "ir/ir.h"

namespace loom::ir {

// Strides, padding and dilation of a 2-D window.
struct Window2D {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  bool padded() const { return pad_top || pad_left || pad_bottom || pad_right; }
};

// conv2d(x, w) -> y, conv2d_backprop_input(dy, w) -> dx, conv2d_backprop_filter(x, dy)
// -> dw, with x [N, C, H, W], w [O, C / groups, KH, KW] and y [N, O, OH, OW].
struct ConvGeometry {
  Shape x, w, y;
  Window2D window;
  int64_t groups = 1;
  int64_t taps() const { return w[1] * w[2] * w[3]; } // filter taps per output element
};
ConvGeometry conv_geometry(const Node& n); // n must be one of the three

// max_pool2d(x) -> y, max_pool2d_grad(x, dy) -> dx, avg_pool2d(x) -> y and
// avg_pool2d_grad(dy) -> dx, with x [N, C, H, W] and y [N, C, OH, OW].
struct PoolGeometry {
  Shape x, y;
  int64_t kernel_h = 1, kernel_w = 1;
  Window2D window;
  bool count_include_pad = false;
};
PoolGeometry pool_geometry(const Node& n); // n must be one of the four

} // namespace loom::ir
