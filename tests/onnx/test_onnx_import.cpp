// The ONNX importer on small models built here with the generated protobuf classes:
// initializers, constant folding of shape arithmetic, symbolic dimensions, and the
// errors for malformed files, unsupported operators and non-constant shapes.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "codegen/compile.h"
#include "frontend/onnx/onnx.pb.h"
#include "frontend/onnx/onnx_import.h"

namespace {

namespace pb = loom::onnxpb;
using loom::DType;
using loom::Tensor;

void add_value_info(google::protobuf::RepeatedPtrField<pb::ValueInfoProto>* list,
                    const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims,
                    const std::string& symbolic_first_dim = "") {
  pb::ValueInfoProto* info = list->Add();
  info->set_name(name);
  pb::TypeProto::Tensor* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(elem_type);
  for (size_t i = 0; i < dims.size(); ++i) {
    auto* dim = tensor->mutable_shape()->add_dim();
    if (i == 0 && !symbolic_first_dim.empty())
      dim->set_dim_param(symbolic_first_dim);
    else
      dim->set_dim_value(dims[i]);
  }
}

pb::NodeProto* add_node(pb::GraphProto& graph, const std::string& op,
                        const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
  pb::NodeProto* node = graph.add_node();
  node->set_op_type(op);
  for (const std::string& in : inputs)
    node->add_input(in);
  for (const std::string& out : outputs)
    node->add_output(out);
  return node;
}

void add_float_initializer(pb::GraphProto& graph, const std::string& name,
                           const std::vector<int64_t>& dims, const std::vector<float>& values) {
  pb::TensorProto* t = graph.add_initializer();
  t->set_name(name);
  t->set_data_type(pb::TensorProto::FLOAT);
  for (int64_t d : dims)
    t->add_dims(d);
  for (float v : values)
    t->add_float_data(v);
}

pb::ModelProto new_model() {
  pb::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(17);
  model.mutable_graph()->set_name("test");
  return model;
}

// y = x @ W + b with W, b as initializers.
pb::ModelProto linear_model(const std::string& batch_symbol = "") {
  pb::ModelProto model = new_model();
  pb::GraphProto& g = *model.mutable_graph();
  add_value_info(g.mutable_input(), "x", pb::TensorProto::FLOAT, {2, 3}, batch_symbol);
  add_float_initializer(g, "W", {3, 2}, {1, 0, 0, 1, 1, 1});
  add_float_initializer(g, "b", {2}, {10, 20});
  add_node(g, "MatMul", {"x", "W"}, {"xw"});
  add_node(g, "Add", {"xw", "b"}, {"y"});
  add_value_info(g.mutable_output(), "y", pb::TensorProto::FLOAT, {2, 2});
  return model;
}

std::string bytes_of(const pb::ModelProto& model) {
  std::string bytes;
  REQUIRE(model.SerializeToString(&bytes));
  return bytes;
}

std::vector<float> run_single_output(const loom::ir::Module& module, const loom::TensorMap& inputs,
                                     const std::string& target = "interp") {
  auto exe = loom::compile(*module.functions().at(0), {.target = target});
  loom::TensorMap outputs = exe->run(inputs);
  REQUIRE(outputs.size() == 1);
  return outputs.begin()->second.to_vector<float>();
}

template <typename Fn> loom::Error error_of(Fn&& fn) {
  try {
    fn();
  } catch (const loom::Error& e) {
    return e;
  }
  FAIL("expected a loom::Error");
  throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("ONNX import: initializers become named weights and the model computes") {
  auto module = loom::import_onnx(bytes_of(linear_model()), {}, "linear.onnx");
  CHECK(module->find_constant("W") != nullptr);
  CHECK(module->find_constant("b") != nullptr);
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  for (const char* target : {"interp", "cpu"}) {
    INFO(target);
    CHECK(run_single_output(*module, {{"x", x}}, target) ==
          std::vector<float>{1 + 3 + 10, 2 + 3 + 20, 4 + 6 + 10, 5 + 6 + 20});
  }
}

TEST_CASE("ONNX import: a symbolic dimension needs a concrete shape") {
  pb::ModelProto model = linear_model("batch");
  loom::Error e = error_of([&] { loom::import_onnx(bytes_of(model), {}, "free_batch.onnx"); });
  CHECK(e.code() == loom::ErrorCode::InvalidArgument);
  CHECK_THAT(e.message(),
             Catch::Contains("symbolic dimension 'batch'") && Catch::Contains("--shape x="));

  loom::OnnxImportOptions options;
  options.input_shapes["x"] = {1, 3};
  auto module = loom::import_onnx(bytes_of(model), options);
  CHECK(run_single_output(*module, {{"x", Tensor::from_vector<float>({1, 3}, {1, 1, 1})}}) ==
        std::vector<float>{12, 22});
}

TEST_CASE("ONNX import: Shape and the arithmetic on it fold into a constant reshape") {
  pb::ModelProto model = new_model();
  pb::GraphProto& g = *model.mutable_graph();
  add_value_info(g.mutable_input(), "x", pb::TensorProto::FLOAT, {2, 3});
  add_value_info(g.mutable_input(), "y", pb::TensorProto::FLOAT, {3, 2});
  add_node(g, "Shape", {"x"}, {"x_shape"});
  pb::NodeProto* reverse =
      add_node(g, "Slice", {"x_shape", "start", "end", "axis", "step"}, {"reversed"});
  (void)reverse;
  for (auto [name, value] : {std::pair{"start", -1}, {"end", -3}, {"axis", 0}, {"step", -1}}) {
    pb::NodeProto* c = add_node(g, "Constant", {}, {name});
    pb::AttributeProto* attr = c->add_attribute();
    attr->set_name("value_ints");
    attr->set_type(pb::AttributeProto::INTS);
    attr->add_ints(value);
  }
  // Constants must come first in a topologically sorted graph: move Shape and Slice last.
  std::rotate(g.mutable_node()->begin(), g.mutable_node()->begin() + 2, g.mutable_node()->end());
  add_node(g, "Reshape", {"y", "reversed"}, {"z"});
  add_value_info(g.mutable_output(), "z", pb::TensorProto::FLOAT, {3, 2});

  auto module = loom::import_onnx(bytes_of(model));
  const loom::ir::Function& fn = *module->functions().at(0);
  for (const auto& node : fn.nodes()) {
    INFO(node->name());
    CHECK((node->op() == loom::Op::Parameter || node->op() == loom::Op::Reshape));
  }
  Tensor y = Tensor::from_vector<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  CHECK(run_single_output(*module, {{"x", Tensor(DType::F32, {2, 3})}, {"y", y}}) ==
        std::vector<float>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("ONNX import: every unsupported operator is listed with its count") {
  pb::ModelProto model = new_model();
  pb::GraphProto& g = *model.mutable_graph();
  add_value_info(g.mutable_input(), "x", pb::TensorProto::FLOAT, {4});
  add_node(g, "NoSuchOp", {"x"}, {"a"});
  add_node(g, "Relu", {"a"}, {"b"});
  add_node(g, "NoSuchOp", {"b"}, {"c"});
  add_node(g, "Mystery", {"c"}, {"d"})->set_domain("com.example");
  add_value_info(g.mutable_output(), "d", pb::TensorProto::FLOAT, {4});
  loom::Error e = error_of([&] { loom::import_onnx(bytes_of(model), {}, "gaps.onnx"); });
  CHECK(e.code() == loom::ErrorCode::Unsupported);
  CHECK(e.message() ==
        "gaps.onnx: unsupported ONNX operators: NoSuchOp (2), com.example.Mystery (1)");
}

TEST_CASE("ONNX import: a shape that is not a constant is a clear error") {
  pb::ModelProto model = new_model();
  pb::GraphProto& g = *model.mutable_graph();
  add_value_info(g.mutable_input(), "x", pb::TensorProto::FLOAT, {2, 3});
  add_value_info(g.mutable_input(), "shape", pb::TensorProto::INT64, {2});
  add_node(g, "Reshape", {"x", "shape"}, {"y"});
  add_value_info(g.mutable_output(), "y", pb::TensorProto::FLOAT, {3, 2});
  loom::Error e = error_of([&] { loom::import_onnx(bytes_of(model), {}, "dyn.onnx"); });
  CHECK(e.code() == loom::ErrorCode::Unsupported);
  CHECK_THAT(e.message(), Catch::Contains("Reshape node") && Catch::Contains("'shape'") &&
                              Catch::Contains("must be a constant"));

  // Handing the value over at import time freezes it.
  loom::OnnxImportOptions options;
  options.known_inputs["shape"] = Tensor::from_vector<int64_t>({2}, {3, 2});
  auto module = loom::import_onnx(bytes_of(model), options);
  CHECK(module->functions().at(0)->outputs().at(0).value->shape() == loom::Shape{3, 2});
}

TEST_CASE("ONNX import: malformed and truncated files are serialization errors") {
  std::string bytes = bytes_of(linear_model());
  for (size_t keep : {bytes.size() / 2, bytes.size() - 1}) {
    INFO("truncated to " << keep << " of " << bytes.size() << " bytes");
    loom::Error e = error_of([&] { loom::import_onnx(bytes.substr(0, keep), {}, "cut.onnx"); });
    CHECK(e.code() == loom::ErrorCode::SerializationError);
    CHECK_THAT(e.message(), Catch::StartsWith("cut.onnx: "));
  }
  loom::Error garbage =
      error_of([] { loom::import_onnx("\xff\xff\xff\xff not protobuf", {}, "junk.onnx"); });
  CHECK(garbage.code() == loom::ErrorCode::SerializationError);
  CHECK_THAT(garbage.message(), Catch::Contains("not a valid ONNX model"));

  pb::ModelProto no_graph = new_model();
  no_graph.clear_graph();
  CHECK(error_of([&] { loom::import_onnx(bytes_of(no_graph)); }).code() ==
        loom::ErrorCode::SerializationError);

  pb::ModelProto dangling = new_model();
  add_node(*dangling.mutable_graph(), "Relu", {"nowhere"}, {"y"});
  loom::Error e = error_of([&] { loom::import_onnx(bytes_of(dangling)); });
  CHECK(e.code() == loom::ErrorCode::SerializationError);
  CHECK_THAT(e.message(), Catch::Contains("'nowhere'"));
}

TEST_CASE("ONNX import: files are read from disk, a missing file is an I/O error") {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / "loom_onnx_import_test.onnx";
  {
    std::ofstream out(path, std::ios::binary);
    out << bytes_of(linear_model());
  }
  auto module = loom::import_onnx_file(path.string());
  CHECK(module->functions().at(0)->params().size() == 1);
  std::filesystem::remove(path);
  CHECK(error_of([&] { loom::import_onnx_file(path.string()); }).code() ==
        loom::ErrorCode::IOError);
}

TEST_CASE("ONNX tensors: typed fields and raw data decode, unsupported element types are named") {
  pb::TensorProto t;
  t.set_data_type(pb::TensorProto::INT64);
  t.add_dims(3);
  for (int64_t v : {4, -5, 6})
    t.add_int64_data(v);
  Tensor decoded = loom::onnx_tensor_from_bytes(t.SerializeAsString());
  CHECK(decoded.to_vector<int64_t>() == std::vector<int64_t>{4, -5, 6});

  pb::TensorProto raw;
  raw.set_data_type(pb::TensorProto::FLOAT);
  raw.add_dims(2);
  float values[2] = {1.5f, -2.0f};
  raw.set_raw_data(std::string(reinterpret_cast<const char*>(values), sizeof(values)));
  CHECK(loom::onnx_tensor_from_bytes(raw.SerializeAsString()).to_vector<float>() ==
        std::vector<float>{1.5f, -2.0f});

  raw.add_dims(2); // now claims 4 elements for 8 bytes
  CHECK(error_of([&] { loom::onnx_tensor_from_bytes(raw.SerializeAsString()); }).code() ==
        loom::ErrorCode::SerializationError);

  pb::TensorProto u8;
  u8.set_data_type(pb::TensorProto::UINT8);
  loom::Error e = error_of([&] { loom::onnx_tensor_from_bytes(u8.SerializeAsString(), "u8.pb"); });
  CHECK(e.code() == loom::ErrorCode::Unsupported);
  CHECK_THAT(e.message(), Catch::Contains("uint8"));
}
