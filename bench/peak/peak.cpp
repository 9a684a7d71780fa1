// loom-bench-peak: the machine's physical limits that the benchmark quotes ratios
// against.
//   fma_peak      FP32 fused multiply-add throughput: every thread runs kChains
//                 independent FMA dependency chains on the widest vector registers,
//                 enough to hide the FMA latency on current x86 cores.
//   stream_triad  McCalpin's STREAM triad a[i] = b[i] + s * c[i] on double arrays far
//                 larger than the last-level cache; bytes counted as STREAM does
//                 (two reads and one write per element, no write-allocate traffic).
//   --round-trip  instead: the core-to-core round trip, two threads pinned to CPUs 0
//                 and 1 passing a cache line back and forth. It tells where the host
//                 has put the two vCPUs: ~95 ns when they share an L3 slice, ~370 ns
//                 when they do not; run.sh probes it around every suite, because the
//                 host moves them every few minutes and loom's 2-thread MLP and LSTM
//                 steps take 23-42 % longer on separate slices (bench/README.md).
// Built with -O3 -march=native. Prints one JSON line per (case, thread count), see
// bench/timing.h.
//
//   loom-bench-peak [--threads 1,2] [--min-seconds S]
//   loom-bench-peak --round-trip LABEL
#include <immintrin.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/timing.h"

