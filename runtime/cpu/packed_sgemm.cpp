// loom's AVX-512 sgemm: pack op(A) into panels of kRows rows and op(B) into panels of
// kCols columns (zero-padded, each k-major), then cover C with kRows x kCols tiles, each
// the outer-product sum of one A panel and one B panel over k (28 accumulators in
// registers). Packing runs once per call (per block of k) and the panels are shared by
// all threads; OpenBLAS, called on blocks of C, re-packs the shared operand per block.
// Operands whose packing would not pay are read in place. docs/cpu.md has the figures.
#include "runtime/cpu/packed_sgemm.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <functional>
#include <new>
#include <utility>
#include <vector>

#include "runtime/cpu/simd.h"
#include "runtime/thread_pool.h"

namespace loom::cpu {

namespace {

constexpr int kRows = 14;                  // rows of a tile: A values broadcast per k
constexpr int kCols = 32;                  // columns of a tile: two 16-lane vectors of B per k
constexpr int64_t kBlockBytes = 384 << 10; // A panels a chunk re-reads per B panel: in L2
// About one parallel chunk per MFLOP, at most 16 (measured: 2, 4 and 8 MFLOP per chunk
// were slower on small GEMMs; at most 32 or 64 chunks, no faster).
constexpr double kChunkFlops = 1e6;
constexpr int64_t kMaxChunks = 16;
// With at most this many row panels, each B panel serves few tiles: B is read in place
// when it can be, and otherwise packed in blocks of k of at most kPackedBytes (L2).
constexpr int64_t kFewRowPanels = 8;
constexpr int64_t kPackedBytes = 1 << 20;
// Packing runs in parallel tasks of about this many floats, at most kMaxPackTasks.
constexpr int64_t kPackTaskFloats = 1 << 16;
constexpr int64_t kMaxPackTasks = 8;
constexpr int64_t kCacheHeaderBytes = 64; // a PackedB header, then its panels
static_assert(sizeof(PackedB) <= kCacheHeaderBytes);

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// In-register transpose: row i of the input becomes lane i of every output row. (The
// all-lanes maskz forms: GCC 12's plain forms trip -Wuninitialized on their
// _mm512_undefined_ps.)
__attribute__((target("avx512f"))) void transpose16(__m512 r[16]) {
  constexpr __mmask16 all = 0xffff;
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_maskz_unpacklo_ps(all, r[i], r[i + 1]);
    t[i + 1] = _mm512_maskz_unpackhi_ps(all, r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_maskz_shuffle_ps(all, t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_maskz_shuffle_ps(all, t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_maskz_shuffle_ps(all, t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_maskz_shuffle_ps(all, t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_maskz_shuffle_f32x4(all, r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_maskz_shuffle_f32x4(all, r[i], r[i + 4], 0xDD);
    t[i + 8] = _mm512_maskz_shuffle_f32x4(all, r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_maskz_shuffle_f32x4(all, r[i + 8], r[i + 12], 0xDD);
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_maskz_shuffle_f32x4(all, t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_maskz_shuffle_f32x4(all, t[i], t[i + 8], 0xDD);
  }
}

// One panel, out[p * width + lane] for p < k: element (p, lane) of the source is
// src[p * ld + lane] (contiguous lanes) or src[lane * ld + p] (transposed). Lanes from
// `valid` on are zero.
__attribute__((target("avx512f"))) void pack_panel(const float* src, int64_t ld, bool transposed,
                                                   int64_t valid, int64_t k, int width,
                                                   float* out) {
  if (!transposed) {
    for (int64_t p = 0; p < k; ++p)
      for (int lane = 0; lane < width; lane += 16)
        _mm512_mask_storeu_ps(
            out + p * width + lane, lane_mask(0, width - lane),
            _mm512_maskz_loadu_ps(lane_mask(0, valid - lane), src + p * ld + lane));
    return;
  }
  __m512 r[16];
  for (int64_t p0 = 0; p0 < k; p0 += 16) {
    __mmask16 along_k = lane_mask(0, k - p0);
    for (int lane0 = 0; lane0 < width; lane0 += 16) {
      for (int i = 0; i < 16; ++i)
        r[i] = lane0 + i < valid ? _mm512_maskz_loadu_ps(along_k, src + (lane0 + i) * ld + p0)
                                 : _mm512_setzero_ps();
      transpose16(r);
      __mmask16 store = lane_mask(0, width - lane0);
      for (int j = 0; j < 16 && p0 + j < k; ++j)
        _mm512_mask_storeu_ps(out + (p0 + j) * width + lane0, store, r[j]);
    }
  }
}

// Where a tile stores: C at the tile's origin (row, col of the whole C), `last` masking
// the columns of the last vector, and the epilogue (null: none, or not yet).
struct TileOut {
  float* c;
  int64_t ldc;
  __mmask16 last;
  float alpha, beta;
  const GemmEpilogue* epilogue;
  int64_t row, col;
};

// Lanes of a kSelect epilogue's mask: byte l of `bytes` nonzero, for the lanes in `lanes`.
__attribute__((target("avx512f"))) inline __mmask16 select_lanes(const uint8_t* bytes,
                                                                 __mmask16 lanes) {
  if (lanes == 0xffff) {
    // (The maskz form: GCC 12's plain one trips -Wuninitialized, as in transpose16.)
    __m512i wide = _mm512_maskz_cvtepu8_epi32(
        0xffff, _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)));
    return _mm512_test_epi32_mask(wide, wide);
  }
  __mmask16 set = 0; // a short last vector: no read past the mask's row
  for (int l = 0; l < 16; ++l)
    if ((lanes >> l & 1) && bytes[l]) set = static_cast<__mmask16>(set | 1u << l);
  return set;
}

// x after the epilogue (apply_epilogue's arithmetic, 16 lanes at once) for the
// elements (i, j..j+15) of C.
__attribute__((target("avx512f"))) inline __m512
epilogue_lanes(const GemmEpilogue& e, __m512 x, int64_t i, int64_t j, __mmask16 lanes) {
  const __m512 zero = _mm512_setzero_ps();
  if (e.kind == GemmEpilogue::kBias || e.kind == GemmEpilogue::kBiasRelu)
    x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(lanes, static_cast<const float*>(e.bias) + j));
  if (e.kind == GemmEpilogue::kBiasRelu || e.kind == GemmEpilogue::kRelu)
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ), zero);
  if (e.kind == GemmEpilogue::kSelect)
    x = _mm512_mask_blend_ps(select_lanes(e.mask + i * e.mask_ld + j, lanes),
                             _mm512_set1_ps(static_cast<float>(e.fill)), x);
  return x;
}

// C tile (R rows, V vectors) = f(alpha * sum_p a[p][r] b[p][v] + beta * C), f the
// epilogue. B is a packed panel, or with Direct the source rows (ldb apart; the tail
// masked), for GEMMs too short in m to repay packing B.
template <int R, int V, bool Direct>
__attribute__((target("avx512f"))) void tile(int64_t k, const float* a, int64_t a_step,
                                             const float* b, int64_t ldb, const TileOut& out) {
  __mmask16 last = out.last;
  __m512 acc[R][V];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v)
      acc[r][v] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    __m512 bv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v)
      bv[v] = !Direct      ? _mm512_load_ps(b + 16 * v)
              : v == V - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * v)
                           : _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v)
        acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
    a += a_step;
    b += Direct ? ldb : kCols;
  }
  __m512 va = _mm512_set1_ps(out.alpha), vb = _mm512_set1_ps(out.beta);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      __mmask16 mask = v == V - 1 ? last : __mmask16(0xffff);
      float* to = out.c + r * out.ldc + 16 * v;
      __m512 x = out.alpha == 1.0f ? acc[r][v] : _mm512_mul_ps(acc[r][v], va);
      if (out.beta != 0.0f) x = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, to), vb, x);
      if (out.epilogue) x = epilogue_lanes(*out.epilogue, x, out.row + r, out.col + 16 * v, mask);
      _mm512_mask_storeu_ps(to, mask, x);
    }
}

