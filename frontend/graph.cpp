#include "frontend/graph.h"

#include "ir/builder.h"
#include "runtime/tensor.h"

namespace loom {

void throw_at(ErrorCode code, const std::string& message, const std::source_location& loc) {
  throw Error(code, message + " at " + format_location(loc));
}

const ir::Value& Value::checked() const {
  if (!value_)
    throw_error(ErrorCode::InvalidArgument, "use of a null loom::Value (default-constructed)");
  return *value_;
}

Graph::Graph(std::string function_name) : module_(std::make_unique<ir::Module>()) {
  function_ = module_->add_function(function_name);
}

void Graph::check_owned(std::string_view what, const Value& value,
                        const std::source_location& loc) const {
  if (!value.defined())
    throw_at(ErrorCode::InvalidArgument,
             std::string(what) + " is a null loom::Value (default-constructed)", loc);
  if (value.graph() != this)
    throw_at(ErrorCode::InvalidArgument,
             std::string(what) + " belongs to a different Graph; values cannot cross graphs", loc);
}

Value Graph::input(std::string name, DType dtype, Shape shape, std::source_location loc) {
  if (name.empty()) throw_at(ErrorCode::InvalidArgument, "input: the name must not be empty", loc);
  if (function_->find_param(name))
    throw_at(ErrorCode::InvalidArgument, "input: duplicate input name '" + name + "'", loc);
  try {
    shape_numel(shape); // rejects negative dimensions and absurd sizes
  } catch (const Error& e) {
    throw_at(e.code(), "input '" + name + "': " + e.message(), loc);
  }
  ir::Value* param =
      function_->add_param(name, TensorType{dtype, std::move(shape)}, ir::SourceLoc::from(loc));
  return Value(this, param);
}

void Graph::output(std::string name, Value value, std::source_location loc) {
  check_owned("output '" + name + "'", value, loc);
  if (name.empty()) throw_at(ErrorCode::InvalidArgument, "output: the name must not be empty", loc);
  if (function_->find_output(name))
    throw_at(ErrorCode::InvalidArgument, "output: duplicate output name '" + name + "'", loc);
  function_->add_output(name, value.ir());
}

void Graph::output_updates(std::string name, Value value, Value param, std::source_location loc) {
  std::string what = "output_updates '" + name + "'";
  check_owned(what + ": the updated parameter", param, loc);
  if (param.ir()->def()->op() != Op::Parameter)
    throw_at(ErrorCode::InvalidArgument, what + ": the updated value is not a graph input", loc);
  check_owned(what + ": the new value", value, loc);
  if (value.dtype() != param.dtype())
    throw_at(ErrorCode::DTypeMismatch,
             what + ": new value " + value.type().str() + " does not match input '" + param.name() +
                 "' " + param.type().str(),
             loc);
  if (value.shape() != param.shape())
    throw_at(ErrorCode::ShapeMismatch,
             what + ": new value " + value.type().str() + " does not match input '" + param.name() +
                 "' " + param.type().str(),
             loc);
  for (const auto& [output_name, param_name] : function_->output_aliases())
    if (param_name == param.name())
      throw_at(ErrorCode::InvalidArgument,
               what + ": input '" + param.name() + "' is already updated by output '" +
                   output_name + "'",
               loc);
  output(name, value, loc);
  function_->set_output_alias(name, param.name());
}

Value Graph::constant(const Tensor& tensor, std::source_location loc) {
  if (!tensor.defined())
    throw_at(ErrorCode::InvalidArgument, "constant: the tensor is undefined (default-constructed)",
             loc);
  return constant(tensor.to_literal(), loc);
}

Value Graph::constant(Literal literal, std::source_location loc) {
  if (static_cast<int64_t>(literal.nbytes()) != literal.type().nbytes() || !literal.data())
    throw_at(ErrorCode::InvalidArgument, "constant: the literal holds no data", loc);
  return add_node(Op::Constant, {}, Attrs{{"value", std::move(literal)}}, loc);
}

Value Graph::scalar(double value, DType dtype, std::source_location loc) {
  return constant(Literal::scalar(dtype, value), loc);
}

Value Graph::weight(std::string name, Literal literal, std::source_location loc) {
  if (name.empty()) throw_at(ErrorCode::InvalidArgument, "weight: the name must not be empty", loc);
  if (module_->find_constant(name))
    throw_at(ErrorCode::InvalidArgument, "weight: duplicate weight name '" + name + "'", loc);
  // Build the node first so that an invalid literal leaves the module unchanged.
  Value node = constant(literal, loc);
  // The node's literal shares its buffer with the module constant: it refers to the weight.
  module_->add_constant(name, std::move(literal));
  return node;
}

Value Graph::add_node(Op op, const std::vector<Value>& operands, Attrs attrs,
                      std::source_location loc) {
  std::vector<ir::Value*> ir_operands;
  for (size_t i = 0; i < operands.size(); ++i) {
    check_owned(std::string(op_name(op)) + ": operand " + std::to_string(i), operands[i], loc);
    ir_operands.push_back(operands[i].ir());
  }
  // ir::Builder runs the shape rule and appends " at <file>:<line>" to its errors.
  ir::Builder builder(*function_);
  builder.set_loc(ir::SourceLoc::from(loc));
  return Value(this, builder.op(op, ir_operands, std::move(attrs)));
}

} // namespace loom
