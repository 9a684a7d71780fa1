// The .loompb format: round trips, sharing of constant buffers, and robustness against
// malformed input (every truncation, random bytes, byte mutations, bad content).
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <source_location>

#include "ir/error.h"
#include "ir/loom.pb.h"
#include "ir/scalar.h"
#include "ir/serialize.h"
#include "ir/shape_rules.h"
#include "ir/verifier.h"

namespace loom::ir {
namespace {

namespace pb = ::loom::proto;
using Catch::Matchers::Contains;

// ---------------------------------------------------------------------------------------
// Building test modules

// Appends `op` with result types from the shape rules and the caller's source location.
Node* add(Function& fn, Op op, const std::vector<Value*>& operands, Attrs attrs = {},
          std::source_location where = std::source_location::current()) {
  std::vector<TensorType> operand_types;
  for (Value* v : operands)
    operand_types.push_back(v->type());
  std::vector<TensorType> types = infer_types(op, operand_types, attrs);
  return fn.append(op, operands, std::move(attrs), std::move(types), SourceLoc::from(where));
}

Value* add_value(Function& fn, Op op, const std::vector<Value*>& operands, Attrs attrs = {},
                 const std::string& name = "",
                 std::source_location where = std::source_location::current()) {
  Value* v = add(fn, op, operands, std::move(attrs), where)->result();
  v->set_name(name);
  return v;
}

Literal make_literal(DType dtype, Shape shape, const std::vector<double>& values) {
  TensorType type{dtype, std::move(shape)};
  std::vector<uint8_t> bytes(type.nbytes());
  for (size_t i = 0; i < values.size(); ++i)
    store_from_double(dtype, bytes.data(), static_cast<int64_t>(i), values[i]);
  return Literal(type, std::move(bytes));
}

Value* constant(Function& fn, const Literal& literal, const std::string& name = "") {
  return add_value(fn, Op::Constant, {}, {{"value", literal}}, name);
}

// Uses every attribute kind, module constants (shared and not), value names and a
// convolution and pooling (whose window attributes the mutation tests then corrupt).
void add_attribute_function(Module& m) {
  m.add_constant("fc.weight", make_literal(DType::F32, {3, 2}, {1, -2, 3.5, 4, 0.25, -6}));
  m.add_constant("unused.table", make_literal(DType::I32, {4}, {7, -8, 9, 2147483647}));
  Function& fn = *m.add_function("main");
  Value* x = fn.add_param("x", {DType::F32, {2, 3}}, SourceLoc{"model.py", 3, 7});
  Value* idx = fn.add_param("idx", {DType::I64, {2}});
  Value* img = fn.add_param("img", {DType::F32, {1, 1, 4, 4}});
  Value* filt = fn.add_param("filt", {DType::F32, {1, 1, 3, 3}});

  Value* w = constant(fn, *m.find_constant("fc.weight"), "w");
  Value* y = add_value(fn, Op::MatMul, {x, w}, {}, "y");
  Value* sum =
      add_value(fn, Op::ReduceSum, {y}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", true}});
  Value* padded = add_value(fn, Op::Pad, {x},
                            {{"pads_lo", std::vector<int64_t>{0, 1}},
                             {"pads_hi", std::vector<int64_t>{1, 0}},
                             {"value", 0.5}});
  Value* arg = add_value(fn, Op::ArgMax, {x}, {{"axis", int64_t{1}}, {"keepdims", false}});
  Value* as_float = add_value(fn, Op::Cast, {arg}, {{"dtype", DType::F32}}, "as_float");
  Value* flat = add_value(fn, Op::Reshape, {y}, {{"shape", std::vector<int64_t>{4}}});
  Value* two = constant(fn, Literal::scalar(DType::F32, 2.0));
  Value* scaled = add_value(fn, Op::Mul, {flat, two});
  Value* rows = add_value(fn, Op::Gather, {x, idx}, {{"axis", int64_t{0}}});
  // Attributes an op does not read still belong to the node and must survive.
  Value* both = add_value(fn, Op::Concat, {x, rows},
                          {{"axis", int64_t{0}}, {"note", std::string("bytes \xff\x00 ok", 12)}});
  Value* conv = add_value(fn, Op::Conv2D, {img, filt},
                          {{"strides", std::vector<int64_t>{1, 1}},
                           {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                           {"dilations", std::vector<int64_t>{1, 1}},
                           {"groups", int64_t{1}}});
  Value* pooled = add_value(fn, Op::MaxPool2D, {conv},
                            {{"kernel", std::vector<int64_t>{2, 2}},
                             {"strides", std::vector<int64_t>{2, 2}},
                             {"pads", std::vector<int64_t>{0, 0, 0, 0}},
                             {"ceil_mode", false}});
  Value* strided = add_value(fn, Op::Slice, {x},
                             {{"start", std::vector<int64_t>{0, 0}},
                              {"stop", std::vector<int64_t>{2, 3}},
                              {"step", std::vector<int64_t>{1, 2}}});
  Value* reversed = add_value(fn, Op::Slice, {x},
                              {{"start", std::vector<int64_t>{1, 2}},
                               {"stop", std::vector<int64_t>{-1, -1}},
                               {"step", std::vector<int64_t>{-1, -1}}});
  Value* transposed =
      add_value(fn, Op::Transpose, {reversed}, {{"perm", std::vector<int64_t>{1, 0}}});
  Value* counting = add_value(
      fn, Op::Iota, {},
      {{"shape", std::vector<int64_t>{3, 2}}, {"dtype", DType::I32}, {"axis", int64_t{1}}});
  Value* hot = add_value(fn, Op::OneHot, {idx}, {{"depth", int64_t{4}}, {"dtype", DType::F32}});
  Value* averaged = add_value(fn, Op::AvgPool2D, {img},
                              {{"kernel", std::vector<int64_t>{3, 3}},
                               {"strides", std::vector<int64_t>{2, 2}},
                               {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                               {"ceil_mode", true},
                               {"count_include_pad", false}});
  const std::vector<std::pair<std::string, Value*>> outputs = {{"y", y},
                                                               {"sum", sum},
                                                               {"padded", padded},
                                                               {"as_float", as_float},
                                                               {"scaled", scaled},
                                                               {"both", both},
                                                               {"pooled", pooled},
                                                               {"strided", strided},
                                                               {"hot", hot},
                                                               {"counting", counting},
                                                               {"transposed", transposed},
                                                               {"averaged", averaged}};
  for (const auto& [name, v] : outputs)
    fn.add_output(name, v);
}

const std::vector<double> kSpecialValues = {0.0,
                                            -0.0,
                                            1.5,
                                            -3.0,
                                            std::numeric_limits<double>::infinity(),
                                            -std::numeric_limits<double>::infinity(),
                                            std::numeric_limits<double>::quiet_NaN(),
                                            1e-8};

// A scalar, a [2,4] tensor of special values and an empty tensor of every dtype.
void add_literal_function(Module& m) {
  Function& fn = *m.add_function("literals");
  for (int d = 0; d < kNumDTypes; ++d) {
    DType dtype = static_cast<DType>(d);
    std::string name(dtype_name(dtype));
    std::vector<double> values = kSpecialValues;
    if (dtype == DType::Bool) values = {0, 1, 1, 0, 1, 0, 0, 1};
    fn.add_output(name + "_scalar", constant(fn, Literal::scalar(dtype, 1.0), name + "_scalar"));
    fn.add_output(name + "_matrix", constant(fn, make_literal(dtype, {2, 4}, values)));
    fn.add_output(name + "_empty", constant(fn, make_literal(dtype, {0, 3}, {})));
  }
}

// A training-step shape: outputs that update parameters in place.
void add_alias_function(Module& m) {
  Function& fn = *m.add_function("step");
  Value* w = fn.add_param("w", {DType::F32, {4}});
  Value* b = fn.add_param("b", {DType::F32, {}});
  Value* g = fn.add_param("g", {DType::F32, {4}});
  Value* lr = constant(fn, Literal::scalar(DType::F32, 0.1));
  Value* w_new = add_value(fn, Op::Sub, {w, add_value(fn, Op::Mul, {g, lr})});
  Value* b_new = add_value(fn, Op::Sub, {b, lr});
  fn.add_output("w_new", w_new);
  fn.add_output("b_new", b_new);
  fn.add_output("loss", add_value(fn, Op::ReduceSum, {g},
                                  {{"axes", std::vector<int64_t>{0}}, {"keepdims", false}}));
  fn.set_output_alias("w_new", "w");
  fn.set_output_alias("b_new", "b");
}

// A fusion body (a, b: f32[3]) -> (sum, negated); with depth > 1 the negation is itself
// a fusion of depth - 1.
std::unique_ptr<Function> make_fusion_body(Module& m, const std::string& name, int depth);

// A fusion node of `depth` levels over a and b, with two results.
Node* add_fusion(Module& m, Function& fn, Value* a, Value* b, const std::string& name, int depth) {
  std::unique_ptr<Function> body = make_fusion_body(m, name, depth);
  std::vector<TensorType> types;
  for (const Output& out : body->outputs())
    types.push_back(out.value->type());
  Node* fusion = fn.append(Op::Fusion, {a, b}, {{"kind", std::string("loop")}}, types,
                           SourceLoc{"fusion.cpp", 10, 2});
  fusion->set_body(std::move(body));
  return fusion;
}

std::unique_ptr<Function> make_fusion_body(Module& m, const std::string& name, int depth) {
  auto body = std::make_unique<Function>(name, &m);
  Value* a = body->add_param("a", {DType::F32, {3}});
  Value* b = body->add_param("b", {DType::F32, {3}});
  Value* sum = add_value(*body, Op::Add, {a, b}, {}, "sum");
  Value* negated = depth > 1 ? add_fusion(m, *body, sum, b, name + ".inner", depth - 1)->result(1)
                             : add_value(*body, Op::Neg, {sum});
  body->add_output("sum", sum);
  body->add_output("negated", negated);
  return body;
}

// Multi-result nodes and nested bodies.
void add_fusion_function(Module& m) {
  Function& fn = *m.add_function("fused");
  Value* x = fn.add_param("x", {DType::F32, {3}});
  Value* y = fn.add_param("y", {DType::F32, {3}});
  Node* fusion = add_fusion(m, fn, x, y, "fused.body", 2);
  fusion->result(1)->set_name("second");
  Value* scaled = add_value(fn, Op::Mul, {fusion->result(1), x});
  fn.add_output("scaled", scaled);
  fn.add_output("first", fusion->result(0));
}

std::unique_ptr<Module> make_full_module() {
  auto m = std::make_unique<Module>();
  add_attribute_function(*m);
  add_literal_function(*m);
  add_alias_function(*m);
  add_fusion_function(*m);
  verify(*m);
  return m;
}

// ---------------------------------------------------------------------------------------
// Comparing modules structurally (independent of any printer)

void require_same_function(const Function& a, const Function& b);

void require_same_node(const Node& a, const Node& b) {
  INFO("node " << a.name() << " at " << a.loc().str());
  REQUIRE(a.op() == b.op());
  REQUIRE(a.num_operands() == b.num_operands());
  for (int i = 0; i < a.num_operands(); ++i) {
    const Value *va = a.operand(i), *vb = b.operand(i);
    CHECK(va->def()->parent()->index_of(va->def()) == vb->def()->parent()->index_of(vb->def()));
    CHECK(va->result_index() == vb->result_index());
  }
  REQUIRE(a.num_results() == b.num_results());
  for (int r = 0; r < a.num_results(); ++r) {
    CHECK(a.result(r)->type() == b.result(r)->type());
    CHECK(a.result(r)->name() == b.result(r)->name());
  }
  CHECK(a.attrs() == b.attrs());
  CHECK(a.loc().file == b.loc().file);
  CHECK(a.loc().line == b.loc().line);
  CHECK(a.loc().column == b.loc().column);
  REQUIRE((a.body() == nullptr) == (b.body() == nullptr));
  if (a.body()) require_same_function(*a.body(), *b.body());
}

void require_same_function(const Function& a, const Function& b) {
  INFO("function @" << a.name());
  REQUIRE(a.name() == b.name());
  REQUIRE(a.params().size() == b.params().size());
  for (size_t i = 0; i < a.params().size(); ++i)
    CHECK(a.params()[i]->name() == b.params()[i]->name());
  REQUIRE(a.num_nodes() == b.num_nodes());
  for (int i = 0; i < a.num_nodes(); ++i)
    require_same_node(*a.nodes()[i], *b.nodes()[i]);
  REQUIRE(a.outputs().size() == b.outputs().size());
  for (size_t i = 0; i < a.outputs().size(); ++i) {
    CHECK(a.outputs()[i].name == b.outputs()[i].name);
    CHECK(a.index_of(a.outputs()[i].value->def()) == b.index_of(b.outputs()[i].value->def()));
  }
  CHECK(a.output_aliases() == b.output_aliases());
}

void require_same_module(const Module& a, const Module& b) {
  REQUIRE(a.constants().size() == b.constants().size());
  for (auto ia = a.constants().begin(), ib = b.constants().begin(); ia != a.constants().end();
       ++ia, ++ib) {
    CHECK(ia->first == ib->first);
    CHECK(ia->second.same_contents(ib->second));
  }
  REQUIRE(a.functions().size() == b.functions().size());
  for (size_t i = 0; i < a.functions().size(); ++i)
    require_same_function(*a.functions()[i], *b.functions()[i]);
}

const Literal& literal_of(const Module& m, const std::string& fn, int node) {
  return m.find_function(fn)->nodes().at(node)->attrs().get_literal("constant", "value");
}

// ---------------------------------------------------------------------------------------
// Round trips

TEST_CASE("serialize -> deserialize -> serialize is byte-identical and keeps the module",
          "[serialize]") {
  auto original = make_full_module();
  std::string bytes = serialize_module(*original);
  auto copy = deserialize_module(bytes, "copy.loompb");
  require_same_module(*original, *copy);
  CHECK(serialize_module(*copy) == bytes);
}

TEST_CASE("serialization is deterministic across separately built modules", "[serialize]") {
  CHECK(serialize_module(*make_full_module()) == serialize_module(*make_full_module()));
}

TEST_CASE("literals of every dtype survive bit for bit", "[serialize]") {
  auto original = make_full_module();
  auto copy = deserialize_module(serialize_module(*original));
  const Function& a = *original->find_function("literals");
  const Function& b = *copy->find_function("literals");
  REQUIRE(a.num_nodes() == 3 * kNumDTypes);
  for (int i = 0; i < a.num_nodes(); ++i) {
    const Literal& la = a.nodes()[i]->attrs().get_literal("constant", "value");
    const Literal& lb = b.nodes()[i]->attrs().get_literal("constant", "value");
    INFO(la.type().str());
    REQUIRE(la.type() == lb.type());
    REQUIRE(la.nbytes() == lb.nbytes());
    // memcmp, not ==: NaN payloads and -0.0 must be kept exactly.
    if (la.nbytes() > 0) CHECK(std::memcmp(la.data(), lb.data(), la.nbytes()) == 0);
  }
}

TEST_CASE("a literal sharing a module constant's buffer is written once and stays shared",
          "[serialize]") {
  auto original = make_full_module();
  std::string bytes = serialize_module(*original);
  pb::Module proto;
  REQUIRE(proto.ParseFromString(bytes));
  const pb::Attribute& weight = proto.functions(0).nodes(4).attributes(0);
  CHECK(weight.literal_value().constant() == "fc.weight");
  const pb::Attribute& two = proto.functions(0).nodes(11).attributes(0);
  CHECK(two.literal_value().has_data());

  auto copy = deserialize_module(bytes);
  CHECK(literal_of(*copy, "main", 4).identity() == copy->find_constant("fc.weight")->identity());
  CHECK(literal_of(*copy, "main", 11).identity() != copy->find_constant("fc.weight")->identity());
}

TEST_CASE("an equal but separate literal is written inline, not as a reference", "[serialize]") {
  Module m;
  Literal weight = make_literal(DType::F32, {2}, {1, 2});
  m.add_constant("weight", weight);
  Function& fn = *m.add_function("main");
  fn.add_output("copy", constant(fn, make_literal(DType::F32, {2}, {1, 2})));
  auto copy = deserialize_module(serialize_module(m));
  CHECK(literal_of(*copy, "main", 0).identity() != copy->find_constant("weight")->identity());
  CHECK(literal_of(*copy, "main", 0).same_contents(weight));
}

TEST_CASE("values of multi-result nodes are numbered result by result", "[serialize]") {
  auto original = make_full_module();
  pb::Module proto;
  REQUIRE(proto.ParseFromString(serialize_module(*original)));
  const pb::Function& fused = proto.functions(3);
  REQUIRE(fused.name() == "fused");
  // x is value 0, y is 1, the fusion's results are 2 and 3, the mul's result is 4.
  REQUIRE(fused.nodes(2).results_size() == 2);
  CHECK(fused.nodes(2).results(1).name() == "second");
  CHECK(fused.nodes(3).operands(0) == 3);
  CHECK(fused.outputs(0).value() == 4);
  CHECK(fused.outputs(1).value() == 2);
  // The body numbers its own values from 0.
  CHECK(fused.nodes(2).body().outputs(0).value() == 2);
  CHECK(fused.nodes(2).body().nodes(3).body().name() == "fused.body.inner");
}

TEST_CASE("IR that cannot be written gives a serialization error", "[serialize]") {
  Module m;
  Function& fn = *m.add_function("main");
  fn.add_output("bad", constant(fn, Literal()));
  try {
    serialize_module(m);
    FAIL("a literal without data was written");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::SerializationError);
    CHECK_THAT(e.message(), Contains("literal has no data"));
  }
}

// ---------------------------------------------------------------------------------------
// Bad content in well-formed protobufs

// main(x: f32[2]) { %0 = constant {value = @c}; %1 = add(%x, %0); return %1 } with a
// module constant @c and a source location on the add.
pb::Module small_proto() {
  Module m;
  m.add_constant("c", make_literal(DType::F32, {2}, {1, 2}));
  Function& fn = *m.add_function("main");
  Value* x = fn.add_param("x", {DType::F32, {2}});
  Value* c = constant(fn, *m.find_constant("c"));
  fn.add_output("out", add_value(fn, Op::Add, {x, c}));
  pb::Module proto;
  REQUIRE(proto.ParseFromString(serialize_module(m)));
  return proto;
}

// The message of the SerializationError that deserializing `proto` must give.
std::string error_of(const pb::Module& proto) {
  std::string bytes;
  REQUIRE(proto.SerializeToString(&bytes));
  try {
    deserialize_module(bytes, "bad.loompb");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::SerializationError);
    CHECK_THAT(e.message(), Catch::Matchers::StartsWith("bad.loompb: "));
    return e.message();
  }
  FAIL("bad content was accepted");
  return "";
}

TEST_CASE("bad content gives a serialization error saying what is wrong", "[serialize]") {
  pb::Module proto = small_proto();
  pb::Function& fn = *proto.mutable_functions(0);
  pb::Node& constant_node = *fn.mutable_nodes(1);
  pb::Node& add_node = *fn.mutable_nodes(2);
  auto inline_literal = [&]() -> pb::TensorData& {
    return *constant_node.mutable_attributes(0)->mutable_literal_value()->mutable_data();
  };

  SECTION("the small module itself is valid") {
    CHECK_NOTHROW(deserialize_module(proto.SerializeAsString()));
  }
  SECTION("missing format version") {
    proto.clear_format_version();
    CHECK_THAT(error_of(proto), Contains("no format version"));
  }
  SECTION("newer format version") {
    proto.set_format_version(7);
    CHECK_THAT(error_of(proto), Contains("unsupported .loompb format version 7"));
  }
  SECTION("unknown op") {
    add_node.set_op("frobnicate");
    CHECK_THAT(error_of(proto), Contains("node #2: unknown op \"frobnicate\""));
  }
  SECTION("wrong operand count") {
    add_node.mutable_operands()->RemoveLast();
    CHECK_THAT(error_of(proto), Contains("add takes 2 operands, got 1"));
  }
  SECTION("variadic op without operands") {
    add_node.set_op("concat");
    add_node.clear_operands();
    CHECK_THAT(error_of(proto), Contains("concat takes") && Contains("operands, got 0"));
  }
  SECTION("operand out of range") {
    add_node.set_operands(1, 1000);
    CHECK_THAT(error_of(proto),
               Contains("add operand 1 refers to value #1000, but the function has only 3 values"));
  }
  SECTION("operand referring forward") {
    add_node.set_operands(0, 2);
    CHECK_THAT(error_of(proto), Contains("defined later"));
  }
  SECTION("output out of range") {
    fn.mutable_outputs(0)->set_value(3);
    CHECK_THAT(error_of(proto), Contains("output \"out\" refers to value #3"));
  }
  SECTION("negative dimension") {
    add_node.mutable_results(0)->mutable_type()->set_dims(0, -2);
    CHECK_THAT(error_of(proto), Contains("negative dimension"));
  }
  SECTION("enormous dimensions") {
    pb::TensorType& type = *add_node.mutable_results(0)->mutable_type();
    type.set_dims(0, int64_t{1} << 40);
    type.add_dims(int64_t{1} << 40);
    CHECK_THAT(error_of(proto), Contains("too many elements"));
  }
  SECTION("unknown dtype number") {
    add_node.mutable_results(0)->mutable_type()->set_dtype(static_cast<pb::DType>(99));
    CHECK_THAT(error_of(proto), Contains("unknown dtype number 99"));
  }
  SECTION("missing dtype") {
    add_node.mutable_results(0)->clear_type();
    CHECK_THAT(error_of(proto), Contains("missing dtype"));
  }
  SECTION("literal byte count not matching its type") {
    *inline_literal().mutable_type() = proto.constants(0).value().type();
    inline_literal().set_data(std::string(7, '\0'));
    CHECK_THAT(error_of(proto), Contains("literal of type f32[2] needs 8 bytes, has 7"));
  }
  SECTION("literal of absurd size with little data allocates nothing") {
    inline_literal().mutable_type()->set_dtype(pb::DTYPE_F64);
    inline_literal().mutable_type()->add_dims(int64_t{1} << 39);
    inline_literal().set_data("12345678");
    CHECK_THAT(error_of(proto), Contains("needs 4398046511104 bytes, has 8"));
  }
  SECTION("bool literal byte that is not 0 or 1") {
    inline_literal().mutable_type()->set_dtype(pb::DTYPE_BOOL);
    inline_literal().mutable_type()->add_dims(2);
    inline_literal().set_data(std::string("\x01\x02", 2));
    CHECK_THAT(error_of(proto), Contains("bool literal element 1 is byte 2"));
  }
  SECTION("reference to a missing constant") {
    constant_node.mutable_attributes(0)->mutable_literal_value()->set_constant("nope");
    CHECK_THAT(error_of(proto), Contains("unknown module constant @nope"));
  }
  SECTION("literal with neither data nor reference") {
    constant_node.mutable_attributes(0)->mutable_literal_value()->clear_source();
    CHECK_THAT(error_of(proto), Contains("literal without data or constant reference"));
  }
  SECTION("attribute without value") {
    constant_node.mutable_attributes(0)->clear_value();
    CHECK_THAT(error_of(proto), Contains("attribute \"value\" has no value"));
  }
  SECTION("unknown dtype in a dtype attribute") {
    pb::Attribute& attr = *add_node.add_attributes();
    attr.set_name("dtype");
    attr.set_dtype_value(static_cast<pb::DType>(-5));
    CHECK_THAT(error_of(proto), Contains("unknown dtype number -5"));
  }
  SECTION("duplicate attribute") {
    *constant_node.add_attributes() = constant_node.attributes(0);
    CHECK_THAT(error_of(proto), Contains("duplicate attribute \"value\""));
  }
  SECTION("duplicate function") {
    *proto.add_functions() = proto.functions(0);
    CHECK_THAT(error_of(proto), Contains("duplicate function @main"));
  }
  SECTION("duplicate constant") {
    *proto.add_constants() = proto.constants(0);
    CHECK_THAT(error_of(proto), Contains("duplicate module constant @c"));
  }
  SECTION("duplicate output alias") {
    for (int i = 0; i < 2; ++i) {
      pb::OutputAlias& alias = *fn.add_output_aliases();
      alias.set_output("out");
      alias.set_param("x");
    }
    CHECK_THAT(error_of(proto), Contains("output \"out\" has two aliases"));
  }
  SECTION("duplicate output name (found by the verifier)") {
    *fn.add_outputs() = fn.outputs(0);
    CHECK_THAT(error_of(proto), Contains("duplicate output name 'out'"));
  }
  SECTION("result type the shape rule disagrees with (found by the verifier)") {
    add_node.mutable_results(0)->mutable_type()->set_dims(0, 3);
    CHECK_THAT(error_of(proto), Contains("the op's shape rule gives f32[2]"));
  }
  SECTION("parameter after other nodes") {
    *fn.add_nodes() = fn.nodes(0);
    fn.mutable_nodes(3)->mutable_results(0)->set_name("late");
    CHECK_THAT(error_of(proto), Contains("node #3: parameter after other nodes"));
  }
  SECTION("parameter with attributes") {
    *fn.mutable_nodes(0)->add_attributes() = constant_node.attributes(0);
    CHECK_THAT(error_of(proto), Contains("parameter must have no attributes and no body"));
  }
  SECTION("source file index out of range") {
    add_node.mutable_loc()->set_file(5);
    CHECK_THAT(error_of(proto), Contains("source file #5 out of range"));
  }
  SECTION("errors inside a nested body say so") {
    pb::Function& body = *add_node.mutable_body();
    body.set_name("inner");
    *body.add_nodes() = fn.nodes(2);
    CHECK_THAT(error_of(proto),
               Contains("node #2: body: node #0: add operand 0 refers to value #0"));
  }
}

TEST_CASE("bodies nest up to 32 deep", "[serialize]") {
  auto nested_module = [](int depth) {
    auto m = std::make_unique<Module>();
    Function& fn = *m->add_function("deep");
    Value* x = fn.add_param("x", {DType::F32, {3}});
    fn.add_output("out", add_fusion(*m, fn, x, x, "level", depth)->result(0));
    return m;
  };
  auto deepest = nested_module(32);
  std::string bytes = serialize_module(*deepest);
  CHECK(serialize_module(*deserialize_module(bytes)) == bytes);
  CHECK_THROWS_WITH(serialize_module(*nested_module(33)),
                    Contains("bodies nested more than 32 deep"));

  // A reader meeting a hand-made file that nests deeper says so.
  pb::Module proto;
  REQUIRE(proto.ParseFromString(bytes));
  pb::Function* level = proto.mutable_functions(0)->mutable_nodes(1)->mutable_body();
  while (level->nodes(3).has_body())
    level = level->mutable_nodes(3)->mutable_body();
  pb::Function deepest_body = *level;
  *level->mutable_nodes(3)->mutable_body() = deepest_body;
  CHECK_THAT(error_of(proto), Contains("bodies nested more than 32 deep"));
}

// ---------------------------------------------------------------------------------------
// Robustness against arbitrary bytes. Every input must give a verified module or a
// SerializationError; a crash or another exception fails (and sanitizers watch the rest).

struct Outcome {
  int accepted = 0;
  int rejected = 0;
};

void deserialize_or_reject(std::string_view bytes, Outcome& outcome) {
  std::unique_ptr<Module> module;
  try {
    module = deserialize_module(bytes, "fuzz.loompb");
  } catch (const Error& e) {
    if (e.code() != ErrorCode::SerializationError) FAIL("unexpected error code: " << e.what());
    ++outcome.rejected;
    return;
  }
  ++outcome.accepted;
  // Whatever was accepted is a proper module: it writes and reads back to the same bytes.
  std::string again = serialize_module(*module);
  REQUIRE(serialize_module(*deserialize_module(again)) == again);
}

TEST_CASE("every truncated prefix of a valid file is rejected or read, never a crash",
          "[serialize][fuzz]") {
  std::string bytes = serialize_module(*make_full_module());
  Outcome outcome;
  for (size_t length = 0; length < bytes.size(); ++length)
    deserialize_or_reject(std::string_view(bytes).substr(0, length), outcome);
  CHECK(outcome.rejected > 0);
  CHECK(outcome.accepted + outcome.rejected == static_cast<int>(bytes.size()));
}

TEST_CASE("random byte strings are rejected or read, never a crash", "[serialize][fuzz]") {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> length_dist(0, 256), byte_dist(0, 255);
  Outcome outcome;
  for (int i = 0; i < 4000; ++i) {
    std::string bytes(static_cast<size_t>(length_dist(rng)), '\0');
    for (char& c : bytes)
      c = static_cast<char>(byte_dist(rng));
    // Half of them start like a real file, so that parsing gets further in.
    if (i % 2) bytes.insert(0, "\x08\x01");
    deserialize_or_reject(bytes, outcome);
  }
  CHECK(outcome.rejected > 0);
}

TEST_CASE("single-byte mutations of a valid file are rejected or read, never a crash",
          "[serialize][fuzz]") {
  std::string valid = serialize_module(*make_full_module());
  std::mt19937 rng(5678);
  std::uniform_int_distribution<size_t> position_dist(0, valid.size() - 1);
  std::uniform_int_distribution<int> byte_dist(0, 255);
  Outcome outcome;
  for (int i = 0; i < 4000; ++i) {
    std::string bytes = valid;
    bytes[position_dist(rng)] = static_cast<char>(byte_dist(rng));
    deserialize_or_reject(bytes, outcome);
  }
  // Changes inside constant data or names keep the file valid; structural ones do not.
  CHECK(outcome.accepted > 0);
  CHECK(outcome.rejected > 0);
}

TEST_CASE("extreme integer attributes and dims are rejected or read, never a crash",
          "[serialize][fuzz]") {
  // Byte mutations rarely produce huge varints; these reach the shape rules' arithmetic.
  const int64_t extremes[] = {std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max(), -1, int64_t{1} << 40,
                              int64_t{1} << 62};
  pb::Module valid;
  REQUIRE(valid.ParseFromString(serialize_module(*make_full_module())));
  Outcome outcome;
  auto try_variant = [&](auto&& mutate) {
    pb::Module proto = valid;
    mutate(proto);
    deserialize_or_reject(proto.SerializeAsString(), outcome);
  };
  const pb::Function& main = valid.functions(0);
  for (int n = 0; n < main.nodes_size(); ++n) {
    for (int64_t extreme : extremes) {
      for (int a = 0; a < main.nodes(n).attributes_size(); ++a) {
        const pb::Attribute& attr = main.nodes(n).attributes(a);
        auto attr_of = [n, a](pb::Module& p) {
          return p.mutable_functions(0)->mutable_nodes(n)->mutable_attributes(a);
        };
        if (attr.has_int_value())
          try_variant([&](pb::Module& p) { attr_of(p)->set_int_value(extreme); });
        for (int i = 0; attr.has_ints_value() && i < attr.ints_value().values_size(); ++i)
          try_variant(
              [&](pb::Module& p) { attr_of(p)->mutable_ints_value()->set_values(i, extreme); });
      }
      for (int d = 0;
           main.nodes(n).results_size() > 0 && d < main.nodes(n).results(0).type().dims_size(); ++d)
        try_variant([&](pb::Module& p) {
          p.mutable_functions(0)->mutable_nodes(n)->mutable_results(0)->mutable_type()->set_dims(
              d, extreme);
        });
    }
  }
  CHECK(outcome.rejected > 0);
}

// ---------------------------------------------------------------------------------------
// Files

class TempDir {
public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("loom-test-serialize-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

ErrorCode error_code_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.code();
  }
  FAIL("no error");
  return ErrorCode::Internal;
}

TEST_CASE("module files are read and written by extension", "[serialize]") {
  TempDir dir;
  auto original = make_full_module();

  SECTION(".loompb and .pb are protobuf") {
    write_module_file(*original, dir.file("m.loompb"));
    auto copy = read_module_file(dir.file("m.loompb"));
    require_same_module(*original, *copy);
    std::filesystem::copy_file(dir.file("m.loompb"), dir.file("m.pb"));
    CHECK(serialize_module(*read_module_file(dir.file("m.pb"))) == serialize_module(*original));
  }
  SECTION(".loom is text") {
    write_module_file(*original, dir.file("m.loom"));
    std::ifstream in(dir.file("m.loom"));
    std::string first_word;
    in >> first_word;
    CHECK(first_word == "const");
    auto copy = read_module_file(dir.file("m.loom"));
    CHECK(copy->find_function("step")->output_aliases() ==
          original->find_function("step")->output_aliases());
  }
  SECTION("a damaged .loompb file names the file") {
    std::ofstream(dir.file("bad.loompb"), std::ios::binary) << "\x08\x01\x22\xff";
    CHECK_THROWS_WITH(read_module_file(dir.file("bad.loompb")), Contains(dir.file("bad.loompb")));
    CHECK(error_code_of([&] { read_module_file(dir.file("bad.loompb")); }) ==
          ErrorCode::SerializationError);
  }
  SECTION("unreadable and unwritable paths are IO errors") {
    CHECK(error_code_of([&] { read_module_file(dir.file("missing.loompb")); }) ==
          ErrorCode::IOError);
    std::filesystem::create_directory(dir.file("dir.loompb"));
    CHECK(error_code_of([&] { read_module_file(dir.file("dir.loompb")); }) == ErrorCode::IOError);
    CHECK(error_code_of([&] { write_module_file(*original, dir.file("no/such/dir/m.loompb")); }) ==
          ErrorCode::IOError);
  }
  SECTION("other extensions are refused") {
    CHECK(error_code_of([&] { write_module_file(*original, dir.file("m.onnx")); }) ==
          ErrorCode::InvalidArgument);
    CHECK(error_code_of([&] { read_module_file(dir.file("m")); }) == ErrorCode::InvalidArgument);
  }
}

} // namespace
} // namespace loom::ir
