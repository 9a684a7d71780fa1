// Interpreter kernels for convolution and pooling and their gradients (docs/ops.md,
// "Convolution and pooling"). Activations are NCHW, filters OIHW.
//
// The three convolution kernels share one enumeration of the convolution's terms
// (output element, filter tap, input element), so each is the exact adjoint of the
// others by construction. Float sums accumulate in f64 and round once.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "ir/window.h"
#include "runtime/interp/compute_util.h"
#include "runtime/interp/kernels.h"

namespace loom::interp {

namespace {

const Shape& result_shape(const ir::Node& node) { return node.result(0)->shape(); }

// Every element converted to double (exact for f32, f16 and bf16).
std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> values(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i)
    values[i] = t.at(i);
  return values;
}

// A tensor of `dtype` and `shape` holding `values` rounded once to the dtype.
Tensor from_doubles(DType dtype, const Shape& shape, const std::vector<double>& values) {
  Tensor t(dtype, shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    store_from_double(dtype, t.raw_data(), i, values[i]);
  return t;
}

// ---- convolution ---------------------------------------------------------------------

// Sizes and window attributes of a convolution x[N,C,H,W] * w[O,C/groups,KH,KW] -> y[N,O,OH,OW].
struct ConvGeometry {
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, kernel_h, kernel_w;
  int64_t out_h, out_w;
  int64_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
  int64_t groups;
};

ConvGeometry conv_sizes(const ir::Node& node) {
  ir::ConvGeometry g = ir::conv_geometry(node);
  return ConvGeometry{.batch = g.x[0],
                      .in_channels = g.x[1],
                      .in_h = g.x[2],
                      .in_w = g.x[3],
                      .out_channels = g.w[0],
                      .kernel_h = g.w[2],
                      .kernel_w = g.w[3],
                      .out_h = g.y[2],
                      .out_w = g.y[3],
                      .stride_h = g.window.stride_h,
                      .stride_w = g.window.stride_w,
                      .pad_top = g.window.pad_top,
                      .pad_left = g.window.pad_left,
                      .dilation_h = g.window.dilation_h,
                      .dilation_w = g.window.dilation_w,
                      .groups = g.groups};
}

// Linear offsets of one term x[x_offset] * w[w_offset] contributing to y[y_offset].
struct ConvTerm {
  int64_t x_offset, w_offset, y_offset;
};

// Calls visit(ConvTerm) for every product in the convolution sum whose input position
// lies inside x (padding reads zero, so it contributes nothing), in the order
// n, o, i, j (output element) then c, p, q (filter tap).
template <typename Visit> void for_each_conv_term(const ConvGeometry& g, Visit&& visit) {
  int64_t in_per_group = g.in_channels / g.groups;
  int64_t out_per_group = g.out_channels / g.groups;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t o = 0; o < g.out_channels; ++o) {
      int64_t first_in_channel = (o / out_per_group) * in_per_group;
      for (int64_t i = 0; i < g.out_h; ++i)
        for (int64_t j = 0; j < g.out_w; ++j) {
          int64_t y_offset = ((n * g.out_channels + o) * g.out_h + i) * g.out_w + j;
          for (int64_t c = 0; c < in_per_group; ++c)
            for (int64_t p = 0; p < g.kernel_h; ++p) {
              int64_t h = i * g.stride_h - g.pad_top + p * g.dilation_h;
              if (h < 0 || h >= g.in_h) continue;
              for (int64_t q = 0; q < g.kernel_w; ++q) {
                int64_t w = j * g.stride_w - g.pad_left + q * g.dilation_w;
                if (w < 0 || w >= g.in_w) continue;
                int64_t x_offset =
                    ((n * g.in_channels + first_in_channel + c) * g.in_h + h) * g.in_w + w;
                int64_t w_offset = ((o * in_per_group + c) * g.kernel_h + p) * g.kernel_w + q;
                visit(ConvTerm{x_offset, w_offset, y_offset});
              }
            }
        }
    }
}

// conv2d(x, w) -> y
std::vector<Tensor> conv2d_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Shape& y_shape = result_shape(node);
  ConvGeometry g = conv_sizes(node);
  std::vector<double> x = to_doubles(in[0]), w = to_doubles(in[1]);
  std::vector<double> y(shape_numel(y_shape), 0.0);
  for_each_conv_term(g, [&](ConvTerm t) { y[t.y_offset] += x[t.x_offset] * w[t.w_offset]; });
  return {from_doubles(in[0].dtype(), y_shape, y)};
}

