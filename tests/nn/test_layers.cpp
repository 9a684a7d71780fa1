// Layers: Linear, Conv2d, pooling, flatten, dropout, embedding, batch and layer norm.
#include <catch2/catch.hpp>

#include <numeric>

#include "frontend/nn/nn.h"
#include "tests/nn/nn_test_util.h"

using namespace loom;
using namespace loom::test;
using Catch::Matchers::Contains;

TEST_CASE("Linear registers weight and bias and computes x @ w + b", "[nn][layers]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::Linear fc(store, "fc", 3, 2);
  Value x = g.input("x", DType::F32, {2, 3});
  Value x1 = g.input("x1", DType::F32, {3});
  g.output("y", fc(x));
  g.output("y1", fc(x1));

  REQUIRE(store.entries().size() == 2);
  CHECK(store.entries()[0].name == "fc.weight");
  CHECK(store.entries()[0].value.shape() == Shape{3, 2});
  CHECK(store.entries()[1].name == "fc.bias");
  CHECK(store.entries()[1].init.kind == nn::Init::Kind::Constant);

  TensorMap out =
      run_graph(g, {{"fc.weight", Tensor::from_vector<float>({3, 2}, {1, 2, 3, 4, 5, 6})},
                    {"fc.bias", Tensor::from_vector<float>({2}, {0.5f, -0.5f})},
                    {"x", Tensor::from_vector<float>({2, 3}, {1, 0, 0, 1, 1, 1})},
                    {"x1", Tensor::from_vector<float>({3}, {0, 0, 1})}});
  CHECK(to_doubles(out.at("y")) == std::vector<double>{1.5, 1.5, 9.5, 11.5});
  CHECK(to_doubles(out.at("y1")) == std::vector<double>{5.5, 5.5});
}

TEST_CASE("Linear without bias and on [batch, time, features] inputs", "[nn][layers]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::Linear fc(store, "proj", 2, 1, {.bias = false});
  CHECK_FALSE(fc.bias().defined());
  Value x = g.input("x", DType::F32, {2, 2, 2});
  g.output("y", fc(x));
  TensorMap out =
      run_graph(g, {{"proj.weight", Tensor::from_vector<float>({2, 1}, {1, 10})},
                    {"x", Tensor::from_vector<float>({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})}});
  CHECK(out.at("y").shape() == Shape{2, 2, 1});
  CHECK(to_doubles(out.at("y")) == std::vector<double>{21, 43, 65, 87});
}

TEST_CASE("Conv2d adds a per-channel bias to the convolution", "[nn][layers]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::Conv2d conv(store, "conv", 1, 2, {2, 2}, {.pads = {1, 1}});
  Value x = g.input("x", DType::F32, {1, 1, 2, 2});
  Value y = conv(x);
  CHECK(y.shape() == Shape{1, 2, 3, 3});
  CHECK(conv.weight().shape() == Shape{2, 1, 2, 2});
  g.output("y", y);
  TensorMap out = run_graph(
      g, {{"conv.weight", Tensor::from_vector<float>({2, 1, 2, 2}, {1, 1, 1, 1, 0, 0, 0, 1})},
          {"conv.bias", Tensor::from_vector<float>({2}, {10, 20})},
          {"x", Tensor::from_vector<float>({1, 1, 2, 2}, {1, 2, 3, 4})}});
  // Channel 0 sums each 2x2 window of the zero-padded input; the centre sees all four.
  CHECK(out.at("y").at(4) == 10 + 10);
  CHECK(out.at("y").at(0) == 10 + 1);
  // Channel 1 picks the window's bottom-right element: x[i, j] at output (i, j).
  CHECK(out.at("y").at(9 + 0) == 20 + 1);
  CHECK(out.at("y").at(9 + 8) == 20 + 0);
}

