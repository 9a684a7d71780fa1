// Softmax, log-softmax, the losses, and their numerical stability.
#include <catch2/catch.hpp>

#include "frontend/nn/nn.h"
#include "tests/nn/nn_test_util.h"

using namespace loom;
using namespace loom::test;
using Catch::Matchers::Contains;

namespace {

// log softmax of one row, in long double as the reference.
std::vector<double> reference_log_softmax(const std::vector<double>& row) {
  long double max = *std::max_element(row.begin(), row.end());
  long double sum = 0;
  for (double v : row)
    sum += std::exp(static_cast<long double>(v) - max);
  std::vector<double> out;
  for (double v : row)
    out.push_back(static_cast<double>(v - max - std::log(sum)));
  return out;
}

const std::vector<double> kLogits = {1.0, 2.0, 0.5, -1.0, 3.0, 0.0}; // [2, 3]

} // namespace

TEST_CASE("softmax and log_softmax match the definition", "[nn][losses]") {
  Graph g;
  Value x = g.input("x", DType::F64, {2, 3});
  g.output("softmax", nn::softmax(x));
  g.output("log_softmax", nn::log_softmax(x));
  g.output("softmax_axis0", nn::softmax(x, 0));
  g.output("logsumexp", nn::logsumexp(x, -1));
  TensorMap out = run_graph(g, {{"x", Tensor::from_vector<double>({2, 3}, kLogits)}});
  for (int row = 0; row < 2; ++row) {
    std::vector<double> logits(kLogits.begin() + 3 * row, kLogits.begin() + 3 * row + 3);
    std::vector<double> expected = reference_log_softmax(logits);
    for (int c = 0; c < 3; ++c) {
      CHECK(out.at("log_softmax").at(3 * row + c) == Approx(expected[c]).epsilon(1e-14));
      CHECK(out.at("softmax").at(3 * row + c) == Approx(std::exp(expected[c])).epsilon(1e-14));
    }
    CHECK(out.at("logsumexp").at(row) == Approx(logits[0] - expected[0]).epsilon(1e-14));
  }
  // Along axis 0 each column sums to one.
  for (int c = 0; c < 3; ++c)
    CHECK(out.at("softmax_axis0").at(c) + out.at("softmax_axis0").at(3 + c) == Approx(1.0));
}

TEST_CASE("cross-entropy with integer labels and with one-hot targets agree", "[nn][losses]") {
  Graph g;
  Value logits = g.input("logits", DType::F64, {2, 3});
  Value labels = g.input("labels", DType::I32, {2});
  Value targets = g.input("targets", DType::F64, {2, 3});
  g.output("mean", nn::cross_entropy(logits, labels));
  g.output("sum", nn::cross_entropy(logits, labels, nn::Reduction::Sum));
  g.output("each", nn::cross_entropy(logits, labels, nn::Reduction::None));
  g.output("probs", nn::cross_entropy_with_probs(logits, targets));
  g.output("nll", nn::nll_loss(nn::log_softmax(logits), labels, nn::Reduction::None));
  g.output("accuracy", nn::accuracy(logits, labels));
  TensorMap out =
      run_graph(g, {{"logits", Tensor::from_vector<double>({2, 3}, kLogits)},
                    {"labels", Tensor::from_vector<int32_t>({2}, {1, 0})},
                    {"targets", Tensor::from_vector<double>({2, 3}, {0, 1, 0, 1, 0, 0})}});
  double loss0 = -reference_log_softmax({1.0, 2.0, 0.5})[1];
  double loss1 = -reference_log_softmax({-1.0, 3.0, 0.0})[0];
  CHECK(out.at("each").shape() == Shape{2});
  CHECK(out.at("each").at(0) == Approx(loss0));
  CHECK(out.at("each").at(1) == Approx(loss1));
  CHECK(out.at("nll").at(1) == Approx(loss1));
  CHECK(out.at("sum").at(0) == Approx(loss0 + loss1));
  CHECK(out.at("mean").at(0) == Approx((loss0 + loss1) / 2));
  CHECK(out.at("probs").at(0) == Approx((loss0 + loss1) / 2));
  CHECK(out.at("accuracy").at(0) == 0.5); // row 0 predicts class 1 (right), row 1 class 1 (wrong)
}

TEST_CASE("cross-entropy with soft targets weighs every class", "[nn][losses]") {
  Graph g;
  Value logits = g.input("logits", DType::F64, {1, 3});
  Value targets = g.input("targets", DType::F64, {1, 3});
  g.output("loss", nn::cross_entropy_with_probs(logits, targets));
  TensorMap out = run_graph(g, {{"logits", Tensor::from_vector<double>({1, 3}, {1.0, 2.0, 0.5})},
                                {"targets", Tensor::from_vector<double>({1, 3}, {0.2, 0.5, 0.3})}});
  std::vector<double> log_p = reference_log_softmax({1.0, 2.0, 0.5});
  CHECK(out.at("loss").at(0) == Approx(-(0.2 * log_p[0] + 0.5 * log_p[1] + 0.3 * log_p[2])));
}

