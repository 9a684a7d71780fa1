// Initializers: fans, resolved distributions, graph-side and host-side initialization,
// and the ParameterStore's initial values.
#include <catch2/catch.hpp>

#include "frontend/nn/nn.h"
#include "tests/nn/nn_test_util.h"

using namespace loom;
using namespace loom::test;
using Catch::Matchers::Contains;

namespace {

struct Moments {
  double mean = 0, stddev = 0, min = 0, max = 0;
};

Moments moments(const Tensor& t) {
  std::vector<double> v = to_doubles(t);
  Moments m;
  for (double x : v)
    m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v)
    m.stddev += (x - m.mean) * (x - m.mean);
  m.stddev = std::sqrt(m.stddev / static_cast<double>(v.size()));
  m.min = *std::min_element(v.begin(), v.end());
  m.max = *std::max_element(v.begin(), v.end());
  return m;
}

} // namespace

TEST_CASE("fans follow loom's weight layouts", "[nn][init]") {
  CHECK(nn::compute_fans({784, 128}).fan_in == 784); // Linear: [in, out]
  CHECK(nn::compute_fans({784, 128}).fan_out == 128);
  nn::Fans conv = nn::compute_fans({16, 8, 3, 3}); // OIHW
  CHECK(conv.fan_in == 8 * 9);
  CHECK(conv.fan_out == 16 * 9);
  CHECK(nn::compute_fans({5}).fan_in == 5);
}

TEST_CASE("Glorot and He initializers resolve to their published scales", "[nn][init]") {
  TensorType linear{DType::F32, {300, 100}};
  nn::Distribution glorot_u = nn::resolve(nn::Init::glorot_uniform(), linear);
  CHECK(glorot_u.kind == nn::Distribution::Kind::Uniform);
  CHECK(glorot_u.b == Approx(std::sqrt(6.0 / 400)));
  CHECK(glorot_u.a == -glorot_u.b);
  CHECK(nn::resolve(nn::Init::glorot_normal(2.0), linear).b == Approx(2.0 * std::sqrt(2.0 / 400)));
  CHECK(nn::resolve(nn::Init::he_uniform(), linear).b == Approx(std::sqrt(6.0 / 300)));
  CHECK(nn::resolve(nn::Init::he_normal(), linear).b == Approx(std::sqrt(2.0 / 300)));
}

TEST_CASE("graph-side initializers draw from their distributions", "[nn][init]") {
  TensorType type{DType::F32, {200, 100}}; // 20000 samples
  nn::Distribution he = nn::resolve(nn::Init::he_normal(), type);
  nn::Distribution glorot = nn::resolve(nn::Init::glorot_uniform(), type);

  Graph g;
  Value seed = g.input("seed", DType::I64, {});
  g.output("he_normal", nn::init_value(nn::Init::he_normal(), type, seed));
  g.output("glorot_uniform", nn::init_value(nn::Init::glorot_uniform(), type, seed));
  g.output("uniform", nn::init_value(nn::Init::uniform(2.0, 3.0), type, seed));
  g.output("normal", nn::init_value(nn::Init::normal(-1.0, 0.5), type, seed));
  g.output("constant", nn::init_value(nn::Init::constant(4.0), {DType::I32, {3}}, seed));
  TensorMap out = run_graph(g, {{"seed", Tensor::from_vector<int64_t>({}, {11})}});

  Moments m = moments(out.at("he_normal"));
  CHECK(m.mean == Approx(0.0).margin(0.05 * he.b));
  CHECK(m.stddev == Approx(he.b).epsilon(0.03));
  m = moments(out.at("glorot_uniform"));
  CHECK(m.min >= glorot.a);
  CHECK(m.max < glorot.b);
  CHECK(m.stddev == Approx(glorot.b / std::sqrt(3.0)).epsilon(0.03));
  m = moments(out.at("uniform"));
  CHECK(m.min >= 2.0);
  CHECK(m.max < 3.0);
  CHECK(m.mean == Approx(2.5).epsilon(0.01));
  m = moments(out.at("normal"));
  CHECK(m.mean == Approx(-1.0).epsilon(0.01));
  CHECK(m.stddev == Approx(0.5).epsilon(0.03));
  CHECK(out.at("constant").dtype() == DType::I32);
  CHECK(to_doubles(out.at("constant")) == std::vector<double>{4, 4, 4});
}

TEST_CASE("the host-side initializer equals the graph-side one", "[nn][init]") {
  TensorType type{DType::F32, {8, 4}};
  nn::Init init = nn::Init::glorot_normal();
  Tensor host = nn::initialize(init, type, 123);

  Graph g;
  Value seed = g.input("seed", DType::I64, {});
  g.output("w", nn::init_value(init, type, nn::derive_seed(seed, nn::name_salt("tensor"))));
  TensorMap out = run_graph(g, {{"seed", Tensor::from_vector<int64_t>({}, {123})}});
  CHECK(host.bit_equal(out.at("w")));
  CHECK_FALSE(host.bit_equal(nn::initialize(init, type, 124)));
}

TEST_CASE("ParameterStore initial values are reproducible and stable per name", "[nn][init]") {
  auto build = [](Graph& g, nn::ParameterStore& store, bool extra_layer) {
    if (extra_layer) nn::Linear(store, "first", 2, 2);
    nn::Linear(store, "fc", 6, 3, {.weight_init = nn::Init::he_uniform()});
    (void)g;
  };
  Graph g1, g2;
  nn::ParameterStore s1(g1), s2(g2);
  build(g1, s1, false);
  build(g2, s2, true);
  TensorMap a = s1.initial_values(5), b = s1.initial_values(5), c = s2.initial_values(5);
  CHECK(a.size() == 2);
  CHECK(c.size() == 4);
  CHECK(a.at("fc.weight").bit_equal(b.at("fc.weight")));
  CHECK(a.at("fc.weight").bit_equal(c.at("fc.weight"))); // another layer does not shift it
  CHECK(to_doubles(a.at("fc.bias")) == std::vector<double>(3, 0.0));
  double limit = std::sqrt(6.0 / 6);
  for (double w : to_doubles(a.at("fc.weight")))
    CHECK(std::fabs(w) <= limit);
}

TEST_CASE("invalid initializers are rejected where the parameter is declared", "[nn][init]") {
  Graph g;
  nn::ParameterStore store(g);
  int line = __LINE__ + 1;
  Error e = error_from([&] { store.parameter("w", {2}, nn::Init::uniform(1.0, 0.0)); });
  CHECK(e.code() == ErrorCode::InvalidArgument);
  CHECK_THAT(e.message(), Contains("'w'") && Contains("low must not exceed high"));
  check_points_at(e, __FILE__, line);

  Error integer =
      error_from([&] { store.buffer("count", {2}, nn::Init::normal(0, 1), DType::I32); });
  CHECK(integer.code() == ErrorCode::InvalidArgument);
  CHECK_THAT(integer.message(), Contains("floating-point"));

  Error trainable_int =
      error_from([&] { store.parameter("k", {2}, nn::Init::zeros(), DType::I64); });
  CHECK(trainable_int.code() == ErrorCode::InvalidArgument);
  CHECK(g.function().params().empty()); // nothing was added by the failed declarations
}
