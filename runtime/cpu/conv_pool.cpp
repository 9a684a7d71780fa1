// Convolution (im2col + GEMM per group and block of images) and pooling kernels for
// compiled CPU code (f32). Each output element is produced by one thread in a fixed
// order, so results do not depend on the thread count.
#include "runtime/cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "runtime/cpu_rt.h"
#include "runtime/thread_pool.h"

namespace {

struct ConvShape {
  int64_t n, c, h, w, o, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, groups;
  explicit ConvShape(const int64_t* p)
      : n(p[0]), c(p[1]), h(p[2]), w(p[3]), o(p[4]), kh(p[5]), kw(p[6]), oh(p[7]), ow(p[8]),
        sh(p[9]), sw(p[10]), pt(p[11]), pl(p[12]), dh(p[13]), dw(p[14]), groups(p[15]) {}
  int64_t cg() const { return c / groups; }
  int64_t og() const { return o / groups; }
  int64_t k() const { return cg() * kh * kw; } // GEMM depth per group
  int64_t cols() const { return n * oh * ow; } // GEMM width (all images)
};

void parallel(int64_t count, const std::function<void(int64_t, int64_t)>& body) {
  int64_t chunks = std::min<int64_t>(count, 16);
  if (chunks <= 1) {
    body(0, count);
    return;
  }
  loom::ThreadPool::global().run(
      chunks, [&](int64_t c) { body(count * c / chunks, count * (c + 1) / chunks); });
}

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); } // b > 0

// Output columns j whose input column j*stride - pad + offset lies in [0, extent).
struct ValidRange {
  int64_t lo, hi; // [lo, hi), possibly empty
};
ValidRange valid_range(int64_t outputs, int64_t stride, int64_t pad, int64_t offset,
                       int64_t extent) {
  int64_t lo = std::max<int64_t>(0, ceil_div(pad - offset, stride));
  int64_t hi = std::min<int64_t>(outputs, ceil_div(extent + pad - offset, stride));
  return {lo, std::max(lo, hi)};
}

// A block of images [b0, b1): convolutions run im2col and GEMMs one block at a time, so
// the column matrix stays in cache, with blocks spread over the threads. The blocking
// depends on the shape only.
struct Images {
  int64_t b0, b1;
  int64_t count() const { return b1 - b0; }
};

constexpr int64_t kColumnBlockBytes = 512 << 10;

int64_t images_per_block(const ConvShape& s) {
  int64_t per_image =
      std::max<int64_t>(s.k() * s.oh * s.ow * static_cast<int64_t>(sizeof(float)), 1);
  return std::clamp<int64_t>(kColumnBlockBytes / per_image, 1, std::max<int64_t>(s.n, 1));
}

// Runs body(block index, images) for every block, in parallel.
void for_each_block(const ConvShape& s, const std::function<void(int64_t, Images)>& body) {
  int64_t per_block = images_per_block(s), blocks = (s.n + per_block - 1) / per_block;
  loom::ThreadPool::global().run(blocks, [&](int64_t block) {
    body(block, {block * per_block, std::min(s.n, (block + 1) * per_block)});
  });
}

// col[(ci, p, q), (b - b0, i, j)] = x[b, g*cg + ci, i*sh - pt + p*dh, j*sw - pl + q*dw]
// (0 outside). Each output row is three runs: zeros, a (strided) copy, zeros.
void im2col(const ConvShape& s, const float* x, int64_t g, Images im, float* col) {
  int64_t cols = im.count() * s.oh * s.ow;
  for (int64_t row = 0; row < s.k(); ++row) {
    int64_t ci = row / (s.kh * s.kw), p = row / s.kw % s.kh, q = row % s.kw;
    ValidRange js = valid_range(s.ow, s.sw, s.pl, q * s.dw, s.w);
    float* out = col + row * cols;
    for (int64_t b = im.b0; b < im.b1; ++b) {
      const float* plane = x + (b * s.c + g * s.cg() + ci) * s.h * s.w;
      for (int64_t i = 0; i < s.oh; ++i) {
        int64_t y = i * s.sh - s.pt + p * s.dh;
        float* dst = out + ((b - im.b0) * s.oh + i) * s.ow;
        if (y < 0 || y >= s.h) {
          std::memset(dst, 0, sizeof(float) * s.ow);
          continue;
        }
        // Rows are short (tens of elements): plain loops beat memcpy/memset calls.
        int64_t base = y * s.w - s.pl + q * s.dw; // input column of j is base + j * sw
        for (int64_t j = 0; j < js.lo; ++j)
          dst[j] = 0.0f;
        if (s.sw == 1) {
          for (int64_t j = js.lo; j < js.hi; ++j)
            dst[j] = plane[base + j];
        } else {
          for (int64_t j = js.lo; j < js.hi; ++j)
            dst[j] = plane[base + j * s.sw];
        }
        for (int64_t j = js.hi; j < s.ow; ++j)
          dst[j] = 0.0f;
      }
    }
  }
}