TEST_CASE("pooling wrappers and flatten", "[nn][layers]") {
  Graph g;
  Value x = g.input("x", DType::F32, {1, 1, 4, 4});
  g.output("max", nn::MaxPool2d{.kernel = {2, 2}}(x));
  g.output("avg", nn::AvgPool2d{.kernel = {2, 2}}(x));
  g.output("global", nn::global_avg_pool2d(x));
  Value flat = nn::flatten(x);
  CHECK(flat.shape() == Shape{1, 16});
  CHECK(nn::flatten(x, 2).shape() == Shape{1, 1, 16});
  CHECK(nn::flatten(x, -1).shape() == Shape{1, 1, 4, 4});
  std::vector<float> values(16);
  std::iota(values.begin(), values.end(), 0.0f);
  TensorMap out = run_graph(g, {{"x", Tensor::from_vector<float>({1, 1, 4, 4}, values)}});
  CHECK(to_doubles(out.at("max")) == std::vector<double>{5, 7, 13, 15});
  CHECK(to_doubles(out.at("avg")) == std::vector<double>{2.5, 4.5, 10.5, 12.5});
  CHECK(out.at("global").shape() == Shape{1, 1});
  CHECK(out.at("global").at(0) == 7.5);
}

TEST_CASE("dropout zeroes about `rate` of the elements in training and scales the rest",
          "[nn][layers][dropout]") {
  Graph g;
  Value x = g.input("x", DType::F32, {100, 100});
  Value seed = g.input("seed", DType::I64, {});
  g.output("train", nn::dropout(x, 0.25, seed, /*training=*/true));
  g.output("eval", nn::dropout(x, 0.25, seed, /*training=*/false));
  std::unique_ptr<Executable> program = compile(g);
  auto run = [&](int64_t s) {
    return program->run({{"x", Tensor::ones(DType::F32, {100, 100})},
                         {"seed", Tensor::from_vector<int64_t>({}, {s})}});
  };
  TensorMap first = run(1), again = run(1), second = run(2);
  std::vector<double> kept = to_doubles(first.at("train"));
  int64_t zeros = std::count(kept.begin(), kept.end(), 0.0);
  int64_t scaled = std::count_if(kept.begin(), kept.end(),
                                 [](double v) { return std::fabs(v - 1.0 / 0.75) < 1e-6; });
  CHECK(zeros + scaled == 10000);
  CHECK(zeros == Approx(2500).margin(200)); // 4.6 standard deviations
  CHECK(first.at("train").bit_equal(again.at("train")));
  CHECK_FALSE(first.at("train").bit_equal(second.at("train")));
  CHECK(to_doubles(first.at("eval")) == std::vector<double>(10000, 1.0));
}

TEST_CASE("Dropout draws a distinct seed per layer from the store's rng_seed input",
          "[nn][layers][dropout]") {
  Graph g;
  nn::ParameterStore store(g, nn::Mode::Train);
  nn::Dropout drop(store, 0.5);
  Value x = g.input("x", DType::F32, {64});
  g.output("a", drop(x));
  g.output("b", drop(x));
  REQUIRE(store.seed_input().has_value());
  CHECK(store.seed_input()->name() == "rng_seed");
  TensorMap out = run_graph(g, {{"x", Tensor::ones(DType::F32, {64})},
                                {"rng_seed", Tensor::from_vector<int64_t>({}, {7})}});
  CHECK_FALSE(out.at("a").bit_equal(out.at("b")));

  Graph eval_graph;
  nn::ParameterStore eval_store(eval_graph, nn::Mode::Eval);
  Value y = eval_graph.input("x", DType::F32, {64});
  CHECK(nn::Dropout(eval_store, 0.5)(y) == y);
  CHECK_FALSE(eval_store.seed_input().has_value());
}

TEST_CASE("Embedding gathers rows of its table", "[nn][layers]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::Embedding embed(store, "embed", 4, 2);
  Value ids = g.input("ids", DType::I32, {2, 2});
  Value y = embed(ids);
  CHECK(y.shape() == Shape{2, 2, 2});
  g.output("y", y);
  TensorMap out =
      run_graph(g, {{"embed.weight", Tensor::from_vector<float>({4, 2}, {0, 1, 2, 3, 4, 5, 6, 7})},
                    {"ids", Tensor::from_vector<int32_t>({2, 2}, {3, 0, 1, 1})}});
  CHECK(to_doubles(out.at("y")) == std::vector<double>{6, 7, 0, 1, 2, 3, 2, 3});
}

