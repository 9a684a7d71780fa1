// Element types and static tensor types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loom {

enum class DType : uint8_t { F32, F64, F16, BF16, I8, I32, I64, Bool };
inline constexpr int kNumDTypes = 8;

std::string_view dtype_name(DType dt); // "f32", "bf16", "bool", ...
std::optional<DType> parse_dtype(std::string_view name);
size_t dtype_size(DType dt);
bool is_float(DType dt);   // f32 f64 f16 bf16
bool is_integer(DType dt); // i8 i32 i64

using Shape = std::vector<int64_t>;

// Largest element count a tensor may have; keeps byte sizes far from overflow.
inline constexpr int64_t kMaxElements = int64_t{1} << 40;

// Number of elements; throws Error if a dim is negative or the product is too large.
int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape); // "[2,3]"

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t numel() const { return shape_numel(shape); }
  int64_t nbytes() const { return numel() * static_cast<int64_t>(dtype_size(dtype)); }
  std::string str() const; // "f32[2,3]"; scalars print as "f32[]"
  bool operator==(const TensorType&) const = default;
};

// Row-major strides in elements.
std::vector<int64_t> row_major_strides(const Shape& shape);

} // namespace loom
