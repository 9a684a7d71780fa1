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

// Linear offsets of one term x[x_offset] * w[w_offset] contributing to y[y_offset].
struct ConvTerm {
  int64_t x_offset, w_offset, y_offset;
};

// Calls visit(ConvTerm) for every product in the convolution sum whose input position
// lies inside x (padding reads zero, so it contributes nothing), in the order
// n, o, i, j (output element) then c, p, q (filter tap).
template <typename Visit> void for_each_conv_term(const ir::ConvGeometry& g, Visit&& visit) {
  const Shape &xs = g.x, &ws = g.w,
              &ys = g.y; // [N, C, H, W], [O, C/groups, KH, KW], [N, O, OH, OW]
  const ir::Window2D& win = g.window;
  int64_t in_per_group = xs[1] / g.groups, out_per_group = ws[0] / g.groups;
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t o = 0; o < ws[0]; ++o) {
      int64_t first_in_channel = (o / out_per_group) * in_per_group;
      for (int64_t i = 0; i < ys[2]; ++i)
        for (int64_t j = 0; j < ys[3]; ++j) {
          int64_t y_offset = ((n * ys[1] + o) * ys[2] + i) * ys[3] + j;
          for (int64_t c = 0; c < in_per_group; ++c)
            for (int64_t p = 0; p < ws[2]; ++p) {
              int64_t h = i * win.stride_h - win.pad_top + p * win.dilation_h;
              if (h < 0 || h >= xs[2]) continue;
              for (int64_t q = 0; q < ws[3]; ++q) {
                int64_t w = j * win.stride_w - win.pad_left + q * win.dilation_w;
                if (w < 0 || w >= xs[3]) continue;
                int64_t x_offset = ((n * xs[1] + first_in_channel + c) * xs[2] + h) * xs[3] + w;
                int64_t w_offset = ((o * in_per_group + c) * ws[2] + p) * ws[3] + q;
                visit(ConvTerm{x_offset, w_offset, y_offset});
              }
            }
        }
    }
}

// conv2d(x, w) -> y
std::vector<Tensor> conv2d_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Shape& y_shape = result_shape(node);
  ir::ConvGeometry g = ir::conv_geometry(node);
  std::vector<double> x = to_doubles(in[0]), w = to_doubles(in[1]);
  std::vector<double> y(shape_numel(y_shape), 0.0);
  for_each_conv_term(g, [&](ConvTerm t) { y[t.y_offset] += x[t.x_offset] * w[t.w_offset]; });
  return {from_doubles(in[0].dtype(), y_shape, y)};
}

// conv2d_backprop_input(dy, w) -> dx: each term sends dy * w back to its input element.
std::vector<Tensor> conv2d_backprop_input_kernel(const ir::Node& node,
                                                 const std::vector<Tensor>& in) {
  const Shape& x_shape = result_shape(node);
  ir::ConvGeometry g = ir::conv_geometry(node);
  std::vector<double> dy = to_doubles(in[0]), w = to_doubles(in[1]);
  std::vector<double> dx(shape_numel(x_shape), 0.0);
  for_each_conv_term(g, [&](ConvTerm t) { dx[t.x_offset] += dy[t.y_offset] * w[t.w_offset]; });
  return {from_doubles(in[0].dtype(), x_shape, dx)};
}

// conv2d_backprop_filter(x, dy) -> dw: each term sends x * dy to its filter tap.
std::vector<Tensor> conv2d_backprop_filter_kernel(const ir::Node& node,
                                                  const std::vector<Tensor>& in) {
  const Shape& w_shape = result_shape(node);
  ir::ConvGeometry g = ir::conv_geometry(node);
  std::vector<double> x = to_doubles(in[0]), dy = to_doubles(in[1]);
  std::vector<double> dw(shape_numel(w_shape), 0.0);
  for_each_conv_term(g, [&](ConvTerm t) { dw[t.w_offset] += x[t.x_offset] * dy[t.y_offset]; });
  return {from_doubles(in[0].dtype(), w_shape, dw)};
}

// ---- pooling -------------------------------------------------------------------------

// One pooling window: its rows [h_begin, h_end) and columns [w_begin, w_end) clipped
// to the input, and the window's size clipped to the padded input instead.
struct PoolWindow {
  int64_t h_begin, h_end, w_begin, w_end;
  int64_t padded_size;

