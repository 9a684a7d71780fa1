// The builder API produces the IR it promises: op, operands, result types, normalized
// attributes, names and source locations; and compiled graphs compute the right numbers.
#include <catch2/catch.hpp>

#include <limits>
#include <set>
#include <unordered_set>

#include "frontend/loom.h"
#include "ir/verifier.h"
#include "tests/support/op_test.h"
#include "tests/support/test_support.h"

using namespace loom;

namespace {

const ir::Node& node_of(const Value& v) { return *v.ir()->def(); }

const std::vector<int64_t>& ints_attr(const Value& v, const std::string& name) {
  return node_of(v).attrs().get_ints(node_of(v).name(), name);
}

int64_t int_attr(const Value& v, const std::string& name) {
  return node_of(v).attrs().get_int(node_of(v).name(), name);
}

bool bool_attr(const Value& v, const std::string& name) {
  return node_of(v).attrs().get_bool(node_of(v).name(), name);
}

// The number held by a scalar constant node.
double constant_number(const Value& v) {
  REQUIRE(node_of(v).op() == Op::Constant);
  return node_of(v).attrs().get_literal("constant", "value").as_double();
}

Tensor run_output(const Graph& graph, const TensorMap& inputs, const std::string& output) {
  return compile(graph)->run(inputs).at(output);
}

Tensor f32(Shape shape, std::vector<float> values) {
  return Tensor::from_vector<float>(std::move(shape), values);
}

} // namespace

TEST_CASE("inputs are named parameters of the function 'main'", "[frontend]") {
  Graph g;
  const int line = __LINE__ + 1; // the next line
  Value x = g.input("x", DType::F32, {2, 3});
  Value n = g.input("n", DType::I64, {});

  CHECK(g.function().name() == "main");
  CHECK(g.module().find_function("main") == &g.function());
  REQUIRE(g.function().params().size() == 2);
  CHECK(g.function().params()[0] == x.ir());
  CHECK(x.name() == "x");
  CHECK(x.type() == TensorType{DType::F32, {2, 3}});
  CHECK(x.rank() == 2);
  CHECK(n.dtype() == DType::I64);
  CHECK(n.shape().empty());
  CHECK(x.graph() == &g);
  CHECK(node_of(x).op() == Op::Parameter);
  CHECK(node_of(x).loc().line == static_cast<uint32_t>(line));
  CHECK(Graph("step").function().name() == "step");
}

TEST_CASE("named builders record the op, operands, result type and the caller's line",
          "[frontend]") {
  Graph g;
  Value a = g.input("a", DType::F32, {2, 3});
  Value b = g.input("b", DType::F32, {3});
  const int line = __LINE__ + 1; // the next line
  Value sum = add(a, b);

  const ir::Node& node = node_of(sum);
  CHECK(node.op() == Op::Add);
  CHECK(node.operands() == std::vector<ir::Value*>{a.ir(), b.ir()});
  CHECK(sum.type() == TensorType{DType::F32, {2, 3}});
  CHECK(node.loc().file == __FILE__);
  CHECK(node.loc().line == static_cast<uint32_t>(line));
  CHECK(sum.graph() == &g);
}

TEST_CASE("operators build the elementwise ops at the line of the expression", "[frontend]") {
  Graph g;
  Value a = g.input("a", DType::F32, {4});
  Value b = g.input("b", DType::F32, {4});

  const int line = __LINE__ + 1; // the next line
  Value sum = a + b;
  CHECK(node_of(sum).op() == Op::Add);
  CHECK(node_of(sum).loc().line == static_cast<uint32_t>(line));
  CHECK(node_of(a - b).op() == Op::Sub);
  CHECK(node_of(a * b).op() == Op::Mul);
  CHECK(node_of(a / b).op() == Op::Div);
  CHECK(node_of(-a).op() == Op::Neg);
  CHECK(node_of(-a).operand(0) == a.ir());

  for (Value cmp : {a<b, a <= b, a> b, a >= b})
    CHECK(cmp.dtype() == DType::Bool);
  CHECK(node_of(a < b).op() == Op::Lt);
  CHECK(node_of(a <= b).op() == Op::Le);
  CHECK(node_of(a > b).op() == Op::Gt);
  CHECK(node_of(a >= b).op() == Op::Ge);
}

