// Convolution (im2col + one GEMM per group over the whole batch) and pooling kernels
// for compiled CPU code (f32). Each output element is produced by one thread in a
// fixed order, so results do not depend on the thread count.
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
      : n(p[0]), c(p[1]), h(p[2]), w(p[3]), o(p[4]), kh(p[5]), kw(p[6]), oh(p[7]), ow(p[8]), sh(p[9]), sw(p[10]),
        pt(p[11]), pl(p[12]), dh(p[13]), dw(p[14]), groups(p[15]) {}
  int64_t cg() const { return c / groups; }
  int64_t og() const { return o / groups; }
  int64_t k() const { return cg() * kh * kw; }        // GEMM depth per group
  int64_t cols() const { return n * oh * ow; }        // GEMM width (all images)
};

void parallel(int64_t count, const std::function<void(int64_t, int64_t)>& body) {
  int64_t chunks = std::min<int64_t>(count, 16);
  if (chunks <= 1) {
    body(0, count);
    return;
  }
  loom::ThreadPool::global().run(chunks, [&](int64_t c) { body(count * c / chunks, count * (c + 1) / chunks); });
}

// col[(ci, p, q), (b, i, j)] = x[b, g*cg + ci, i*sh - pt + p*dh, j*sw - pl + q*dw] (0 outside).
void im2col(const ConvShape& s, const float* x, int64_t g, float* col) {
  parallel(s.k(), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t ci = row / (s.kh * s.kw), p = row / s.kw % s.kh, q = row % s.kw;
      float* out = col + row * s.cols();
      for (int64_t b = 0; b < s.n; ++b) {
        const float* plane = x + (b * s.c + g * s.cg() + ci) * s.h * s.w;
        for (int64_t i = 0; i < s.oh; ++i) {
          int64_t y = i * s.sh - s.pt + p * s.dh;
          float* dst = out + (b * s.oh + i) * s.ow;
          if (y < 0 || y >= s.h) {
            std::memset(dst, 0, sizeof(float) * s.ow);
            continue;
          }
          for (int64_t j = 0; j < s.ow; ++j) {
            int64_t xx = j * s.sw - s.pl + q * s.dw;
            dst[j] = (xx >= 0 && xx < s.w) ? plane[y * s.w + xx] : 0.0f;
          }
        }
      }
    }
  });
}

// dx[b, g*cg + ci, y, x] += col[(ci, p, q), (b, i, j)]: parallel over (b, ci) planes,
// each plane summed in a fixed order.
void col2im(const ConvShape& s, const float* col, int64_t g, float* dx) {
  parallel(s.n * s.cg(), [&](int64_t begin, int64_t end) {
    for (int64_t plane_index = begin; plane_index < end; ++plane_index) {
      int64_t b = plane_index / s.cg(), ci = plane_index % s.cg();
      float* plane = dx + (b * s.c + g * s.cg() + ci) * s.h * s.w;
      for (int64_t p = 0; p < s.kh; ++p)
        for (int64_t q = 0; q < s.kw; ++q) {
          const float* src = col + ((ci * s.kh + p) * s.kw + q) * s.cols() + b * s.oh * s.ow;
          for (int64_t i = 0; i < s.oh; ++i) {
            int64_t y = i * s.sh - s.pt + p * s.dh;
            if (y < 0 || y >= s.h) continue;
            for (int64_t j = 0; j < s.ow; ++j) {
              int64_t xx = j * s.sw - s.pl + q * s.dw;
              if (xx >= 0 && xx < s.w) plane[y * s.w + xx] += src[i * s.ow + j];
            }
          }
        }
    }
  });
}

