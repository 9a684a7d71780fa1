// The ONNX import driver: parses the ModelProto, creates inputs and initializers, runs
// one converter per node (onnx_ops_*.cpp) and names the outputs.
#include "frontend/onnx/onnx_import.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "frontend/onnx/onnx_converter.h"
#include "ir/clone.h"
#include "runtime/interp/interpreter.h"

namespace loom {
namespace onnx {
namespace {

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::IOError, "cannot open '" + path + "' for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw_error(ErrorCode::IOError, "cannot read '" + path + "'");
  return buffer.str();
}

// Parses `bytes` into `message`; protobuf's default 64 MB limit would reject large models.
void parse_message(google::protobuf::MessageLite& message, std::string_view bytes,
                   const std::string& filename, const std::string& what) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw_error(ErrorCode::Unsupported, filename + ": files over 2 GB are not supported");
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
  if (!message.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    throw_error(ErrorCode::SerializationError,
                filename + ": not a valid ONNX " + what + " (truncated or not protobuf)");
}

// Reinterprets little-endian `raw` bytes as `count` elements of `dtype`.
std::vector<uint8_t> checked_raw_bytes(const std::string& raw, const TensorType& type,
                                       const std::string& what) {
  if (static_cast<int64_t>(raw.size()) != type.nbytes())
    throw_error(ErrorCode::SerializationError,
                what + ": raw_data holds " + std::to_string(raw.size()) + " bytes, " + type.str() +
                    " needs " + std::to_string(type.nbytes()));
  return std::vector<uint8_t>(raw.begin(), raw.end());
}

// Copies a typed payload field into a tensor of `type`, converting each element.
template <typename Field>
Tensor tensor_from_field(const Field& field, const TensorType& type, const std::string& what,
                         bool values_are_bits) {
  if (static_cast<int64_t>(field.size()) != type.numel())
    throw_error(ErrorCode::SerializationError, what + ": holds " + std::to_string(field.size()) +
                                                   " values, " + type.str() + " needs " +
                                                   std::to_string(type.numel()));
  Tensor tensor(type.dtype, type.shape);
  for (int64_t i = 0; i < type.numel(); ++i) {
    if (values_are_bits) { // f16/bf16 stored as their 16-bit patterns
      uint16_t bits = static_cast<uint16_t>(field.Get(static_cast<int>(i)));
      std::memcpy(static_cast<uint8_t*>(tensor.raw_data()) + 2 * i, &bits, 2);
    } else {
      store_from_double(type.dtype, tensor.raw_data(), i,
                        static_cast<double>(field.Get(static_cast<int>(i))));
    }
  }
  return tensor;
}

} // namespace

std::optional<DType> dtype_from_onnx(int32_t onnx_type) {
  switch (onnx_type) {
  case pb::TensorProto::FLOAT:
    return DType::F32;
  case pb::TensorProto::DOUBLE:
    return DType::F64;
  case pb::TensorProto::FLOAT16:
    return DType::F16;
  case pb::TensorProto::BFLOAT16:
    return DType::BF16;
  case pb::TensorProto::INT8:
    return DType::I8;
  case pb::TensorProto::INT32:
    return DType::I32;
  case pb::TensorProto::INT64:
    return DType::I64;
  case pb::TensorProto::BOOL:
    return DType::Bool;
  default:
    return std::nullopt;
  }
}

std::string onnx_type_name(int32_t onnx_type) {
  if (pb::TensorProto::DataType_IsValid(onnx_type)) {
    std::string name = pb::TensorProto::DataType_Name(onnx_type);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    return name;
  }
  return "type " + std::to_string(onnx_type);
}

Tensor tensor_from_proto(const pb::TensorProto& proto, const std::string& what) {
  if (proto.data_location() == pb::TensorProto::EXTERNAL)
    throw_error(ErrorCode::Unsupported, what + ": tensors with external data are not supported");
  std::optional<DType> dtype = dtype_from_onnx(proto.data_type());
  if (!dtype)
    throw_error(ErrorCode::Unsupported,
                what + ": element type " + onnx_type_name(proto.data_type()) + " is not supported");
  TensorType type{*dtype, Shape(proto.dims().begin(), proto.dims().end())};
  try {
    shape_numel(type.shape);
  } catch (const Error& e) {
    throw_error(ErrorCode::SerializationError, what + ": " + e.message());
  }
  if (!proto.raw_data().empty() || type.numel() == 0) {
    Literal literal(type, checked_raw_bytes(proto.raw_data(), type, what));
    return Tensor::from_literal(literal);
  }
  switch (*dtype) {
  case DType::F32:
    return tensor_from_field(proto.float_data(), type, what, false);
  case DType::F64:
    return tensor_from_field(proto.double_data(), type, what, false);
  case DType::I64:
    return tensor_from_field(proto.int64_data(), type, what, false);
  case DType::F16:
  case DType::BF16:
    return tensor_from_field(proto.int32_data(), type, what, true);
  case DType::I8:
  case DType::I32:
  case DType::Bool:
    return tensor_from_field(proto.int32_data(), type, what, false);
  }
  throw_error(ErrorCode::Internal, what + ": unhandled dtype");
}

Value constant_value(Graph& graph, const Tensor& tensor) {
  if (tensor.numel() > 0) return graph.constant(tensor);
  // Graph::constant rejects literals without bytes; an empty tensor has no elements to
  // read, so any source of the right type stands in for it.
  if (tensor.dtype() == DType::Bool)
    return cast(iota(graph, tensor.shape(), DType::I32, 0), DType::Bool);
  return iota(graph, tensor.shape(), tensor.dtype(), 0);
}

std::vector<int64_t> tensor_ints(const Tensor& tensor) {
  std::vector<int64_t> out(static_cast<size_t>(tensor.numel()));
  for (int64_t i = 0; i < tensor.numel(); ++i)
    out[static_cast<size_t>(i)] = load_as_int(tensor.dtype(), tensor.raw_data(), i);
  return out;
}

// --- ImportState ---------------------------------------------------------------------

Value ImportState::lookup(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    throw_error(ErrorCode::SerializationError,
                "value '" + name + "' is used before any node, input or initializer defines it");
  return it->second;
}

namespace {

// The nodes `root` depends on, in definition order; false if one of them is a
// parameter without a known value.
bool collect_constant_cone(ir::Value* root, const std::map<std::string, Tensor>& known,
                           std::vector<ir::Node*>& cone) {
  std::vector<ir::Node*> stack{root->def()};
  std::unordered_map<ir::Node*, bool> seen;
  while (!stack.empty()) {
    ir::Node* node = stack.back();
    stack.pop_back();
    if (seen[node]) continue;
    seen[node] = true;
    if (node->op() == Op::Parameter && !known.count(node->result()->name())) return false;
    cone.push_back(node);
    for (ir::Value* operand : node->operands())
      stack.push_back(operand->def());
  }
  ir::Function* fn = root->def()->parent();
  std::sort(cone.begin(), cone.end(),
            [fn](ir::Node* a, ir::Node* b) { return fn->index_of(a) < fn->index_of(b); });
  return true;
}

} // namespace

std::optional<Tensor> ImportState::try_constant(Value v) {
  if (auto it = folded_.find(v.ir()); it != folded_.end()) return it->second;
  ir::Node* def = v.ir()->def();
  if (def->op() == Op::Constant) {
    Tensor tensor = Tensor::from_literal(def->attrs().get_literal("constant", "value"));
    folded_.emplace(v.ir(), tensor);
    return tensor;
  }
  std::vector<ir::Node*> cone;
  if (!collect_constant_cone(v.ir(), known_inputs_, cone)) return std::nullopt;

  // Copy the cone into a scratch function and evaluate it with the reference interpreter.
  ir::Function scratch("fold");
  std::unordered_map<const ir::Value*, ir::Value*> mapped;
  std::vector<Tensor> args;
  for (ir::Node* node : cone) {
    if (node->op() == Op::Parameter) {
      const Tensor& known = known_inputs_.at(node->result()->name());
      if (known.type() != node->result()->type())
        throw_error(ErrorCode::InvalidArgument,
                    "known input '" + node->result()->name() + "' is " + known.type().str() +
                        " but the model declares " + node->result()->type().str());
      mapped[node->result()] = scratch.add_param(node->result()->name(), known.type());
      args.push_back(known);
      continue;
    }
    std::vector<ir::Value*> operands;
    for (ir::Value* operand : node->operands())
      operands.push_back(mapped.at(operand));
    std::vector<TensorType> types;
    for (int i = 0; i < node->num_results(); ++i)
      types.push_back(node->result(i)->type());
    ir::Node* copy = scratch.append(node->op(), operands, node->attrs(), types, node->loc());
    for (int i = 0; i < node->num_results(); ++i)
      mapped[node->result(i)] = copy->result(i);
  }
  scratch.add_output("value", mapped.at(v.ir()));
  Tensor tensor = interp::evaluate(scratch, args).at(0);
  folded_.emplace(v.ir(), tensor);
  return tensor;
}

// --- NodeContext ---------------------------------------------------------------------

void NodeContext::fail(ErrorCode code, const std::string& message) const {
  std::string who = node_.op_type() + " node";
  if (!node_.name().empty())
    who += " '" + node_.name() + "'";
  else if (node_.output_size() > 0)
    who += " (output '" + node_.output(0) + "')";
  throw_error(code, who + ": " + message);
}

Value NodeContext::input(int i) const {
  if (!has_input(i)) fail(ErrorCode::InvalidArgument, "input " + std::to_string(i) + " is missing");
  return state_.lookup(node_.input(i));
}

Value NodeContext::optional_input(int i) const {
  return has_input(i) ? state_.lookup(node_.input(i)) : Value();
}

Tensor NodeContext::constant_input(int i, const std::string& role) {
  std::optional<Tensor> value = state_.try_constant(input(i));
  if (!value)
    unsupported("input '" + node_.input(i) + "' (" + role +
                ") must be a constant (an initializer, a Constant node, or an input whose value "
                "is given at import time)");
  return *value;
}

std::vector<int64_t> NodeContext::constant_ints(int i, const std::string& role) {
  return tensor_ints(constant_input(i, role));
}

const pb::AttributeProto* NodeContext::find_attr(const std::string& name) const {
  for (const pb::AttributeProto& attr : node_.attribute())
    if (attr.name() == name) return &attr;
  return nullptr;
}

int64_t NodeContext::int_attr(const std::string& name, int64_t fallback) const {
  const pb::AttributeProto* attr = find_attr(name);
  return attr ? attr->i() : fallback;
}

int64_t NodeContext::required_int_attr(const std::string& name) const {
  if (!find_attr(name)) fail(ErrorCode::InvalidAttribute, "attribute '" + name + "' is required");
  return int_attr(name, 0);
}

float NodeContext::float_attr(const std::string& name, float fallback) const {
  const pb::AttributeProto* attr = find_attr(name);
  return attr ? attr->f() : fallback;
}

std::string NodeContext::string_attr(const std::string& name, const std::string& fallback) const {
  const pb::AttributeProto* attr = find_attr(name);
  return attr ? attr->s() : fallback;
}

std::optional<std::vector<int64_t>> NodeContext::ints_attr(const std::string& name) const {
  const pb::AttributeProto* attr = find_attr(name);
  if (!attr) return std::nullopt;
  return std::vector<int64_t>(attr->ints().begin(), attr->ints().end());
}

std::optional<std::vector<float>> NodeContext::floats_attr(const std::string& name) const {
  const pb::AttributeProto* attr = find_attr(name);
  if (!attr) return std::nullopt;
  return std::vector<float>(attr->floats().begin(), attr->floats().end());
}

std::vector<std::string> NodeContext::strings_attr(const std::string& name) const {
  const pb::AttributeProto* attr = find_attr(name);
  if (!attr) return {};
  return std::vector<std::string>(attr->strings().begin(), attr->strings().end());
}

std::optional<Tensor> NodeContext::tensor_attr(const std::string& name) const {
  const pb::AttributeProto* attr = find_attr(name);
  if (!attr) return std::nullopt;
  return tensor_from_proto(attr->t(), op_type() + " attribute '" + name + "'");
}

int64_t NodeContext::normalize_axis(int64_t axis, int64_t rank) const {
  int64_t extent = std::max<int64_t>(rank, 1); // a scalar still has axis 0 / -1 for some ops
  if (axis < -extent || axis >= extent)
    fail(ErrorCode::InvalidAttribute,
         "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + extent : axis;
}

// --- The converter table ---------------------------------------------------------------

const ConverterTable& converter_table() {
  static const ConverterTable table = [] {
    ConverterTable t;
    register_elementwise_ops(t);
    register_tensor_ops(t);
    register_reduction_ops(t);
    register_nn_ops(t);
    register_recurrent_ops(t);
    register_einsum_op(t);
    return t;
  }();
  return table;
}

namespace {

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

int64_t default_opset(const pb::ModelProto& model, const std::string& filename) {
  for (const pb::OperatorSetIdProto& opset : model.opset_import())
    if (is_default_domain(opset.domain())) return opset.version();
  throw_error(ErrorCode::Unsupported,
              filename + ": the model imports no version of the default ONNX operator set "
                         "(only other domains such as ai.onnx.ml, which loom does not support)");
}

// One error listing every operator the table lacks, with counts, so that a user sees the
// whole gap at once.
void check_all_ops_supported(const pb::GraphProto& graph, const std::string& filename) {
  std::map<std::string, int> missing;
  for (const pb::NodeProto& node : graph.node()) {
    std::string key = node.op_type();
    if (!is_default_domain(node.domain())) key = node.domain() + "." + key;
    if (!is_default_domain(node.domain()) || !converter_table().count(node.op_type()))
      ++missing[key];
  }
  if (missing.empty()) return;
  std::string list;
  for (const auto& [op, count] : missing)
    list += (list.empty() ? "" : ", ") + op + " (" + std::to_string(count) + ")";
  throw_error(ErrorCode::Unsupported, filename + ": unsupported ONNX operators: " + list);
}

Shape input_shape(const pb::ValueInfoProto& info, const OnnxImportOptions& options,
                  const std::string& filename) {
  if (auto it = options.input_shapes.find(info.name()); it != options.input_shapes.end())
    return it->second;
  if (!info.type().tensor_type().has_shape())
    throw_error(ErrorCode::InvalidArgument, filename + ": input '" + info.name() +
                                                "' has no declared shape; give one (--shape " +
                                                info.name() + "=d0,d1,...)");
  Shape shape;
  for (const auto& dim : info.type().tensor_type().shape().dim()) {
    if (dim.value_case() != pb::TensorShapeProto::Dimension::kDimValue) {
      std::string symbol = dim.dim_param().empty() ? "?" : dim.dim_param();
      throw_error(ErrorCode::InvalidArgument,
                  filename + ": input '" + info.name() + "' has the symbolic dimension '" + symbol +
                      "'; give its concrete shape (--shape " + info.name() + "=d0,d1,...)");
    }
    shape.push_back(dim.dim_value());
  }
  return shape;
}

void add_inputs(const pb::GraphProto& graph, const OnnxImportOptions& options,
                const std::string& filename, ImportState& state) {
  std::set<std::string> initializers;
  for (const pb::TensorProto& init : graph.initializer())
    initializers.insert(init.name());
  for (const pb::ValueInfoProto& info : graph.input()) {
    if (initializers.count(info.name())) continue; // IR < 4 lists initializers as inputs too
    if (!info.type().has_tensor_type())
      throw_error(ErrorCode::Unsupported, filename + ": input '" + info.name() +
                                              "' is not a tensor (sequences, maps "
                                              "and optionals are not supported)");
    int32_t elem_type = info.type().tensor_type().elem_type();
    std::optional<DType> dtype = dtype_from_onnx(elem_type);
    if (!dtype)
      throw_error(ErrorCode::Unsupported, filename + ": input '" + info.name() +
                                              "' has the unsupported element type " +
                                              onnx_type_name(elem_type));
    state.define(info.name(),
                 state.graph().input(info.name(), *dtype, input_shape(info, options, filename)));
  }
  for (const pb::TensorProto& init : graph.initializer()) {
    Tensor tensor = tensor_from_proto(init, filename + ": initializer '" + init.name() + "'");
    state.define(init.name(), state.graph().weight(init.name(), tensor.to_literal()));
  }
}

void convert_nodes(const pb::GraphProto& graph, int64_t opset, ImportState& state) {
  for (const pb::NodeProto& node : graph.node()) {
    NodeContext context(state, node, opset);
    std::vector<Value> results = converter_table().at(node.op_type())(context);
    for (int i = 0; i < node.output_size(); ++i) {
      if (node.output(i).empty()) continue;
      if (i >= static_cast<int>(results.size()) || !results[i].defined())
        context.unsupported("output " + std::to_string(i) + " ('" + node.output(i) +
                            "') is not supported");
      state.define(node.output(i), results[i]);
    }
  }
}

// Removes nodes nothing uses (shape arithmetic folded away, unused optional outputs).
void erase_dead_nodes(ir::Function& fn) {
  for (int i = fn.num_nodes() - 1; i >= 0; --i) {
    ir::Node* node = fn.nodes()[static_cast<size_t>(i)].get();
    if (node->op() == Op::Parameter) continue;
    bool used = false;
    for (int r = 0; r < node->num_results(); ++r)
      used = used || node->result(r)->has_uses();
    if (!used) fn.erase(node);
  }
}

} // namespace
} // namespace onnx

std::unique_ptr<ir::Module> import_onnx(std::string_view bytes, const OnnxImportOptions& options,
                                        const std::string& filename) {
  onnx::pb::ModelProto model;
  onnx::parse_message(model, bytes, filename, "model");
  if (!model.has_graph())
    throw_error(ErrorCode::SerializationError, filename + ": the model has no graph");
  const onnx::pb::GraphProto& graph_proto = model.graph();
  int64_t opset = onnx::default_opset(model, filename);
  onnx::check_all_ops_supported(graph_proto, filename);

  Graph graph(options.function_name);
  onnx::ImportState state(graph, options.known_inputs);
  onnx::add_inputs(graph_proto, options, filename, state);
  try {
    onnx::convert_nodes(graph_proto, opset, state);
    for (const onnx::pb::ValueInfoProto& output : graph_proto.output())
      graph.output(output.name(), state.lookup(output.name()));
  } catch (const Error& e) {
    throw_error(e.code(), filename + ": " + e.message());
  }
  onnx::erase_dead_nodes(graph.function());
  return ir::clone_function_as_module(graph.function());
}

std::unique_ptr<ir::Module> import_onnx_file(const std::string& path,
                                             const OnnxImportOptions& options) {
  return import_onnx(onnx::read_file_bytes(path), options, path);
}

Tensor onnx_tensor_from_bytes(std::string_view bytes, const std::string& filename) {
  onnx::pb::TensorProto proto;
  onnx::parse_message(proto, bytes, filename, "tensor");
  return onnx::tensor_from_proto(proto, filename);
}

Tensor read_onnx_tensor_file(const std::string& path) {
  return onnx_tensor_from_bytes(onnx::read_file_bytes(path), path);
}

OnnxModelInfo read_onnx_model_info(const std::string& path) {
  onnx::pb::ModelProto model;
  onnx::parse_message(model, onnx::read_file_bytes(path), path, "model");
  OnnxModelInfo info;
  for (const onnx::pb::OperatorSetIdProto& opset : model.opset_import())
    if (onnx::is_default_domain(opset.domain())) info.opset = opset.version();
  for (const onnx::pb::NodeProto& node : model.graph().node())
    info.op_types.push_back(onnx::is_default_domain(node.domain())
                                ? node.op_type()
                                : node.domain() + "." + node.op_type());
  auto describe = [](const onnx::pb::ValueInfoProto& value) {
    int32_t elem_type = value.type().tensor_type().elem_type();
    if (!value.type().has_tensor_type())
      return OnnxModelInfo::Tensor{value.name(), "non-tensor", std::nullopt};
    return OnnxModelInfo::Tensor{value.name(), onnx::onnx_type_name(elem_type),
                                 onnx::dtype_from_onnx(elem_type)};
  };
  std::set<std::string> initializers;
  for (const onnx::pb::TensorProto& init : model.graph().initializer())
    initializers.insert(init.name());
  for (const onnx::pb::ValueInfoProto& input : model.graph().input())
    if (!initializers.count(input.name())) info.inputs.push_back(describe(input));
  for (const onnx::pb::ValueInfoProto& output : model.graph().output())
    info.outputs.push_back(describe(output));
  return info;
}

std::vector<std::string> supported_onnx_ops() {
  std::vector<std::string> ops;
  for (const auto& [name, converter] : onnx::converter_table())
    ops.push_back(name);
  return ops;
}

} // namespace loom
