// Typed node attributes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "ir/dtype.h"

namespace loom {

// Immutable tensor data held by the IR (constant values, weights). Copies share bytes.
class Literal {
public:
  Literal() = default;
  Literal(TensorType type, std::vector<uint8_t> bytes); // throws if sizes disagree
  const TensorType& type() const { return type_; }
  const uint8_t* data() const { return bytes_ ? bytes_->data() : nullptr; }
  size_t nbytes() const { return bytes_ ? bytes_->size() : 0; }
  // Element i converted to double / int64 (for scalars in attributes, folding, printing).
  double as_double(int64_t i = 0) const;
  int64_t as_int(int64_t i = 0) const;
  // Identity of the underlying buffer (two copies of one Literal are the same).
  const void* identity() const { return bytes_.get(); }
  bool same_contents(const Literal& other) const;
  // Value equality (type and bytes), so attributes compare by contents.
  bool operator==(const Literal& other) const { return same_contents(other); }

  static Literal scalar(DType dtype, double value);
  static Literal filled(const TensorType& type, double value);

private:
  TensorType type_;
  std::shared_ptr<const std::vector<uint8_t>> bytes_;
};

enum class AttrKind { Int, Float, Bool, String, Ints, DType, Literal };

using AttrValue =
    std::variant<int64_t, double, bool, std::string, std::vector<int64_t>, DType, Literal>;

inline AttrKind attr_kind(const AttrValue& v) { return static_cast<AttrKind>(v.index()); }
std::string_view attr_kind_name(AttrKind kind);

// Attributes keyed by name; std::map keeps printing order deterministic.
class Attrs {
public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<const std::string, AttrValue>> init) : map_(init) {}

  bool has(const std::string& name) const { return map_.count(name) != 0; }
  void set(const std::string& name, AttrValue v) { map_[name] = std::move(v); }
  void erase(const std::string& name) { map_.erase(name); }
  const std::map<std::string, AttrValue>& items() const { return map_; }
  bool empty() const { return map_.empty(); }
  bool operator==(const Attrs& other) const;

  // Typed getters throw Error(InvalidAttribute) naming the attribute when it is
  // missing or of another kind. `op` names the op in the message.
  int64_t get_int(std::string_view op, const std::string& name) const;
  double get_float(std::string_view op, const std::string& name) const;
  bool get_bool(std::string_view op, const std::string& name) const;
  const std::string& get_string(std::string_view op, const std::string& name) const;
  const std::vector<int64_t>& get_ints(std::string_view op, const std::string& name) const;
  DType get_dtype(std::string_view op, const std::string& name) const;
  const Literal& get_literal(std::string_view op, const std::string& name) const;

private:
  const AttrValue& lookup(std::string_view op, const std::string& name, AttrKind kind) const;
  std::map<std::string, AttrValue> map_;
};

} // namespace loom