using TileFn = void (*)(int64_t, const float*, int64_t, const float*, int64_t, const TileOut&);
using TileTable = std::array<std::array<TileFn, 2>, kRows>;

template <bool Direct, int... Rows> constexpr TileTable tiles(std::integer_sequence<int, Rows...>) {
  return {{{tile<Rows + 1, 1, Direct>, tile<Rows + 1, 2, Direct>}...}};
}

// The tile for `rows` rows (1..kRows) and `vectors` vectors (1..2).
TileFn tile_for(int rows, int vectors, bool direct) {
  static constexpr TileTable packed = tiles<false>(std::make_integer_sequence<int, kRows>());
  static constexpr TileTable unpacked = tiles<true>(std::make_integer_sequence<int, kRows>());
  return (direct ? unpacked : packed)[rows - 1][vectors - 1];
}

// The packed panels are cut into one region per group of chunks (Group); region r of
// every GEMM a thread issues lives in the same grow-only, 64-byte aligned buffer (conv
// blocks call sgemm from pool workers, so each thread has its own). Null when the
// memory cannot be had.
constexpr int kMaxGroups = static_cast<int>(kMaxChunks);

float* scratch(int region, int64_t floats) {
  struct Buffer {
    float* data = nullptr;
    int64_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local std::array<Buffer, kMaxGroups> buffers;
  Buffer& buffer = buffers[static_cast<size_t>(region)];
  if (buffer.size < floats) {
    std::free(buffer.data);
    buffer.size = 0;
    buffer.data = static_cast<float*>(std::aligned_alloc(64, ceil_div(floats * 4, 64) * 64));
    if (!buffer.data) return nullptr;
    buffer.size = floats;
  }
  return buffer.data;
}

// The packing is cut into one group per thread, matching the pool's contiguous shares:
// group j packs B's panels [b_lo, b_hi) (the columns of the first chunks of share j)
// and A's panels [a_lo, a_hi) into region j. Every cache line of the packed panels is
// then written by the same thread GEMM after GEMM; in one shared buffer each GEMM's
// layout put half of a thread's lines where the other thread wrote the last GEMM's, and
// on a host whose two vCPUs sit on different L3 slices taking over such a line costs
// ~600 ns.
struct Group {
  int64_t b_lo = 0, b_hi = 0, a_lo = 0, a_hi = 0;
  // B's panels are in the region unless they are in a PackedB cache.
  int64_t b_floats(bool b_in_region, int64_t kb) const {
    return b_in_region ? (b_hi - b_lo) * kCols * kb : 0;
  }
  int64_t floats(bool b_in_region, int64_t kb) const {
    return b_floats(b_in_region, kb) + (a_hi - a_lo) * kRows * kb;
  }
};

struct Gemm {
  bool ta, tb;
  int64_t m, n, k;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  float alpha, beta;
  std::array<float*, kMaxGroups> region{}; // group j's packed panels, each kb x width
  float* b_cache = nullptr; // B's panels for all of k, when they are in a PackedB cache
  bool pack_b_now = true;   // false: b_cache already holds them
  int64_t k0 = 0, kb = 0;   // the block of k being computed
  float block_beta = 0;     // beta for the first block, then 1 (accumulate)
  const GemmEpilogue* epilogue = nullptr; // null: none; applied by the last block of k

  // Rows are spread evenly over the panels (16 rows: 8 + 8, not 14 + 2), so that every
  // tile keeps enough independent accumulators to hide the FMA latency.
  int64_t row_panels() const { return ceil_div(m, kRows); }
  int64_t panel_row(int64_t ip) const { return m * ip / row_panels(); }
  int64_t col_panels() const { return ceil_div(n, kCols); }
  int64_t cols_padded() const { return col_panels() * kCols; }
  // op(A) is read in place when it is a transpose (its kRows values per k are
  // contiguous); op(B) when it is not one and each of its panels serves few tiles, so
  // packing would cost about as much as the tiles (the LSTM's 64-row GEMMs).
  bool direct_a() const { return ta; }
  bool few_row_panels() const { return row_panels() <= kFewRowPanels; }
  bool direct_b() const { return !tb && few_row_panels(); }

  // Where element (row i, k index p) of op(A), and (p, column j) of op(B), live.
  const float* a_at(int64_t i, int64_t p) const { return ta ? a + p * lda + i : a + i * lda + p; }
  const float* b_at(int64_t p, int64_t j) const { return tb ? b + j * ldb + p : b + p * ldb + j; }

  // Where B panel jp and A panel ip are packed: region j holds group j's B panels, then
  // its A panels.
  float* b_panel(const std::vector<Group>& groups, int64_t jp) const {
    if (b_cache) return b_cache + cols_padded() * k0 + jp * kb * kCols;
    size_t j = 0;
    while (jp >= groups[j].b_hi)
      ++j;
    return region[j] + (jp - groups[j].b_lo) * kb * kCols;
  }
  float* a_panel(const std::vector<Group>& groups, int64_t ip) const {
    size_t j = 0;
    while (ip >= groups[j].a_hi)
      ++j;
    const Group& group = groups[j];
    return region[j] + group.b_floats(!b_cache, kb) + (ip - group.a_lo) * kRows * kb;
  }

  void pack_a(int64_t ip, float* out) const {
    int64_t i0 = panel_row(ip);
    pack_panel(a_at(i0, k0), lda, !ta, panel_row(ip + 1) - i0, kb, kRows, out);
  }
  void pack_b(int64_t jp, float* out) const {
    int64_t j0 = jp * kCols;
    pack_panel(b_at(k0, j0), ldb, tb, n - j0, kb, kCols, out);
  }

  // Tiles [ip_lo, ip_hi) x [jp_lo, jp_hi), B panel outermost so that the chunk's A
  // panels stay in L2 and each B panel is read once from memory.
  void compute(int64_t ip_lo, int64_t ip_hi, int64_t jp_lo, int64_t jp_hi,
               const std::vector<Group>& groups) const {
    for (int64_t jp = jp_lo; jp < jp_hi; ++jp) {
      int64_t cols = std::min<int64_t>(kCols, n - jp * kCols);
      int vectors = static_cast<int>(ceil_div(cols, 16));
      __mmask16 last = lane_mask(0, cols - 16 * (vectors - 1));
      const float* b_tile = direct_b() ? b_at(k0, jp * kCols) : b_panel(groups, jp);
      for (int64_t ip = ip_lo; ip < ip_hi; ++ip) {
        int rows = static_cast<int>(panel_row(ip + 1) - panel_row(ip));
        const float* a_tile = direct_a() ? a_at(panel_row(ip), k0) : a_panel(groups, ip);
        const GemmEpilogue* last_block_epilogue = k0 + kb == k ? epilogue : nullptr;
        TileOut out{c + panel_row(ip) * ldc + jp * kCols,
                    ldc,
                    last,
                    alpha,
                    block_beta,
                    last_block_epilogue,
                    panel_row(ip),
                    jp * kCols};
        tile_for(rows, vectors, direct_b())(kb, a_tile, direct_a() ? lda : kRows, b_tile, ldb, out);
      }
    }
  }
};

// Chunks of C fixed by the shape: few enough rows that their A panels fit kBlockBytes,
// and about one chunk per MFLOP, at most kMaxChunks (two threads balance on them). Chunk
// c covers row chunk c % row_chunks of column chunk c / row_chunks.
struct Split {
  int64_t row_chunks, col_chunks;
  int64_t chunks() const { return row_chunks * col_chunks; }
};

Split split_for(const Gemm& g) {
  int64_t rp = g.row_panels(), cp = g.col_panels();
  int64_t panels_in_l2 = std::max<int64_t>(1, kBlockBytes / (kRows * g.kb * 4));
  int64_t row_chunks = ceil_div(rp, panels_in_l2);
  double flops = 2.0 * g.m * g.n * g.kb;
  int64_t wanted = std::clamp<int64_t>(static_cast<int64_t>(flops / kChunkFlops), 1, kMaxChunks);
  int64_t col_chunks = std::clamp<int64_t>(ceil_div(wanted, row_chunks), 1, cp);
  return {row_chunks, col_chunks};
}

// The groups of a block: one per thread that will run, each packing an equal share of
// A's and of B's panels. (A copy of all A panels per group, so that tiles read only
// their own thread's panels, was faster on two L3 slices and 4 % slower on one:
// docs/cpu.md.)
std::vector<Group> groups_for(const Gemm& g, const Split& s, int64_t threads) {
  int64_t rp = g.row_panels(), cp = g.col_panels(), chunks = s.chunks();
  // Packing that fits one task runs inline, into one region (a parallel loop costs
  // microseconds: the LSTM's GEMMs pack 64 KiB of A each).
  int64_t a_floats = g.direct_a() ? 0 : rp * kRows * g.kb;
  int64_t b_floats = g.direct_b() ? 0 : cp * kCols * g.kb;
  int64_t count = chunks == 1 || std::max(a_floats, b_floats) < 2 * kPackTaskFloats
                      ? 1
                      : std::clamp<int64_t>(threads, 1, chunks);
  std::vector<Group> groups(static_cast<size_t>(count));
  for (int64_t j = 0; j < count; ++j) {
    Group& group = groups[static_cast<size_t>(j)];
    if (!g.direct_b()) {
      group.b_lo = cp * j / count;
      group.b_hi = cp * (j + 1) / count;
    }
    if (!g.direct_a()) {
      group.a_lo = rp * j / count;
      group.a_hi = rp * (j + 1) / count;
    }
  }
  return groups;
}

void run(int64_t chunks, const std::function<void(int64_t)>& body, bool inline_only) {
  if (!inline_only && chunks > 1) return ThreadPool::global().run(chunks, body);
  for (int64_t c = 0; c < chunks; ++c)
    body(c);
}

Avx512Path packed_path;

} // namespace