// conv2d_backprop_input(dy, w) -> dx: each term sends dy * w back to its input element.
std::vector<Tensor> conv2d_backprop_input_kernel(const ir::Node& node,
                                                 const std::vector<Tensor>& in) {
  const Shape& x_shape = result_shape(node);
  ConvGeometry g = conv_sizes(node);
  std::vector<double> dy = to_doubles(in[0]), w = to_doubles(in[1]);
  std::vector<double> dx(shape_numel(x_shape), 0.0);
  for_each_conv_term(g, [&](ConvTerm t) { dx[t.x_offset] += dy[t.y_offset] * w[t.w_offset]; });
  return {from_doubles(in[0].dtype(), x_shape, dx)};
}

// conv2d_backprop_filter(x, dy) -> dw: each term sends x * dy to its filter tap.
std::vector<Tensor> conv2d_backprop_filter_kernel(const ir::Node& node,
                                                  const std::vector<Tensor>& in) {
  const Shape& w_shape = result_shape(node);
  ConvGeometry g = conv_sizes(node);
  std::vector<double> x = to_doubles(in[0]), dy = to_doubles(in[1]);
  std::vector<double> dw(shape_numel(w_shape), 0.0);
  for_each_conv_term(g, [&](ConvTerm t) { dw[t.w_offset] += x[t.x_offset] * dy[t.y_offset]; });
  return {from_doubles(in[0].dtype(), w_shape, dw)};
}

// ---- pooling -------------------------------------------------------------------------

struct PoolGeometry {
  int64_t planes; // N * C: pooling treats every channel of every image alike
  int64_t in_h, in_w, out_h, out_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  bool count_include_pad; // avg pooling: the divisor counts padding elements
};

PoolGeometry pool_sizes(const ir::Node& node) {
  ir::PoolGeometry g = ir::pool_geometry(node);
  return PoolGeometry{.planes = g.x[0] * g.x[1],
                      .in_h = g.x[2],
                      .in_w = g.x[3],
                      .out_h = g.y[2],
                      .out_w = g.y[3],
                      .kernel_h = g.kernel_h,
                      .kernel_w = g.kernel_w,
                      .stride_h = g.window.stride_h,
                      .stride_w = g.window.stride_w,
                      .pad_top = g.window.pad_top,
                      .pad_left = g.window.pad_left,
                      .pad_bottom = g.window.pad_bottom,
                      .pad_right = g.window.pad_right,
                      .count_include_pad = g.count_include_pad};
}

// One pooling window: its rows [h_begin, h_end) and columns [w_begin, w_end) clipped
// to the input, and the window's size clipped to the padded input instead.
struct PoolWindow {
  int64_t h_begin, h_end, w_begin, w_end;
  int64_t padded_size;

  int64_t inside_size() const { return (h_end - h_begin) * (w_end - w_begin); }
};

PoolWindow pool_window(const PoolGeometry& g, int64_t i, int64_t j) {
  int64_t h0 = i * g.stride_h - g.pad_top, w0 = j * g.stride_w - g.pad_left;
  // A ceil_mode window may run past the bottom/right padding; clip it there first
  // (as PyTorch does) for the count_include_pad divisor.
  int64_t padded_h = std::min(h0 + g.kernel_h, g.in_h + g.pad_bottom) - h0;
  int64_t padded_w = std::min(w0 + g.kernel_w, g.in_w + g.pad_right) - w0;
  return PoolWindow{std::max<int64_t>(h0, 0), std::min(h0 + g.kernel_h, g.in_h),
                    std::max<int64_t>(w0, 0), std::min(w0 + g.kernel_w, g.in_w),
                    padded_h * padded_w};
}

// Calls visit(plane, out_offset, window) for every output element; `plane` is the
// offset of the element's N*C plane in the input.
template <typename Visit> void for_each_pool_window(const PoolGeometry& g, Visit&& visit) {
  for (int64_t nc = 0; nc < g.planes; ++nc)
    for (int64_t i = 0; i < g.out_h; ++i)
      for (int64_t j = 0; j < g.out_w; ++j) {
        PoolWindow window = pool_window(g, i, j);
        // The shape rule keeps every pad smaller than the kernel and drops ceil_mode
        // windows that start in the trailing padding, so no window is empty.
        if (window.inside_size() <= 0)
          throw_error(ErrorCode::Internal, "pooling window without input elements");
        visit(nc * g.in_h * g.in_w, (nc * g.out_h + i) * g.out_w + j, window);
      }
}

template <typename T> bool is_nan_value(T v) {
  if constexpr (std::is_integral_v<T>)
    return false;
  else
    return std::isnan(static_cast<double>(v));
}

