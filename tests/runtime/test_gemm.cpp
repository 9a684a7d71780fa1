// loom::cpu::sgemm against a double-precision reference: every transpose combination,
// edge tiles in m and n, leading dimensions wider than the matrices, alpha/beta, and
// the shapes that take loom's packed GEMM down each of its paths (operands read in
// place, packed, blocks of k, one chunk or many). On AVX-512 hosts both loom's GEMM and
// the OpenBLAS fallback run; elsewhere only the fallback exists.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "runtime/cpu/gemm.h"
#include "runtime/cpu/packed_sgemm.h"
#include "runtime/cpu_rt.h"

namespace {

struct Shape {
  bool ta, tb;
  int64_t m, n, k;
};

struct Operands {
  int64_t lda, ldb, ldc;
  std::vector<float> a, b, c;
};

// Leading dimensions 3 wider than needed, so a GEMM that reads or writes past its
// matrix shows up in the results or in the sentinel columns of C.
Operands make_operands(const Shape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Operands o;
  o.lda = (s.ta ? s.m : s.k) + 3;
  o.ldb = (s.tb ? s.k : s.n) + 3;
  o.ldc = s.n + 3;
  o.a.resize((s.ta ? s.k : s.m) * o.lda);
  o.b.resize((s.tb ? s.n : s.k) * o.ldb);
  o.c.resize(s.m * o.ldc);
  for (auto* v : {&o.a, &o.b, &o.c})
    for (float& x : *v)
      x = u(rng);
  return o;
}

float at(const std::vector<float>& x, int64_t ld, bool trans, int64_t i, int64_t j) {
  return trans ? x[j * ld + i] : x[i * ld + j];
}

// Checks C against alpha op(A) op(B) + beta C0 in double precision, within the
// bound of a k-term f32 sum ((k + 2) units of roundoff of the sum of magnitudes), and
// that the 3 columns past n are untouched.
void check(const Shape& s, const Operands& o, const std::vector<float>& c, float alpha,
           float beta) {
  int64_t bad = 0;
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      double sum = 0, magnitude = 0;
      for (int64_t p = 0; p < s.k; ++p) {
        double x = double(at(o.a, o.lda, s.ta, i, p)) * at(o.b, o.ldb, s.tb, p, j);
        sum += x;
        magnitude += std::fabs(x);
      }
      double c0 = o.c[i * o.ldc + j];
      double want = alpha * sum + (beta == 0 ? 0.0 : beta * c0);
      double tol = 1.2e-7 * (s.k + 2) * (std::fabs(alpha) * magnitude + std::fabs(beta * c0));
      if (!(std::fabs(c[i * o.ldc + j] - want) <= tol)) ++bad;
    }
    for (int64_t j = s.n; j < o.ldc; ++j)
      if (c[i * o.ldc + j] != o.c[i * o.ldc + j]) ++bad;
  }
  INFO("ta=" << s.ta << " tb=" << s.tb << " m=" << s.m << " n=" << s.n << " k=" << s.k
             << " alpha=" << alpha << " beta=" << beta);
  CHECK(bad == 0);
}

// Whether run() calls loom's packed GEMM itself (all shapes, also those sgemm leaves to
// OpenBLAS) or loom::cpu::sgemm.
bool call_packed = false;

std::vector<float> run(const Shape& s, const Operands& o, float alpha, float beta) {
  std::vector<float> c = o.c;
  if (call_packed)
    REQUIRE(loom::cpu::packed_sgemm(s.ta, s.tb, s.m, s.n, s.k, o.a.data(), o.lda, o.b.data(), o.ldb,
                                    c.data(), o.ldc, alpha, beta));
  else
    loom::cpu::sgemm(s.ta, s.tb, s.m, s.n, s.k, o.a.data(), o.lda, o.b.data(), o.ldb, c.data(),
                     o.ldc, alpha, beta);
  return c;
}

// Runs the checks with loom's packed GEMM, with loom::cpu::sgemm (which picks it or
// OpenBLAS by shape) and with the OpenBLAS fallback alone.
template <typename Body> void on_all_paths(Body body) {
  enum Path { kPacked, kDispatch, kOpenBlas };
  for (Path path : {kPacked, kDispatch, kOpenBlas}) {
    if (path != kOpenBlas && !loom::cpu::use_packed_sgemm()) {
      WARN("no AVX-512 on this CPU: only the OpenBLAS path is tested");
      continue;
    }
    call_packed = path == kPacked;
    loom::cpu::allow_packed_sgemm(path != kOpenBlas);
    body();
  }
  call_packed = false;
  loom::cpu::allow_packed_sgemm(true);
}

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

} // namespace

TEST_CASE("sgemm matches a double-precision reference on edge shapes", "[runtime][gemm]") {
  // m around the 14-row tiles, n around the 16-lane vectors and 32-column panels.
  on_all_paths([] {
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (int64_t m : {1, 2, 13, 15, 29, 64, 131})
          for (int64_t n : {1, 15, 17, 32, 33, 70})
            for (int64_t k : {1, 16, 37, 300}) {
              Shape s{ta, tb, m, n, k};
              Operands o = make_operands(s, static_cast<uint32_t>(m * 131 + n * 7 + k));
              check(s, o, run(s, o, 1.0f, 0.0f), 1.0f, 0.0f);
              check(s, o, run(s, o, -0.01f, 1.0f), -0.01f, 1.0f);
            }
  });
}