bool use_packed_sgemm() { return packed_path.enabled(); }
void allow_packed_sgemm(bool allowed) { packed_path.allow(allowed); }

namespace {

// One block of k: pack what is packed, then the tiles.
void multiply_block(const Gemm& g, const std::vector<Group>& groups, const Split& s) {
  int64_t rp = g.row_panels(), cp = g.col_panels(), chunks = s.chunks();
  auto count = static_cast<int64_t>(groups.size());
  // A GEMM of one chunk runs inline: a parallel loop costs microseconds, as much as the
  // whole of LeNet's small GEMMs. Otherwise each group packs in tasks of about 64K
  // floats, A's and B's side by side, then the chunks are computed.
  int64_t a_floats = g.direct_a() ? 0 : rp * kRows * g.kb;
  int64_t b_floats = g.direct_b() || !g.pack_b_now ? 0 : cp * kCols * g.kb;
  auto tasks_for = [&](int64_t floats) -> int64_t {
    return floats == 0   ? 0
           : chunks == 1 ? 1
                         : std::clamp<int64_t>(floats / kPackTaskFloats, 1, kMaxPackTasks);
  };
  int64_t per_group = ceil_div(std::max(tasks_for(a_floats), tasks_for(b_floats)), count);
  if (per_group > 0)
    run(
        per_group * count,
        [&](int64_t t) {
          auto j = static_cast<size_t>(t / per_group);
          int64_t i = t % per_group;
          const Group& group = groups[j];
          int64_t na = group.a_hi - group.a_lo;
          int64_t nb = g.pack_b_now ? group.b_hi - group.b_lo : 0;
          for (int64_t p = na * i / per_group; p < na * (i + 1) / per_group; ++p)
            g.pack_a(group.a_lo + p, g.a_panel(groups, group.a_lo + p));
          for (int64_t p = nb * i / per_group; p < nb * (i + 1) / per_group; ++p)
            g.pack_b(group.b_lo + p, g.b_panel(groups, group.b_lo + p));
        },
        chunks == 1);
  run(
      chunks,
      [&](int64_t chunk) {
        int64_t cc = chunk / s.row_chunks, rc = chunk % s.row_chunks;
        g.compute(rp * rc / s.row_chunks, rp * (rc + 1) / s.row_chunks, cp * cc / s.col_chunks,
                  cp * (cc + 1) / s.col_chunks, groups);
      },
      chunks == 1);
}

} // namespace