// Moves group g's channels between the GEMM layout [o, (b, i, j)] and NCHW [b, o, i, j].
enum class Direction { ToNchw, FromNchw };
void relayout(const ConvShape& s, Direction dir, const float* src, int64_t g, float* dst) {
  int64_t hw = s.oh * s.ow;
  parallel(s.og(), [&](int64_t begin, int64_t end) {
    for (int64_t oi = begin; oi < end; ++oi)
      for (int64_t b = 0; b < s.n; ++b) {
        int64_t gemm = oi * s.cols() + b * hw, nchw = (b * s.o + g * s.og() + oi) * hw;
        if (dir == Direction::ToNchw) std::memcpy(dst + nchw, src + gemm, sizeof(float) * hw);
        else std::memcpy(dst + gemm, src + nchw, sizeof(float) * hw);
      }
  });
}

std::vector<float>& scratch(int which, size_t size) {
  thread_local std::vector<float> buffers[2];
  if (buffers[which].size() < size) buffers[which].resize(size);
  return buffers[which];
}

struct PoolShape {
  int64_t n, c, h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, include_pad;
  explicit PoolShape(const int64_t* p)
      : n(p[0]), c(p[1]), h(p[2]), w(p[3]), oh(p[4]), ow(p[5]), kh(p[6]), kw(p[7]), sh(p[8]), sw(p[9]), pt(p[10]),
        pl(p[11]), pb(p[12]), pr(p[13]), include_pad(p[14]) {}
};

// Window [y0, y1) x [x0, x1) of output (i, j) clipped to the input, and its divisor.
struct Window {
  int64_t y0, y1, x0, x1;
  float divisor;
};
Window window(const PoolShape& s, int64_t i, int64_t j) {
  int64_t ys = i * s.sh - s.pt, xs = j * s.sw - s.pl;
  int64_t ye = std::min(ys + s.kh, s.h + s.pb), xe = std::min(xs + s.kw, s.w + s.pr);
  int64_t padded = (ye - ys) * (xe - xs);
  Window win{std::max<int64_t>(ys, 0), std::min(ye, s.h), std::max<int64_t>(xs, 0), std::min(xe, s.w), 0};
  int64_t inside = std::max<int64_t>(win.y1 - win.y0, 0) * std::max<int64_t>(win.x1 - win.x0, 0);
  win.divisor = static_cast<float>(s.include_pad ? padded : inside);
  return win;
}

} // namespace

extern "C" {

void loom_rt_conv2d_f32(const float* x, const float* w, float* y, const int64_t* params) {
  ConvShape s(params);
  auto& col = scratch(0, s.k() * s.cols());
  auto& out = scratch(1, s.og() * s.cols());
  for (int64_t g = 0; g < s.groups; ++g) {
    im2col(s, x, g, col.data());
    loom::cpu::sgemm(false, false, s.og(), s.cols(), s.k(), w + g * s.og() * s.k(), s.k(), col.data(), s.cols(),
                     out.data(), s.cols());
    relayout(s, Direction::ToNchw, out.data(), g, y);
  }
}

// dx = col2im(W^T dY) per group.
void loom_rt_conv2d_backprop_input_f32(const float* dy, const float* w, float* dx, const int64_t* params) {
  ConvShape s(params);
  std::memset(dx, 0, sizeof(float) * s.n * s.c * s.h * s.w);
  auto& col = scratch(0, s.k() * s.cols());
  auto& dyg = scratch(1, s.og() * s.cols());
  for (int64_t g = 0; g < s.groups; ++g) {
    relayout(s, Direction::FromNchw, dy, g, dyg.data());
    loom::cpu::sgemm(true, false, s.k(), s.cols(), s.og(), w + g * s.og() * s.k(), s.k(), dyg.data(), s.cols(),
                     col.data(), s.cols());
    col2im(s, col.data(), g, dx);
  }
}

// dW = dY col^T per group.
void loom_rt_conv2d_backprop_filter_f32(const float* x, const float* dy, float* dw, const int64_t* params) {
  ConvShape s(params);
  auto& col = scratch(0, s.k() * s.cols());
  auto& dyg = scratch(1, s.og() * s.cols());
  for (int64_t g = 0; g < s.groups; ++g) {
    im2col(s, x, g, col.data());
    relayout(s, Direction::FromNchw, dy, g, dyg.data());
    loom::cpu::sgemm(false, true, s.og(), s.k(), s.cols(), dyg.data(), s.cols(), col.data(), s.cols(),
                     dw + g * s.og() * s.k(), s.k());
  }
}

void loom_rt_max_pool2d_f32(const float* x, float* y, const int64_t* params) {
  PoolShape s(params);
  parallel(s.n * s.c, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const float* in = x + plane * s.h * s.w;
      float* out = y + plane * s.oh * s.ow;
      for (int64_t i = 0; i < s.oh; ++i)
        for (int64_t j = 0; j < s.ow; ++j) {
          Window win = window(s, i, j);
          float best = -std::numeric_limits<float>::infinity();
          bool nan = false;
          for (int64_t yy = win.y0; yy < win.y1 && !nan; ++yy)
            for (int64_t xx = win.x0; xx < win.x1; ++xx) {
              float v = in[yy * s.w + xx];
              if (v != v) { // the first NaN wins, as in the interpreter
                best = v;
                nan = true;
                break;
              }
              if (v > best) best = v;
            }
          out[i * s.ow + j] = best;
        }
    }
  });
}

