#include "ir/printer.h"

#include <cstring>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "ir/error.h"
#include "ir/text_syntax.h"

namespace loom::ir {

namespace {

// Literals with more elements than this print as raw bytes (`dense_hex`).
constexpr int64_t kMaxDecimalElements = 64;

// Module constants by the identity of their buffer, so that a `constant` node sharing a
// weight's bytes prints as `@name` instead of repeating the data.
using ConstantNames = std::unordered_map<const void*, std::string>;

ConstantNames constant_names(const Module* module) {
  ConstantNames names;
  if (!module) return names;
  for (const auto& [name, literal] : module->constants())
    if (literal.identity()) names.emplace(literal.identity(), name); // first name wins
  return names;
}

// Decimal text is exact for almost every element; NaNs with a payload or a sign, and
// bool bytes other than 0/1, would come back different. Those literals print as hex.
bool decimal_text_is_exact(const Literal& literal) {
  DType dtype = literal.type().dtype;
  size_t element_size = dtype_size(dtype);
  std::vector<uint8_t> reencoded(element_size);
  for (int64_t i = 0, n = literal.type().numel(); i < n; ++i) {
    const uint8_t* element = literal.data() + i * element_size;
    if (!text::encode_element(dtype, text::format_element(dtype, element), reencoded.data()) ||
        std::memcmp(reencoded.data(), element, element_size) != 0)
      return false;
  }
  return true;
}

std::string hex_bytes(const uint8_t* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (size_t i = 0; i < size; ++i) {
    hex += kHex[data[i] >> 4];
    hex += kHex[data[i] & 0xf];
  }
  return hex;
}

// `dense<[1.0, 2.0]>` or `dense_hex<"0000803f...">`, without the type.
std::string format_literal_payload(const Literal& literal) {
  const TensorType& type = literal.type();
  if (static_cast<int64_t>(literal.nbytes()) != type.nbytes())
    throw_error(ErrorCode::InvalidAttribute, "cannot print a literal of type " + type.str() +
                                                 " holding " + std::to_string(literal.nbytes()) +
                                                 " bytes");
  if (type.numel() > kMaxDecimalElements || !decimal_text_is_exact(literal))
    return "dense_hex<\"" + hex_bytes(literal.data(), literal.nbytes()) + "\">";
  std::string out = "dense<[";
  size_t element_size = dtype_size(type.dtype);
  for (int64_t i = 0, n = type.numel(); i < n; ++i) {
    if (i) out += ", ";
    out += text::format_element(type.dtype, literal.data() + i * element_size);
  }
  return out + "]>";
}

std::string format_ints(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(values[i]);
  }
  return out + "]";
}

std::string format_attr_value(const AttrValue& value, const ConstantNames& constants) {
  switch (attr_kind(value)) {
  case AttrKind::Int:
    return std::to_string(std::get<int64_t>(value));
  case AttrKind::Float:
    return text::format_float(std::get<double>(value));
  case AttrKind::Bool:
    return std::get<bool>(value) ? "true" : "false";
  case AttrKind::String:
    return text::quote(std::get<std::string>(value));
  case AttrKind::Ints:
    return format_ints(std::get<std::vector<int64_t>>(value));
  case AttrKind::DType:
    return std::string(dtype_name(std::get<DType>(value)));
  case AttrKind::Literal: {
    const Literal& literal = std::get<Literal>(value);
    auto named = constants.find(literal.identity());
    if (literal.identity() && named != constants.end()) return text::sigil_name('@', named->second);
    return format_literal_payload(literal) + " : " + literal.type().str();
  }
  }
  throw_error(ErrorCode::Internal, "unknown attribute kind");
}

std::string format_attrs(const Attrs& attrs, const ConstantNames& constants) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : attrs.items()) {
    if (!first) out += ", ";
    first = false;
    out += text::identifier_or_quoted(name) + " = " + format_attr_value(value, constants);
  }
  return out + "}";
}

std::string format_loc(const SourceLoc& loc) {
  if (!loc.known()) return " loc(unknown)";
  return " loc(" + text::quote(loc.file) + ":" + std::to_string(loc.line) + ":" +
         std::to_string(loc.column) + ")";
}

// The printed names of one function's values. Named values keep their name (a repeated
// name gets the first free `.N` suffix, so the text stays unambiguous); unnamed values
// are numbered in order of appearance.
class ValueNames {
public:
  explicit ValueNames(const std::vector<const Value*>& values_in_order) {
    std::unordered_set<std::string> original_names;
    for (const Value* v : values_in_order)
      if (!v->name().empty()) original_names.insert(v->name());
    std::unordered_set<std::string> assigned;
    int next_number = 0;
    for (const Value* v : values_in_order) {
      if (v->name().empty()) {
        printed_[v] = "%" + std::to_string(next_number++);
        continue;
      }
      std::string name = v->name();
      if (assigned.count(name)) name = first_free_suffix(name, original_names, assigned);
      assigned.insert(name);
      printed_[v] = text::sigil_name('%', name);
    }
  }