int64_t packed_b_cache_bytes(int64_t n, int64_t k) {
  return kCacheHeaderBytes + ceil_div(n, kCols) * kCols * k * 4;
}

bool packed_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const float* b, int64_t ldb, float* c, int64_t ldc, float alpha, float beta,
                  PackedB* cache, bool refresh, const GemmEpilogue& epilogue) {
  if (cache && refresh) cache->b = nullptr; // empty until packed below
  if (m == 0 || n == 0) return true;
  Gemm g{ta, tb, m, n, k, a, lda, b, ldb, c, ldc, alpha, beta};
  if (epilogue.kind != GemmEpilogue::kNone) g.epilogue = &epilogue;
  int64_t rp = g.row_panels(), cp = g.col_panels();
  // k is cut into equal blocks whose packed panels stay under kPackedBytes (a ResNet
  // filter gradient packs a 7 MiB column matrix otherwise); C accumulates the blocks in
  // order. The blocks depend on the shape only.
  int64_t packed_width = (g.direct_a() ? 0 : rp * kRows) + (g.direct_b() ? 0 : cp * kCols);
  int64_t blocks =
      !g.few_row_panels() ? 1 : std::max<int64_t>(1, ceil_div(packed_width * k * 4, kPackedBytes));
  int64_t block = ceil_div(k, blocks);
  // B's panels for all blocks of k stay in the cache, block after block.
  bool cached = cache && !g.direct_b() &&
                (refresh || (cache->b == b && cache->ldb == ldb && cache->n == n && cache->k == k &&
                             cache->block == block && cache->tb == tb));
  if (cached) {
    g.b_cache = reinterpret_cast<float*>(reinterpret_cast<char*>(cache) + kCacheHeaderBytes);
    g.pack_b_now = refresh;
  }
  // Each region is sized for the larger of the blocks' groups (the last block, shorter,
  // may be split differently).
  int64_t threads = ThreadPool::global().threads_here();
  std::array<int64_t, kMaxGroups> floats{};
  for (int64_t kb : {block, k - block * (blocks - 1)}) {
    g.kb = kb;
    std::vector<Group> groups = groups_for(g, split_for(g), threads);
    for (size_t j = 0; j < groups.size(); ++j)
      floats[j] = std::max(floats[j], groups[j].floats(!cached, block));
  }
  for (size_t j = 0; j < floats.size(); ++j) {
    if (floats[j] == 0) continue;
    g.region[j] = scratch(static_cast<int>(j), floats[j]);
    if (!g.region[j]) return false;
  }
  for (g.k0 = 0; g.k0 < k; g.k0 += block) {
    g.kb = std::min(block, k - g.k0);
    g.block_beta = g.k0 == 0 ? beta : 1.0f;
    Split s = split_for(g);
    multiply_block(g, groups_for(g, s, threads), s);
  }
  if (cached && refresh) *cache = {b, ldb, n, k, block, tb};
  return true;
}

} // namespace loom::cpu
