// Helpers for the runtime's AVX-512 row kernels. The runtime is compiled for baseline
// x86-64 (artifacts run anywhere), so those kernels are functions with
// __attribute__((target("avx512f"))), chosen at run time by use_avx512_kernels(). They
// only copy, compare and add element by element, in the portable loops' order, so both
// paths give identical bits (tests/cpu/test_window_rows.cpp checks this).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace loom::cpu {

// An AVX-512 code path that tests can switch off, so that on AVX-512 machines they also
// run the path it replaces.
class Avx512Path {
public:
  // The CPU has AVX-512F and the path is not switched off.
  bool enabled() const;
  void allow(bool allowed) { allowed_.store(allowed, std::memory_order_relaxed); }

private:
  std::atomic<bool> allowed_{true};
};

// Whether this CPU has AVX-512F and the row kernels are not switched off.
bool use_avx512_kernels();

// Switches the AVX-512 row kernels off (or back on where the CPU has them), so that
// tests run the portable loops on AVX-512 machines too.
void allow_avx512_kernels(bool allowed);

// The 16-lane mask of lanes [from, to), clipped to [0, 16).
inline uint16_t lane_mask(int64_t from, int64_t to) {
  from = std::clamp<int64_t>(from, 0, 16);
  to = std::clamp<int64_t>(to, 0, 16);
  if (to <= from) return 0;
  return static_cast<uint16_t>((uint32_t{1} << to) - (uint32_t{1} << from));
}

} // namespace loom::cpu
