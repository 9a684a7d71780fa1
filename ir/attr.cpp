#include "ir/attr.h"

#include <cstring>

#include "ir/error.h"
#include "ir/scalar.h"

namespace loom {

Literal::Literal(TensorType type, std::vector<uint8_t> bytes) : type_(std::move(type)) {
  if (static_cast<int64_t>(bytes.size()) != type_.nbytes())
    throw_error(ErrorCode::InvalidAttribute, "literal of type " + type_.str() + " needs " +
                                                 std::to_string(type_.nbytes()) + " bytes, got " +
                                                 std::to_string(bytes.size()));
  bytes_ = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
}

double Literal::as_double(int64_t i) const { return load_as_double(type_.dtype, data(), i); }
int64_t Literal::as_int(int64_t i) const { return load_as_int(type_.dtype, data(), i); }

bool Literal::same_contents(const Literal& other) const {
  return type_ == other.type_ && nbytes() == other.nbytes() &&
         (nbytes() == 0 || std::memcmp(data(), other.data(), nbytes()) == 0);
}

Literal Literal::filled(const TensorType& type, double value) {
  std::vector<uint8_t> bytes(type.nbytes());
  for (int64_t i = 0, n = type.numel(); i < n; ++i)
    store_from_double(type.dtype, bytes.data(), i, value);
  return Literal(type, std::move(bytes));
}

Literal Literal::scalar(DType dtype, double value) { return filled(TensorType{dtype, {}}, value); }

std::string_view attr_kind_name(AttrKind kind) {
  switch (kind) {
  case AttrKind::Int:
    return "int";
  case AttrKind::Float:
    return "float";
  case AttrKind::Bool:
    return "bool";
  case AttrKind::String:
    return "string";
  case AttrKind::Ints:
    return "int list";
  case AttrKind::DType:
    return "dtype";
  case AttrKind::Literal:
    return "literal";
  }
  return "?";
}

bool Attrs::operator==(const Attrs& other) const { return map_ == other.map_; }

const AttrValue& Attrs::lookup(std::string_view op, const std::string& name, AttrKind kind) const {
  auto it = map_.find(name);
  if (it == map_.end())
    throw_error(ErrorCode::InvalidAttribute, std::string(op) + ": missing attribute '" + name +
                                                 "' (" + std::string(attr_kind_name(kind)) + ")");
  if (attr_kind(it->second) != kind)
    throw_error(ErrorCode::InvalidAttribute,
                std::string(op) + ": attribute '" + name + "' must be " +
                    std::string(attr_kind_name(kind)) + ", got " +
                    std::string(attr_kind_name(attr_kind(it->second))));
  return it->second;
}

int64_t Attrs::get_int(std::string_view op, const std::string& name) const {
  return std::get<int64_t>(lookup(op, name, AttrKind::Int));
}
double Attrs::get_float(std::string_view op, const std::string& name) const {
  return std::get<double>(lookup(op, name, AttrKind::Float));
}
bool Attrs::get_bool(std::string_view op, const std::string& name) const {
  return std::get<bool>(lookup(op, name, AttrKind::Bool));
}
const std::string& Attrs::get_string(std::string_view op, const std::string& name) const {
  return std::get<std::string>(lookup(op, name, AttrKind::String));
}
const std::vector<int64_t>& Attrs::get_ints(std::string_view op, const std::string& name) const {
  return std::get<std::vector<int64_t>>(lookup(op, name, AttrKind::Ints));
}
DType Attrs::get_dtype(std::string_view op, const std::string& name) const {
  return std::get<DType>(lookup(op, name, AttrKind::DType));
}
const Literal& Attrs::get_literal(std::string_view op, const std::string& name) const {
  return std::get<Literal>(lookup(op, name, AttrKind::Literal));
}

} // namespace loom
