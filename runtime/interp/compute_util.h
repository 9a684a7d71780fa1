// Element-type helpers for interpreter kernels: the type a kernel computes in for each
// storage type (f16 and bf16 compute in float, per docs/ops.md) and the conversions.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "ir/error.h"
#include "ir/ir.h"
#include "ir/scalar.h"

namespace loom::interp {

template <typename T> struct ComputeTypeOf { using type = T; };
template <> struct ComputeTypeOf<Half> { using type = float; };
template <> struct ComputeTypeOf<BFloat16> { using type = float; };
// float for f16/bf16, the storage type itself otherwise.
template <typename T> using compute_t = typename ComputeTypeOf<T>::type;

template <typename T> constexpr bool is_float_storage_v = std::is_floating_point_v<compute_t<T>>;
template <typename T>
constexpr bool is_integer_storage_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

template <typename T> compute_t<T> to_compute(T v) { return static_cast<compute_t<T>>(v); }

// Rounds a computed value back to storage (nearest even for f16/bf16).
template <typename T> T from_compute(compute_t<T> v) {
  if constexpr (std::is_same_v<T, compute_t<T>>)
    return v;
  else
    return T(v);
}

// f64 -> f32 rounding to odd: an inexact result gets an odd last bit. Rounding that
// float again to the 8 or 11 significant bits of bf16/f16 then gives the correctly
// rounded result; plain nearest-even twice could round a value just above a tie down.
// A double rounded once (nearest even) to storage type T; integers as convert_scalar.
template <typename T> T narrow_from_double(double d) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
    return T(round_to_odd_float(d));
  else
    return convert_scalar<T>(d);
}

// Kernels instantiate for every dtype; a dtype the op's shape rule rejects reaching a
// kernel means the IR was not verified.
[[noreturn]] inline void unsupported_dtype(const ir::Node& node, DType dtype) {
  throw_error(ErrorCode::Internal, "interpreter: " + std::string(node.name()) +
                                       " has no kernel for dtype " +
                                       std::string(dtype_name(dtype)) + " (unverified IR?)");
}

} // namespace loom::interp
