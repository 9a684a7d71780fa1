// loom-bench-openblas: the OpenBLAS reference for the sgemm cases. Calls cblas_sgemm
// directly (row-major C = A B on square f32 matrices) with whatever thread count
// OpenBLAS takes from OPENBLAS_NUM_THREADS, so bench/run.sh runs it once per thread
// count. Prints one JSON line per size (bench/timing.h), naming the OpenBLAS kernel
// family it picked (OPENBLAS_CORETYPE may force one).
//
//   OPENBLAS_NUM_THREADS=2 loom-bench-openblas [--sizes 1024,2048] [--min-seconds S]
#include <cblas.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/timing.h"

extern "C" {
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
char* openblas_get_config(void);
}

namespace {

using loom::bench::JsonLine;
using loom::bench::TimingPolicy;

std::vector<float> random_matrix(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> m(static_cast<size_t>(n * n));
  for (float& x : m)
    x = dist(rng);
  return m;
}

// Compares a few entries of C with dot products computed here, so a misconfigured
// library cannot report a fast wrong answer.
void check_product(int64_t n, const std::vector<float>& a, const std::vector<float>& b,
                   const std::vector<float>& c) {
  for (int64_t probe = 0; probe < 16; ++probe) {
    int64_t i = (probe * 7919) % n, j = (probe * 104729) % n;
    double expected = 0.0;
    for (int64_t k = 0; k < n; ++k)
      expected += static_cast<double>(a[static_cast<size_t>(i * n + k)]) *
                  b[static_cast<size_t>(k * n + j)];
    double got = c[static_cast<size_t>(i * n + j)];
    if (std::fabs(got - expected) > 1e-3 * std::sqrt(static_cast<double>(n)))
      throw std::runtime_error("cblas_sgemm result differs from the reference at (" +
                               std::to_string(i) + ", " + std::to_string(j) + ")");
  }
}

void measure_sgemm(int64_t n, const TimingPolicy& policy) {
  std::vector<float> a = random_matrix(n, 1), b = random_matrix(n, 2),
                     c(static_cast<size_t>(n * n));
  int dim = static_cast<int>(n);
  auto run = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, dim, dim, dim, 1.0f, a.data(), dim,
                b.data(), dim, 0.0f, c.data(), dim);
  };
  loom::bench::Timing timing = loom::bench::time_runs(run, policy);
  check_product(n, a, b, c);
  int threads = openblas_get_num_threads();
  JsonLine()
      .add("suite", "openblas")
      .add("case", "sgemm_" + std::to_string(n))
      .add("config", "threads=" + std::to_string(threads))
      .add("threads", threads)
      .add_timing(timing)
      .add("flops", 2.0 * static_cast<double>(n) * n * n)
      .add("kernel", openblas_get_corename())
      .add("library", openblas_get_config())
      .print();
}

std::vector<int64_t> parse_sizes(const std::string& text) {
  std::vector<int64_t> sizes;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    int64_t n = std::atoll(item.c_str());
    if (n < 1)
      throw std::invalid_argument("--sizes expects a list like 1024,2048, got '" + text + "'");
    sizes.push_back(n);
  }
  return sizes;
}

} // namespace

int main(int argc, char** argv) {
  try {
    std::vector<int64_t> sizes = {1024, 2048};
    TimingPolicy policy;
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--sizes" && i + 1 < argc)
        sizes = parse_sizes(argv[++i]);
      else if (arg == "--min-seconds" && i + 1 < argc)
        policy.min_seconds = std::atof(argv[++i]);
      else
        throw std::invalid_argument(
            "usage: loom-bench-openblas [--sizes 1024,2048] [--min-seconds S]");
    }
    for (int64_t n : sizes)
      measure_sgemm(n, policy);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "loom-bench-openblas: " << e.what() << "\n";
    return 1;
  }
}