TEST_CASE("BatchNorm normalizes with batch statistics and updates running statistics",
          "[nn][layers][batchnorm]") {
  Graph g;
  nn::ParameterStore store(g, nn::Mode::Train);
  nn::BatchNorm bn(store, "bn", 2, {.momentum = 0.1, .eps = 0.0, .dtype = DType::F64});
  Value x = g.input("x", DType::F64, {2, 2, 1, 2}); // N=2, C=2, H=1, W=2
  g.output("y", bn(x));
  REQUIRE(store.buffer_updates().size() == 2);
  g.output("mean", store.buffer_updates()[0].new_value);
  g.output("var", store.buffer_updates()[1].new_value);
  CHECK(store.trainable_values().size() == 2);
  CHECK(store.entries().size() == 4);

  // Channel 0 holds 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3);
  // channel 1 holds 10 (x4): zero variance.
  std::vector<double> xs = {1, 2, 10, 10, 3, 4, 10, 10};
  TensorMap inputs = store.initial_values(0);
  inputs["x"] = Tensor::from_vector<double>({2, 2, 1, 2}, xs);
  TensorMap out = run_graph(g, inputs);
  double sd = std::sqrt(1.25);
  CHECK(out.at("y").at(0) == Approx(-1.5 / sd));
  CHECK(out.at("y").at(5) == Approx(1.5 / sd));
  CHECK(out.at("mean").at(0) == Approx(0.9 * 0 + 0.1 * 2.5));
  CHECK(out.at("mean").at(1) == Approx(0.1 * 10));
  CHECK(out.at("var").at(0) == Approx(0.9 * 1 + 0.1 * 5.0 / 3.0));
  CHECK(out.at("var").at(1) == Approx(0.9));

  SECTION("inference mode uses the running statistics") {
    Graph eval_graph;
    nn::ParameterStore eval_store(eval_graph, nn::Mode::Eval);
    nn::BatchNorm eval_bn(eval_store, "bn", 2, {.eps = 0.0});
    Value ex = eval_graph.input("x", DType::F32, {1, 2});
    eval_graph.output("y", eval_bn(ex));
    CHECK(eval_store.buffer_updates().empty());
    TensorMap eval_inputs = {{"bn.weight", Tensor::from_vector<float>({2}, {2, 1})},
                             {"bn.bias", Tensor::from_vector<float>({2}, {0, 1})},
                             {"bn.running_mean", Tensor::from_vector<float>({2}, {1, -1})},
                             {"bn.running_var", Tensor::from_vector<float>({2}, {4, 1})},
                             {"x", Tensor::from_vector<float>({1, 2}, {5, 5})}};
    TensorMap eval_out = run_graph(eval_graph, eval_inputs);
    CHECK(to_doubles(eval_out.at("y")) == std::vector<double>{2 * (5 - 1) / 2.0, 6 + 1});
  }
}

TEST_CASE("batch norm and layer norm gradients pass finite-difference checks", "[nn][layers]") {
  Graph g;
  Value x = g.input("x", DType::F64, {3, 2, 2});
  Value gamma = g.input("gamma", DType::F64, {2});
  Value beta = g.input("beta", DType::F64, {2});
  Value ln_gamma = g.input("ln_gamma", DType::F64, {2, 2});
  Value weights = g.input("weights", DType::F64, {3, 2, 2});
  nn::BatchStatistics bn = nn::batch_norm_training(x, gamma, beta);
  Value ln = nn::layer_norm(x, 2, ln_gamma, Value());
  Value loss = reduce_sum(bn.normalized * weights) + reduce_sum(ln * weights * weights);
  check_gradients_numerically(g, loss, {x, gamma, beta, ln_gamma},
                              {{"x", random_tensor(DType::F64, {3, 2, 2}, 1)},
                               {"gamma", random_tensor(DType::F64, {2}, 2)},
                               {"beta", random_tensor(DType::F64, {2}, 3)},
                               {"ln_gamma", random_tensor(DType::F64, {2, 2}, 4)},
                               {"weights", random_tensor(DType::F64, {3, 2, 2}, 5)}},
                              1e-6, 1e-5, 1e-7);
}

