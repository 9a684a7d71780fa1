// Each optimizer's first three updates against its published update rule evaluated by
// hand, and its convergence on a convex quadratic.
//
// The tiny problem: theta in R^2, loss = sum(c * theta^2) with c = (0.5, 3), so the
// gradient is g = 2 c theta = (theta_0, 6 theta_1); theta starts at (1, -2).
#include <catch2/catch.hpp>

#include <array>
#include <cmath>

#include "frontend/nn/nn.h"
#include "frontend/optim.h"
#include "tests/nn/nn_test_util.h"

using namespace loom;
using namespace loom::test;

namespace {

using Vec = std::array<double, 2>;

const Vec kCurvature = {0.5, 3.0};
const Vec kStart = {1.0, -2.0};

Vec gradient_at(const Vec& theta) {
  return {2 * kCurvature[0] * theta[0], 2 * kCurvature[1] * theta[1]};
}

// Runs the optimizer's training step three times from kStart and compares theta after
// each step with `expected[k]`; the hand computation below produces those.
void check_three_updates(const optim::Optimizer& optimizer, const std::array<Vec, 3>& expected) {
  Graph g;
  nn::ParameterStore store(g);
  Value theta = store.parameter("theta", {2}, nn::Init::zeros(), DType::F64);
  Value c = g.constant(Tensor::from_vector<double>({2}, {kCurvature[0], kCurvature[1]}));
  optim::TrainStep step = optim::build_train_step(store, reduce_sum(c * theta * theta), optimizer);
  optim::Trainer trainer(g, step, /*seed=*/0);
  trainer.set_state("theta", Tensor::from_vector<double>({2}, {kStart[0], kStart[1]}));
  for (int k = 0; k < 3; ++k) {
    trainer.step({});
    const Tensor& now = trainer.state().at("theta");
    INFO(optimizer.name() << " after update " << k + 1 << ": " << now.str());
    CHECK(now.at(0) == Approx(expected[k][0]).epsilon(1e-12).margin(1e-15));
    CHECK(now.at(1) == Approx(expected[k][1]).epsilon(1e-12).margin(1e-15));
  }
  CHECK(trainer.state().at(optim::TrainStep::kStepInput).at(0) == 3);
}

// Applies `update(theta, g, t)` three times from kStart, recording theta after each.
template <typename Update> std::array<Vec, 3> by_hand(Update update) {
  std::array<Vec, 3> thetas;
  Vec theta = kStart;
  for (int t = 1; t <= 3; ++t) {
    Vec g = gradient_at(theta);
    for (int i = 0; i < 2; ++i)
      theta[i] = update(i, theta[i], g[i], t);
    thetas[t - 1] = theta;
  }
  return thetas;
}

} // namespace

TEST_CASE("SGD: theta <- theta - lr * (g + wd * theta)", "[train][optim]") {
  // PyTorch torch.optim.SGD documentation, without momentum.
  const double lr = 0.1, wd = 0.01;
  auto expected =
      by_hand([&](int, double theta, double g, int) { return theta - lr * (g + wd * theta); });
  CHECK(expected[0][0] == Approx(1.0 - 0.1 * 1.01)); // one value written out in full
  check_three_updates(optim::SGD({.lr = lr, .weight_decay = wd}), expected);
}

TEST_CASE("SGD with momentum and with Nesterov momentum", "[train][optim]") {
  // PyTorch torch.optim.SGD documentation (dampening 0): b_1 = g_1, b_t = mu b_{t-1} + g_t;
  // heavy ball: theta <- theta - lr b_t; Nesterov: theta <- theta - lr (g_t + mu b_t).
  const double lr = 0.05, mu = 0.9;
  for (bool nesterov : {false, true}) {
    Vec buffer = {0.0, 0.0};
    auto expected = by_hand([&](int i, double theta, double g, int t) {
      buffer[i] = t == 1 ? g : mu * buffer[i] + g;
      return theta - lr * (nesterov ? g + mu * buffer[i] : buffer[i]);
    });
    check_three_updates(optim::SGD({.lr = lr, .momentum = mu, .nesterov = nesterov}), expected);
  }
}

TEST_CASE("AdaGrad: sum += g^2, theta <- theta - clr * g / (sqrt(sum) + eps)", "[train][optim]") {
  // PyTorch torch.optim.Adagrad documentation (Duchi et al. 2011), with
  // clr = lr / (1 + (t - 1) * lr_decay) and the accumulator starting at 0.1.
  const double lr = 0.5, lr_decay = 0.1, eps = 1e-10, initial = 0.1;
  Vec sum = {initial, initial};
  auto expected = by_hand([&](int i, double theta, double g, int t) {
    double clr = lr / (1 + (t - 1) * lr_decay);
    sum[i] += g * g;
    return theta - clr * g / (std::sqrt(sum[i]) + eps);
  });
  check_three_updates(
      optim::AdaGrad(
          {.lr = lr, .lr_decay = lr_decay, .initial_accumulator_value = initial, .eps = eps}),
      expected);
}