// dx[b, g*cg + ci, y, x] += col[(ci, p, q), (b - b0, i, j)], each plane summed in a
// fixed order.
void col2im(const ConvShape& s, const float* col, int64_t g, Images im, float* dx) {
  int64_t cols = im.count() * s.oh * s.ow;
  for (int64_t b = im.b0; b < im.b1; ++b)
    for (int64_t ci = 0; ci < s.cg(); ++ci) {
      float* plane = dx + (b * s.c + g * s.cg() + ci) * s.h * s.w;
      for (int64_t p = 0; p < s.kh; ++p)
        for (int64_t q = 0; q < s.kw; ++q) {
          const float* src = col + ((ci * s.kh + p) * s.kw + q) * cols + (b - im.b0) * s.oh * s.ow;
          ValidRange js = valid_range(s.ow, s.sw, s.pl, q * s.dw, s.w);
          for (int64_t i = 0; i < s.oh; ++i) {
            int64_t y = i * s.sh - s.pt + p * s.dh;
            if (y < 0 || y >= s.h) continue;
            int64_t base = y * s.w - s.pl + q * s.dw; // input column of j is base + j * sw
            const float* row = src + i * s.ow;
            if (s.sw == 1) {
              for (int64_t j = js.lo; j < js.hi; ++j)
                plane[base + j] += row[j];
            } else {
              for (int64_t j = js.lo; j < js.hi; ++j)
                plane[base + j * s.sw] += row[j];
            }
          }
        }
    }
}

// Moves group g's channels of a block between the GEMM layout [o, (b - b0, i, j)] and
// NCHW [b, o, i, j].
enum class Direction { ToNchw, FromNchw };
void relayout(const ConvShape& s, Direction dir, const float* src, int64_t g, Images im,
              float* dst) {
  int64_t hw = s.oh * s.ow, cols = im.count() * hw;
  for (int64_t oi = 0; oi < s.og(); ++oi)
    for (int64_t b = im.b0; b < im.b1; ++b) {
      int64_t gemm = oi * cols + (b - im.b0) * hw, nchw = (b * s.o + g * s.og() + oi) * hw;
      if (dir == Direction::ToNchw)
        std::memcpy(dst + nchw, src + gemm, sizeof(float) * hw);
      else
        std::memcpy(dst + gemm, src + nchw, sizeof(float) * hw);
    }
}

std::vector<float>& scratch(int which, size_t size) {
  thread_local std::vector<float> buffers[2];
  if (buffers[which].size() < size) buffers[which].resize(size);
  return buffers[which];
}

struct PoolShape {
  int64_t n, c, h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, include_pad;
  explicit PoolShape(const int64_t* p)
      : n(p[0]), c(p[1]), h(p[2]), w(p[3]), oh(p[4]), ow(p[5]), kh(p[6]), kw(p[7]), sh(p[8]),
        sw(p[9]), pt(p[10]), pl(p[11]), pb(p[12]), pr(p[13]), include_pad(p[14]) {}
};

// A pooling window along one axis: [lo, hi) clipped to the input, and its padded extent.
struct Span {
  int64_t lo, hi, padded;
};
std::vector<Span> spans(int64_t outputs, int64_t stride, int64_t pad_lo, int64_t kernel,
                        int64_t extent, int64_t pad_hi) {
  std::vector<Span> out(outputs);
  for (int64_t i = 0; i < outputs; ++i) {
    int64_t start = i * stride - pad_lo, end = std::min(start + kernel, extent + pad_hi);
    out[i] = {std::max<int64_t>(start, 0), std::min(end, extent), end - start};
  }
  return out;
}

// Runs body(plane) for every (image, channel) plane, in parallel.
void for_each_plane(const PoolShape& s, const std::function<void(int64_t)>& body) {
  parallel(s.n * s.c, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane)
      body(plane);
  });
}

