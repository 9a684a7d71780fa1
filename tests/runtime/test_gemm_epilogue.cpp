// loom::cpu::sgemm's store epilogues (cpu::GemmEpilogue): a bias, a ReLU, both, or a
// masked select, applied as C is stored for the last time. On every path (loom's packed
// GEMM called directly and through sgemm, the OpenBLAS fallback) and thread count the
// result is, bit for bit, the plain GEMM followed by apply_epilogue; and apply_epilogue
// computes what the ops compute (relu keeps NaN and -0; select reads bytes as bools).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "runtime/cpu/gemm.h"
#include "runtime/cpu/packed_sgemm.h"
#include "runtime/cpu_rt.h"

using loom::cpu::GemmEpilogue;

namespace {

enum class Path { kPacked, kDispatch, kOpenBlas };

struct Problem {
  bool ta, tb;
  int64_t m, n, k;
  std::vector<float> a, b, bias;
  std::vector<uint8_t> mask;
};

Problem make_problem(bool ta, bool tb, int64_t m, int64_t n, int64_t k) {
  Problem p{ta, tb, m, n, k, {}, {}, {}, {}};
  std::mt19937 rng(static_cast<uint32_t>(m * 31 + n * 7 + k));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  p.a.resize(static_cast<size_t>(m * k));
  p.b.resize(static_cast<size_t>(k * n));
  p.bias.resize(static_cast<size_t>(n));
  for (auto* v : {&p.a, &p.b, &p.bias})
    for (float& x : *v)
      x = u(rng);
  p.mask.resize(static_cast<size_t>(m * n));
  for (uint8_t& x : p.mask)
    x = rng() % 3 == 0 ? 0 : 1;
  return p;
}

GemmEpilogue epilogue_of(GemmEpilogue::Kind kind, const Problem& p) {
  return {kind, p.bias.data(), p.mask.data(), p.n, -0.5};
}

// C (ldc = n + 2: two sentinel columns) = f(op(A) op(B)), f the epilogue.
std::vector<float> run(Path path, const Problem& p, const GemmEpilogue& e) {
  int64_t lda = p.ta ? p.m : p.k, ldb = p.tb ? p.k : p.n, ldc = p.n + 2;
  std::vector<float> c(static_cast<size_t>(p.m * ldc), -7.0f);
  loom::cpu::allow_packed_sgemm(path != Path::kOpenBlas);
  if (path == Path::kPacked)
    REQUIRE(loom::cpu::packed_sgemm(p.ta, p.tb, p.m, p.n, p.k, p.a.data(), lda, p.b.data(), ldb,
                                    c.data(), ldc, 1.0f, 0.0f, nullptr, false, e));
  else
    loom::cpu::sgemm(p.ta, p.tb, p.m, p.n, p.k, p.a.data(), lda, p.b.data(), ldb, c.data(), ldc,
                     1.0f, 0.0f, nullptr, false, e);
  loom::cpu::allow_packed_sgemm(true);
  return c;
}

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

} // namespace

TEST_CASE("a GEMM with a store epilogue equals the GEMM, then the epilogue", "[runtime][gemm]") {
  // Many chunks and tiles (the MLP's layer), k cut into blocks (B transposed, 14 rows, k = 10000:
  // the epilogue must wait for the last block), B read in place, edge tiles in m and n, a GEMM
  // small enough for OpenBLAS under sgemm, and k = 0.
  const Problem problems[] = {
      make_problem(false, false, 256, 1024, 784), make_problem(false, true, 14, 64, 10000),
      make_problem(false, false, 64, 100, 384),   make_problem(true, true, 29, 70, 37),
      make_problem(false, false, 16, 40, 50),     make_problem(false, false, 5, 9, 0)};
  std::vector<Path> paths = {Path::kDispatch, Path::kOpenBlas};
  if (loom::cpu::use_packed_sgemm())
    paths.push_back(Path::kPacked);
  else
    WARN("no AVX-512 on this CPU: only sgemm's OpenBLAS path is tested");
  for (const Problem& p : problems)
    for (Path path : paths) {
      if (path == Path::kPacked && p.k == 0) continue; // sgemm handles k = 0 itself
      for (GemmEpilogue::Kind kind : {GemmEpilogue::kBias, GemmEpilogue::kBiasRelu,
                                      GemmEpilogue::kRelu, GemmEpilogue::kSelect})
        for (int threads : {1, 2, 3}) {
          INFO("m=" << p.m << " n=" << p.n << " k=" << p.k << " path=" << static_cast<int>(path)
                    << " kind=" << kind << " threads=" << threads);
          loom_rt_set_num_threads(threads);
          std::vector<float> want = run(path, p, {});
          loom::cpu::apply_epilogue(epilogue_of(kind, p), want.data(), p.n + 2, 0, p.m, 0, p.n);
          CHECK(same_bits(run(path, p, epilogue_of(kind, p)), want));
        }
    }
  loom_rt_set_num_threads(0);
}

