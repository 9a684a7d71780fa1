#include "ir/dtype.h"

#include "ir/error.h"

namespace loom {

namespace {
struct DTypeInfo {
  std::string_view name;
  size_t size;
};
constexpr DTypeInfo kInfo[kNumDTypes] = {
    {"f32", 4}, {"f64", 8}, {"f16", 2}, {"bf16", 2}, {"i8", 1}, {"i32", 4}, {"i64", 8}, {"bool", 1},
};
} // namespace

std::string_view dtype_name(DType dt) { return kInfo[static_cast<int>(dt)].name; }
size_t dtype_size(DType dt) { return kInfo[static_cast<int>(dt)].size; }

std::optional<DType> parse_dtype(std::string_view name) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (kInfo[i].name == name) return static_cast<DType>(i);
  return std::nullopt;
}

bool is_float(DType dt) {
  return dt == DType::F32 || dt == DType::F64 || dt == DType::F16 || dt == DType::BF16;
}
bool is_integer(DType dt) { return dt == DType::I8 || dt == DType::I32 || dt == DType::I64; }

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw_error(ErrorCode::ShapeMismatch, "negative dimension in shape " + shape_str(shape));
    if (d != 0 && n > kMaxElements / d)
      throw_error(ErrorCode::ShapeMismatch, "shape " + shape_str(shape) + " has too many elements");
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string TensorType::str() const { return std::string(dtype_name(dtype)) + shape_str(shape); }

std::vector<int64_t> row_major_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

} // namespace loom
