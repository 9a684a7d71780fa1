// Convolution kernels (im2col + GEMM per group and block of images) for compiled CPU
// code (f32). Each output element is produced by one thread in a fixed order, so
// results do not depend on the thread count.
#include "runtime/cpu/gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "runtime/cpu/simd.h"
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

constexpr int64_t kColumnBlockBytes = 256 << 10;

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

// im2col for unit column stride with AVX-512: each output row of ow columns is one
// masked load and one masked store per 16 columns. The padding lanes are masked out:
// their addresses, which may lie outside x, are never read. LeNet's rows are 10 and 28
// columns wide, too short for the portable loops below to amortize their setup.
// kChunks = ceil(ow / 16) when it is a template argument (the loops then unroll and
// the masks stay in registers), 0 for a run-time count.
template <int kChunks>
__attribute__((target("avx512f"))) void
im2col_unit_stride_avx512(const ConvShape& s, const float* x, int64_t g, Images im, float* col) {
  using loom::cpu::lane_mask;
  int64_t cols = im.count() * s.oh * s.ow;
  const int64_t chunks = kChunks ? kChunks : (s.ow + 15) / 16;
  std::vector<__mmask16> stores(chunks), loads(chunks);
  for (int64_t c = 0; c < chunks; ++c)
    stores[c] = lane_mask(0, s.ow - 16 * c);

  for (int64_t row = 0; row < s.k(); ++row) {
    int64_t ci = row / (s.kh * s.kw), p = row / s.kw % s.kh, q = row % s.kw;
    ValidRange js = valid_range(s.ow, 1, s.pl, q * s.dw, s.w);
    for (int64_t c = 0; c < chunks; ++c)
      loads[c] = lane_mask(js.lo - 16 * c, js.hi - 16 * c);
    float* out = col + row * cols;
    // The output rows i whose input row i*sh + offset lies inside the image.
    int64_t offset = p * s.dh - s.pt;
    ValidRange is = valid_range(s.oh, s.sh, -offset, 0, s.h);
    for (int64_t b = im.b0; b < im.b1; ++b) {
      const float* plane = x + (b * s.c + g * s.cg() + ci) * s.h * s.w - s.pl + q * s.dw;
      float* dst = out + (b - im.b0) * s.oh * s.ow;
      for (int64_t i = 0; i < s.oh; ++i) {
        if (i >= is.lo && i < is.hi) {
          const float* src = plane + (i * s.sh + offset) * s.w; // input column j is src[j]
          for (int64_t c = 0; c < chunks; ++c)
            _mm512_mask_storeu_ps(dst + i * s.ow + 16 * c, stores[c],
                                  _mm512_maskz_loadu_ps(loads[c], src + 16 * c));
        } else {
          for (int64_t c = 0; c < chunks; ++c)
            _mm512_mask_storeu_ps(dst + i * s.ow + 16 * c, stores[c], _mm512_setzero_ps());
        }
      }
    }
  }
}

