// loom-bench-gemm: loom::cpu::sgemm's two implementations on the GEMM shapes of the
// benchmark's training steps, side by side in one process, interleaved: loom's packed
// AVX-512 GEMM (runtime/cpu/packed_sgemm.cpp) and OpenBLAS run single-threaded on
// shape-fixed blocks of C over loom's pool (what loom used before, and still uses
// under 2 MFLOP, for f64 and without AVX-512). Operands are hot (each shape repeats),
// so this measures the GEMMs themselves; the steps are measured by loom-bench.
//
//   OPENBLAS_NUM_THREADS=1 loom-bench-gemm [--threads N] [--rounds R]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/timing.h"
#include "runtime/cpu/gemm.h"
#include "runtime/cpu/packed_sgemm.h"
#include "runtime/cpu_rt.h"

namespace {

struct Shape {
  const char* use;
  bool ta, tb;
  int64_t m, n, k;
};

// The GEMMs of the bench cases, as loom calls them (C = op(A) op(B), row-major).
const Shape kShapes[] = {
    {"MLP fc1 forward", false, false, 256, 1024, 784},
    {"MLP fc2 forward", false, false, 256, 1024, 1024},
    {"MLP fc2 input grad", false, true, 256, 1024, 1024},
    {"MLP fc1 SGD update", true, false, 784, 1024, 256},
    {"MLP fc2 SGD update", true, false, 1024, 1024, 256},
    {"LSTM gates", false, false, 64, 1024, 384},
    {"LSTM input grad", false, true, 64, 384, 1024},
    {"LSTM weight grad", true, false, 384, 1024, 64},
    {"LeNet fc1 forward", false, false, 64, 120, 400},
    {"LeNet conv2 block", false, false, 16, 1600, 150},
    {"ResNet conv forward", false, false, 64, 3136, 576},
    {"ResNet filter grad", false, true, 64, 576, 3136},
    {"ResNet input grad", true, false, 576, 3136, 64},
    {"square 1024", false, false, 1024, 1024, 1024},
};

std::vector<float> random_values(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v)
    x = u(rng);
  return v;
}

} // namespace

int main(int argc, char** argv) {
  int threads = 2, rounds = 3;
  auto usage = [] {
    std::fprintf(stderr, "usage: loom-bench-gemm [--threads N] [--rounds R] (N, R >= 1)\n");
    return 2;
  };
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (i + 1 >= argc || (flag != "--threads" && flag != "--rounds")) return usage();
    char* end = nullptr;
    long value = std::strtol(argv[i + 1], &end, 10);
    if (*end != '\0' || value < 1 || value > 1024) return usage();
    (flag == "--threads" ? threads : rounds) = static_cast<int>(value);
  }
  if (!loom::cpu::use_packed_sgemm()) {
    std::fprintf(stderr, "loom-bench-gemm: this CPU has no AVX-512; loom uses OpenBLAS only\n");
    return 1;
  }
  loom_rt_set_num_threads(threads);
  loom::bench::TimingPolicy policy;
  policy.min_seconds = 0.3;
  std::printf("threads=%d, best median of %d interleaved rounds, GFLOP/s\n", threads, rounds);
  std::printf("%-22s %2s %5s %5s %5s %9s %9s %7s\n", "use", "op", "m", "n", "k", "loom", "OpenBLAS",
              "ratio");
  for (const Shape& s : kShapes) {
    int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
    std::vector<float> a = random_values(s.m * s.k, 1), b = random_values(s.k * s.n, 2);
    std::vector<float> c(static_cast<size_t>(s.m * s.n));
    double best[2] = {1e30, 1e30};
    for (int round = 0; round < rounds; ++round)
      for (int packed : {1, 0}) {
        loom::cpu::allow_packed_sgemm(packed == 1);
        loom::bench::Timing t = loom::bench::time_runs(
            [&] {
              loom::cpu::sgemm(s.ta, s.tb, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, c.data(),
                               s.n);
            },
            policy);
        best[packed] = std::min(best[packed], t.median_ms);
      }
    double gflop = 2.0 * s.m * s.n * s.k * 1e-6;
    std::printf("%-22s %c%c %5ld %5ld %5ld %9.1f %9.1f %6.2fx\n", s.use, s.ta ? 'T' : 'N',
                s.tb ? 'T' : 'N', static_cast<long>(s.m), static_cast<long>(s.n),
                static_cast<long>(s.k), gflop / best[1], gflop / best[0], best[0] / best[1]);
  }
  loom::cpu::allow_packed_sgemm(true);
  return 0;
}
