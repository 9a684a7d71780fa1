// The C++ builder API: a Graph owns one IR function and hands out Value handles.
//
// Every builder call checks its operands immediately (ir/shape_rules.h) and records the
// caller's source location on the node it creates; errors name the op, the operand
// types and the user's call site ("add: ... at model.cpp:42").
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <source_location>
#include <string>
#include <vector>

#include "ir/attr.h"
#include "ir/dtype.h"
#include "ir/error.h"
#include "ir/ir.h"
#include "ir/op.h"

namespace loom {

class Graph;
class Tensor;

// A handle to one SSA value of a Graph. Cheap to copy; valid as long as its Graph lives.
// A default-constructed Value is null: builder calls reject it with InvalidArgument.
//
// `a == b` compares handles (the same node result of the same graph), which keeps
// Values usable as keys; the elementwise comparison ops are the named functions eq/ne.
class Value {
public:
  Value() = default;
  // Wraps a value of `graph`'s function (builders create Values; this is for code that
  // walks the IR a Graph built).
  Value(Graph* graph, ir::Value* value) : graph_(graph), value_(value) {}

  bool defined() const { return value_ != nullptr; }

  // Accessors throw Error(InvalidArgument) on a null Value.
  const TensorType& type() const { return checked().type(); }
  DType dtype() const { return type().dtype; }
  const Shape& shape() const { return type().shape; }
  int64_t rank() const { return type().rank(); }
  const std::string& name() const { return checked().name(); }

  Graph* graph() const { return graph_; }
  ir::Value* ir() const { return value_; }

  bool operator==(const Value& other) const = default;

private:
  const ir::Value& checked() const;

  Graph* graph_ = nullptr;
  ir::Value* value_ = nullptr;
};

// A module with one function under construction. Not copyable or movable: Values point
// into it.
class Graph {
public:
  explicit Graph(std::string function_name = "main");
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // A function parameter. Names must be unique and non-empty: executables take inputs by name.
  Value input(std::string name, DType dtype, Shape shape,
              std::source_location loc = std::source_location::current());
  // A named function result.
  void output(std::string name, Value value,
              std::source_location loc = std::source_location::current());
  // A result that replaces input `param` after the call (e.g. an updated weight), so the
  // runtime may write it in place. `value` must have the parameter's type.
  void output_updates(std::string name, Value value, Value param,
                      std::source_location loc = std::source_location::current());

  Value constant(const Tensor& tensor, std::source_location loc = std::source_location::current());
  Value constant(Literal literal, std::source_location loc = std::source_location::current());
  // A scalar (shape []) constant; `value` is converted to `dtype` (float -> int truncates).
  Value scalar(double value, DType dtype = DType::F32,
               std::source_location loc = std::source_location::current());
  // A named module constant (a weight) and a constant node referring to it.
  Value weight(std::string name, Literal literal,
               std::source_location loc = std::source_location::current());

  // Appends `op` with the given operands and attributes after checking them with the
  // op's shape rule. The typed builders in frontend/ops.h are built on this.
  Value add_node(Op op, const std::vector<Value>& operands, Attrs attrs,
                 std::source_location loc = std::source_location::current());

  ir::Module& module() { return *module_; }
  const ir::Module& module() const { return *module_; }
  ir::Function& function() { return *function_; }
  const ir::Function& function() const { return *function_; }

private:
  void check_owned(std::string_view what, const Value& value,
                   const std::source_location& loc) const;

  std::unique_ptr<ir::Module> module_;
  ir::Function* function_;
};

// Throws Error(code) with " at <file>:<line>" of `loc` appended to `message`. Every
// error the frontend raises goes through here exactly once.
[[noreturn]] void throw_at(ErrorCode code, const std::string& message,
                           const std::source_location& loc);

} // namespace loom

template <> struct std::hash<loom::Value> {
  size_t operator()(const loom::Value& v) const noexcept {
    return std::hash<const void*>()(v.ir());
  }
};
