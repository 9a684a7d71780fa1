// loom::grad and loom::vjp: the builder-level wrappers over autodiff::gradients.
#include <catch2/catch.hpp>

#include "tests/nn/nn_test_util.h"

using namespace loom;
using namespace loom::test;
using Catch::Matchers::Contains;

TEST_CASE("grad of a scalar function matches the derivative computed by hand", "[nn][grad]") {
  Graph g;
  Value x = g.input("x", DType::F64, {3});
  Value w = g.input("w", DType::F64, {3});
  // loss = sum(w * x^2) + sum(exp(w)): dL/dx = 2 w x, dL/dw = x^2 + exp(w)
  Value loss = reduce_sum(w * x * x) + reduce_sum(exp(w));
  std::vector<Value> grads = grad(loss, {x, w});
  REQUIRE(grads.size() == 2);
  CHECK(grads[0].type() == x.type());
  g.output("dx", grads[0]);
  g.output("dw", grads[1]);
  TensorMap out = run_graph(g, {{"x", Tensor::from_vector<double>({3}, {1.0, -2.0, 0.5})},
                                {"w", Tensor::from_vector<double>({3}, {0.5, 1.0, -1.0})}});
  CHECK(to_doubles(out.at("dx")) == std::vector<double>{1.0, -4.0, -1.0});
  std::vector<double> dw = to_doubles(out.at("dw"));
  CHECK(dw[0] == Approx(1.0 + std::exp(0.5)));
  CHECK(dw[1] == Approx(4.0 + std::exp(1.0)));
  CHECK(dw[2] == Approx(0.25 + std::exp(-1.0)));
}

TEST_CASE("grad of a value the loss does not depend on is zero", "[nn][grad]") {
  Graph g;
  Value x = g.input("x", DType::F32, {2});
  Value unused = g.input("unused", DType::F32, {2, 2});
  std::vector<Value> grads = grad(reduce_sum(x * x), {unused});
  g.output("d", grads[0]);
  TensorMap out = run_graph(
      g, {{"x", Tensor::ones(DType::F32, {2})}, {"unused", Tensor::ones(DType::F32, {2, 2})}});
  CHECK(to_doubles(out.at("d")) == std::vector<double>(4, 0.0));
}

TEST_CASE("grad composes: the gradient of a gradient is a second derivative", "[nn][grad]") {
  Graph g;
  Value x = g.input("x", DType::F64, {});
  Value y = x * x * x;          // y = x^3
  Value dy = grad(y, {x})[0];   // 3 x^2
  Value d2y = grad(dy, {x})[0]; // 6 x
  g.output("d2y", d2y);
  TensorMap out = run_graph(g, {{"x", Tensor::from_vector<double>({}, {2.0})}});
  CHECK(out.at("d2y").at(0) == Approx(12.0));
}

TEST_CASE("vjp contracts a non-scalar output with its cotangent", "[nn][grad]") {
  Graph g;
  Value x = g.input("x", DType::F64, {2});
  Value v = g.input("v", DType::F64, {2});
  Value y = x * x; // Jacobian diag(2x): vjp = 2 x v
  g.output("g", vjp({y}, {v}, {x})[0]);
  TensorMap out = run_graph(g, {{"x", Tensor::from_vector<double>({2}, {3.0, -1.0})},
                                {"v", Tensor::from_vector<double>({2}, {0.5, 2.0})}});
  CHECK(to_doubles(out.at("g")) == std::vector<double>{3.0, -4.0});
}

TEST_CASE("grad errors name the problem and the user's line", "[nn][grad]") {
  Graph g;
  Value x = g.input("x", DType::F32, {2});
  Value labels = g.input("labels", DType::I32, {2});

  SECTION("a non-scalar loss") {
    int line = __LINE__ + 1;
    Error e = error_from([&] { grad(x * x, {x}); });
    CHECK(e.code() == ErrorCode::InvalidArgument);
    CHECK_THAT(e.message(), Contains("scalar") && Contains("f32[2]"));
    check_points_at(e, __FILE__, line);
  }
  SECTION("an integer wrt value") {
    int line = __LINE__ + 1;
    Error e = error_from([&] { grad(reduce_sum(x), {labels}); });
    CHECK(e.code() == ErrorCode::InvalidArgument);
    CHECK_THAT(e.message(), Contains("floating point"));
    check_points_at(e, __FILE__, line);
  }
  SECTION("values of another graph") {
    Graph other;
    Value y = other.input("y", DType::F32, {});
    Error e = error_from([&] { grad(y, {x}); });
    CHECK(e.code() == ErrorCode::InvalidArgument);
    CHECK_THAT(e.message(), Contains("different Graphs"));
  }
}