TEST_CASE("numbers become scalar constants of the other operand's dtype", "[frontend]") {
  Graph g;
  Value x = g.input("x", DType::F32, {2, 2});
  Value i = g.input("i", DType::I32, {3});

  const int line = __LINE__ + 1; // the next line
  Value plus_one = x + 1.0;
  Value one = Value(&g, node_of(plus_one).operand(1));
  CHECK(one.type() == TensorType{DType::F32, {}});
  CHECK(constant_number(one) == 1.0);
  CHECK(node_of(one).loc().line == static_cast<uint32_t>(line));
  CHECK(node_of(plus_one).loc().line == static_cast<uint32_t>(line));
  CHECK(plus_one.type() == x.type());

  Value twice = 2.0 * x;
  CHECK(node_of(twice).op() == Op::Mul);
  CHECK(constant_number(Value(&g, node_of(twice).operand(0))) == 2.0);
  CHECK(node_of(twice).operand(1) == x.ir());

  Value third = i / 3;
  CHECK(third.dtype() == DType::I32);
  Value three = Value(&g, node_of(third).operand(1));
  CHECK(three.type() == TensorType{DType::I32, {}});
  CHECK(constant_number(three) == 3.0);

  CHECK(node_of(maximum(x, 0.0)).op() == Op::Maximum);
  CHECK(select(x > 0.0, x, 0.5).type() == x.type());
}

TEST_CASE("== compares handles, not elements", "[frontend]") {
  Graph g;
  Value a = g.input("a", DType::F32, {2});
  Value b = g.input("b", DType::F32, {2});
  Value same = a;
  CHECK(a == same);
  CHECK_FALSE(a == b);
  CHECK(a != b);
  CHECK(Value() == Value());
  std::unordered_set<Value> seen{a, same, b};
  CHECK(seen.size() == 2);
  CHECK(node_of(eq(a, b)).op() == Op::Eq);
  CHECK(node_of(ne(a, b)).op() == Op::Ne);
}

TEST_CASE("constants, scalars and weights", "[frontend]") {
  Graph g;
  Value c = g.constant(f32({2}, {1.5f, -2.0f}));
  CHECK(c.type() == TensorType{DType::F32, {2}});
  CHECK(node_of(c).op() == Op::Constant);

  Value s = g.scalar(7, DType::I64);
  CHECK(s.type() == TensorType{DType::I64, {}});
  CHECK(constant_number(s) == 7.0);
  CHECK(g.scalar(0.25).dtype() == DType::F32);

  Literal w_data = f32({3}, {1, 2, 3}).to_literal();
  Value w = g.weight("w", w_data);
  const Literal* registered = g.module().find_constant("w");
  REQUIRE(registered != nullptr);
  const Literal& referenced = node_of(w).attrs().get_literal("constant", "value");
  CHECK(referenced.identity() == registered->identity());
  CHECK(w.type() == TensorType{DType::F32, {3}});
}

TEST_CASE("outputs and in-place updates of inputs", "[frontend]") {
  Graph g;
  Value w = g.input("w", DType::F32, {3});
  Value grad = g.input("grad", DType::F32, {3});
  Value loss = reduce_sum(w * w);
  g.output("loss", loss);
  g.output_updates("w_next", w - 0.1 * grad, w);

  const auto& outputs = g.function().outputs();
  REQUIRE(outputs.size() == 2);
  CHECK(outputs[0].name == "loss");
  CHECK(outputs[0].value == loss.ir());
  CHECK(outputs[1].name == "w_next");
  CHECK(g.function().output_aliases() == std::map<std::string, std::string>{{"w_next", "w"}});
}