  int64_t inside_size() const { return (h_end - h_begin) * (w_end - w_begin); }
};

PoolWindow pool_window(const ir::PoolGeometry& g, int64_t i, int64_t j) {
  const ir::Window2D& win = g.window;
  int64_t in_h = g.x[2], in_w = g.x[3];
  int64_t h0 = i * win.stride_h - win.pad_top, w0 = j * win.stride_w - win.pad_left;
  // A ceil_mode window may run past the bottom/right padding; clip it there first
  // (as PyTorch does) for the count_include_pad divisor.
  int64_t padded_h = std::min(h0 + g.kernel_h, in_h + win.pad_bottom) - h0;
  int64_t padded_w = std::min(w0 + g.kernel_w, in_w + win.pad_right) - w0;
  return PoolWindow{std::max<int64_t>(h0, 0), std::min(h0 + g.kernel_h, in_h),
                    std::max<int64_t>(w0, 0), std::min(w0 + g.kernel_w, in_w), padded_h * padded_w};
}

// Calls visit(plane, out_offset, window) for every output element; `plane` is the
// offset of the element's N*C plane in the input (pooling treats every channel of
// every image alike).
template <typename Visit> void for_each_pool_window(const ir::PoolGeometry& g, Visit&& visit) {
  int64_t planes = g.x[0] * g.x[1], out_h = g.y[2], out_w = g.y[3];
  for (int64_t nc = 0; nc < planes; ++nc)
    for (int64_t i = 0; i < out_h; ++i)
      for (int64_t j = 0; j < out_w; ++j) {
        PoolWindow window = pool_window(g, i, j);
        // The shape rule keeps every pad smaller than the kernel and drops ceil_mode
        // windows that start in the trailing padding, so no window is empty.
        if (window.inside_size() <= 0)
          throw_error(ErrorCode::Internal, "pooling window without input elements");
        visit(nc * g.x[2] * g.x[3], (nc * out_h + i) * out_w + j, window);
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
  ir::PoolGeometry g = ir::pool_geometry(node);
  Tensor y(x.dtype(), result_shape(node));
  dispatch_dtype(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      unsupported_dtype(node, x.dtype());
    } else {
      const T* src = x.data<T>();
      T* dst = y.data<T>();
      for_each_pool_window(g, [&](int64_t plane, int64_t out, const PoolWindow& window) {
        dst[out] = src[window_argmax(src, plane, g.x[3], window)];
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
  ir::PoolGeometry g = ir::pool_geometry(node);
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
        sums[window_argmax(src, plane, g.x[3], window)] += static_cast<Sum>(grad[out]);
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
  ir::PoolGeometry g = ir::pool_geometry(node);
  std::vector<double> x = to_doubles(in[0]);
  std::vector<double> y(shape_numel(y_shape), 0.0);
  for_each_pool_window(g, [&](int64_t plane, int64_t out, const PoolWindow& window) {
    double sum = 0.0;
    for (int64_t h = window.h_begin; h < window.h_end; ++h)
      for (int64_t w = window.w_begin; w < window.w_end; ++w)
        sum += x[plane + h * g.x[3] + w];
    y[out] = sum / static_cast<double>(pool_divisor(window, g.count_include_pad));
  });
  return {from_doubles(in[0].dtype(), y_shape, y)};
}

// avg_pool2d_grad(dy) -> dx: each dy element is shared evenly (by the forward divisor)
// among the input elements of its window.
std::vector<Tensor> avg_pool2d_grad_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Shape& x_shape = result_shape(node);
  ir::PoolGeometry g = ir::pool_geometry(node);
  std::vector<double> dy = to_doubles(in[0]);
  std::vector<double> dx(shape_numel(x_shape), 0.0);
  for_each_pool_window(g, [&](int64_t plane, int64_t out, const PoolWindow& window) {
    double share = dy[out] / static_cast<double>(pool_divisor(window, g.count_include_pad));
    for (int64_t h = window.h_begin; h < window.h_end; ++h)
      for (int64_t w = window.w_begin; w < window.w_end; ++w)
        dx[plane + h * g.x[3] + w] += share;
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
