// Pooling kernels for compiled CPU code (f32). Each output element is produced by one
// thread in a fixed order, so results do not depend on the thread count.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "runtime/cpu/simd.h"
#include "runtime/cpu_rt.h"
#include "runtime/thread_pool.h"

namespace {

void parallel(int64_t count, const std::function<void(int64_t, int64_t)>& body) {
  int64_t chunks = std::min<int64_t>(count, 16);
  if (chunks <= 1) {
    body(0, count);
    return;
  }
  loom::ThreadPool::global().run(
      chunks, [&](int64_t c) { body(count * c / chunks, count * (c + 1) / chunks); });
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

// 2x2 windows of stride 2 without padding, the common pooling layer. Its kernels below
// handle NaN-free planes; a plane holding a NaN is redone by the portable loops, which
// pick the first NaN of a window as the interpreter does.
bool is_pool_2x2(const PoolShape& s) {
  return s.kh == 2 && s.kw == 2 && s.sh == 2 && s.sw == 2 && s.pt == 0 && s.pl == 0 &&
         2 * s.oh <= s.h && 2 * s.ow <= s.w;
}

// Columns 2j and 2j + 1 of a row for 16 consecutive windows j.
struct ColumnPairs {
  __m512 even, odd;
};

// Loads the column pairs of n <= 16 windows starting at row[0].
__attribute__((target("avx512f"))) ColumnPairs load_pairs(const float* row, int64_t n) {
  using loom::cpu::lane_mask;
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  __m512 lo = _mm512_maskz_loadu_ps(lane_mask(0, 2 * n), row);
  __m512 hi = _mm512_maskz_loadu_ps(lane_mask(0, 2 * n - 16), row + 16);
  return {_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi)};
}

__attribute__((target("avx512f"))) void store_pairs(float* row, ColumnPairs v, int64_t n) {
  using loom::cpu::lane_mask;
  const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
  _mm512_mask_storeu_ps(row, lane_mask(0, 2 * n), _mm512_permutex2var_ps(v.even, lo, v.odd));
  _mm512_mask_storeu_ps(row + 16, lane_mask(0, 2 * n - 16),
                        _mm512_permutex2var_ps(v.even, hi, v.odd));
}

__attribute__((target("avx512f"))) __mmask16 unordered(ColumnPairs v) {
  return _mm512_cmp_ps_mask(v.even, v.even, _CMP_UNORD_Q) |
         _mm512_cmp_ps_mask(v.odd, v.odd, _CMP_UNORD_Q);
}

// max(later, earlier) is later > earlier ? later : earlier: the first maximum (in
// row-major order) wins, as in window_max, down to the sign of a zero. (The masked form
// avoids GCC 12's false maybe-uninitialized warning on _mm512_max_ps.)
__attribute__((target("avx512f"))) __m512 first_max(__m512 earlier, __m512 later) {
  return _mm512_maskz_max_ps(0xffff, later, earlier);
}

// One plane of a 2x2 max pool; false if the plane holds a NaN.
__attribute__((target("avx512f"))) bool max_pool_2x2_avx512(const PoolShape& s, const float* in,
                                                            float* out) {
  __mmask16 nan = 0;
  for (int64_t i = 0; i < s.oh; ++i)
    for (int64_t j0 = 0; j0 < s.ow; j0 += 16) {
      int64_t n = std::min<int64_t>(16, s.ow - j0);
      ColumnPairs top = load_pairs(in + 2 * i * s.w + 2 * j0, n);
      ColumnPairs bottom = load_pairs(in + (2 * i + 1) * s.w + 2 * j0, n);
      nan |= unordered(top) | unordered(bottom);
      __m512 best = first_max(first_max(top.even, top.odd), first_max(bottom.even, bottom.odd));
      _mm512_mask_storeu_ps(out + i * s.ow + j0, loom::cpu::lane_mask(0, n), best);
    }
  return nan == 0;
}

// One plane of a 2x2 max pool's gradient: dy goes to the first maximum of its window,
// zeros to the window's other elements (elements outside every window are left alone).
// False if the plane of x holds a NaN.
__attribute__((target("avx512f"))) bool
max_pool_2x2_grad_avx512(const PoolShape& s, const float* in, const float* dy, float* out) {
  __mmask16 nan = 0;
  for (int64_t i = 0; i < s.oh; ++i)
    for (int64_t j0 = 0; j0 < s.ow; j0 += 16) {
      int64_t n = std::min<int64_t>(16, s.ow - j0);
      const float* top_row = in + 2 * i * s.w + 2 * j0;
      ColumnPairs top = load_pairs(top_row, n), bottom = load_pairs(top_row + s.w, n);
      nan |= unordered(top) | unordered(bottom);
      __mmask16 top_odd = _mm512_cmp_ps_mask(top.odd, top.even, _CMP_GT_OQ);
      __mmask16 bottom_odd = _mm512_cmp_ps_mask(bottom.odd, bottom.even, _CMP_GT_OQ);
      __mmask16 below = _mm512_cmp_ps_mask(first_max(bottom.even, bottom.odd),
                                           first_max(top.even, top.odd), _CMP_GT_OQ);
      // 0 + dy, as the portable path adds dy into a zeroed plane.
      __m512 g =
          _mm512_add_ps(_mm512_setzero_ps(),
                        _mm512_maskz_loadu_ps(loom::cpu::lane_mask(0, n), dy + i * s.ow + j0));
      float* dst = out + 2 * i * s.w + 2 * j0;
      store_pairs(
          dst,
          {_mm512_maskz_mov_ps(~below & ~top_odd, g), _mm512_maskz_mov_ps(~below & top_odd, g)}, n);
      store_pairs(
          dst + s.w,
          {_mm512_maskz_mov_ps(below & ~bottom_odd, g), _mm512_maskz_mov_ps(below & bottom_odd, g)},
          n);
    }
  return nan == 0;
}

} // namespace

extern "C" {

void loom_rt_max_pool2d_f32(const float* x, float* y, const int64_t* params) {
  PoolShape s(params);
  Windows win(s);
  bool fast = is_pool_2x2(s) && loom::cpu::use_avx512_kernels();
  for_each_plane(s, [&](int64_t plane) {
    const float* in = x + plane * s.h * s.w;
    float* out = y + plane * s.oh * s.ow;
    if (fast && max_pool_2x2_avx512(s, in, out)) return;
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
  bool fast = is_pool_2x2(s) && loom::cpu::use_avx512_kernels();
  bool tiled = 2 * s.oh == s.h && 2 * s.ow == s.w; // the windows cover every element
  for_each_plane(s, [&](int64_t plane) {
    const float* in = x + plane * s.h * s.w;
    const float* g = dy + plane * s.oh * s.ow;
    float* out = dx + plane * s.h * s.w;
    if (fast) {
      if (!tiled) std::memset(out, 0, sizeof(float) * s.h * s.w);
      if (max_pool_2x2_grad_avx512(s, in, g, out)) return;
    }
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