TEST_CASE("apply_epilogue computes bias, relu and select as loom's ops do", "[runtime][gemm]") {
  float c[6] = {-1.0f, 0.5f, -0.0f, NAN, 2.0f, -3.0f};
  const float bias[3] = {0.25f, -1.0f, 0.0f};
  const uint8_t mask[6] = {1, 0, 1, 0, 1, 1};
  float relu[6], bias_relu[6], select[6];
  std::memcpy(relu, c, sizeof c);
  std::memcpy(bias_relu, c, sizeof c);
  std::memcpy(select, c, sizeof c);
  loom::cpu::apply_epilogue(GemmEpilogue{GemmEpilogue::kRelu}, relu, 3, 0, 2, 0, 3);
  loom::cpu::apply_epilogue(GemmEpilogue{GemmEpilogue::kBiasRelu, bias}, bias_relu, 3, 0, 2, 0, 3);
  loom::cpu::apply_epilogue(GemmEpilogue{GemmEpilogue::kSelect, nullptr, mask, 3, 9.0}, select, 3,
                            0, 2, 0, 3);
  // relu(x) = x < 0 ? 0 : x: -0 and NaN pass through.
  CHECK(relu[0] == 0.0f);
  CHECK(relu[1] == 0.5f);
  CHECK(std::signbit(relu[2]));
  CHECK(std::isnan(relu[3]));
  CHECK(relu[5] == 0.0f);
  CHECK(bias_relu[0] == 0.0f); // -1 + 0.25 < 0
  CHECK(bias_relu[1] == 0.0f); // 0.5 - 1
  CHECK(bias_relu[4] == 1.0f); // 2 - 1
  CHECK(std::isnan(bias_relu[3]));
  CHECK(select[0] == -1.0f);
  CHECK(select[1] == 9.0f);
  CHECK(select[3] == 9.0f);
  CHECK(select[5] == -3.0f);
}

TEST_CASE("loom_rt_matmul applies the epilogue to batched and f64 products too",
          "[runtime][gemm]") {
  // Two 3 x 4 products of 5-deep operands, f32 with a bias and ReLU, f64 with a select.
  const int64_t m = 3, n = 4, k = 5, dims[] = {2}, a_strides[] = {m * k}, b_strides[] = {k * n};
  std::vector<float> a(2 * m * k), b(2 * k * n), bias(n), c(2 * m * n), want(2 * m * n);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<float>(i % 7) - 3.0f;
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<float>(i % 5) - 2.0f;
  for (int64_t j = 0; j < n; ++j)
    bias[j] = 0.5f * static_cast<float>(j) - 1.0f;
  loom_rt_matmul(0, 0, a.data(), b.data(), c.data(), m, n, k, 1, dims, a_strides, b_strides, 0, 0,
                 1.0, 0.0, nullptr, 0, GemmEpilogue::kBiasRelu, bias.data(), nullptr, 0.0);
  for (int64_t batch = 0; batch < 2; ++batch)
    loom::cpu::sgemm(false, false, m, n, k, a.data() + batch * m * k, k, b.data() + batch * k * n,
                     n, want.data() + batch * m * n, n);
  loom::cpu::apply_epilogue(GemmEpilogue{GemmEpilogue::kBiasRelu, bias.data()}, want.data(), n, 0,
                            2 * m, 0, n);
  CHECK(same_bits(c, want));

  std::vector<double> da(a.begin(), a.end()), db(b.begin(), b.end()), dc(m * n), dwant(m * n);
  std::vector<uint8_t> mask(m * n);
  for (size_t i = 0; i < mask.size(); ++i)
    mask[i] = i % 2;
  loom_rt_matmul(1, 0, da.data(), db.data(), dc.data(), m, n, k, 0, nullptr, nullptr, nullptr, 0, 0,
                 1.0, 0.0, nullptr, 0, GemmEpilogue::kSelect, nullptr, mask.data(), 2.5);
  loom::cpu::dgemm(false, false, m, n, k, da.data(), k, db.data(), n, dwant.data(), n);
  for (int64_t i = 0; i < m * n; ++i) {
    INFO("element " << i);
    CHECK(dc[i] == (mask[i] ? dwant[i] : 2.5));
  }
}