TEST_CASE("reductions normalize, sort and deduplicate-check their axes", "[frontend]") {
  Graph g;
  Value x = g.input("x", DType::F32, {2, 3, 4});

  Value r = reduce_sum(x, {-1, 0});
  CHECK(node_of(r).op() == Op::ReduceSum);
  CHECK(ints_attr(r, "axes") == std::vector<int64_t>{0, 2});
  CHECK_FALSE(bool_attr(r, "keepdims"));
  CHECK(r.shape() == Shape{3});

  Value kept = reduce_max(x, {1}, true);
  CHECK(bool_attr(kept, "keepdims"));
  CHECK(kept.shape() == Shape{2, 1, 4});

  Value all = reduce_prod(x);
  CHECK(ints_attr(all, "axes") == std::vector<int64_t>{0, 1, 2});
  CHECK(all.shape().empty());
  CHECK(node_of(reduce_min(x)).op() == Op::ReduceMin);

  Value none = reduce_sum(x, std::vector<int64_t>{});
  CHECK(none.shape() == x.shape());

  Value am = argmax(x, -2);
  CHECK(int_attr(am, "axis") == 1);
  CHECK(am.type() == TensorType{DType::I64, {2, 4}});
  CHECK(argmin(x, 0, true).shape() == Shape{1, 3, 4});
}

TEST_CASE("data movement builders normalize their attributes", "[frontend]") {
  Graph g;
  Value x = g.input("x", DType::F32, {2, 3, 4});

  SECTION("reshape infers one -1 dimension") {
    Value r = reshape(x, {4, -1});
    CHECK(ints_attr(r, "shape") == std::vector<int64_t>{4, 6});
    CHECK(reshape(x, {-1}).shape() == Shape{24});
  }
  SECTION("transpose reverses by default and accepts negative entries") {
    CHECK(ints_attr(transpose(x), "perm") == std::vector<int64_t>{2, 1, 0});
    Value t = transpose(x, {0, -1, 1});
    CHECK(ints_attr(t, "perm") == std::vector<int64_t>{0, 2, 1});
    CHECK(t.shape() == Shape{2, 4, 3});
  }
  SECTION("slice clamps like Python and covers untouched dimensions") {
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    Value s = slice(x, {-1, 10}, {5, 20});
    CHECK(ints_attr(s, "start") == std::vector<int64_t>{1, 3, 0});
    CHECK(ints_attr(s, "stop") == std::vector<int64_t>{2, 3, 4});
    CHECK(ints_attr(s, "step") == std::vector<int64_t>{1, 1, 1});
    CHECK(s.shape() == Shape{1, 0, 4});

    Value reversed = slice(x, {0, 0, -1}, {2, 3, kMin}, {1, 1, -1});
    CHECK(ints_attr(reversed, "start") == std::vector<int64_t>{0, 0, 3});
    CHECK(ints_attr(reversed, "stop") == std::vector<int64_t>{2, 3, -1});
    CHECK(reversed.shape() == x.shape());

    Value strided = slice(x, {0, 0, 10}, {2, 3, 0}, {1, 2, -2});
    CHECK(ints_attr(strided, "start") == std::vector<int64_t>{0, 0, 3});
    CHECK(ints_attr(strided, "stop") == std::vector<int64_t>{2, 3, 0});
    CHECK(strided.shape() == Shape{2, 2, 2});

    Value empty_backwards = slice(x, {0}, {2}, {-1});
    CHECK(ints_attr(empty_backwards, "start")[0] == 0);
    CHECK(ints_attr(empty_backwards, "stop")[0] == 0);
    CHECK(empty_backwards.shape() == Shape{0, 3, 4});
  }
  SECTION("concat, gather, scatter_add and iota accept negative axes") {
    Value c = concat({x, x}, -1);
    CHECK(int_attr(c, "axis") == 2);
    CHECK(c.shape() == Shape{2, 3, 8});

    Value idx = g.input("idx", DType::I64, {5});
    Value gathered = gather(x, idx, -2);
    CHECK(int_attr(gathered, "axis") == 1);
    CHECK(gathered.shape() == Shape{2, 5, 4});
    Value scattered = scatter_add(x, idx, gathered, -2);
    CHECK(int_attr(scattered, "axis") == 1);
    CHECK(scattered.type() == x.type());

    Value io = iota(g, {2, 5}, DType::I32, -1);
    CHECK(int_attr(io, "axis") == 1);
    CHECK(io.type() == TensorType{DType::I32, {2, 5}});
  }
  SECTION("pad, broadcast_to, one_hot and cast") {
    Value p = pad(x, {0, 1, 2}, {1, 0, 0}, -1.0);
    CHECK(p.shape() == Shape{3, 4, 6});
    CHECK(node_of(p).attrs().get_float("pad", "value") == -1.0);
    CHECK(broadcast_to(x, {5, 2, 3, 4}).shape() == Shape{5, 2, 3, 4});
    Value labels = g.input("labels", DType::I32, {6});
    CHECK(one_hot(labels, 10).type() == TensorType{DType::F32, {6, 10}});
    CHECK(one_hot(labels, 10, DType::I64).dtype() == DType::I64);
    CHECK(cast(x, DType::BF16).type() == TensorType{DType::BF16, {2, 3, 4}});
  }
}

