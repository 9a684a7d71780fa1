// The timing protocol and the result line format shared by every native benchmark
// program (loom-bench, loom-bench-peak, loom-bench-openblas). The Python peers in
// bench/peers/common.py follow the same protocol and print the same lines, and
// bench/report.py reads them all.
//
// Protocol: `warmup` untimed runs, then timed runs until at least `min_runs` runs and
// `min_seconds` of timed work have been done (at most `max_runs`). Each run is timed on
// its own with a monotonic clock; a case reports the median and the spread (min, max,
// first and third quartile) of those times.
//
// Result line: one JSON object per case and configuration, e.g.
//   {"suite":"loom","case":"sgemm_1024","config":"threads=2","threads":2,"runs":25,
//    "median_ms":9.1,"min_ms":8.9,"max_ms":10.2,"q1_ms":9.0,"q3_ms":9.3,"flops":2.1e9}
// Lines go to stdout; progress and diagnostics go to stderr.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace loom::bench {

struct TimingPolicy {
  int warmup = 3;
  int min_runs = 10;
  int max_runs = 200;
  double min_seconds = 1.0;
};

struct Timing {
  int runs = 0;
  double median_ms = 0, min_ms = 0, max_ms = 0, q1_ms = 0, q3_ms = 0;
};

// The q-quantile (0..1) of sorted samples, interpolating linearly between neighbours.
inline double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  double position = q * static_cast<double>(sorted.size() - 1);
  size_t below = static_cast<size_t>(std::floor(position));
  size_t above = std::min(below + 1, sorted.size() - 1);
  double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

inline Timing summarize(std::vector<double> samples_ms) {
  std::sort(samples_ms.begin(), samples_ms.end());
  Timing t;
  t.runs = static_cast<int>(samples_ms.size());
  t.median_ms = quantile(samples_ms, 0.5);
  t.q1_ms = quantile(samples_ms, 0.25);
  t.q3_ms = quantile(samples_ms, 0.75);
  t.min_ms = samples_ms.empty() ? 0.0 : samples_ms.front();
  t.max_ms = samples_ms.empty() ? 0.0 : samples_ms.back();
  return t;
}

inline double elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Runs `body` under `policy` and returns the statistics of the timed runs.
template <typename Body> Timing time_runs(Body&& body, const TimingPolicy& policy) {
  for (int i = 0; i < policy.warmup; ++i)
    body();
  std::vector<double> samples;
  double total_ms = 0.0;
  while (static_cast<int>(samples.size()) < policy.max_runs &&
         (static_cast<int>(samples.size()) < policy.min_runs ||
          total_ms < policy.min_seconds * 1000.0)) {
    auto start = std::chrono::steady_clock::now();
    body();
    samples.push_back(elapsed_ms(start));
    total_ms += samples.back();
  }
  return summarize(std::move(samples));
}

// Builds one flat JSON object; keys are added in order.
class JsonLine {
public:
  JsonLine& add(const std::string& key, const std::string& value) {
    field(key) << '"' << escaped(value) << '"';
    return *this;
  }
  JsonLine& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  JsonLine& add(const std::string& key, double value) {
    if (std::isfinite(value))
      field(key) << value;
    else
      field(key) << "null";
    return *this;
  }
  JsonLine& add(const std::string& key, int64_t value) {
    field(key) << value;
    return *this;
  }
  JsonLine& add(const std::string& key, int value) { return add(key, static_cast<int64_t>(value)); }
  JsonLine& add_timing(const Timing& t) {
    return add("runs", t.runs)
        .add("median_ms", t.median_ms)
        .add("min_ms", t.min_ms)
        .add("max_ms", t.max_ms)
        .add("q1_ms", t.q1_ms)
        .add("q3_ms", t.q3_ms);
  }
  std::string str() const {
    // Appended piecewise: GCC 12 warns falsely (-Wrestrict) about "{" + std::string.
    std::string line(1, '{');
    line += body_.str();
    line += '}';
    return line;
  }
  // Writes the line to stdout and flushes, so a crash later loses no finished case.
  void print() const {
    std::printf("%s\n", str().c_str());
    std::fflush(stdout);
  }

private:
  std::ostringstream& field(const std::string& key) {
    if (!first_) body_ << ',';
    first_ = false;
    body_.precision(6);
    body_ << '"' << escaped(key) << "\":";
    return body_;
  }
  static std::string escaped(const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      if (static_cast<unsigned char>(c) < 0x20) {
        out += ' ';
        continue;
      }
      out += c;
    }
    return out;
  }

  std::ostringstream body_;
  bool first_ = true;
};

} // namespace loom::bench