TEST_CASE("RMSProp: plain, centered, and with momentum", "[train][optim]") {
  // PyTorch torch.optim.RMSprop documentation:
  //   v = alpha v + (1 - alpha) g^2;  centered: g_avg = alpha g_avg + (1 - alpha) g,
  //   v~ = v - g_avg^2 (else v~ = v);  momentum: b = mu b + g / (sqrt(v~) + eps),
  //   theta <- theta - lr b;  otherwise theta <- theta - lr g / (sqrt(v~) + eps).
  const double lr = 0.01, alpha = 0.9, eps = 1e-8;
  for (bool centered : {false, true})
    for (double mu : {0.0, 0.5}) {
      Vec v = {0, 0}, g_avg = {0, 0}, b = {0, 0};
      auto expected = by_hand([&](int i, double theta, double g, int) {
        v[i] = alpha * v[i] + (1 - alpha) * g * g;
        double variance = v[i];
        if (centered) {
          g_avg[i] = alpha * g_avg[i] + (1 - alpha) * g;
          variance -= g_avg[i] * g_avg[i];
        }
        double scaled = g / (std::sqrt(variance) + eps);
        if (mu == 0.0) return theta - lr * scaled;
        b[i] = mu * b[i] + scaled;
        return theta - lr * b[i];
      });
      INFO("centered " << centered << ", momentum " << mu);
      check_three_updates(
          optim::RMSProp(
              {.lr = lr, .alpha = alpha, .eps = eps, .momentum = mu, .centered = centered}),
          expected);
    }
}

TEST_CASE("Adam: Kingma & Ba 2015, Algorithm 1", "[train][optim]") {
  // m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  m^ = m / (1 - b1^t);
  // v^ = v / (1 - b2^t);  theta <- theta - lr m^ / (sqrt(v^) + eps).
  // PyTorch's (coupled) weight decay first replaces g by g + wd * theta.
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (double wd : {0.0, 0.1}) {
    Vec m = {0, 0}, v = {0, 0};
    auto expected = by_hand([&](int i, double theta, double g, int t) {
      g += wd * theta;
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      double m_hat = m[i] / (1 - std::pow(b1, t));
      double v_hat = v[i] / (1 - std::pow(b2, t));
      return theta - lr * m_hat / (std::sqrt(v_hat) + eps);
    });
    if (wd == 0.0) // Adam's first step moves each coordinate by lr against the gradient's sign
      CHECK(expected[0][1] == Approx(-2.0 + 0.1).epsilon(1e-9));
    INFO("weight decay " << wd);
    check_three_updates(
        optim::Adam({.lr = lr, .beta1 = b1, .beta2 = b2, .eps = eps, .weight_decay = wd}),
        expected);
  }
}

TEST_CASE("AdamW: Loshchilov & Hutter 2019, Algorithm 2 (decoupled weight decay)",
          "[train][optim]") {
  // As PyTorch's torch.optim.AdamW: theta <- theta (1 - lr wd), then the Adam step of
  // Algorithm 1 with the raw gradient (the decay never enters m or v).
  const double lr = 0.1, b1 = 0.8, b2 = 0.99, eps = 1e-8, wd = 0.5;
  Vec m = {0, 0}, v = {0, 0};
  auto expected = by_hand([&](int i, double theta, double g, int t) {
    theta *= 1 - lr * wd;
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    double m_hat = m[i] / (1 - std::pow(b1, t));
    double v_hat = v[i] / (1 - std::pow(b2, t));
    return theta - lr * m_hat / (std::sqrt(v_hat) + eps);
  });
  check_three_updates(
      optim::AdamW({.lr = lr, .beta1 = b1, .beta2 = b2, .eps = eps, .weight_decay = wd}), expected);
}

namespace {

// Minimizes sum(c * (theta - target)^2) (condition number 8) from theta = 0 and returns
// the final loss divided by the initial one.
double relative_loss_after(const optim::Optimizer& optimizer, int steps) {
  Graph g;
  nn::ParameterStore store(g);
  Value theta = store.parameter("theta", {4}, nn::Init::zeros(), DType::F64);
  Value c = g.constant(Tensor::from_vector<double>({4}, {0.5, 1.0, 2.0, 4.0}));
  Value target = g.constant(Tensor::from_vector<double>({4}, {3.0, -1.0, 0.5, 2.0}));
  Value error = theta - target;
  optim::TrainStep step = optim::build_train_step(store, reduce_sum(c * error * error), optimizer);
  optim::Trainer trainer(g, step, /*seed=*/0);
  double first = trainer.step({});
  double last = first;
  for (int k = 1; k < steps; ++k)
    last = trainer.step({});
  return last / first;
}

} // namespace

