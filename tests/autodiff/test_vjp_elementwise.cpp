// Gradient check cases of the elementwise ops (run by test_gradcheck.cpp), and the
// documented conventions at their non-differentiable points.
#include <set>

#include "autodiff/autodiff.h"
#include "tests/autodiff/gradcheck.h"

namespace loom::autodiff_test {
namespace {

const std::vector<Shape> kUnaryShapes = {{}, {5}, {2, 3}};

// Equal shapes, a suffix, both operands stretched, scalars on either side, rank growth.
const std::vector<std::pair<Shape, Shape>> kBinaryShapes = {{{3, 4}, {3, 4}}, {{2, 3, 4}, {4}},
                                                            {{3, 1}, {1, 4}}, {{}, {2, 3}},
                                                            {{2, 3}, {}},     {{2, 1, 3}, {4, 1}}};

void add_unary(std::vector<GradCase>& cases, Op op, const Sampler& sample) {
  for (const Shape& s : kUnaryShapes) {
    std::vector<Input> inputs = {{f64(s), sample}};
    cases.push_back(op_case(op, types_label(inputs), inputs));
  }
}

void add_binary(std::vector<GradCase>& cases, Op op, const Sampler& sample_a,
                const Sampler& sample_b) {
  for (const auto& [a, b] : kBinaryShapes) {
    std::vector<Input> inputs = {{f64(a), sample_a}, {f64(b), sample_b}};
    cases.push_back(op_case(op, types_label(inputs), inputs));
  }
}

void add_select(std::vector<GradCase>& cases) {
  const std::vector<std::vector<Shape>> shapes = {
      {{3, 4}, {3, 4}, {3, 4}}, {{3, 1}, {4}, {3, 4}}, {{2, 3}, {}, {3}}};
  for (const auto& s : shapes) {
    std::vector<Input> inputs = {{TensorType{DType::Bool, s[0]}, bools()},
                                 {f64(s[1]), uniform(-2, 2)},
                                 {f64(s[2]), uniform(-2, 2)}};
    cases.push_back(op_case(Op::Select, types_label(inputs), inputs));
  }
}

// Casts round, so the inputs are exact in f32 and the step is a power of two: the
// function stays exactly linear and the central difference exact.
void add_cast(std::vector<GradCase>& cases) {
  CheckOptions exact_step{1.0 / 256, 1e-6};
  std::vector<Input> from_f64 = {{f64({2, 3}), f32_exact(-2, 2)}};
  cases.push_back(op_case(Op::Cast, "f64 -> f32", from_f64, {{"dtype", DType::F32}}, exact_step));
  std::vector<Input> from_f32 = {{TensorType{DType::F32, {4}}, f32_exact(-2, 2)}};
  cases.push_back(op_case(Op::Cast, "f32 -> f64", from_f32, {{"dtype", DType::F64}}, exact_step));
}

// A differentiable UNARY_OP or BINARY_OP of ops.def without an explicit case above is
// checked on inputs in [0.5, 2] (inside the domain of every smooth elementwise function
// loom has), so adding such an op needs no edit here.
void add_default_cases(std::vector<GradCase>& cases) {
  std::set<Op> explicit_ops;
  for (const GradCase& c : cases)
    explicit_ops.insert(c.op);
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    if (explicit_ops.count(op) || !autodiff::is_differentiable(op) || !has_trait(op, kElementwise))
      continue;
    if (has_trait(op, kUnary) && op != Op::Cast) add_unary(cases, op, uniform(0.5, 2));
    if (has_trait(op, kBinary)) add_binary(cases, op, uniform(0.5, 2), uniform(0.5, 2));
  }
}

std::vector<GradCase> elementwise_cases() {
  std::vector<GradCase> cases;
  add_unary(cases, Op::Neg, uniform(-2, 2));
  add_unary(cases, Op::Abs, away_from_zero(0.2, 2));
  add_unary(cases, Op::Exp, uniform(-2, 2));
  add_unary(cases, Op::Log, uniform(0.5, 3));
  add_unary(cases, Op::Sqrt, uniform(0.5, 3));
  add_unary(cases, Op::Rsqrt, uniform(0.5, 3));
  add_unary(cases, Op::Tanh, uniform(-2, 2));
  add_unary(cases, Op::Sigmoid, uniform(-3, 3));
  add_unary(cases, Op::Relu, away_from_zero(0.2, 2));
  add_unary(cases, Op::Sin, uniform(-3, 3));
  add_unary(cases, Op::Cos, uniform(-3, 3));
  add_unary(cases, Op::Erf, uniform(-2, 2));
  add_cast(cases);
  add_binary(cases, Op::Add, uniform(-2, 2), uniform(-2, 2));
  add_binary(cases, Op::Sub, uniform(-2, 2), uniform(-2, 2));
  add_binary(cases, Op::Mul, uniform(-2, 2), uniform(-2, 2));
  add_binary(cases, Op::Div, uniform(-2, 2), away_from_zero(0.5, 2));
  add_binary(cases, Op::Pow, uniform(0.5, 2), uniform(-2, 2));
  add_binary(cases, Op::Maximum, on_grid(0.0), on_grid(0.125));
  add_binary(cases, Op::Minimum, on_grid(0.0), on_grid(0.125));
  add_select(cases);
  add_default_cases(cases);
  return cases;
}

const CaseRegistration registration(elementwise_cases);

// --- conventions at non-differentiable points -------------------------------------------------

ir::Value* unary(ir::Builder& b, Op op, ir::Value* x) { return b.op(op, {x}); }

TEST_CASE("abs and relu have derivative 0 at 0", "[autodiff][elementwise]") {
  Tensor x = Tensor::from_vector<double>({3}, {-1.5, 0.0, 2.0});
  auto abs_grad = gradients_of_sum(
      {x.type()}, [](ir::Builder& b, auto& p) { return unary(b, Op::Abs, p[0]); }, {x});
  CHECK(values(abs_grad[0]) == std::vector<double>{-1.0, 0.0, 1.0});
  auto relu_grad = gradients_of_sum(
      {x.type()}, [](ir::Builder& b, auto& p) { return unary(b, Op::Relu, p[0]); }, {x});
  CHECK(values(relu_grad[0]) == std::vector<double>{0.0, 0.0, 1.0});
}

TEST_CASE("maximum and minimum give ties to the first operand", "[autodiff][elementwise]") {
  Tensor a = Tensor::from_vector<double>({3}, {1.0, 2.0, 5.0});
  Tensor b = Tensor::from_vector<double>({3}, {1.0, 3.0, 4.0});
  for (Op op : {Op::Maximum, Op::Minimum}) {
    INFO(op_name(op));
    auto grads = gradients_of_sum({a.type(), b.type()},
                                  [op](ir::Builder& builder, auto& p) {
                                    return builder.op(op, {p[0], p[1]});
                                  },
                                  {a, b});
    bool is_max = op == Op::Maximum;
    CHECK(values(grads[0]) == std::vector<double>{1.0, is_max ? 0.0 : 1.0, is_max ? 1.0 : 0.0});
    CHECK(values(grads[1]) == std::vector<double>{0.0, is_max ? 1.0 : 0.0, is_max ? 0.0 : 1.0});
  }
}

TEST_CASE("pow's exponent gradient is 0 for a non-positive base, without NaN",
          "[autodiff][elementwise]") {
  Tensor base = Tensor::from_vector<double>({3}, {0.0, -2.0, 2.0});
  Tensor exponent = Tensor::from_vector<double>({3}, {2.0, 2.0, 2.0});
  auto grads = gradients_of_sum({base.type(), exponent.type()},
                                [](ir::Builder& b, auto& p) {
                                  return b.op(Op::Pow, {p[0], p[1]});
                                },
                                {base, exponent});
  CHECK(values(grads[0]) == std::vector<double>{0.0, -4.0, 4.0});
  CHECK(values(grads[1]) == std::vector<double>{0.0, 0.0, 4.0 * std::log(2.0)});
}

// The guarded logarithm keeps NaN out of the second derivatives as well.
TEST_CASE("pow's second derivatives stay finite for a non-positive base",
          "[autodiff][elementwise]") {
  ir::Module module;
  ir::Function* f = module.add_function("f");
  ir::Value* a = f->add_param("a", f64({3}));
  ir::Value* b = f->add_param("b", f64({3}));
  ir::Builder builder(*f);
  ir::Value* y = builder.op(Op::Pow, {a, b});
  f->add_output("loss", builder.op(Op::ReduceSum, {y},
                                   {{"axes", std::vector<int64_t>{0}}, {"keepdims", false}}));
  ir::Function* f_grad = autodiff::grad(*f, "loss", {"a", "b"});
  ir::Function* hessian_rows = autodiff::vjp(*f_grad, {"a", "b"});
  Tensor ones = Tensor::ones(DType::F64, {3});
  std::vector<Tensor> out =
      interp::evaluate(*hessian_rows, {Tensor::from_vector<double>({3}, {0.0, -2.0, 2.0}),
                                       Tensor::full(DType::F64, {3}, 2.0),
                                       Tensor::zeros(DType::F64, {}), ones, ones});
  for (const Tensor& t : out)
    for (double v : values(t))
      CHECK(std::isfinite(v));
}

TEST_CASE("casts to integers and piecewise-constant ops pass no gradient",
          "[autodiff][elementwise]") {
  Tensor x = Tensor::from_vector<double>({3}, {1.5, -2.7, 0.25});
  // y = cast(cast(x, i32), f64) * x + floor(x): only the direct use of x carries a gradient.
  auto grads = gradients_of_sum(
      {x.type()},
      [](ir::Builder& b, auto& p) {
        ir::Value* truncated = b.op(Op::Cast, {b.op(Op::Cast, {p[0]}, {{"dtype", DType::I32}})},
                                    {{"dtype", DType::F64}});
        return b.op(Op::Add, {b.op(Op::Mul, {truncated, p[0]}), unary(b, Op::Floor, p[0])});
      },
      {x});
  CHECK(values(grads[0]) == std::vector<double>{1.0, -2.0, 0.0});
}

} // namespace
} // namespace loom::autodiff_test