namespace {

using loom::bench::JsonLine;
using loom::bench::Timing;
using loom::bench::TimingPolicy;

// --- FMA throughput ----------------------------------------------------------------

constexpr int kChains = 12;
constexpr int64_t kFmaIterations = 10'000'000;

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
constexpr const char* kVectorIsa = "avx512";
inline Vec splat(float x) { return _mm512_set1_ps(x); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline void store(float* out, Vec v) { _mm512_storeu_ps(out, v); }
#elif defined(__AVX2__) && defined(__FMA__)
using Vec = __m256;
constexpr int kLanes = 8;
constexpr const char* kVectorIsa = "avx2";
inline Vec splat(float x) { return _mm256_set1_ps(x); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline void store(float* out, Vec v) { _mm256_storeu_ps(out, v); }
#else
#error "loom-bench-peak needs AVX2+FMA or AVX-512 (build with -march=native on x86-64)"
#endif

// Through memory rather than _mm512_reduce_add_ps, whose GCC 12 expansion trips
// -Wuninitialized.
inline float lane_sum(Vec v) {
  float lanes[kLanes];
  store(lanes, v);
  float sum = 0;
  for (float x : lanes)
    sum += x;
  return sum;
}

// acc = acc * 0.999999 + 1e-7 converges to 0.1 without denormals or overflow; the
// returned sum keeps the compiler from dropping the work.
__attribute__((noinline)) float fma_chains(int64_t iterations, float seed) {
  Vec acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = splat(seed + static_cast<float>(c));
  const Vec scale = splat(0.999999f), offset = splat(1e-7f);
  for (int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c)
      acc[c] = fma(acc[c], scale, offset);
  float sum = 0;
  for (int c = 0; c < kChains; ++c)
    sum += lane_sum(acc[c]);
  return sum;
}

// Runs `work(thread_index)` on `threads` threads at once (the caller is thread 0).
template <typename Work> void run_on_threads(int threads, Work&& work) {
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads; ++t)
    helpers.emplace_back([&work, t] { work(t); });
  work(0);
  for (std::thread& h : helpers)
    h.join();
}

void measure_fma(int threads, const TimingPolicy& policy) {
  std::vector<float> sinks(static_cast<size_t>(threads));
  Timing timing = loom::bench::time_runs(
      [&] {
        run_on_threads(threads, [&](int t) {
          sinks[static_cast<size_t>(t)] = fma_chains(kFmaIterations, 1.0f + static_cast<float>(t));
        });
      },
      policy);
  double flops = 2.0 * kLanes * kChains * static_cast<double>(kFmaIterations) * threads;
  JsonLine()
      .add("suite", "peak")
      .add("case", "fma_peak")
      .add("config", "threads=" + std::to_string(threads))
      .add("threads", threads)
      .add_timing(timing)
      .add("flops", flops)
      .add("isa", kVectorIsa)
      .add("checksum", static_cast<double>(sinks[0]))
      .print();
}

// --- STREAM triad ----------------------------------------------------------------------

constexpr int64_t kStreamElements = int64_t{1} << 24; // 128 MiB per double array

struct AlignedFree {
  void operator()(double* p) const { std::free(p); }
};
using DoubleArray = std::unique_ptr<double[], AlignedFree>;

DoubleArray allocate_doubles(int64_t count) {
  void* p = std::aligned_alloc(64, static_cast<size_t>(count) * sizeof(double));
  if (!p) throw std::runtime_error("out of memory allocating the STREAM arrays");
  return DoubleArray(static_cast<double*>(p));
}

// The slice [begin, end) of `count` elements that thread t of `threads` owns.
std::pair<int64_t, int64_t> slice_of(int t, int threads, int64_t count) {
  return {count * t / threads, count * (t + 1) / threads};
}

void measure_stream_triad(int threads, const TimingPolicy& policy) {
  DoubleArray a = allocate_doubles(kStreamElements), b = allocate_doubles(kStreamElements),
              c = allocate_doubles(kStreamElements);
  // First touch by the thread that later streams the slice, as STREAM does with OpenMP.
  run_on_threads(threads, [&](int t) {
    auto [begin, end] = slice_of(t, threads, kStreamElements);
    for (int64_t i = begin; i < end; ++i) {
      a[i] = 0.0;
      b[i] = 1.0;
      c[i] = 2.0;
    }
  });
  const double scale = 3.0;
  double* __restrict out = a.get();
  const double* __restrict in1 = b.get();
  const double* __restrict in2 = c.get();
  Timing timing = loom::bench::time_runs(
      [&] {
        run_on_threads(threads, [&](int t) {
          auto [begin, end] = slice_of(t, threads, kStreamElements);
          for (int64_t i = begin; i < end; ++i)
            out[i] = in1[i] + scale * in2[i];
        });
      },
      policy);
  if (a[kStreamElements / 2] != 7.0)
    throw std::runtime_error("STREAM triad computed a wrong value");
  double bytes = 3.0 * sizeof(double) * static_cast<double>(kStreamElements);
  JsonLine()
      .add("suite", "peak")
      .add("case", "stream_triad")
      .add("config", "threads=" + std::to_string(threads))
      .add("threads", threads)
      .add_timing(timing)
      .add("bytes", bytes)
      .print();
}

// --- core-to-core round trip ----------------------------------------------------------

bool pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// Median over 5 batches of the time for one store on CPU 0 to be answered by CPU 1.
void measure_round_trip(const std::string& label) {
  if (std::thread::hardware_concurrency() < 2) {
    JsonLine()
        .add("suite", "placement")
        .add("label", label)
        .add("error", "fewer than 2 CPUs")
        .print();
    return;
  }
  constexpr int kTrips = 20000, kBatches = 5;
  alignas(64) std::atomic<int> flag{0};
  bool echo_pinned = false; // written by the echo thread, read after join()
  std::thread echo([&] {
    echo_pinned = pin_to_cpu(1);
    for (int i = 0; i < kTrips * kBatches; ++i) {
      while (flag.load(std::memory_order_acquire) != 2 * i + 1)
        _mm_pause();
      flag.store(2 * i + 2, std::memory_order_release);
    }
  });
  bool pinned = pin_to_cpu(0);
  std::vector<double> batches;
  for (int b = 0; b < kBatches; ++b) {
    auto start = std::chrono::steady_clock::now();
    for (int i = b * kTrips; i < (b + 1) * kTrips; ++i) {
      flag.store(2 * i + 1, std::memory_order_release);
      while (flag.load(std::memory_order_acquire) != 2 * i + 2)
        _mm_pause();
    }
    std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    batches.push_back(took.count() / kTrips);
  }
  echo.join();
  std::sort(batches.begin(), batches.end());
  JsonLine line;
  line.add("suite", "placement").add("label", label).add("round_trip_ns", batches[kBatches / 2]);
  if (!pinned || !echo_pinned) line.add("error", "could not pin to CPUs 0 and 1");
  line.print();
}

std::vector<int> parse_thread_list(const std::string& text) {
  std::vector<int> threads;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    int n = std::atoi(item.c_str());
    if (n < 1) throw std::invalid_argument("--threads expects a list like 1,2, got '" + text + "'");
    threads.push_back(n);
  }
  return threads;
}

} // namespace

int main(int argc, char** argv) {
  try {
    std::vector<int> thread_counts = {1, 2};
    TimingPolicy policy{.warmup = 2, .min_runs = 10, .max_runs = 100, .min_seconds = 1.0};
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--round-trip" && i + 1 < argc) {
        measure_round_trip(argv[i + 1]);
        return 0;
      }
      if (arg == "--threads" && i + 1 < argc)
        thread_counts = parse_thread_list(argv[++i]);
      else if (arg == "--min-seconds" && i + 1 < argc)
        policy.min_seconds = std::atof(argv[++i]);
      else
        throw std::invalid_argument("usage: loom-bench-peak [--threads 1,2] [--min-seconds S] | "
                                    "--round-trip LABEL");
    }
    for (int threads : thread_counts)
      measure_fma(threads, policy);
    for (int threads : thread_counts)
      measure_stream_triad(threads, policy);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "loom-bench-peak: " << e.what() << "\n";
    return 1;
  }
}