// col[(ci, p, q), (b - b0, i, j)] = x[b, g*cg + ci, i*sh - pt + p*dh, j*sw - pl + q*dw]
// (0 outside). Each output row is three runs: zeros, a (strided) copy, zeros.
void im2col(const ConvShape& s, const float* x, int64_t g, Images im, float* col) {
  if (s.sw == 1 && loom::cpu::use_avx512_kernels()) {
    switch ((s.ow + 15) / 16) {
    case 1:
      return im2col_unit_stride_avx512<1>(s, x, g, im, col);
    case 2:
      return im2col_unit_stride_avx512<2>(s, x, g, im, col);
    case 3:
      return im2col_unit_stride_avx512<3>(s, x, g, im, col);
    case 4:
      return im2col_unit_stride_avx512<4>(s, x, g, im, col);
    default:
      return im2col_unit_stride_avx512<0>(s, x, g, im, col);
    }
  }
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

// Widest input row (in 16-lane chunks) that col2im_unit_stride_avx512 sums in registers.
constexpr int kMaxRowChunks = 4;

// col2im for unit column stride with AVX-512: each input row is summed in registers
// over the taps (p, q) in the same order as the portable loops below, then stored
// once. Accumulating into memory instead, a tap's masked load overlaps the previous
// tap's masked store one column over, which stalls on store forwarding.
// kChunks = ceil(w / 16) is a template parameter so that the accumulators stay in
// registers (a run-time count kept them on the stack).
template <int kChunks>
__attribute__((target("avx512f"))) void
col2im_unit_stride_avx512(const ConvShape& s, const float* col, int64_t g, Images im, float* dx) {
  using loom::cpu::lane_mask;
  int64_t cols = im.count() * s.oh * s.ow, chunks = kChunks;
  // Columns x of an input row that tap q reads, from output column j = x + pl - q*dw.
  std::vector<__mmask16> taps(s.kw * chunks);
  for (int64_t q = 0; q < s.kw; ++q) {
    int64_t shift = s.pl - q * s.dw, lo = std::max<int64_t>(0, -shift),
            hi = std::min(s.w, s.ow - shift);
    for (int64_t c = 0; c < chunks; ++c)
      taps[q * chunks + c] = lane_mask(lo - 16 * c, hi - 16 * c);
  }
  // The output row i that tap row p reads input row y from (i*sh - pt + p*dh = y), or -1.
  std::vector<int64_t> source_row(s.h * s.kh, -1);
  for (int64_t i = 0; i < s.oh; ++i)
    for (int64_t p = 0; p < s.kh; ++p)
      if (int64_t y = i * s.sh - s.pt + p * s.dh; y >= 0 && y < s.h) source_row[y * s.kh + p] = i;
  for (int64_t b = im.b0; b < im.b1; ++b)
    for (int64_t ci = 0; ci < s.cg(); ++ci) {
      float* plane = dx + (b * s.c + g * s.cg() + ci) * s.h * s.w;
      for (int64_t y = 0; y < s.h; ++y) {
        __m512 acc[kChunks];
        for (int64_t c = 0; c < chunks; ++c)
          acc[c] = _mm512_setzero_ps();
        for (int64_t p = 0; p < s.kh; ++p) {
          int64_t i = source_row[y * s.kh + p];
          if (i < 0) continue;
          for (int64_t q = 0; q < s.kw; ++q) {
            const float* row = col + ((ci * s.kh + p) * s.kw + q) * cols +
                               ((b - im.b0) * s.oh + i) * s.ow + s.pl - q * s.dw; // row[x]
            for (int64_t c = 0; c < chunks; ++c) {
              __mmask16 m = taps[q * chunks + c];
              acc[c] =
                  _mm512_mask_add_ps(acc[c], m, acc[c], _mm512_maskz_loadu_ps(m, row + 16 * c));
            }
          }
        }
        for (int64_t c = 0; c < chunks; ++c)
          _mm512_mask_storeu_ps(plane + y * s.w + 16 * c, lane_mask(0, s.w - 16 * c), acc[c]);
      }
    }
}

// dx[b, g*cg + ci, y, x] += col[(ci, p, q), (b - b0, i, j)], each plane summed in a
// fixed order.
void col2im(const ConvShape& s, const float* col, int64_t g, Images im, float* dx) {
  if (s.sw == 1 && s.w <= 16 * kMaxRowChunks && loom::cpu::use_avx512_kernels()) {
    switch ((s.w + 15) / 16) {
    case 1:
      return col2im_unit_stride_avx512<1>(s, col, g, im, dx);
    case 2:
      return col2im_unit_stride_avx512<2>(s, col, g, im, dx);
    case 3:
      return col2im_unit_stride_avx512<3>(s, col, g, im, dx);
    default:
      return col2im_unit_stride_avx512<kMaxRowChunks>(s, col, g, im, dx);
    }
  }
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

// A block of one image needs no relayout: that image's group g of Y or dY (NCHW, O
// channels) is already the GEMM's [og x OH*OW] matrix, at this offset.
bool single_image(Images im) { return im.count() == 1; }
int64_t image_group_offset(const ConvShape& s, int64_t g, Images im) {
  return (im.b0 * s.o + g * s.og()) * s.oh * s.ow;
}

std::vector<float>& scratch(int which, size_t size) {
  thread_local std::vector<float> buffers[2];
  if (buffers[which].size() < size) buffers[which].resize(size);
  return buffers[which];
}

// dY's group g for a block of images as the GEMM's [og x cols] matrix: in place for one
// image, else copied into scratch 1.
const float* gemm_layout(const ConvShape& s, const float* dy, int64_t g, Images im) {
  if (single_image(im)) return dy + image_group_offset(s, g, im);
  auto& dyg = scratch(1, s.og() * im.count() * s.oh * s.ow);
  relayout(s, Direction::FromNchw, dy, g, im, dyg.data());
  return dyg.data();
}

} // namespace

extern "C" {

void loom_rt_conv2d_f32(const float* x, const float* w, float* y, const int64_t* params) {
  ConvShape s(params);
  for (int64_t g = 0; g < s.groups; ++g)
    for_each_block(s, [&](int64_t, Images im) {
      int64_t cols = im.count() * s.oh * s.ow;
      auto& col = scratch(0, s.k() * cols);
      float* out =
          single_image(im) ? y + image_group_offset(s, g, im) : scratch(1, s.og() * cols).data();
      im2col(s, x, g, im, col.data());
      loom::cpu::sgemm(false, false, s.og(), cols, s.k(), w + g * s.og() * s.k(), s.k(), col.data(),
                       cols, out, cols);
      if (!single_image(im)) relayout(s, Direction::ToNchw, out, g, im, y);
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
      const float* dyg = gemm_layout(s, dy, g, im);
      loom::cpu::sgemm(true, false, s.k(), cols, s.og(), w + g * s.og() * s.k(), s.k(), dyg, cols,
                       col.data(), cols);
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
      im2col(s, x, g, im, col.data());
      const float* dyg = gemm_layout(s, dy, g, im);
      loom::cpu::sgemm(false, true, s.og(), s.k(), cols, dyg, cols, col.data(), cols,
                       partial.data() + block * filter, s.k());
    });
    float* out = dw + g * filter;
    if (blocks == 0) std::memset(out, 0, sizeof(float) * filter);
    for (int64_t block = 0; block < blocks; ++block)
      for (int64_t i = 0; i < filter; ++i)
        out[i] = block == 0 ? partial[i] : out[i] + partial[block * filter + i];
  }
}

} // extern "C"
