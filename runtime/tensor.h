// Tensor: a dtype, a shape and 64-byte aligned storage. Copies share storage
// (like a PyTorch tensor handle); clone() makes a deep copy.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ir/attr.h"
#include "ir/dtype.h"
#include "ir/scalar.h"

namespace loom {

class Tensor {
public:
  Tensor() = default;
  // Zero-initialized tensor.
  Tensor(DType dtype, Shape shape);

  static Tensor zeros(DType dtype, Shape shape) { return Tensor(dtype, std::move(shape)); }
  // Storage left uninitialized: for buffers a kernel overwrites entirely.
  static Tensor uninitialized(DType dtype, Shape shape);
  static Tensor full(DType dtype, Shape shape, double value);
  static Tensor ones(DType dtype, Shape shape) { return full(dtype, std::move(shape), 1.0); }
  template <typename T> static Tensor from_vector(Shape shape, const std::vector<T>& values);
  static Tensor from_literal(const Literal& lit);
  // A non-owning view of memory owned by someone else (generated code's buffers);
  // the memory must outlive every copy of the returned tensor.
  static Tensor wrap(const TensorType& type, void* data) {
    static uint8_t empty_storage alignas(64)[64];
    Tensor t;
    t.type_ = type;
    t.numel_ = type.numel();
    uint8_t* p = data ? static_cast<uint8_t*>(data) : empty_storage;
    t.storage_ = std::shared_ptr<uint8_t>(p, [](uint8_t*) {});
    return t;
  }
  Literal to_literal() const;

  bool defined() const { return storage_ != nullptr; }
  // True when no other tensor shares this storage (so it may be reused in place).
  bool storage_unique() const { return storage_.use_count() == 1; }
  DType dtype() const { return type_.dtype; }
  const Shape& shape() const { return type_.shape; }
  const TensorType& type() const { return type_; }
  int64_t rank() const { return type_.rank(); }
  int64_t numel() const { return numel_; }
  int64_t nbytes() const { return numel_ * static_cast<int64_t>(dtype_size(type_.dtype)); }

  void* raw_data() { return storage_.get(); }
  const void* raw_data() const { return storage_.get(); }
  // Typed access; throws Error(DTypeMismatch) if T does not match dtype().
  template <typename T> T* data();
  template <typename T> const T* data() const;
  template <typename T> std::vector<T> to_vector() const;

  // Element i (row-major) converted to double (for tests and printing).
  double at(int64_t i) const { return load_as_double(type_.dtype, raw_data(), i); }

  Tensor clone() const;
  // Same storage, new shape with the same element count.
  Tensor reshaped(Shape shape) const;
  // Bitwise equality of dtype, shape and bytes.
  bool bit_equal(const Tensor& other) const;
  std::string str(int64_t max_elements = 16) const; // "f32[3] [1, 2, 3]"

private:
  void check_dtype(DType want) const;
  TensorType type_;
  int64_t numel_ = 0;
  std::shared_ptr<uint8_t> storage_;
};

template <typename T> T* Tensor::data() {
  check_dtype(dtype_of<T>());
  return reinterpret_cast<T*>(storage_.get());
}
template <typename T> const T* Tensor::data() const {
  check_dtype(dtype_of<T>());
  return reinterpret_cast<const T*>(storage_.get());
}
template <typename T> std::vector<T> Tensor::to_vector() const {
  const T* p = data<T>();
  return std::vector<T>(p, p + numel_);
}
template <typename T> Tensor Tensor::from_vector(Shape shape, const std::vector<T>& values) {
  Tensor t(dtype_of<T>(), std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.numel())
    throw_error(ErrorCode::InvalidArgument, "from_vector: " + std::to_string(values.size()) +
                                                " values for shape " + shape_str(t.shape()));
  T* p = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i)
    p[i] = values[i];
  return t;
}

} // namespace loom