// Input offset of the window's maximum: the first in row-major order, where NaN counts
// as the maximum (the first NaN wins), as in argmax.
template <typename T>
int64_t window_argmax(const T* x, int64_t plane, int64_t in_w, const PoolWindow& window) {
  int64_t best = plane + window.h_begin * in_w + window.w_begin;
  for (int64_t h = window.h_begin; h < window.h_end; ++h)
    for (int64_t w = window.w_begin; w < window.w_end; ++w) {
      if (is_nan_value(x[best])) return best;
      int64_t offset = plane + h * in_w + w;
      if (is_nan_value(x[offset]) || x[offset] > x[best]) best = offset;
    }
  return best;
}

std::vector<Tensor> max_pool2d_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  PoolGeometry g = pool_sizes(node);
  Tensor y(x.dtype(), result_shape(node));
  dispatch_dtype(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      unsupported_dtype(node, x.dtype());
    } else {
      const T* src = x.data<T>();
      T* dst = y.data<T>();
      for_each_pool_window(g, [&](int64_t plane, int64_t out, const PoolWindow& window) {
        dst[out] = src[window_argmax(src, plane, g.in_w, window)];
      });
    }
  });
  return {y};
}

// Sums of gradient contributions: f64 for floats (rounded once at the end); for
// integers uint64, whose wrap-around is defined and converts back to two's complement.
template <typename T> using GradSum = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;

std::vector<Tensor> max_pool2d_grad_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  const Tensor& dy = in[1];
  PoolGeometry g = pool_sizes(node);
  Tensor dx(x.dtype(), x.shape());
  dispatch_dtype(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      unsupported_dtype(node, x.dtype());
    } else {
      using Sum = GradSum<T>;
      const T* src = x.data<T>();
      const T* grad = dy.data<T>();
      std::vector<Sum> sums(x.numel(), Sum{0});
      for_each_pool_window(g, [&](int64_t plane, int64_t out, const PoolWindow& window) {
        sums[window_argmax(src, plane, g.in_w, window)] += static_cast<Sum>(grad[out]);
      });
      T* dst = dx.data<T>();
      for (int64_t i = 0; i < x.numel(); ++i)
        dst[i] = convert_scalar<T>(sums[i]);
    }
  });
  return {dx};
}

int64_t pool_divisor(const PoolWindow& window, bool include_pad) {
  return include_pad ? window.padded_size : window.inside_size();
}

std::vector<Tensor> avg_pool2d_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Shape& y_shape = result_shape(node);
  PoolGeometry g = pool_sizes(node);
  bool include_pad = g.count_include_pad;
  std::vector<double> x = to_doubles(in[0]);
  std::vector<double> y(shape_numel(y_shape), 0.0);
  for_each_pool_window(g, [&](int64_t plane, int64_t out, const PoolWindow& window) {
    double sum = 0.0;
    for (int64_t h = window.h_begin; h < window.h_end; ++h)
      for (int64_t w = window.w_begin; w < window.w_end; ++w)
        sum += x[plane + h * g.in_w + w];
    y[out] = sum / static_cast<double>(pool_divisor(window, include_pad));
  });
  return {from_doubles(in[0].dtype(), y_shape, y)};
}

// avg_pool2d_grad(dy) -> dx: each dy element is shared evenly (by the forward divisor)
// among the input elements of its window.
std::vector<Tensor> avg_pool2d_grad_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Shape& x_shape = result_shape(node);
  PoolGeometry g = pool_sizes(node);
  bool include_pad = g.count_include_pad;
  std::vector<double> dy = to_doubles(in[0]);
  std::vector<double> dx(shape_numel(x_shape), 0.0);
  for_each_pool_window(g, [&](int64_t plane, int64_t out, const PoolWindow& window) {
    double share = dy[out] / static_cast<double>(pool_divisor(window, include_pad));
    for (int64_t h = window.h_begin; h < window.h_end; ++h)
      for (int64_t w = window.w_begin; w < window.w_end; ++w)
        dx[plane + h * g.in_w + w] += share;
  });
  return {from_doubles(in[0].dtype(), x_shape, dx)};
}

} // namespace

void register_conv_kernels(KernelTable& t) {
  t.add(Op::Conv2D, conv2d_kernel);
  t.add(Op::Conv2DBackpropInput, conv2d_backprop_input_kernel);
  t.add(Op::Conv2DBackpropFilter, conv2d_backprop_filter_kernel);
  t.add(Op::MaxPool2D, max_pool2d_kernel);
  t.add(Op::MaxPool2DGrad, max_pool2d_grad_kernel);
  t.add(Op::AvgPool2D, avg_pool2d_kernel);
  t.add(Op::AvgPool2DGrad, avg_pool2d_grad_kernel);
}

} // namespace loom::interp