TEST_CASE("softmax cross-entropy and log-softmax stay finite for logits of magnitude 1e4",
          "[nn][losses][stability]") {
  Graph g;
  Value logits = g.input("logits", DType::F32, {2, 3});
  Value labels = g.input("labels", DType::I32, {2});
  Value loss = nn::cross_entropy(logits, labels);
  g.output("loss", loss);
  g.output("log_softmax", nn::log_softmax(logits));
  g.output("softmax", nn::softmax(logits));
  g.output("grad", grad(loss, {logits})[0]);
  std::vector<float> huge = {1e4f, -1e4f, 0.0f, -1e4f, -1e4f + 5.0f, 1e4f};
  TensorMap out = run_graph(g, {{"logits", Tensor::from_vector<float>({2, 3}, huge)},
                                {"labels", Tensor::from_vector<int32_t>({2}, {1, 2})}});
  for (const char* name : {"loss", "log_softmax", "softmax", "grad"}) {
    INFO(name << " = " << out.at(name).str());
    for (double v : to_doubles(out.at(name)))
      CHECK(std::isfinite(v));
  }
  // Row 0: the label's logit is 2e4 below the max; row 1: the label holds the max.
  CHECK(out.at("log_softmax").at(1) == Approx(-2e4));
  CHECK(out.at("log_softmax").at(5) == Approx(0.0).margin(1e-6));
  CHECK(out.at("loss").at(0) == Approx(1e4));
  // d(mean CE)/d logits = (softmax - onehot) / N.
  CHECK(out.at("grad").at(0) == Approx(0.5));
  CHECK(out.at("grad").at(1) == Approx(-0.5));
}

TEST_CASE("activations match their definitions", "[nn][activations]") {
  Graph g;
  Value x = g.input("x", DType::F64, {5});
  g.output("leaky_relu", nn::leaky_relu(x, 0.1));
  g.output("elu", nn::elu(x, 2.0));
  g.output("gelu", nn::gelu(x));
  g.output("silu", nn::silu(x));
  g.output("softplus", nn::softplus(x));
  std::vector<double> xs = {-800.0, -1.5, 0.0, 0.7, 800.0};
  TensorMap out = run_graph(g, {{"x", Tensor::from_vector<double>({5}, xs)}});
  for (size_t i = 0; i < xs.size(); ++i) {
    double v = xs[i];
    INFO("x = " << v);
    CHECK(out.at("leaky_relu").at(i) == Approx(v > 0 ? v : 0.1 * v));
    CHECK(out.at("elu").at(i) == Approx(v > 0 ? v : 2.0 * std::expm1(v)));
    CHECK(out.at("gelu").at(i) == Approx(0.5 * v * std::erfc(-v / std::sqrt(2.0))).margin(1e-12));
    CHECK(out.at("silu").at(i) == Approx(v / (1.0 + std::exp(-v))).margin(1e-12));
    double softplus = v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
    CHECK(out.at("softplus").at(i) == Approx(softplus).margin(1e-12));
  }
}

TEST_CASE("activation and loss gradients pass finite-difference checks", "[nn][activations]") {
  Graph g;
  Value x = g.input("x", DType::F64, {2, 3});
  Value labels = g.input("labels", DType::I64, {2});
  Value probs = g.input("probs", DType::F64, {2, 3});
  Value loss = nn::cross_entropy(x, labels) + nn::cross_entropy_with_probs(x * 0.5, probs) +
               reduce_sum(nn::softplus(x) + nn::elu(x) + nn::gelu(x) + nn::silu(x)) +
               reduce_sum(nn::softmax(x, 0) * probs) + nn::mse_loss(x, probs);
  check_gradients_numerically(
      g, loss, {x, probs},
      {{"x", Tensor::from_vector<double>({2, 3}, {0.3, -1.2, 2.0, 0.1, 0.9, -0.4})},
       {"labels", Tensor::from_vector<int64_t>({2}, {2, 0})},
       {"probs", Tensor::from_vector<double>({2, 3}, {0.1, 0.6, 0.3, 0.25, 0.25, 0.5})}});
}

TEST_CASE("mse_loss averages squared errors and broadcasts the target", "[nn][losses]") {
  Graph g;
  Value prediction = g.input("prediction", DType::F32, {2, 2});
  Value target = g.input("target", DType::F32, {2});
  g.output("mean", nn::mse_loss(prediction, target));
  g.output("none", nn::mse_loss(prediction, target, nn::Reduction::None));
  TensorMap out = run_graph(g, {{"prediction", Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4})},
                                {"target", Tensor::from_vector<float>({2}, {1, 0})}});
  CHECK(out.at("mean").at(0) == Approx((0.0 + 4.0 + 4.0 + 16.0) / 4));
  CHECK(out.at("none").shape() == Shape{2, 2});
}

TEST_CASE("loss errors name the problem and the user's line", "[nn][losses]") {
  Graph g;
  Value logits = g.input("logits", DType::F32, {4, 10});
  Value labels = g.input("labels", DType::I32, {3});
  Value float_labels = g.input("float_labels", DType::F32, {4});

  int line = __LINE__ + 1;
  Error shape = error_from([&] { nn::cross_entropy(logits, labels); });
  CHECK(shape.code() == ErrorCode::ShapeMismatch);
  CHECK_THAT(shape.message(), Contains("i32[3]") && Contains("[4]") && Contains("f32[4,10]"));
  check_points_at(shape, __FILE__, line);

  Error dtype = error_from([&] { nn::cross_entropy(logits, float_labels); });
  CHECK(dtype.code() == ErrorCode::DTypeMismatch);
  CHECK_THAT(dtype.message(), Contains("integers"));

  line = __LINE__ + 1;
  Error mse = error_from([&] { nn::mse_loss(logits, labels); });
  CHECK(mse.code() == ErrorCode::DTypeMismatch); // from the sub builder, at the user's line
  check_points_at(mse, __FILE__, line);
}
