// The .loom text format: print -> parse -> print is the identity for every op, every
// attribute kind, quoted names, constants, aliases, multi-result nodes and regions.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "ir/builder.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/scalar.h"
#include "tests/support/test_support.h"

using namespace loom;
using namespace loom::ir;

namespace {

TensorType F32(Shape shape) { return {DType::F32, std::move(shape)}; }

// Prints, parses and prints again (with and without locations); both prints must agree.
// Returns the parsed copy.
std::unique_ptr<Module> round_trip(const Module& module, const ParseOptions& parse = {}) {
  std::string text = print_module(module);
  INFO("printed:\n" << text);
  std::unique_ptr<Module> copy = parse_module(text, "round_trip.loom", parse);
  REQUIRE(print_module(*copy) == text);

  PrintOptions with_locations;
  with_locations.print_locations = true;
  std::string located = print_module(module, with_locations);
  INFO("printed with locations:\n" << located);
  REQUIRE(print_module(*parse_module(located, "located.loom", parse), with_locations) == located);
  return copy;
}

// A module whose function "f" has parameters of the given types named p0, p1, ...
struct TestModule {
  std::unique_ptr<Module> module = std::make_unique<Module>();
  Function* fn = module->add_function("f");
  Builder b{*fn};
  std::vector<Value*> params;

