// The autodiff API: grad/vjp function construction (names, parameters, outputs),
// gradients() on values inside a function, and errors.
#include "tests/autodiff/gradcheck.h"
#include "tests/support/op_test.h"

namespace loom::autodiff_test {
namespace {

using ir::Builder;
using ir::Function;
using ir::Value;

Value* sum_all(Builder& b, Value* x) {
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < x->type().rank(); ++d)
    axes.push_back(d);
  return b.op(Op::ReduceSum, {x}, {{"axes", axes}, {"keepdims", false}});
}

// f(x: f64[3], y: f64[3], n: i32[]) -> loss = sum(x * y + x), prod = x * y
struct Fixture {
  ir::Module module;
  Function* f = module.add_function("f");
  Value* x = f->add_param("x", f64({3}));
  Value* y = f->add_param("y", f64({3}));
  Value* n = f->add_param("n", TensorType{DType::I32, {}});

  Fixture() {
    Builder b(*f);
    Value* product = b.op(Op::Mul, {x, y});
    f->add_output("loss", sum_all(b, b.op(Op::Add, {product, x})));
    f->add_output("prod", product);
  }
};

std::vector<std::string> param_names(const Function& fn) {
  std::vector<std::string> names;
  for (const Value* p : fn.params())
    names.push_back(p->name());
  return names;
}

std::vector<std::string> output_names(const Function& fn) {
  std::vector<std::string> names;
  for (const ir::Output& o : fn.outputs())
    names.push_back(o.name);
  return names;
}

const Tensor kX = Tensor::from_vector<double>({3}, {1, 2, 3});
const Tensor kY = Tensor::from_vector<double>({3}, {-1, 0.5, 4});
const Tensor kN = Tensor::from_vector<int32_t>({}, {7});

TEST_CASE("grad builds <name>_grad with the loss and one gradient output per parameter",
          "[autodiff][api]") {
  Fixture fx;
  int nodes_before = fx.f->num_nodes();
  Function* g = autodiff::grad(*fx.f, "loss", {"y", "x"});
  CHECK(g->name() == "f_grad");
  CHECK(g->parent() == &fx.module);
  CHECK(param_names(*g) == std::vector<std::string>{"x", "y", "n"});
  CHECK(output_names(*g) == std::vector<std::string>{"loss", "prod", "grad_y", "grad_x"});
  CHECK(fx.f->num_nodes() == nodes_before); // the original is untouched
  Tensor loss = Tensor::from_vector<double>({}, {0 + 3 + 15});
  Tensor prod = Tensor::from_vector<double>({3}, {-1, 1, 12});
  Tensor grad_x = Tensor::from_vector<double>({3}, {0, 1.5, 5}); // y + 1
  test::check_function(*g, {kX, kY, kN}, {loss, prod, kX, grad_x});
}

TEST_CASE("vjp adds one cotangent parameter per output", "[autodiff][api]") {
  Fixture fx;
  Function* v = autodiff::vjp(*fx.f, {"x"});
  CHECK(v->name() == "f_vjp");
  CHECK(param_names(*v) ==
        std::vector<std::string>{"x", "y", "n", "loss_cotangent", "prod_cotangent"});
  CHECK(output_names(*v) == std::vector<std::string>{"loss", "prod", "grad_x"});
  // d/dx (2 * sum(x*y + x) + <x*y, c>) = 2 (y + 1) + c * y
  Tensor c = Tensor::from_vector<double>({3}, {1, -2, 0.5});
  Tensor two = Tensor::from_vector<double>({}, {2});
  Tensor expected_grad =
      Tensor::from_vector<double>({3}, {2 * 0 + 1 * -1, 2 * 1.5 + -2 * 0.5, 2 * 5 + 0.5 * 4});
  Tensor loss = Tensor::from_vector<double>({}, {18});
  Tensor prod = Tensor::from_vector<double>({3}, {-1, 1, 12});
  test::check_function(*v, {kX, kY, kN, two, c}, {loss, prod, expected_grad});
}

TEST_CASE("grad and vjp reject bad requests and leave the module unchanged", "[autodiff][api]") {
  Fixture fx;
  auto code_of = [](auto&& call) {
    try {
      call();
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::Internal; // no error: fails the comparisons below
  };
  CHECK(code_of([&] { autodiff::grad(*fx.f, "loss", {"n"}); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([&] { autodiff::grad(*fx.f, "prod", {"x"}); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([&] { autodiff::grad(*fx.f, "nope", {"x"}); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([&] { autodiff::grad(*fx.f, "loss", {"z"}); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([&] { autodiff::grad(*fx.f, "loss", {"x", "x"}); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([&] { autodiff::vjp(*fx.f, {"n"}); }) == ErrorCode::InvalidArgument);
  CHECK(fx.module.functions().size() == 1);

  autodiff::grad(*fx.f, "loss", {"x"});
  CHECK(code_of([&] { autodiff::grad(*fx.f, "loss", {"y"}); }) ==
        ErrorCode::InvalidArgument); // f_grad exists

  Function orphan("orphan");
  orphan.add_output("p", orphan.add_param("p", f64({})));
  CHECK(code_of([&] { autodiff::grad(orphan, "p", {"p"}); }) == ErrorCode::InvalidArgument);
}

TEST_CASE("error messages name the problem", "[autodiff][api]") {
  Fixture fx;
  CHECK_THROWS_WITH(autodiff::grad(*fx.f, "loss", {"n"}),
                    Catch::Contains("'n'") && Catch::Contains("floating point"));
  CHECK_THROWS_WITH(autodiff::grad(*fx.f, "prod", {"x"}),
                    Catch::Contains("scalar") && Catch::Contains("f64[3]"));
}

TEST_CASE("gradients accumulates over uses and gives zeros for unrelated values",
          "[autodiff][api]") {
  ir::Module module;
  Function* f = module.add_function("f");
  Value* x = f->add_param("x", f64({2}));
  Value* unrelated = f->add_param("unrelated", f64({2, 2}));
  Builder b(*f);
  // y = x * x + x: dy/dx = 2x + 1
  Value* y = b.op(Op::Add, {b.op(Op::Mul, {x, x}), x});
  Value* one = b.constant(Literal::filled(y->type(), 1.0));
  std::vector<Value*> grads = autodiff::gradients(*f, {y}, {one}, {x, unrelated, y});
  f->add_output("dx", grads[0]);
  f->add_output("dunrelated", grads[1]);
  f->add_output("dy", grads[2]);
  REQUIRE_NOTHROW(ir::verify(*f));
  Tensor x0 = Tensor::from_vector<double>({2}, {3, -1});
  std::vector<Tensor> out = interp::evaluate(*f, {x0, Tensor::ones(DType::F64, {2, 2})});
  CHECK(values(out[0]) == std::vector<double>{7, -1});
  CHECK(values(out[1]) == std::vector<double>{0, 0, 0, 0});
  CHECK(values(out[2]) == std::vector<double>{1, 1});
}

TEST_CASE("gradients with respect to an intermediate value stop there", "[autodiff][api]") {
  ir::Module module;
  Function* f = module.add_function("f");
  Value* x = f->add_param("x", f64({}));
  Builder b(*f);
  Value* h = b.op(Op::Exp, {x});
  Value* y = b.op(Op::Mul, {h, x}); // y = exp(x) * x: dy/dh = x, dy/dx = exp(x) (1 + x)
  std::vector<Value*> grads = autodiff::gradients(*f, {y}, {b.scalar(DType::F64, 1.0)}, {h, x});
  f->add_output("dh", grads[0]);
  f->add_output("dx", grads[1]);
  std::vector<Tensor> out = interp::evaluate(*f, {Tensor::from_vector<double>({}, {0.5})});
  CHECK(out[0].at(0) == 0.5);
  CHECK(out[1].at(0) == Approx(std::exp(0.5) * 1.5).epsilon(1e-14));
}

TEST_CASE("gradients builds only what the requested gradients need", "[autodiff][api]") {
  ir::Module module;
  Function* f = module.add_function("f");
  Value* a = f->add_param("a", f64({3, 4}));
  Value* w = f->add_param("w", f64({4, 5}));
  Builder b(*f);
  Value* y = b.op(Op::MatMul, {a, w});
  autodiff::gradients(*f, {y}, {b.constant(Literal::filled(y->type(), 1.0))}, {w});
  int matmuls = 0;
  for (const auto& node : f->nodes())
    matmuls += node->op() == Op::MatMul;
  CHECK(matmuls == 2); // the forward one and a^T @ g; no gradient for a
}

TEST_CASE("gradients rejects mismatched or non-float requests", "[autodiff][api]") {
  ir::Module module;
  Function* f = module.add_function("f");
  Value* x = f->add_param("x", f64({2}));
  Value* i = f->add_param("i", TensorType{DType::I64, {2}});
  Builder b(*f);
  Value* y = b.op(Op::Exp, {x});
  Value* scalar_one = b.scalar(DType::F64, 1.0);
  int nodes = f->num_nodes();
  CHECK_THROWS_AS(autodiff::gradients(*f, {y}, {scalar_one}, {x}), Error);
  CHECK_THROWS_AS(autodiff::gradients(*f, {y}, {}, {x}), Error);
  CHECK_THROWS_AS(autodiff::gradients(*f, {y}, {y}, {i}), Error);
  CHECK(f->num_nodes() == nodes);
}

TEST_CASE("a path through a fusion group is an unsupported-op error", "[autodiff][api]") {
  ir::Module module;
  Function* f = module.add_function("f");
  Value* x = f->add_param("x", f64({2}));
  auto body = std::make_unique<Function>("body", &module);
  Value* bx = body->add_param("x", f64({2}));
  body->add_output("y", Builder(*body).op(Op::Exp, {bx}));
  ir::Node* fused = f->append(Op::Fusion, {x}, {{"kind", std::string("loop")}}, {f64({2})});
  fused->set_body(std::move(body));
  Builder b(*f);
  f->add_output("loss", sum_all(b, fused->result()));
  REQUIRE_NOTHROW(ir::verify(*f));
  try {
    autodiff::grad(*f, "loss", {"x"});
    FAIL("grad crossed a fusion node");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Unsupported);
    CHECK_THAT(e.message(), Catch::Contains("fusion"));
  }
  CHECK(module.functions().size() == 1);
}

} // namespace
} // namespace loom::autodiff_test