// Every output's window, computed once per call rather than per element.
struct Windows {
  std::vector<Span> rows, cols;
  bool include_pad;
  explicit Windows(const PoolShape& s)
      : rows(spans(s.oh, s.sh, s.pt, s.kh, s.h, s.pb)),
        cols(spans(s.ow, s.sw, s.pl, s.kw, s.w, s.pr)), include_pad(s.include_pad != 0) {}
  float divisor(int64_t i, int64_t j) const {
    if (include_pad) return static_cast<float>(rows[i].padded * cols[j].padded);
    return static_cast<float>(std::max<int64_t>(rows[i].hi - rows[i].lo, 0) *
                              std::max<int64_t>(cols[j].hi - cols[j].lo, 0));
  }
};

// Max of a window; the first NaN (row-major) wins, as in the interpreter. Branch-free
// in the common case: comparisons on data are unpredictable.
float window_max(const float* in, int64_t w, const Span& r, const Span& c) {
  float best = -std::numeric_limits<float>::infinity();
  bool any_nan = false;
  for (int64_t yy = r.lo; yy < r.hi; ++yy)
    for (int64_t xx = c.lo; xx < c.hi; ++xx) {
      float v = in[yy * w + xx];
      any_nan |= v != v;
      best = v > best ? v : best;
    }
  if (!any_nan) return best;
  for (int64_t yy = r.lo; yy < r.hi; ++yy)
    for (int64_t xx = c.lo; xx < c.hi; ++xx)
      if (float v = in[yy * w + xx]; v != v) return v;
  return best;
}

// Offset of a window's first maximum (row-major; a NaN is the maximum and the first
// one wins), or -1 for an empty window.
int64_t window_argmax(const float* in, int64_t w, const Span& r, const Span& c) {
  if (r.lo >= r.hi || c.lo >= c.hi) return -1;
  float best = window_max(in, w, r, c);
  if (best != best) { // the first NaN
    for (int64_t yy = r.lo; yy < r.hi; ++yy)
      for (int64_t xx = c.lo; xx < c.hi; ++xx)
        if (float v = in[yy * w + xx]; v != v) return yy * w + xx;
  }
  // The first position holding the maximum: scanned backwards with selects, because
  // where the maximum sits is unpredictable for a branch.
  int64_t best_at = -1;
  for (int64_t yy = r.hi - 1; yy >= r.lo; --yy)
    for (int64_t xx = c.hi - 1; xx >= c.lo; --xx)
      best_at = in[yy * w + xx] == best ? yy * w + xx : best_at;
  return best_at;
}

} // namespace