  explicit TestModule(const std::vector<TensorType>& param_types = {}) {
    for (size_t i = 0; i < param_types.size(); ++i)
      params.push_back(fn->add_param("p" + std::to_string(i), param_types[i]));
  }
};

template <typename T> Literal literal_from(DType dtype, Shape shape, const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return Literal(TensorType{dtype, std::move(shape)}, std::move(bytes));
}

const Literal& only_constant_value(const Function& fn) {
  for (const auto& node : fn.nodes())
    if (node->op() == Op::Constant) return node->attrs().get_literal("constant", "value");
  FAIL("no constant node");
  throw std::logic_error("unreachable");
}

bool same_bytes(const Literal& a, const Literal& b) {
  return a.type() == b.type() && a.nbytes() == b.nbytes() &&
         (a.nbytes() == 0 || std::memcmp(a.data(), b.data(), a.nbytes()) == 0);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST_CASE("the format example parses and prints back unchanged", "[text]") {
  const std::string text = R"(const @fc1.weight : f32[2,2] = dense<[1.0, 2.0, 3.0, 4.0]>

func @main(%A: f32[10], %B: f32[10]) -> (D: f32[10]) {
  %C = mul(%B, %A) : f32[10]
  %0 = constant() {value = dense<[1.0]> : f32[]} : f32[]
  %1 = constant() {value = @fc1.weight} : f32[2,2]
  %D = add(%C, %0) : f32[10]
  %2 = reduce_sum(%D) {axes = [0], keepdims = false} : f32[]
  return %D
}
)";
  auto module = parse_module(text, "example.loom");
  CHECK(print_module(*module) == text);

  const Function& fn = *module->find_function("main");
  REQUIRE(fn.params().size() == 2);
  CHECK(fn.params()[0]->name() == "A");
  CHECK(fn.nodes()[2]->op() == Op::Mul);
  CHECK(fn.nodes()[2]->operand(0) == fn.params()[1]);
  CHECK(fn.nodes()[3]->result()->name().empty()); // %0 is unnamed
  CHECK(fn.outputs()[0].name == "D");
  CHECK(fn.outputs()[0].value->name() == "D");
  // The constant node shares the module constant's bytes.
  CHECK(fn.nodes()[4]->attrs().get_literal("constant", "value").identity() ==
        module->find_constant("fc1.weight")->identity());
}

TEST_CASE("every op round-trips", "[text]") {
  TestModule t({F32({2, 3}),
                F32({2, 3}),
                {DType::Bool, {2, 3}},
                {DType::I64, {}},
                F32({1, 2, 4, 4}),
                F32({2, 2, 3, 3}),
                {DType::I32, {2}}});
  auto [x, y, cond, seed, image, filter, indices] = std::tuple{
      t.params[0], t.params[1], t.params[2], t.params[3], t.params[4], t.params[5], t.params[6]};
  Builder& b = t.b;

  b.constant(Literal::scalar(DType::F32, 1.5));
  b.op(Op::Iota, {},
       {{"shape", std::vector<int64_t>{2, 3}}, {"dtype", DType::I32}, {"axis", int64_t{1}}});
  b.op(Op::RandomUniform, {seed}, {{"shape", std::vector<int64_t>{2, 2}}, {"dtype", DType::F32}});
  b.op(Op::RandomNormal, {seed}, {{"shape", std::vector<int64_t>{2}}, {"dtype", DType::F64}});
  // Every UNARY_OP and BINARY_OP of the table (a new one needs no edit here).
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    if (!has_trait(op, kElementwise) || op == Op::Cast || op == Op::Select) continue;
    Value* operand = has_trait(op, kLogical) ? cond : x;
    if (has_trait(op, kUnary)) b.op(op, {operand});
    if (has_trait(op, kBinary)) b.op(op, {operand, has_trait(op, kLogical) ? cond : y});
  }
  b.op(Op::Cast, {x}, {{"dtype", DType::I32}});
  b.op(Op::Select, {cond, x, y});
  for (Op op : {Op::ReduceSum, Op::ReduceMax, Op::ReduceMin, Op::ReduceProd})
    b.op(op, {x}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", op == Op::ReduceSum}});
  b.op(Op::ArgMax, {x}, {{"axis", int64_t{0}}, {"keepdims", false}});
  b.op(Op::ArgMin, {x}, {{"axis", int64_t{1}}, {"keepdims", true}});
  Value* y_t = b.op(Op::Transpose, {y}, {{"perm", std::vector<int64_t>{1, 0}}});
  b.op(Op::MatMul, {x, y_t});
  b.op(Op::Reshape, {x}, {{"shape", std::vector<int64_t>{3, 2}}});
  b.op(Op::BroadcastTo, {x}, {{"shape", std::vector<int64_t>{4, 2, 3}}});
  b.op(Op::Slice, {x},
       {{"start", std::vector<int64_t>{0, 2}},
        {"stop", std::vector<int64_t>{2, 0}},
        {"step", std::vector<int64_t>{1, -1}}});
  b.op(Op::Concat, {x, y, x}, {{"axis", int64_t{0}}});
  b.op(Op::Pad, {x},
       {{"pads_lo", std::vector<int64_t>{0, 1}},
        {"pads_hi", std::vector<int64_t>{1, 0}},
        {"value", -std::numeric_limits<double>::infinity()}});
  Value* gathered = b.op(Op::Gather, {x, indices}, {{"axis", int64_t{1}}});
  b.op(Op::ScatterAdd, {x, indices, gathered}, {{"axis", int64_t{1}}});
  b.op(Op::OneHot, {indices}, {{"depth", int64_t{4}}, {"dtype", DType::F32}});

  Attrs conv{{"strides", std::vector<int64_t>{1, 1}},
             {"pads", std::vector<int64_t>{1, 1, 1, 1}},
             {"dilations", std::vector<int64_t>{1, 1}},
             {"groups", int64_t{1}}};
  Value* conv_out = b.op(Op::Conv2D, {image, filter}, conv);
  Attrs backprop_input = conv;
  backprop_input.set("input_shape", std::vector<int64_t>{1, 2, 4, 4});
  b.op(Op::Conv2DBackpropInput, {conv_out, filter}, backprop_input);
  Attrs backprop_filter = conv;
  backprop_filter.set("filter_shape", std::vector<int64_t>{2, 2, 3, 3});
  b.op(Op::Conv2DBackpropFilter, {image, conv_out}, backprop_filter);

  Attrs pool{{"kernel", std::vector<int64_t>{2, 2}},
             {"strides", std::vector<int64_t>{2, 2}},
             {"pads", std::vector<int64_t>{0, 0, 0, 0}},
             {"ceil_mode", false}};
  Value* pooled = b.op(Op::MaxPool2D, {image}, pool);
  b.op(Op::MaxPool2DGrad, {image, pooled}, pool);
  Attrs avg_pool = pool;
  avg_pool.set("count_include_pad", true);
  Value* averaged = b.op(Op::AvgPool2D, {image}, avg_pool);
  avg_pool.set("input_shape", std::vector<int64_t>{1, 2, 4, 4});
  Value* avg_grad = b.op(Op::AvgPool2DGrad, {averaged}, avg_pool);
  t.fn->add_output("out", avg_grad);

  // A fusion group (the one op with several results): its body takes the operands and
  // returns the results.
  auto body = std::make_unique<Function>("fused", t.module.get());
  Builder body_builder(*body);
  Value* sum = body_builder.op(
      Op::Add, {body->add_param("a", F32({2, 3})), body->add_param("b", F32({2, 3}))});
  body->add_output("sum", sum);
  body->add_output("square", body_builder.op(Op::Mul, {sum, sum}));
  Node* fusion =
      t.fn->append(Op::Fusion, {x, y}, {{"kind", std::string("loop")}}, {F32({2, 3}), F32({2, 3})});
  fusion->set_body(std::move(body));
  t.fn->add_output("fused", fusion->result(1));

  std::set<Op> covered;
  for (const auto& node : t.fn->nodes())
    covered.insert(node->op());
  CHECK(covered.size() == static_cast<size_t>(kNumOps)); // parameter included

  auto copy = round_trip(*t.module);
  const Function& parsed = *copy->find_function("f");
  REQUIRE(parsed.num_nodes() == t.fn->num_nodes());
  for (int i = 0; i < parsed.num_nodes(); ++i) {
    const Node& original = *t.fn->nodes()[i];
    const Node& reparsed = *parsed.nodes()[i];
    INFO("node " << i << " " << original.name());
    CHECK(reparsed.op() == original.op());
    CHECK(reparsed.attrs() == original.attrs());
    REQUIRE(reparsed.num_results() == original.num_results());
    for (int r = 0; r < original.num_results(); ++r)
      CHECK(reparsed.result(r)->type() == original.result(r)->type());
    CHECK((reparsed.body() != nullptr) == (original.body() != nullptr));
  }
}

TEST_CASE("attributes of every kind round-trip exactly", "[text]") {
  TestModule t({F32({2})});
  const std::vector<double> floats = {0.1,
                                      -0.0,
                                      100.0,
                                      1e300,
                                      5e-324,
                                      -2.5e-10,
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity()};
  const std::vector<std::string> strings = {"",
                                            "plain",
                                            "with \"quotes\" and \\",
                                            "tab\tnew\nline\r",
                                            std::string("nul\0byte", 8),
                                            "\x01\x7f\xff",
                                            "caf\xc3\xa9"};
  Attrs attrs;
  for (size_t i = 0; i < floats.size(); ++i)
    attrs.set("float" + std::to_string(i), floats[i]);
  for (size_t i = 0; i < strings.size(); ++i)
    attrs.set("string" + std::to_string(i), strings[i]);
  attrs.set("int_min", std::numeric_limits<int64_t>::min());
  attrs.set("int_max", std::numeric_limits<int64_t>::max());
  attrs.set("int_zero", int64_t{0});
  attrs.set("nan", std::numeric_limits<double>::quiet_NaN());
  attrs.set("yes", true);
  attrs.set("no", false);
  attrs.set("ints", std::vector<int64_t>{-3, 0, 7});
  attrs.set("ints_empty", std::vector<int64_t>{});
  for (int i = 0; i < kNumDTypes; ++i)
    attrs.set("dtype" + std::to_string(i), static_cast<DType>(i));
  attrs.set("literal", Literal::filled(F32({2, 2}), 0.25));
  attrs.set("quoted key!", int64_t{1});
  // The verifier ignores attributes an op does not read, so one node can carry them all.
  t.fn->add_output("out", t.b.op(Op::Neg, {t.params[0]}, attrs));

  auto copy = round_trip(*t.module);
  const Attrs& parsed = copy->find_function("f")->nodes()[1]->attrs();
  CHECK(parsed.items().size() == attrs.items().size());
  for (size_t i = 0; i < floats.size(); ++i) {
    double value = parsed.get_float("neg", "float" + std::to_string(i));
    CHECK(std::bit_cast<uint64_t>(value) == std::bit_cast<uint64_t>(floats[i]));
  }
  for (size_t i = 0; i < strings.size(); ++i)
    CHECK(parsed.get_string("neg", "string" + std::to_string(i)) == strings[i]);
  CHECK(std::isnan(parsed.get_float("neg", "nan")));
  CHECK(parsed.get_int("neg", "int_min") == std::numeric_limits<int64_t>::min());
  CHECK(parsed.get_ints("neg", "ints_empty").empty());
  CHECK(parsed.get_dtype("neg", "dtype3") == DType::BF16);
  CHECK(parsed.get_int("neg", "quoted key!") == 1);
  // Everything except the NaN compares equal (NaN != NaN).
  Attrs without_nan = parsed;
  without_nan.erase("nan");
  attrs.erase("nan");
  CHECK(without_nan == attrs);
}

TEST_CASE("attribute spelling", "[text]") {
  TestModule t({F32({2})});
  t.fn->add_output("out", t.b.op(Op::Neg, {t.params[0]},
                                 {{"f", 3.0},
                                  {"e", 1e20},
                                  {"i", int64_t{-4}},
                                  {"s", std::string("a\"b")},
                                  {"l", std::vector<int64_t>{1, 2}},
                                  {"d", DType::BF16}}));
  CHECK(print_module(*t.module) == "func @f(%p0: f32[2]) -> (out: f32[2]) {\n"
                                   "  %0 = neg(%p0) {d = bf16, e = 1e+20, f = 3.0, i = -4, l = [1, "
                                   "2], s = \"a\\\"b\"} : f32[2]\n"
                                   "  return %0\n"
                                   "}\n");
}

TEST_CASE("inline literals of every dtype round-trip bit for bit", "[text]") {
  const float f32_nan = std::numeric_limits<float>::quiet_NaN();
  const float f32_inf = std::numeric_limits<float>::infinity();
  std::vector<Literal> literals = {
      literal_from<float>(DType::F32, {7},
                          {0.1f, -0.0f, 3.0f, 1e-45f, 3.4028235e38f, f32_inf, f32_nan}),
      literal_from<double>(DType::F64, {3}, {0.1, 5e-324, -1e300}),
      literal_from<Half>(DType::F16, {4},
                         {Half(0.1f), Half(65504.0f), Half(6e-8f), Half(-f32_inf)}),
      literal_from<BFloat16>(DType::BF16, {3},
                             {BFloat16(0.1f), BFloat16(3e38f), BFloat16(f32_nan)}),
      literal_from<int8_t>(DType::I8, {2}, {-128, 127}),
      literal_from<int32_t>(DType::I32, {2}, {std::numeric_limits<int32_t>::min(), 42}),
      literal_from<int64_t>(DType::I64, {2}, {std::numeric_limits<int64_t>::min(), -1}),
      literal_from<uint8_t>(DType::Bool, {2, 1}, {1, 0}),
      literal_from<float>(DType::F32, {0, 3}, {}),
  };
  for (const Literal& literal : literals) {
    INFO(literal.type().str());
    TestModule t;
    t.fn->add_output("out", t.b.constant(literal));
    auto copy = round_trip(*t.module);
    CHECK(same_bytes(only_constant_value(*copy->find_function("f")), literal));
    CHECK(print_module(*t.module).find("dense<[") != std::string::npos);
  }
}

TEST_CASE("literal spelling", "[text]") {
  TestModule t;
  t.fn->add_output("a", t.b.constant(literal_from<float>(DType::F32, {2}, {1.0f, -2.5f})));
  t.fn->add_output("b", t.b.constant(literal_from<uint8_t>(DType::Bool, {}, {1})));
  t.fn->add_output("c", t.b.constant(literal_from<float>(DType::F32, {0}, {})));
  CHECK(print_module(*t.module) ==
        "func @f() -> (a: f32[2], b: bool[], c: f32[0]) {\n"
        "  %0 = constant() {value = dense<[1.0, -2.5]> : f32[2]} : f32[2]\n"
        "  %1 = constant() {value = dense<[true]> : bool[]} : bool[]\n"
        "  %2 = constant() {value = dense<[]> : f32[0]} : f32[0]\n"
        "  return %0, %1, %2\n"
        "}\n");
}

TEST_CASE("large literals and inexact decimals print as hex bytes", "[text]") {
  std::vector<float> many(65);
  for (size_t i = 0; i < many.size(); ++i)
    many[i] = static_cast<float>(i) / 3.0f;
  uint32_t payload_nan_bits = 0x7fc00123;
  float payload_nan;
  std::memcpy(&payload_nan, &payload_nan_bits, sizeof payload_nan);

  std::vector<Literal> literals = {
      literal_from<float>(DType::F32, {5, 13}, many),
      literal_from<float>(DType::F32, {1}, {-std::numeric_limits<float>::quiet_NaN()}),
      literal_from<float>(DType::F32, {1}, {payload_nan}),
      literal_from<uint8_t>(DType::Bool, {1}, {2}),
  };
  for (const Literal& literal : literals) {
    INFO(literal.type().str());
    TestModule t;
    t.fn->add_output("out", t.b.constant(literal));
    CHECK(print_module(*t.module).find("dense_hex<\"") != std::string::npos);
    auto copy = round_trip(*t.module);
    CHECK(same_bytes(only_constant_value(*copy->find_function("f")), literal));
  }

  // Bytes are little-endian, in memory order.
  auto parsed =
      parse_module("func @f() -> (out: i32[1]) {\n"
                   "  %0 = constant() {value = dense_hex<\"04030201\"> : i32[1]} : i32[1]\n"
                   "  return %0\n"
                   "}\n");
  CHECK(only_constant_value(*parsed->find_function("f")).as_int(0) == 0x01020304);
}

TEST_CASE("module constants print once and are referenced by name", "[text]") {
  TestModule t({F32({2, 2})});
  Literal small = Literal::filled(F32({2, 2}), 0.5);
  std::vector<float> big_values(100, 0.75f);
  Literal big = literal_from<float>(DType::F32, {100}, big_values);
  t.module->add_constant("fc1.weight", small);
  t.module->add_constant("big weights!", big);
  Value* weight = t.b.constant(small);
  Value* inline_copy = t.b.constant(Literal::filled(F32({2, 2}), 0.5)); // equal bytes, own buffer
  t.b.constant(big);
  t.fn->add_output("out", t.b.op(Op::Add, {weight, inline_copy}));

  std::string text = print_module(*t.module);
  INFO(text);
  CHECK(text.rfind("const @\"big weights!\" : f32[100] = dense_hex<\"", 0) == 0);
  CHECK(text.find("const @fc1.weight : f32[2,2] = dense<[0.5, 0.5, 0.5, 0.5]>\n\nfunc @f(") !=
        std::string::npos);
  CHECK(text.find("%0 = constant() {value = @fc1.weight} : f32[2,2]") != std::string::npos);
  CHECK(text.find("%1 = constant() {value = dense<[0.5, 0.5, 0.5, 0.5]> : f32[2,2]} : f32[2,2]") !=
        std::string::npos);
  CHECK(text.find("%2 = constant() {value = @\"big weights!\"} : f32[100]") != std::string::npos);

  auto copy = round_trip(*t.module);
  const Function& fn = *copy->find_function("f");
  CHECK(fn.nodes()[1]->attrs().get_literal("constant", "value").identity() ==
        copy->find_constant("fc1.weight")->identity());
  CHECK(same_bytes(*copy->find_constant("big weights!"), big));

  // print_function resolves references through the function's module as well.
  CHECK(print_function(*t.fn).find("{value = @fc1.weight}") != std::string::npos);
}

TEST_CASE("names that need quoting or deduplication", "[text]") {
  auto module = std::make_unique<Module>();
  Function* fn = module->add_function("weird fn");
  Builder b(*fn);
  Value* spaced = fn->add_param("weird name", F32({2}));
  Value* numeric = fn->add_param("3", F32({2}));
  Value* dotted = fn->add_param("x.1", F32({2}));
  Value* first_x = b.op(Op::Add, {spaced, numeric});
  first_x->set_name("x");
  Value* second_x = b.op(Op::Add, {first_x, dotted});
  second_x->set_name("x");
  Value* unnamed = b.op(Op::Neg, {second_x});
  Value* symbols = b.op(Op::Neg, {unnamed});
  symbols->set_name("%a \"b\"\n");
  fn->add_output("0", symbols);
  fn->add_output("out put", second_x);

  std::string text = print_module(*module);
  INFO(text);
  CHECK(text == "func @\"weird fn\"(%\"weird name\": f32[2], %\"3\": f32[2], %x.1: f32[2]) -> "
                "(\"0\": f32[2], \"out put\": f32[2]) {\n"
                "  %x = add(%\"weird name\", %\"3\") : f32[2]\n"
                "  %x.2 = add(%x, %x.1) : f32[2]\n"
                "  %0 = neg(%x.2) : f32[2]\n"
                "  %\"%a \\\"b\\\"\\n\" = neg(%0) : f32[2]\n"
                "  return %\"%a \\\"b\\\"\\n\", %x.2\n"
                "}\n");
  auto copy = round_trip(*module);
  const Function& parsed = *copy->find_function("weird fn");
  CHECK(parsed.params()[1]->name() == "3");
  CHECK(parsed.nodes()[5]->result()->name().empty()); // %0
  CHECK(parsed.outputs()[0].value->name() == "%a \"b\"\n");
}

TEST_CASE("numbered values are renumbered in order of appearance", "[text]") {
  auto module = parse_module("func @f(%x: f32[]) -> (out: f32[]) {\n"
                             "  %7 = neg(%x) : f32[]\n"
                             "  %\"2\" = neg(%7) : f32[]\n"
                             "  %3 = neg(%\"2\") : f32[]\n"
                             "  return %3\n"
                             "}\n");
  CHECK(print_module(*module) == "func @f(%x: f32[]) -> (out: f32[]) {\n"
                                 "  %0 = neg(%x) : f32[]\n"
                                 "  %\"2\" = neg(%0) : f32[]\n"
                                 "  %1 = neg(%\"2\") : f32[]\n"
                                 "  return %1\n"
                                 "}\n");
}

TEST_CASE("output aliases", "[text]") {
  TestModule t({F32({3}), F32({3}), F32({})});
  t.params[0]->set_name("w");
  t.params[1]->set_name("grad");
  t.params[2]->set_name("lr");
  Value* step = t.b.op(Op::Mul, {t.params[1], t.params[2]});
  Value* updated = t.b.op(Op::Sub, {t.params[0], step});
  t.fn->add_output("w_new", updated);
  t.fn->add_output("step", step);
  t.fn->set_output_alias("w_new", "w");

  std::string text = print_module(*t.module);
  CHECK(text.find("-> (w_new: f32[3] aliases %w, step: f32[3]) {") != std::string::npos);
  auto copy = round_trip(*t.module);
  CHECK(copy->find_function("f")->output_aliases() == t.fn->output_aliases());
}

TEST_CASE("multi-result and result-less nodes", "[text]") {
  // Only `fusion` nodes (tested with every op above) may have several results or none;
  // the verifier rejects these, but the format supports any count.
  TestModule t({F32({2})});
  Node* pair = t.fn->append(Op::Neg, {t.params[0]}, {}, {F32({2}), {DType::I32, {}}});
  pair->result(0)->set_name("a");
  t.fn->append(Op::Relu, {pair->result(0)}, {}, {});
  t.fn->add_output("first", pair->result(0));
  t.fn->add_output("second", pair->result(1));

  std::string text = print_module(*t.module);
  CHECK(text == "func @f(%p0: f32[2]) -> (first: f32[2], second: i32[]) {\n"
                "  %a, %0 = neg(%p0) : (f32[2], i32[])\n"
                "  relu(%a) : ()\n"
                "  return %a, %0\n"
                "}\n");
  CHECK_THROWS_MATCHES(parse_module(text), Error, Catch::Predicate<Error>([](const Error& e) {
                         return e.code() == ErrorCode::VerifyError;
                       }));
  ParseOptions unverified;
  unverified.verify = false;
  auto copy = round_trip(*t.module, unverified);
  const Node& parsed = *copy->find_function("f")->nodes()[1];
  CHECK(parsed.num_results() == 2);
  CHECK(copy->find_function("f")->nodes()[2]->num_results() == 0);
}

TEST_CASE("nested bodies print as regions", "[text]") {
  TestModule t({F32({2})});
  Node* outer = t.b.create(Op::Neg, {t.params[0]});
  auto body = std::make_unique<Function>("neg_body", t.module.get());
  Value* inner_x = body->add_param("x", F32({2}));
  Builder inner(*body);
  Node* nested = inner.create(Op::Neg, {inner_x});
  auto innermost = std::make_unique<Function>("innermost", t.module.get());
  innermost->add_output("y", innermost->add_param("y", F32({2})));
  nested->set_body(std::move(innermost));
  body->add_output("y", nested->result());
  outer->set_body(std::move(body));
  t.fn->add_output("out", outer->result());

  std::string text = print_module(*t.module);
  CHECK(text == "func @f(%p0: f32[2]) -> (out: f32[2]) {\n"
                "  %0 = neg(%p0) : f32[2] {\n"
                "    func @neg_body(%x: f32[2]) -> (y: f32[2]) {\n"
                "      %0 = neg(%x) : f32[2] {\n"
                "        func @innermost(%y: f32[2]) -> (y: f32[2]) {\n"
                "          return %y\n"
                "        }\n"
                "      }\n"
                "      return %0\n"
                "    }\n"
                "  }\n"
                "  return %0\n"
                "}\n");
  auto copy = round_trip(*t.module);
  const Function* parsed_body = copy->find_function("f")->nodes()[1]->body();
  REQUIRE(parsed_body != nullptr);
  CHECK(parsed_body->name() == "neg_body");
  CHECK(parsed_body->nodes()[1]->body() != nullptr);
}

TEST_CASE("locations", "[text]") {
  const std::string text = "func @f(%x: f32[]) -> (out: f32[]) {\n"
                           "  // a comment line\n"
                           "    %0 = neg(%x) : f32[]\n"
                           "  %1 = neg(%0) : f32[] loc(\"model.py\":12:5)\n"
                           "  %2 = neg(%1) : f32[] loc(unknown)\n"
                           "  return %2\n"
                           "}\n";
  auto module = parse_module(text, "locs.loom");
  const Function& fn = *module->find_function("f");
  CHECK(fn.params()[0]->def()->loc().str() == "locs.loom:1");
  CHECK(fn.params()[0]->def()->loc().column == 9);
  const SourceLoc& first = fn.nodes()[1]->loc();
  CHECK(first.file == "locs.loom");
  CHECK(first.line == 3);
  CHECK(first.column == 5);
  CHECK(fn.nodes()[2]->loc().file == "model.py");
  CHECK(fn.nodes()[2]->loc().line == 12);
  CHECK(fn.nodes()[2]->loc().column == 5);
  CHECK_FALSE(fn.nodes()[3]->loc().known());

  PrintOptions with_locations;
  with_locations.print_locations = true;
  CHECK(print_module(*module, with_locations) ==
        "func @f(%x: f32[] loc(\"locs.loom\":1:9)) -> (out: f32[]) {\n"
        "  %0 = neg(%x) : f32[] loc(\"locs.loom\":3:5)\n"
        "  %1 = neg(%0) : f32[] loc(\"model.py\":12:5)\n"
        "  %2 = neg(%1) : f32[] loc(unknown)\n"
        "  return %2\n"
        "}\n");
  round_trip(*module);
}

TEST_CASE("the example files are in canonical form", "[text]") {
  for (const char* name : {"symbolic", "mlp", "sgd_step", "conv_net", "fusion"}) {
    std::string path = test::source_path(std::string("tests/data/loom/") + name + ".loom");
    INFO(path);
    std::string text = read_file(path);
    REQUIRE_FALSE(text.empty());
    // The files open with `//` comments, which printing drops.
    std::string without_comments;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("//", 0) != 0) without_comments += line + "\n";
    CHECK(print_module(*parse_module(text, path)) == without_comments);
  }
}
