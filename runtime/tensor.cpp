#include "runtime/tensor.h"

#include <charconv>
#include <cstring>
#include <new>

namespace loom {

namespace {

constexpr size_t kStorageAlignment = 64;

// Zeroed, 64-byte aligned bytes. At least one alignment unit is allocated so that an
// empty tensor is still defined() and its data pointer is valid and aligned.
std::shared_ptr<uint8_t> allocate(int64_t nbytes, bool zeroed) {
  size_t size = static_cast<size_t>(nbytes);
  size = (size + kStorageAlignment - 1) / kStorageAlignment * kStorageAlignment;
  if (size == 0) size = kStorageAlignment;
  auto* bytes = static_cast<uint8_t*>(::operator new (size, std::align_val_t{kStorageAlignment}));
  if (zeroed) std::memset(bytes, 0, size);
  return std::shared_ptr<uint8_t>(
      bytes, [](uint8_t* p) { ::operator delete (p, std::align_val_t{kStorageAlignment}); });
}

// Shortest text that reads back as the same value in the tensor's own precision.
std::string format_float(double value, DType dtype) {
  char buf[64];
  std::to_chars_result r = dtype == DType::F64
                               ? std::to_chars(buf, buf + sizeof buf, value)
                               : std::to_chars(buf, buf + sizeof buf, static_cast<float>(value));
  return std::string(buf, r.ptr);
}

std::string format_element(const Tensor& t, int64_t i) {
  if (t.dtype() == DType::Bool) return t.at(i) != 0.0 ? "true" : "false";
  if (is_integer(t.dtype())) return std::to_string(load_as_int(t.dtype(), t.raw_data(), i));
  return format_float(t.at(i), t.dtype());
}

} // namespace

Tensor::Tensor(DType dtype, Shape shape) : type_{dtype, std::move(shape)} {
  numel_ = shape_numel(type_.shape);
  storage_ = allocate(nbytes(), /*zeroed=*/true);
}

Tensor Tensor::uninitialized(DType dtype, Shape shape) {
  Tensor t;
  t.type_ = {dtype, std::move(shape)};
  t.numel_ = shape_numel(t.type_.shape);
  t.storage_ = allocate(t.nbytes(), /*zeroed=*/false);
  return t;
}

Tensor Tensor::full(DType dtype, Shape shape, double value) {
  Tensor t(dtype, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i)
    store_from_double(dtype, t.raw_data(), i, value);
  return t;
}

Tensor Tensor::from_literal(const Literal& lit) {
  Tensor t(lit.type().dtype, lit.type().shape);
  if (lit.nbytes() > 0) std::memcpy(t.raw_data(), lit.data(), lit.nbytes());
  return t;
}

Literal Tensor::to_literal() const {
  const auto* bytes = static_cast<const uint8_t*>(raw_data());
  return Literal(type_, std::vector<uint8_t>(bytes, bytes + nbytes()));
}

Tensor Tensor::clone() const {
  if (!defined()) return Tensor();
  Tensor copy(type_.dtype, type_.shape);
  std::memcpy(copy.raw_data(), raw_data(), static_cast<size_t>(nbytes()));
  return copy;
}

Tensor Tensor::reshaped(Shape shape) const {
  int64_t n = shape_numel(shape);
  if (n != numel_)
    throw_error(ErrorCode::ShapeMismatch,
                "cannot reshape " + type_.str() + " (" + std::to_string(numel_) + " elements) to " +
                    shape_str(shape) + " (" + std::to_string(n) + " elements)");
  Tensor view = *this;
  view.type_.shape = std::move(shape);
  return view;
}

bool Tensor::bit_equal(const Tensor& other) const {
  if (type_ != other.type_ || defined() != other.defined()) return false;
  return nbytes() == 0 || std::memcmp(raw_data(), other.raw_data(), nbytes()) == 0;
}

std::string Tensor::str(int64_t max_elements) const {
  if (!defined()) return "<undefined tensor>";
  std::string s = type_.str() + " [";
  int64_t shown = std::min(numel_, std::max<int64_t>(max_elements, 0));
  for (int64_t i = 0; i < shown; ++i) {
    if (i) s += ", ";
    s += format_element(*this, i);
  }
  if (shown < numel_) s += shown ? ", ..." : "...";
  return s + "]";
}

void Tensor::check_dtype(DType want) const {
  if (type_.dtype != want)
    throw_error(ErrorCode::DTypeMismatch,
                "tensor of type " + type_.str() + " accessed as " + std::string(dtype_name(want)));
}

} // namespace loom
