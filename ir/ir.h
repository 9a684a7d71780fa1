// The loom IR: Module > Function > Node (SSA order) > Value.
//
// Every Value is a result of exactly one Node; function parameters are nodes of op
// `parameter` kept at the front of the function. Def-use lists are maintained by
// the Node/Function mutators; a function output counts as a use with user == nullptr.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <source_location>
#include <string>
#include <vector>

#include "ir/attr.h"
#include "ir/dtype.h"
#include "ir/op.h"

namespace loom::ir {

class Node;
class Function;
class Module;

// Where a node came from: the user's builder call, or a line of a .loom file.
struct SourceLoc {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  static SourceLoc from(const std::source_location& loc) {
    return {loc.file_name(), static_cast<uint32_t>(loc.line()),
            static_cast<uint32_t>(loc.column())};
  }
  bool known() const { return line != 0; }
  std::string str() const; // "file:line" or "<unknown>"
};

struct Use {
  Node* user; // nullptr: the value is function output number `index`
  int index;  // operand index in user, or output index
  bool operator==(const Use&) const = default;
};

class Value {
public:
  const TensorType& type() const { return type_; }
  DType dtype() const { return type_.dtype; }
  const Shape& shape() const { return type_.shape; }
  int64_t rank() const { return type_.rank(); }
  void set_type(TensorType t) { type_ = std::move(t); }

  Node* def() const { return def_; }
  int result_index() const { return index_; }

  // Optional name (inputs, outputs, or for readability); "" if none.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  const std::vector<Use>& uses() const { return uses_; }
  bool has_uses() const { return !uses_.empty(); }
  // Redirects every use (operands and function outputs) to `other`.
  void replace_all_uses_with(Value* other);

private:
  friend class Node;
  friend class Function;
  Value(Node* def, int index, TensorType type) : type_(std::move(type)), def_(def), index_(index) {}
  void add_use(Use u) { uses_.push_back(u); }
  void remove_use(Use u);

  TensorType type_;
  Node* def_;
  int index_;
  std::string name_;
  std::vector<Use> uses_;
};

class Node {
public:
  ~Node();
  Op op() const { return op_; }
  std::string_view name() const { return op_name(op_); }
  Function* parent() const { return parent_; }

  int num_operands() const { return static_cast<int>(operands_.size()); }
  Value* operand(int i) const { return operands_.at(i); }
  const std::vector<Value*>& operands() const { return operands_; }
  void set_operand(int i, Value* v);

  int num_results() const { return static_cast<int>(results_.size()); }
  Value* result(int i = 0) const { return results_.at(i).get(); }

  Attrs& attrs() { return attrs_; }
  const Attrs& attrs() const { return attrs_; }

  const SourceLoc& loc() const { return loc_; }
  void set_loc(SourceLoc loc) { loc_ = std::move(loc); }

  // Nested body (fusion groups); null for ordinary ops.
  Function* body() const { return body_.get(); }
  void set_body(std::unique_ptr<Function> body);

private:
  friend class Function;
  Node(Function* parent, Op op, Attrs attrs, SourceLoc loc)
      : op_(op), parent_(parent), attrs_(std::move(attrs)), loc_(std::move(loc)) {}
  void drop_operands();

  Op op_;
  Function* parent_;
  std::vector<Value*> operands_;
  std::vector<std::unique_ptr<Value>> results_;
  Attrs attrs_;
  SourceLoc loc_;
  std::unique_ptr<Function> body_;
};

struct Output {
  std::string name;
  Value* value;
};

class Function {
public:
  explicit Function(std::string name, Module* parent = nullptr)
      : name_(std::move(name)), parent_(parent) {}
  ~Function();
  Function(const Function&) = delete;
  Function& operator=(const Function&) = delete;

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  Module* parent() const { return parent_; }

  // Parameters, in signature order. Parameter nodes sit at the front of nodes().
  const std::vector<Value*>& params() const { return params_; }
  Value* add_param(const std::string& name, TensorType type, SourceLoc loc = {});
  Value* find_param(const std::string& name) const;

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  int num_nodes() const { return static_cast<int>(nodes_.size()); }

  // Appends a node with explicit result types (no inference: see ir/shape_rules.h
  // and frontend/ for checked construction).
  Node* append(Op op, const std::vector<Value*>& operands, Attrs attrs,
               std::vector<TensorType> result_types, SourceLoc loc = {});
  // Inserts before `pos` (which must belong to this function).
  Node* insert_before(Node* pos, Op op, const std::vector<Value*>& operands, Attrs attrs,
                      std::vector<TensorType> result_types, SourceLoc loc = {});
  // Removes a node whose results have no uses.
  void erase(Node* node);
  // Reorders nodes; `order` must be a permutation of nodes() (checked).
  void reorder(const std::vector<Node*>& order);
  int index_of(const Node* node) const;

  const std::vector<Output>& outputs() const { return outputs_; }
  void add_output(const std::string& name, Value* v);
  void set_output(int i, Value* v);
  const Output* find_output(const std::string& name) const;

  // Outputs that update a parameter in place (training steps): output name -> param name.
  const std::map<std::string, std::string>& output_aliases() const { return aliases_; }
  void set_output_alias(const std::string& output, const std::string& param) {
    aliases_[output] = param;
  }

private:
  Node* create(Op op, const std::vector<Value*>& operands, Attrs attrs,
               std::vector<TensorType> result_types, SourceLoc loc);

  std::string name_;
  Module* parent_;
  std::vector<Value*> params_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Output> outputs_;
  std::map<std::string, std::string> aliases_;
};

class Module {
public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  Function* add_function(const std::string& name);
  Function* find_function(const std::string& name) const;
  const std::vector<std::unique_ptr<Function>>& functions() const { return functions_; }

  // Named constants (weights). A `constant` node whose `value` literal shares its
  // buffer with a named constant prints as a reference to it.
  const std::map<std::string, Literal>& constants() const { return constants_; }
  void add_constant(const std::string& name, Literal value);
  const Literal* find_constant(const std::string& name) const;

private:
  std::vector<std::unique_ptr<Function>> functions_;
  std::map<std::string, Literal> constants_;
};

} // namespace loom::ir
