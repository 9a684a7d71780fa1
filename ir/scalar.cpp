#include "ir/scalar.h"

namespace loom {

uint16_t Half::from_float(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t mag = x & 0x7FFFFFFF;
  if (mag >= 0x7F800000) // inf or nan
    return static_cast<uint16_t>(sign | 0x7C00 | (mag > 0x7F800000 ? 0x200 : 0));
  if (mag >= 0x477FF000) return static_cast<uint16_t>(sign | 0x7C00); // overflow -> inf
  if (mag < 0x38800000) {                                             // subnormal or zero
    // Let the FPU round: adding 0.5 aligns the subnormal half's ulp with float's.
    float r = std::bit_cast<float>(mag) + 0.5f;
    return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(r) - 0x3F000000));
  }
  uint32_t rounded = mag + 0xC8000FFF + ((mag >> 13) & 1); // rebias exponent, round to even
  return static_cast<uint16_t>(sign | (rounded >> 13));
}

float Half::to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F;
  uint32_t mant = h & 0x3FF;
  if (exp == 0) { // zero or subnormal: mant * 2^-24
    float f = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(f) | sign);
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7F800000 | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

} // namespace loom