TEST_CASE("every optimizer drives a convex quadratic below 1e-4 of its initial loss",
          "[train][optim]") {
  struct Case {
    std::shared_ptr<optim::Optimizer> optimizer;
    int steps;
  };
  std::vector<Case> cases = {
      {std::make_shared<optim::SGD>(optim::SGDOptions{.lr = 0.1}), 100},
      {std::make_shared<optim::SGD>(optim::SGDOptions{.lr = 0.05, .momentum = 0.5}), 100},
      {std::make_shared<optim::SGD>(
           optim::SGDOptions{.lr = 0.05, .momentum = 0.5, .nesterov = true}),
       100},
      {std::make_shared<optim::AdaGrad>(optim::AdaGradOptions{.lr = 1.0}), 300},
      {std::make_shared<optim::RMSProp>(optim::RMSPropOptions{.lr = 0.01}), 500},
      {std::make_shared<optim::Adam>(optim::AdamOptions{.lr = 0.1}), 500},
      {std::make_shared<optim::AdamW>(optim::AdamOptions{.lr = 0.1, .weight_decay = 1e-3}), 500},
  };
  for (const Case& c : cases) {
    double ratio = relative_loss_after(*c.optimizer, c.steps);
    INFO(c.optimizer->name() << ": final / initial loss = " << ratio << " after " << c.steps
                             << " steps");
    CHECK(ratio < 1e-4);
  }
}

TEST_CASE("make_optimizer knows every optimizer by name", "[train][optim]") {
  for (const std::string& name : optim::optimizer_names())
    CHECK(optim::make_optimizer(name, 0.01)->name() == name);
  Error e = error_from([] { optim::make_optimizer("lbfgs", 0.1); });
  CHECK(e.code() == ErrorCode::InvalidArgument);
  CHECK_THAT(e.message(), Catch::Matchers::Contains("adamw"));
  Error nesterov = error_from([] { optim::SGD({.lr = 0.1, .nesterov = true}); });
  CHECK(nesterov.code() == ErrorCode::InvalidArgument);
  Error beta = error_from([] { optim::Adam({.beta1 = 1.0}); });
  CHECK(beta.code() == ErrorCode::InvalidArgument);
}

TEST_CASE("a cosine schedule scales the learning rate by its factor at each update",
          "[train][optim][schedule]") {
  // factor(t) = f + (1 - f) (1 + cos(pi min(t - 1, T) / T)) / 2, here with T = 2: the
  // updates use lr, lr (f + (1 - f) / 2) and then lr f for good.
  const double lr = 0.1, f = 0.2, wd = 0.01;
  auto factor = [&](int t) {
    double done = std::min(t - 1, 2);
    return f + (1 - f) * (1 + std::cos(3.141592653589793 * done / 2)) / 2;
  };
  CHECK(factor(1) == Approx(1.0));
  CHECK(factor(3) == Approx(f));
  optim::SGD sgd({.lr = lr});
  sgd.set_schedule(optim::LrSchedule::cosine(2, f));
  check_three_updates(
      sgd, by_hand([&](int, double theta, double g, int t) { return theta - lr * factor(t) * g; }));
  // AdamW: the decoupled decay is scaled too, as PyTorch's schedulers scale the group's lr.
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  Vec m = {0, 0}, v = {0, 0};
  auto expected = by_hand([&](int i, double theta, double g, int t) {
    double rate = lr * factor(t);
    theta *= 1 - rate * wd;
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    double m_hat = m[i] / (1 - std::pow(beta1, t)), v_hat = v[i] / (1 - std::pow(beta2, t));
    return theta - rate * m_hat / (std::sqrt(v_hat) + eps);
  });
  optim::AdamW adamw({.lr = lr, .weight_decay = wd});
  adamw.set_schedule(optim::LrSchedule::cosine(2, f));
  check_three_updates(adamw, expected);
}

TEST_CASE("a cosine schedule needs at least one step and a final fraction in [0, 1]",
          "[train][optim][schedule]") {
  CHECK_THROWS_WITH(optim::LrSchedule::cosine(0), Catch::Contains("at least 1"));
  CHECK_THROWS_WITH(optim::LrSchedule::cosine(10, 1.5), Catch::Contains("final_fraction"));
}