extern "C" {

void loom_rt_conv2d_f32(const float* x, const float* w, float* y, const int64_t* params) {
  ConvShape s(params);
  for (int64_t g = 0; g < s.groups; ++g)
    for_each_block(s, [&](int64_t, Images im) {
      int64_t cols = im.count() * s.oh * s.ow;
      auto& col = scratch(0, s.k() * cols);
      auto& out = scratch(1, s.og() * cols);
      im2col(s, x, g, im, col.data());
      loom::cpu::sgemm(false, false, s.og(), cols, s.k(), w + g * s.og() * s.k(), s.k(), col.data(),
                       cols, out.data(), cols);
      relayout(s, Direction::ToNchw, out.data(), g, im, y);
    });
}

// dx = col2im(W^T dY) per group and block of images.
void loom_rt_conv2d_backprop_input_f32(const float* dy, const float* w, float* dx,
                                       const int64_t* params) {
  ConvShape s(params);
  std::memset(dx, 0, sizeof(float) * s.n * s.c * s.h * s.w);
  for (int64_t g = 0; g < s.groups; ++g)
    for_each_block(s, [&](int64_t, Images im) {
      int64_t cols = im.count() * s.oh * s.ow;
      auto& col = scratch(0, s.k() * cols);
      auto& dyg = scratch(1, s.og() * cols);
      relayout(s, Direction::FromNchw, dy, g, im, dyg.data());
      loom::cpu::sgemm(true, false, s.k(), cols, s.og(), w + g * s.og() * s.k(), s.k(), dyg.data(),
                       cols, col.data(), cols);
      col2im(s, col.data(), g, im, dx);
    });
}

// dW = sum over blocks of dY_block col_block^T per group; the blocks' partial sums are
// added in block order.
void loom_rt_conv2d_backprop_filter_f32(const float* x, const float* dy, float* dw,
                                        const int64_t* params) {
  ConvShape s(params);
  int64_t per_block = images_per_block(s), blocks = (s.n + per_block - 1) / per_block;
  int64_t filter = s.og() * s.k();
  std::vector<float> partial(static_cast<size_t>(std::max<int64_t>(blocks, 1) * filter));
  for (int64_t g = 0; g < s.groups; ++g) {
    for_each_block(s, [&](int64_t block, Images im) {
      int64_t cols = im.count() * s.oh * s.ow;
      auto& col = scratch(0, s.k() * cols);
      auto& dyg = scratch(1, s.og() * cols);
      im2col(s, x, g, im, col.data());
      relayout(s, Direction::FromNchw, dy, g, im, dyg.data());
      loom::cpu::sgemm(false, true, s.og(), s.k(), cols, dyg.data(), cols, col.data(), cols,
                       partial.data() + block * filter, s.k());
    });
    float* out = dw + g * filter;
    if (blocks == 0) std::memset(out, 0, sizeof(float) * filter);
    for (int64_t block = 0; block < blocks; ++block)
      for (int64_t i = 0; i < filter; ++i)
        out[i] = block == 0 ? partial[i] : out[i] + partial[block * filter + i];
  }
}

void loom_rt_max_pool2d_f32(const float* x, float* y, const int64_t* params) {
  PoolShape s(params);
  Windows win(s);
  for_each_plane(s, [&](int64_t plane) {
    const float* in = x + plane * s.h * s.w;
    float* out = y + plane * s.oh * s.ow;
    for (int64_t i = 0; i < s.oh; ++i)
      for (int64_t j = 0; j < s.ow; ++j)
        out[i * s.ow + j] = window_max(in, s.w, win.rows[i], win.cols[j]);
  });
}

// Routes dy to the first maximum of each window (row-major), accumulating.
void loom_rt_max_pool2d_grad_f32(const float* x, const float* dy, float* dx,
                                 const int64_t* params) {
  PoolShape s(params);
  Windows win(s);
  for_each_plane(s, [&](int64_t plane) {
    const float* in = x + plane * s.h * s.w;
    const float* g = dy + plane * s.oh * s.ow;
    float* out = dx + plane * s.h * s.w;
    std::memset(out, 0, sizeof(float) * s.h * s.w);
    for (int64_t i = 0; i < s.oh; ++i)
      for (int64_t j = 0; j < s.ow; ++j) {
        int64_t best_at = window_argmax(in, s.w, win.rows[i], win.cols[j]);
        if (best_at >= 0) out[best_at] += g[i * s.ow + j];
      }
  });
}

void loom_rt_avg_pool2d_f32(const float* x, float* y, const int64_t* params) {
  PoolShape s(params);
  Windows win(s);
  for_each_plane(s, [&](int64_t plane) {
    const float* in = x + plane * s.h * s.w;
    float* out = y + plane * s.oh * s.ow;
    for (int64_t i = 0; i < s.oh; ++i)
      for (int64_t j = 0; j < s.ow; ++j) {
        const Span &r = win.rows[i], &c = win.cols[j];
        double sum = 0;
        for (int64_t yy = r.lo; yy < r.hi; ++yy)
          for (int64_t xx = c.lo; xx < c.hi; ++xx)
            sum += in[yy * s.w + xx];
        out[i * s.ow + j] = static_cast<float>(sum / win.divisor(i, j));
      }
  });
}

void loom_rt_avg_pool2d_grad_f32(const float* dy, float* dx, const int64_t* params) {
  PoolShape s(params);
  Windows win(s);
  for_each_plane(s, [&](int64_t plane) {
    const float* g = dy + plane * s.oh * s.ow;
    float* out = dx + plane * s.h * s.w;
    std::vector<double> acc(s.h * s.w, 0.0);
    for (int64_t i = 0; i < s.oh; ++i)
      for (int64_t j = 0; j < s.ow; ++j) {
        const Span &r = win.rows[i], &c = win.cols[j];
        double share = g[i * s.ow + j] / static_cast<double>(win.divisor(i, j));
        for (int64_t yy = r.lo; yy < r.hi; ++yy)
          for (int64_t xx = c.lo; xx < c.hi; ++xx)
            acc[yy * s.w + xx] += share;
      }
    for (int64_t k = 0; k < s.h * s.w; ++k)
      out[k] = static_cast<float>(acc[k]);
  });
}

} // extern "C"
