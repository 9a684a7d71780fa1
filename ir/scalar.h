// Scalar element types (f16, bf16 storage types) and dtype dispatch helpers.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "ir/dtype.h"
#include "ir/error.h"

namespace loom {

// IEEE binary16, storage only: arithmetic converts to float. Round to nearest even.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  explicit Half(float f) : bits(from_float(f)) {}
  operator float() const { return to_float(bits); }
  static uint16_t from_float(float f);
  static float to_float(uint16_t h);
};

// bfloat16, storage only. Round to nearest even; NaN stays NaN.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  explicit BFloat16(float f) : bits(from_float(f)) {}
  operator float() const { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }
  static uint16_t from_float(float f) {
    uint32_t u = std::bit_cast<uint32_t>(f);
    if (std::isnan(f)) return static_cast<uint16_t>((u >> 16) | 0x40);
    u += 0x7FFF + ((u >> 16) & 1);
    return static_cast<uint16_t>(u >> 16);
  }
};

// Calls fn.template operator()<T>() with the C++ type of dt.
template <typename Fn> decltype(auto) dispatch_dtype(DType dt, Fn&& fn) {
  switch (dt) {
  case DType::F32:
    return fn.template operator()<float>();
  case DType::F64:
    return fn.template operator()<double>();
  case DType::F16:
    return fn.template operator()<Half>();
  case DType::BF16:
    return fn.template operator()<BFloat16>();
  case DType::I8:
    return fn.template operator()<int8_t>();
  case DType::I32:
    return fn.template operator()<int32_t>();
  case DType::I64:
    return fn.template operator()<int64_t>();
  case DType::Bool:
    return fn.template operator()<bool>();
  }
  throw_error(ErrorCode::Internal, "bad dtype");
}

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<Half>() { return DType::F16; }
template <> constexpr DType dtype_of<BFloat16>() { return DType::BF16; }
template <> constexpr DType dtype_of<int8_t>() { return DType::I8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }

// A double rounded to float with round-to-odd: rounding that float once more to a
// narrower type (f16, bf16) then gives the correctly rounded result (no double rounding).
inline float round_to_odd_float(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) == d || std::isnan(d) || std::isinf(f)) return f;
  if (std::bit_cast<uint32_t>(f) & 1u) return f;
  float toward = d > static_cast<double>(f) ? std::numeric_limits<float>::infinity()
                                            : -std::numeric_limits<float>::infinity();
  return std::nextafter(f, toward);
}

// Value conversion with C++ semantics; float -> int truncates toward zero and
// saturates (NaN -> 0) so that no input is undefined behaviour.
template <typename To, typename From> To convert_scalar(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return static_cast<double>(v) != 0.0;
  } else if constexpr (std::is_integral_v<To> && !std::is_integral_v<From>) {
    double d = static_cast<double>(v);
    if (std::isnan(d)) return 0;
    constexpr double lo = static_cast<double>(std::numeric_limits<To>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<To>::max());
    if (d <= lo) return std::numeric_limits<To>::min();
    if (d >= hi) return std::numeric_limits<To>::max();
    return static_cast<To>(d);
  } else if constexpr (std::is_same_v<To, Half> || std::is_same_v<To, BFloat16>) {
    if constexpr (std::is_same_v<From, double> || std::is_same_v<From, int64_t> ||
                  std::is_same_v<From, int32_t>)
      return To(round_to_odd_float(static_cast<double>(v))); // wider than float: round once
    else
      return To(static_cast<float>(v));
  } else {
    return static_cast<To>(v); // Half/BFloat16 convert through float
  }
}

inline double load_as_double(DType dt, const void* base, int64_t i) {
  return dispatch_dtype(dt, [&]<typename T>() {
    T v;
    std::memcpy(&v, static_cast<const uint8_t*>(base) + i * sizeof(T), sizeof(T));
    return convert_scalar<double>(v);
  });
}

inline int64_t load_as_int(DType dt, const void* base, int64_t i) {
  return dispatch_dtype(dt, [&]<typename T>() {
    T v;
    std::memcpy(&v, static_cast<const uint8_t*>(base) + i * sizeof(T), sizeof(T));
    return convert_scalar<int64_t>(v);
  });
}

inline void store_from_double(DType dt, void* base, int64_t i, double value) {
  dispatch_dtype(dt, [&]<typename T>() {
    T v = convert_scalar<T>(value);
    std::memcpy(static_cast<uint8_t*>(base) + i * sizeof(T), &v, sizeof(T));
  });
}

} // namespace loom