// Routes dy to the first maximum of each window (row-major), accumulating.
void loom_rt_max_pool2d_grad_f32(const float* x, const float* dy, float* dx, const int64_t* params) {
  PoolShape s(params);
  parallel(s.n * s.c, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const float* in = x + plane * s.h * s.w;
      const float* g = dy + plane * s.oh * s.ow;
      float* out = dx + plane * s.h * s.w;
      std::memset(out, 0, sizeof(float) * s.h * s.w);
      for (int64_t i = 0; i < s.oh; ++i)
        for (int64_t j = 0; j < s.ow; ++j) {
          Window win = window(s, i, j);
          int64_t best_at = -1;
          float best = -std::numeric_limits<float>::infinity();
          for (int64_t yy = win.y0; yy < win.y1; ++yy)
            for (int64_t xx = win.x0; xx < win.x1; ++xx) {
              float v = in[yy * s.w + xx];
              bool best_is_nan = best_at >= 0 && best != best;
              bool takes = best_at < 0 || (!best_is_nan && (v != v || v > best));
              if (takes) {
                best = v;
                best_at = yy * s.w + xx;
              }
            }
          if (best_at >= 0) out[best_at] += g[i * s.ow + j];
        }
    }
  });
}

void loom_rt_avg_pool2d_f32(const float* x, float* y, const int64_t* params) {
  PoolShape s(params);
  parallel(s.n * s.c, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const float* in = x + plane * s.h * s.w;
      float* out = y + plane * s.oh * s.ow;
      for (int64_t i = 0; i < s.oh; ++i)
        for (int64_t j = 0; j < s.ow; ++j) {
          Window win = window(s, i, j);
          double sum = 0;
          for (int64_t yy = win.y0; yy < win.y1; ++yy)
            for (int64_t xx = win.x0; xx < win.x1; ++xx) sum += in[yy * s.w + xx];
          out[i * s.ow + j] = static_cast<float>(sum / win.divisor);
        }
    }
  });
}

void loom_rt_avg_pool2d_grad_f32(const float* dy, float* dx, const int64_t* params) {
  PoolShape s(params);
  parallel(s.n * s.c, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const float* g = dy + plane * s.oh * s.ow;
      float* out = dx + plane * s.h * s.w;
      std::vector<double> acc(s.h * s.w, 0.0);
      for (int64_t i = 0; i < s.oh; ++i)
        for (int64_t j = 0; j < s.ow; ++j) {
          Window win = window(s, i, j);
          double share = g[i * s.ow + j] / static_cast<double>(win.divisor);
          for (int64_t yy = win.y0; yy < win.y1; ++yy)
            for (int64_t xx = win.x0; xx < win.x1; ++xx) acc[yy * s.w + xx] += share;
        }
      for (int64_t k = 0; k < s.h * s.w; ++k) out[k] = static_cast<float>(acc[k]);
    }
  });
}

} // extern "C"