TEST_CASE("sgemm matches the reference on the shapes of loom's benchmarks", "[runtime][gemm]") {
  // MLP layers (many chunks, both operands packed), LSTM steps (B read in place),
  // LeNet blocks (one chunk), a ResNet filter gradient (k cut into blocks).
  const Shape shapes[] = {{false, false, 256, 1024, 784}, {false, true, 256, 1024, 1024},
                          {true, false, 784, 1024, 256},  {false, false, 64, 1024, 384},
                          {false, true, 64, 256, 1024},   {false, false, 16, 400, 150},
                          {false, true, 16, 150, 400},    {false, true, 64, 576, 3136}};
  on_all_paths([&] {
    for (const Shape& s : shapes) {
      Operands o = make_operands(s, 7);
      check(s, o, run(s, o, 2.0f, 0.5f), 2.0f, 0.5f);
    }
  });
}

TEST_CASE("sgemm with beta = 0 writes C without reading it", "[runtime][gemm]") {
  on_all_paths([] {
    for (Shape s : {Shape{false, false, 30, 40, 50}, Shape{true, true, 300, 300, 300}}) {
      Operands o = make_operands(s, 3);
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j)
          o.c[i * o.ldc + j] = NAN;
      std::vector<float> c = run(s, o, 1.0f, 0.0f);
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j)
          o.c[i * o.ldc + j] = 0.0f; // the reference: beta * C contributes nothing
      check(s, o, c, 1.0f, 0.0f);
    }
  });
}

TEST_CASE("sgemm results do not depend on the thread count", "[runtime][gemm][threads]") {
  // The packed panels are cut into one region per thread: the last two shapes give some
  // threads' regions no A panels (one row panel) or no B panels (two column panels).
  const Shape shapes[] = {{false, false, 256, 1024, 784}, {true, false, 1024, 1024, 256},
                          {false, true, 64, 576, 3136},   {false, false, 16, 1600, 150},
                          {false, false, 14, 64, 10000},  {false, true, 300, 40, 2000}};
  on_all_paths([&] {
    for (const Shape& s : shapes) {
      Operands o = make_operands(s, 11);
      loom_rt_set_num_threads(1);
      std::vector<float> one = run(s, o, -0.01f, 1.0f);
      check(s, o, one, -0.01f, 1.0f);
      for (int threads : {2, 3, 5}) {
        loom_rt_set_num_threads(threads);
        INFO("m=" << s.m << " n=" << s.n << " k=" << s.k << " threads=" << threads);
        CHECK(same_bits(one, run(s, o, -0.01f, 1.0f)));
      }
    }
  });
  loom_rt_set_num_threads(0);
}

TEST_CASE("a packed copy of B is reused by later GEMMs that read the same B", "[runtime][gemm]") {
  if (!loom::cpu::use_packed_sgemm()) {
    WARN("no AVX-512 on this CPU: loom's packed GEMM, and its B cache, are not used");
    return;
  }
  using loom::cpu::PackedB;
  // The LSTM's input gradient (B transposed, k cut into blocks) and an MLP-sized one.
  for (Shape s : {Shape{false, true, 64, 256, 1024}, Shape{false, true, 256, 512, 300}}) {
    INFO("m=" << s.m << " n=" << s.n << " k=" << s.k);
    Operands first = make_operands(s, 21), second = make_operands(s, 22);
    second.b = first.b;
    std::vector<float> want_first = run(s, first, 1.0f, 0.0f),
                       want_second = run(s, second, 1.0f, 0.0f);
    // Not initialized: the first GEMM's refresh overwrites whatever the memory holds.
    int64_t bytes = loom::cpu::packed_b_cache_bytes(s.n, s.k);
    std::vector<char> memory(static_cast<size_t>(bytes) + 64, '\xff');
    auto* cache =
        reinterpret_cast<PackedB*>((reinterpret_cast<uintptr_t>(memory.data()) + 63) / 64 * 64);
    auto gemm = [&](const Operands& o, const float* b, bool refresh) {
      std::vector<float> c = o.c;
      loom::cpu::sgemm(s.ta, s.tb, s.m, s.n, s.k, o.a.data(), o.lda, b, o.ldb, c.data(), o.ldc,
                       1.0f, 0.0f, cache, refresh);
      return c;
    };
    for (int threads : {1, 2}) {
      loom_rt_set_num_threads(threads);
      CHECK(same_bits(gemm(first, first.b.data(), true), want_first));
      CHECK(cache->b == first.b.data());
      CHECK(same_bits(gemm(second, first.b.data(), false), want_second));
      // The reuse really skips packing: it still multiplies by the B that was packed.
      std::vector<float> changed = first.b;
      for (float& x : first.b)
        x = -x;
      CHECK(same_bits(gemm(second, first.b.data(), false), want_second));
      first.b = changed;
      // Another B (equal values, another address) is packed as usual, cache untouched.
      std::vector<float> other = first.b;
      CHECK(same_bits(gemm(second, other.data(), false), want_second));
      CHECK(cache->b == first.b.data());
    }
    loom_rt_set_num_threads(0);
    // A refreshing GEMM that does not pack B (under 2 MFLOP: OpenBLAS) empties the cache.
    std::vector<float> c(static_cast<size_t>(s.n));
    loom::cpu::sgemm(false, true, 1, s.n, s.k, first.a.data(), first.lda, first.b.data(), first.ldb,
                     c.data(), s.n, 1.0f, 0.0f, cache, true);
    CHECK(cache->b == nullptr);
  }
}