TEST_CASE("convolution and pooling builders fill in defaults", "[frontend]") {
  Graph g;
  Value img = g.input("img", DType::F32, {1, 2, 6, 6});
  Value w = g.input("w", DType::F32, {4, 2, 3, 3});

  Value y = conv2d(img, w);
  CHECK(ints_attr(y, "strides") == std::vector<int64_t>{1, 1});
  CHECK(ints_attr(y, "pads") == std::vector<int64_t>{0, 0, 0, 0});
  CHECK(ints_attr(y, "dilations") == std::vector<int64_t>{1, 1});
  CHECK(int_attr(y, "groups") == 1);
  CHECK(y.shape() == Shape{1, 4, 4, 4});

  Value same = conv2d(img, w, {1, 1}, {1, 1});
  CHECK(ints_attr(same, "pads") == std::vector<int64_t>{1, 1, 1, 1});
  CHECK(same.shape() == Shape{1, 4, 6, 6});
  CHECK(conv2d(img, w, {2, 2}, {0, 0, 1, 1}).shape() == Shape{1, 4, 3, 3});

  Value dx = conv2d_backprop_input(y, w, {1, 2, 6, 6});
  CHECK(ints_attr(dx, "input_shape") == std::vector<int64_t>{1, 2, 6, 6});
  CHECK(dx.type() == img.type());
  Value dw = conv2d_backprop_filter(img, y, {4, 2, 3, 3});
  CHECK(ints_attr(dw, "filter_shape") == std::vector<int64_t>{4, 2, 3, 3});
  CHECK(dw.type() == w.type());

  Value pooled = max_pool2d(img, {2, 2});
  CHECK(ints_attr(pooled, "strides") == std::vector<int64_t>{2, 2});
  CHECK(ints_attr(pooled, "pads") == std::vector<int64_t>{0, 0, 0, 0});
  CHECK_FALSE(bool_attr(pooled, "ceil_mode"));
  CHECK(pooled.shape() == Shape{1, 2, 3, 3});
  CHECK(max_pool2d_grad(img, pooled, {2, 2}).type() == img.type());

  Value avg = avg_pool2d(img, {3, 3}, {1, 1}, {1, 1}, false, true);
  CHECK(bool_attr(avg, "count_include_pad"));
  CHECK(avg.shape() == Shape{1, 2, 6, 6});
  Value avg_dx = avg_pool2d_grad(avg, {1, 2, 6, 6}, {3, 3}, {1, 1}, {1, 1}, false, true);
  CHECK(ints_attr(avg_dx, "input_shape") == std::vector<int64_t>{1, 2, 6, 6});
}