  // Values of other functions or null operands only occur in broken IR; they still
  // print (and the parser then reports them) instead of crashing the printer.
  std::string operator()(const Value* v) const {
    auto it = printed_.find(v);
    if (it != printed_.end()) return it->second;
    return v ? "%\"<value of another function>\"" : "%\"<null>\"";
  }

private:
  // `name.N` for the smallest N that neither an earlier nor a later value uses.
  static std::string first_free_suffix(const std::string& name,
                                       const std::unordered_set<std::string>& original_names,
                                       const std::unordered_set<std::string>& assigned) {
    for (int suffix = 1;; ++suffix) {
      std::string candidate = name + "." + std::to_string(suffix);
      if (!original_names.count(candidate) && !assigned.count(candidate)) return candidate;
    }
  }

  std::unordered_map<const Value*, std::string> printed_;
};

class FunctionPrinter {
public:
  FunctionPrinter(const Function& fn, const ConstantNames& constants, const PrintOptions& opts,
                  int depth)
      : fn_(fn), constants_(constants), opts_(opts), depth_(depth), names_(values_in_order()) {}

  void print(std::string& out) const {
    out += indent(depth_) + "func " + text::sigil_name('@', fn_.name()) + "(" + signature_params() +
           ") -> (" + signature_outputs() + ") {\n";
    for (const Node* node : body_nodes())
      print_node(*node, out);
    out += indent(depth_ + 1) + "return";
    for (size_t i = 0; i < fn_.outputs().size(); ++i)
      out += (i ? ", " : " ") + names_(fn_.outputs()[i].value);
    out += "\n" + indent(depth_) + "}\n";
  }

private:
  static std::string indent(int depth) { return std::string(2 * depth, ' '); }

  // Nodes printed in the body: everything except the parameters, which the signature
  // shows. A stray `parameter` node that is not in params() prints as an ordinary node.
  std::vector<const Node*> body_nodes() const {
    std::unordered_set<const Node*> signature;
    for (const Value* p : fn_.params())
      signature.insert(p->def());
    std::vector<const Node*> nodes;
    for (const auto& node : fn_.nodes())
      if (!signature.count(node.get())) nodes.push_back(node.get());
    return nodes;
  }

  std::vector<const Value*> values_in_order() const {
    std::vector<const Value*> values(fn_.params().begin(), fn_.params().end());
    for (const Node* node : body_nodes())
      for (int i = 0; i < node->num_results(); ++i)
        values.push_back(node->result(i));
    return values;
  }

  std::string signature_params() const {
    std::string out;
    for (const Value* p : fn_.params()) {
      if (!out.empty()) out += ", ";
      out += names_(p) + ": " + p->type().str();
      if (opts_.print_locations) out += format_loc(p->def()->loc());
    }
    return out;
  }

  std::string signature_outputs() const {
    std::string out;
    for (const Output& output : fn_.outputs()) {
      if (!out.empty()) out += ", ";
      out += text::identifier_or_quoted(output.name) + ": " + output.value->type().str();
      auto alias = fn_.output_aliases().find(output.name);
      if (alias == fn_.output_aliases().end()) continue;
      const Value* param = fn_.find_param(alias->second);
      out += " aliases " + (param ? names_(param) : text::sigil_name('%', alias->second));
    }
    return out;
  }

  void print_node(const Node& node, std::string& out) const {
    out += indent(depth_ + 1);
    for (int i = 0; i < node.num_results(); ++i)
      out += (i ? ", " : "") + names_(node.result(i));
    if (node.num_results() > 0) out += " = ";
    out += std::string(node.name()) + "(";
    for (int i = 0; i < node.num_operands(); ++i)
      out += (i ? ", " : "") + names_(node.operand(i));
    out += ")";
    if (!node.attrs().empty()) out += " " + format_attrs(node.attrs(), constants_);
    out += " : " + result_types(node);
    if (opts_.print_locations) out += format_loc(node.loc());
    if (node.body()) {
      out += " {\n";
      FunctionPrinter(*node.body(), constants_, opts_, depth_ + 2).print(out);
      out += indent(depth_ + 1) + "}";
    }
    out += "\n";
  }

  static std::string result_types(const Node& node) {
    if (node.num_results() == 1) return node.result()->type().str();
    std::string out = "(";
    for (int i = 0; i < node.num_results(); ++i)
      out += (i ? ", " : "") + node.result(i)->type().str();
    return out + ")";
  }

  const Function& fn_;
  const ConstantNames& constants_;
  const PrintOptions& opts_;
  int depth_;
  ValueNames names_;
};

} // namespace

std::string print_module(const Module& m, const PrintOptions& opts) {
  std::string out;
  for (const auto& [name, literal] : m.constants())
    out += "const " + text::sigil_name('@', name) + " : " + literal.type().str() + " = " +
           format_literal_payload(literal) + "\n";
  ConstantNames constants = constant_names(&m);
  for (const auto& fn : m.functions()) {
    if (!out.empty()) out += "\n";
    FunctionPrinter(*fn, constants, opts, 0).print(out);
  }
  return out;
}

std::string print_function(const Function& f, const PrintOptions& opts) {
  std::string out;
  FunctionPrinter(f, constant_names(f.parent()), opts, 0).print(out);
  return out;
}

} // namespace loom::ir
