// Helpers for the runtime's AVX-512 row kernels. The runtime is compiled for baseline
// x86-64 (artifacts run anywhere), so those kernels are functions with
// __attribute__((target("avx512f"))), chosen at run time by cpu_has_avx512(). They only
// copy, compare and add element by element, so both paths give identical bits.
#pragma once

#include <algorithm>
#include <cstdint>

namespace loom::cpu {

inline bool cpu_has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

// The 16-lane mask of lanes [from, to), clipped to [0, 16).
inline uint16_t lane_mask(int64_t from, int64_t to) {
  from = std::clamp<int64_t>(from, 0, 16);
  to = std::clamp<int64_t>(to, 0, 16);
  if (to <= from) return 0;
  return static_cast<uint16_t>((uint32_t{1} << to) - (uint32_t{1} << from));
}

} // namespace loom::cpu
