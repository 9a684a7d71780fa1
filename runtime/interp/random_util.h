// The counter-based random number recipe of random_uniform / random_normal
// (docs/ops.md): Philox-4x32-10 keyed by the seed, counter = element index.
// Header-only so that backends and constant folding can reproduce it bit for bit.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>

namespace loom::interp {

using PhiloxBlock = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

// Philox-4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11; constants as in Random123).
inline PhiloxBlock philox4x32_10(PhiloxBlock counter, PhiloxKey key) {
  constexpr uint64_t kMul0 = 0xD2511F53, kMul1 = 0xCD9E8D57;
  constexpr uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) { // the key is bumped between rounds, not before the first
      key[0] += kWeyl0;
      key[1] += kWeyl1;
    }
    uint64_t p0 = kMul0 * counter[0];
    uint64_t p1 = kMul1 * counter[2];
    counter = {static_cast<uint32_t>(p1 >> 32) ^ counter[1] ^ key[0], static_cast<uint32_t>(p1),
               static_cast<uint32_t>(p0 >> 32) ^ counter[3] ^ key[1], static_cast<uint32_t>(p0)};
  }
  return counter;
}

// key = (seed & 0xffffffff, seed >> 32), the seed's bits taken as unsigned.
inline PhiloxKey philox_key_from_seed(int64_t seed) {
  uint64_t bits = static_cast<uint64_t>(seed);
  return {static_cast<uint32_t>(bits), static_cast<uint32_t>(bits >> 32)};
}

// The four random words of element `index` (row-major linear index).
inline PhiloxBlock philox_words(int64_t seed, int64_t index) {
  uint64_t i = static_cast<uint64_t>(index);
  return philox4x32_10({static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32), 0, 0},
                       philox_key_from_seed(seed));
}

// 24 random bits as a float in [0, 1): exact in f32.
inline float uniform_from_word(uint32_t r) { return static_cast<float>(r >> 8) * 0x1p-24f; }

// 53 random bits as a double in [0, 1): exact in f64.
inline double uniform53_from_words(uint32_t r0, uint32_t r1) {
  uint64_t bits = (static_cast<uint64_t>(r0) << 21) ^ (r1 >> 11);
  return static_cast<double>(bits) * 0x1p-53;
}

// Box-Muller in f64: u1 in (0, 1] keeps the logarithm finite.
inline double normal_from_words(uint32_t r0, uint32_t r1) {
  double u1 = 1.0 - static_cast<double>(uniform_from_word(r0));
  double u2 = static_cast<double>(uniform_from_word(r1));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

} // namespace loom::interp