TEST_CASE("every op in ops.def has a builder", "[frontend]") {
  Graph g;
  Value x = g.input("x", DType::F32, {2, 3});
  Value cond = g.input("cond", DType::Bool, {2, 3});
  Value idx = g.input("idx", DType::I64, {2});
  Value seed = g.input("seed", DType::I64, {});
  Value img = g.input("img", DType::F32, {1, 2, 5, 5});
  Value w = g.input("w", DType::F32, {4, 2, 3, 3});

  Value y = conv2d(img, w);
  Value pooled = max_pool2d(img, {2, 2});
  Value avg = avg_pool2d(img, {2, 2});
  // One line per op family, in ops.def order.
  // clang-format off
  std::vector<Value> built = {
      g.constant(f32({2}, {1, 2})), g.scalar(1.0), g.weight("bias", f32({3}, {0, 1, 2}).to_literal()),
      iota(g, {2, 3}, DType::F32, 0), random_uniform(seed, {4}), random_normal(seed, {4}),
      cast(x, DType::I32), select(cond, x, x),
      reduce_sum(x), reduce_max(x), reduce_min(x), reduce_prod(x), argmax(x, 1), argmin(x, 1),
      matmul(x, transpose(x)),
      reshape(x, {3, 2}), broadcast_to(x, {4, 2, 3}), slice(x, {0}, {1}), concat({x, x}, 0),
      pad(x, {1, 1}, {0, 0}), scatter_add(x, idx, gather(x, idx, 1), 1), one_hot(idx, 4),
      y, conv2d_backprop_input(y, w, {1, 2, 5, 5}), conv2d_backprop_filter(img, y, {4, 2, 3, 3}),
      pooled, max_pool2d_grad(img, pooled, {2, 2}), avg, avg_pool2d_grad(avg, {1, 2, 5, 5}, {2, 2})};
  // clang-format on
  // The generated builders of every UNARY_OP and BINARY_OP (logical ones take bools).
  auto operand = [&](Op op) { return has_trait(op, kLogical) ? cond : x; };
#define UNARY_OP(id, name, traits) built.push_back(name(operand(Op::id)));
#include "ir/ops.def"
#define BINARY_OP(id, name, traits) built.push_back(name(operand(Op::id), operand(Op::id)));
#include "ir/ops.def"
  for (size_t i = 0; i < built.size(); ++i)
    g.output("out" + std::to_string(i), built[i]);

  std::set<Op> covered;
  for (const auto& node : g.function().nodes())
    covered.insert(node->op());
  for (int i = 0; i < kNumOps; ++i) {
    if (has_trait(static_cast<Op>(i), kInternal)) continue; // made by passes only
    INFO("op " << op_name(static_cast<Op>(i)));
    CHECK(covered.count(static_cast<Op>(i)) == 1);
  }
  CHECK_NOTHROW(ir::verify(g.module()));
  test::check_round_trips(g.module());
}

TEST_CASE("compiled graphs compute what the builders describe", "[frontend]") {
  Graph g;
  Value x = g.input("x", DType::F32, {2, 3});
  Value i = g.input("i", DType::I32, {3});
  g.output("affine", 2.0 * x - 1.0);
  g.output("row_sums", reduce_sum(x, {-1}));
  g.output("reversed", slice(x, {0, -1}, {2, std::numeric_limits<int64_t>::min()}, {1, -1}));
  g.output("flat", reshape(x, {-1}));
  g.output("clipped", select(x > 2.0, 2.0, x));
  g.output("halves", i / 2);
  g.output("columns", transpose(x));

  TensorMap out = compile(g)->run({
      {"x", f32({2, 3}, {1, 2, 3, 4, 5, 6})},
      {"i", Tensor::from_vector<int32_t>({3}, {-5, 4, 7})},
  });
  auto check = [&](const std::string& name, const Tensor& expected) {
    INFO(name);
    CHECK(test::compare_tensors(out.at(name), expected, 1e-6, 0) == "");
  };
  check("affine", f32({2, 3}, {1, 3, 5, 7, 9, 11}));
  check("row_sums", f32({2}, {6, 15}));
  check("reversed", f32({2, 3}, {3, 2, 1, 6, 5, 4}));
  check("flat", f32({6}, {1, 2, 3, 4, 5, 6}));
  check("clipped", f32({2, 3}, {1, 2, 2, 2, 2, 2}));
  check("halves", Tensor::from_vector<int32_t>({3}, {-2, 2, 3}));
  check("columns", f32({3, 2}, {1, 4, 2, 5, 3, 6}));
}

TEST_CASE("in-place updates run through compile", "[frontend]") {
  Graph g;
  Value w = g.input("w", DType::F32, {3});
  Value grad = g.input("grad", DType::F32, {3});
  g.output_updates("w_next", w - 0.5 * grad, w);
  Tensor next =
      run_output(g, {{"w", f32({3}, {1, 2, 3})}, {"grad", f32({3}, {2, 2, -2})}}, "w_next");
  CHECK(test::compare_tensors(next, f32({3}, {0, 1, 4}), 0, 0) == "");
}
