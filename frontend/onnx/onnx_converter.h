// Internals of the ONNX importer shared by the per-family converter files
// (onnx_ops_*.cpp): the per-node context handed to a converter and the converter table.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "frontend/onnx/onnx.pb.h"
#include "frontend/ops.h"
#include "runtime/tensor.h"

namespace loom::onnx {

namespace pb = ::loom::onnxpb;

// loom's dtype for an ONNX TensorProto.DataType value; nullopt for types loom lacks.
std::optional<DType> dtype_from_onnx(int32_t onnx_type);
// "uint8", "string", ... for messages.
std::string onnx_type_name(int32_t onnx_type);
// A TensorProto's contents; `what` names the tensor in error messages.
Tensor tensor_from_proto(const pb::TensorProto& proto, const std::string& what);

// Values known while importing one graph: ONNX names -> loom Values, plus the constant
// folder that recovers the value of anything computed from constants alone.
class ImportState {
public:
  ImportState(Graph& graph, const std::map<std::string, Tensor>& known_inputs)
      : graph_(graph), known_inputs_(known_inputs) {}

  Graph& graph() { return graph_; }
  void define(const std::string& name, Value value) { values_[name] = value; }
  // The value named `name`; Error(SerializationError) if nothing defines it yet.
  Value lookup(const std::string& name) const;

  // The value of `v` when it depends only on constants and known inputs (evaluated with
  // the reference interpreter, memoized); nullopt otherwise.
  std::optional<Tensor> try_constant(Value v);

private:
  Graph& graph_;
  const std::map<std::string, Tensor>& known_inputs_;
  std::unordered_map<std::string, Value> values_;
  std::unordered_map<const ir::Value*, Tensor> folded_;
};

// What a converter sees of one NodeProto: inputs as Values (or constants), attributes
// with defaults, and error helpers that name the node.
class NodeContext {
public:
  NodeContext(ImportState& state, const pb::NodeProto& node, int64_t opset)
      : state_(state), node_(node), opset_(opset) {}

  Graph& graph() { return state_.graph(); }
  const pb::NodeProto& node() const { return node_; }
  const std::string& op_type() const { return node_.op_type(); }
  // The default-domain opset version the model imports.
  int64_t opset() const { return opset_; }

  // Inputs; an empty name marks an omitted optional input.
  int num_inputs() const { return node_.input_size(); }
  bool has_input(int i) const { return i < node_.input_size() && !node_.input(i).empty(); }
  Value input(int i) const;          // Error if absent
  Value optional_input(int i) const; // null Value if absent
  int num_outputs() const { return node_.output_size(); }
  bool wants_output(int i) const { return i < node_.output_size() && !node_.output(i).empty(); }

  // The value of input i, which must be computable at import time: Error(Unsupported)
  // naming the input otherwise. `role` says what it is ("shape", "axes").
  Tensor constant_input(int i, const std::string& role);
  std::vector<int64_t> constant_ints(int i, const std::string& role);
  std::optional<Tensor> try_constant(Value v) { return state_.try_constant(v); }

  // Attributes.
  bool has_attr(const std::string& name) const { return find_attr(name) != nullptr; }
  int64_t int_attr(const std::string& name, int64_t fallback) const;
  int64_t required_int_attr(const std::string& name) const;
  float float_attr(const std::string& name, float fallback) const;
  std::string string_attr(const std::string& name, const std::string& fallback) const;
  std::optional<std::vector<int64_t>> ints_attr(const std::string& name) const;
  std::optional<std::vector<float>> floats_attr(const std::string& name) const;
  std::vector<std::string> strings_attr(const std::string& name) const;
  std::optional<Tensor> tensor_attr(const std::string& name) const;
  const pb::AttributeProto* find_attr(const std::string& name) const;

  // Throw Error(code) with "<OpType> node '<name>': " prepended.
  [[noreturn]] void fail(ErrorCode code, const std::string& message) const;
  [[noreturn]] void unsupported(const std::string& message) const {
    fail(ErrorCode::Unsupported, message);
  }
  // An axis in [-rank, rank) normalized to [0, rank); Error(InvalidAttribute) otherwise.
  int64_t normalize_axis(int64_t axis, int64_t rank) const;

private:
  ImportState& state_;
  const pb::NodeProto& node_;
  int64_t opset_;
};

// A converter builds the loom values of a node's outputs (in output order; trailing
// optional outputs the node does not request may be left out).
using Converter = std::function<std::vector<Value>(NodeContext&)>;
using ConverterTable = std::map<std::string, Converter>;

// The one table of ONNX operators, filled by the per-family registration functions.
const ConverterTable& converter_table();
void register_elementwise_ops(ConverterTable& table);
void register_tensor_ops(ConverterTable& table);
void register_reduction_ops(ConverterTable& table);
void register_nn_ops(ConverterTable& table);
void register_recurrent_ops(ConverterTable& table);
void register_einsum_op(ConverterTable& table);

// A constant tensor as a graph Value.
Value constant_value(Graph& graph, const Tensor& tensor);
// A tensor's elements as int64 (any integer or float dtype).
std::vector<int64_t> tensor_ints(const Tensor& tensor);

} // namespace loom::onnx