TEST_CASE("Conv2d, pooling and Embedding gradients pass finite-difference checks", "[nn][layers]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::Conv2d conv(store, "conv", 2, 3, {3, 3}, {.pads = {1, 1}, .dtype = DType::F64});
  nn::Embedding embed(store, "embed", 5, 4, nn::Init::normal(0, 1), DType::F64);
  Value x = g.input("x", DType::F64, {2, 2, 4, 4});
  Value ids = g.input("ids", DType::I32, {2, 3});
  Value features = nn::MaxPool2d{.kernel = {2, 2}}(tanh(conv(x)));             // [2, 3, 2, 2]
  Value pooled = nn::AvgPool2d{.kernel = {2, 2}, .strides = {1, 1}}(features); // [2, 3, 1, 1]
  Value summary = nn::flatten(pooled);                                         // [2, 3]
  Value looked_up = reduce_sum(embed(ids), {2});                               // [2, 3]
  Value loss = reduce_sum(summary * looked_up) + reduce_sum(nn::flatten(features) * 0.3);
  TensorMap inputs = {{"conv.weight", random_tensor(DType::F64, {3, 2, 3, 3}, 1)},
                      {"conv.bias", random_tensor(DType::F64, {3}, 2)},
                      {"embed.weight", random_tensor(DType::F64, {5, 4}, 3)},
                      {"x", random_tensor(DType::F64, {2, 2, 4, 4}, 4)},
                      {"ids", Tensor::from_vector<int32_t>({2, 3}, {0, 4, 4, 2, 1, 0})}};
  std::vector<Value> wrt = store.trainable_values();
  wrt.push_back(x);
  check_gradients_numerically(g, loss, wrt, inputs);
}

TEST_CASE("LayerNorm normalizes each example over its trailing axes", "[nn][layers]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::LayerNorm ln(store, "ln", {3}, 0.0, DType::F64);
  Value x = g.input("x", DType::F64, {2, 3});
  g.output("y", ln(x));
  TensorMap inputs = store.initial_values(0);
  inputs["x"] = Tensor::from_vector<double>({2, 3}, {1, 2, 3, 10, 10, 40});
  TensorMap out = run_graph(g, inputs);
  double s0 = std::sqrt(2.0 / 3.0);
  CHECK(out.at("y").at(0) == Approx(-1 / s0));
  CHECK(out.at("y").at(1) == Approx(0.0).margin(1e-12));
  double s1 = std::sqrt((100.0 + 100.0 + 400.0) / 3.0);
  CHECK(out.at("y").at(5) == Approx(20 / s1));
}

TEST_CASE("layer errors carry a code and the user's line", "[nn][layers]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::Linear fc(store, "fc", 4, 2);
  Value x = g.input("x", DType::F32, {3, 5});

  int line = __LINE__ + 1;
  Error e = error_from([&] { fc(x); });
  CHECK(e.code() == ErrorCode::ShapeMismatch);
  CHECK_THAT(e.message(), Contains("Linear 'fc'") && Contains("f32[3,5]") && Contains("[..., 4]"));
  check_points_at(e, __FILE__, line);

  line = __LINE__ + 1;
  Error duplicate = error_from([&] { nn::Linear(store, "fc", 1, 1); });
  CHECK(duplicate.code() == ErrorCode::InvalidArgument);
  CHECK_THAT(duplicate.message(), Contains("fc.weight"));
  check_points_at(duplicate, __FILE__, line);

  nn::Conv2d conv(store, "conv", 3, 4, {3, 3});
  Value image = g.input("image", DType::F32, {1, 2, 8, 8}); // 2 channels, conv expects 3
  line = __LINE__ + 1;
  Error conv_error = error_from([&] { conv(image); });
  CHECK(conv_error.code() == ErrorCode::ShapeMismatch);
  check_points_at(conv_error, __FILE__, line);

  Error rate = error_from([&] { nn::Dropout(store, 1.0); });
  CHECK(rate.code() == ErrorCode::InvalidArgument);
  CHECK_THAT(rate.message(), Contains("[0, 1)"));
}
