// The training step as one function: its signature and in-place update marks, and the
// Trainer that carries the state from step to step.
#include <catch2/catch.hpp>

#include "frontend/nn/nn.h"
#include "frontend/optim.h"
#include "tests/nn/nn_test_util.h"

using namespace loom;
using namespace loom::test;
using Catch::Matchers::Contains;

namespace {

// A batch-normalized two-layer model with dropout, built in `store`'s mode.
Value small_model(nn::ParameterStore& store, Value x) {
  nn::Linear fc1(store, "fc1", 3, 4);
  nn::BatchNorm bn(store, "bn", 4);
  nn::Dropout drop(store, 0.5);
  nn::Linear fc2(store, "fc2", 4, 2);
  return fc2(drop(relu(bn(fc1(x)))));
}

} // namespace

TEST_CASE("build_train_step marks every new parameter and state output as updating its input",
          "[train][step]") {
  Graph g;
  nn::ParameterStore store(g, nn::Mode::Train);
  Value x = g.input("x", DType::F32, {8, 3});
  Value labels = g.input("labels", DType::I32, {8});
  Value loss = nn::cross_entropy(small_model(store, x), labels);
  optim::TrainStep step = optim::build_train_step(store, loss, optim::Adam());

  const ir::Function& fn = g.function();
  REQUIRE(fn.find_output("loss"));
  // 6 parameters with two Adam slots each, 2 running statistics, the counter, the seed.
  CHECK(step.state.size() == 6 * 3 + 2 + 1 + 1);
  CHECK(fn.output_aliases().size() == step.state.size());
  for (const optim::StateEntry& entry : step.state) {
    INFO(entry.input);
    REQUIRE(fn.output_aliases().count(entry.output));
    CHECK(fn.output_aliases().at(entry.output) == entry.input);
    REQUIRE(fn.find_param(entry.input));
    CHECK(fn.find_param(entry.input)->type() == entry.type);
  }
  for (const char* input : {"fc1.weight", "fc1.weight.m", "fc1.weight.v", "bn.running_mean",
                            "bn.running_var", "optim.step", "rng_seed"})
    CHECK(step.find(input));
  CHECK_FALSE(step.find("x"));
  CHECK(step.find("fc2.bias")->output == "new.fc2.bias");
}

TEST_CASE("the Trainer swaps outputs into inputs: parameters, statistics, counter and seed move",
          "[train][step]") {
  Graph g;
  nn::ParameterStore store(g, nn::Mode::Train);
  Value x = g.input("x", DType::F32, {8, 3});
  Value labels = g.input("labels", DType::I32, {8});
  Value logits = small_model(store, x);
  g.output("logits", logits);
  optim::TrainStep step =
      optim::build_train_step(store, nn::cross_entropy(logits, labels), optim::SGD({.lr = 0.1}));
  optim::Trainer trainer(g, step, /*seed=*/3);
  CHECK(trainer.compile_ms() >= 0.0);

  TensorMap initial = trainer.state();
  CHECK(initial.at("rng_seed").at(0) == 3);
  CHECK(initial.at("optim.step").at(0) == 0);
  CHECK(to_doubles(initial.at("bn.running_var")) == std::vector<double>(4, 1.0));
  CHECK(initial.at("fc1.weight").bit_equal(store.initial_values(3).at("fc1.weight")));

  TensorMap batch = {{"x", random_tensor(DType::F32, {8, 3}, 1)},
                     {"labels", Tensor::from_vector<int32_t>({8}, {0, 1, 1, 0, 1, 0, 0, 1})}};
  TensorMap first = trainer.run(batch);
  CHECK(first.size() == 2); // the loss and the extra "logits" output; no state
  CHECK(first.count("logits"));
  const TensorMap& after = trainer.state();
  CHECK(after.at("optim.step").at(0) == 1);
  CHECK(after.at("rng_seed").at(0) == 4);
  CHECK_FALSE(after.at("fc1.weight").bit_equal(initial.at("fc1.weight")));
  CHECK_FALSE(after.at("bn.running_mean").bit_equal(initial.at("bn.running_mean")));

  // Back to the initial parameters with the advanced seed: only the dropout masks
  // differ from the first step, and they do. With the initial seed too, the step repeats.
  auto restore_parameters = [&] {
    for (const Value& p : store.trainable_values())
      trainer.set_state(p.name(), initial.at(p.name()));
  };
  restore_parameters();
  TensorMap new_masks = trainer.run(batch);
  CHECK_FALSE(new_masks.at("logits").bit_equal(first.at("logits")));
  restore_parameters();
  trainer.set_state("rng_seed", initial.at("rng_seed"));
  CHECK(trainer.run(batch).at("logits").bit_equal(first.at("logits")));

  SECTION("an inference graph of the same model runs on the trained state") {
    Graph eval_graph;
    nn::ParameterStore eval_store(eval_graph, nn::Mode::Eval);
    Value ex = eval_graph.input("x", DType::F32, {2, 3});
    eval_graph.output("logits", small_model(eval_store, ex));
    std::unique_ptr<Executable> eval = compile(eval_graph);
    TensorMap out = trainer.infer(*eval, {{"x", random_tensor(DType::F32, {2, 3}, 2)}});
    CHECK(out.at("logits").shape() == Shape{2, 2});
  }
}

TEST_CASE("a training step fits a linear regression", "[train][step]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::Linear fc(store, "fc", 2, 1);
  Value x = g.input("x", DType::F32, {16, 2});
  Value y = g.input("y", DType::F32, {16, 1});
  optim::TrainStep step = optim::build_train_step(store, nn::mse_loss(fc(x), y),
                                                  optim::SGD({.lr = 0.1, .momentum = 0.9}));
  optim::Trainer trainer(g, step, 1);
  Tensor xs = random_tensor(DType::F32, {16, 2}, 7);
  Tensor ys(DType::F32, {16, 1});
  for (int64_t i = 0; i < 16; ++i)
    ys.data<float>()[i] = static_cast<float>(2 * xs.at(2 * i) - 3 * xs.at(2 * i + 1) + 0.5);
  double loss = 0;
  for (int k = 0; k < 200; ++k)
    loss = trainer.step({{"x", xs}, {"y", ys}});
  CHECK(loss < 1e-6);
  CHECK(trainer.state().at("fc.weight").at(0) == Approx(2.0).margin(1e-3));
  CHECK(trainer.state().at("fc.weight").at(1) == Approx(-3.0).margin(1e-3));
  CHECK(trainer.state().at("fc.bias").at(0) == Approx(0.5).margin(1e-3));
}

TEST_CASE("a small CNN's training step lowers the loss on a fixed batch", "[train][step]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::Conv2d conv(store, "conv", 1, 4, {3, 3}, {.pads = {1, 1}});
  nn::BatchNorm bn(store, "bn", 4);
  nn::Linear fc(store, "fc", 4 * 4 * 4, 3);
  Value images = g.input("images", DType::F32, {6, 1, 8, 8});
  Value labels = g.input("labels", DType::I32, {6});
  Value features = nn::MaxPool2d{.kernel = {2, 2}}(relu(bn(conv(images))));
  Value loss = nn::cross_entropy(fc(nn::flatten(features)), labels);
  optim::TrainStep step = optim::build_train_step(store, loss, optim::Adam({.lr = 0.01}));
  optim::Trainer trainer(g, step, 5);
  TensorMap batch = {{"images", random_tensor(DType::F32, {6, 1, 8, 8}, 3)},
                     {"labels", Tensor::from_vector<int32_t>({6}, {0, 1, 2, 2, 1, 0})}};
  double first = trainer.step(batch), last = first;
  for (int k = 0; k < 30; ++k)
    last = trainer.step(batch);
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.2 * first);
}

TEST_CASE("training-step errors are clear", "[train][step]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::Linear fc(store, "fc", 2, 2);
  Value x = g.input("x", DType::F32, {4, 2});
  Value out = fc(x);

  int line = __LINE__ + 1;
  Error scalar = error_from([&] { optim::build_train_step(store, out, optim::SGD()); });
  CHECK(scalar.code() == ErrorCode::InvalidArgument);
  CHECK_THAT(scalar.message(), Contains("scalar") && Contains("f32[4,2]"));
  check_points_at(scalar, __FILE__, line);

  Graph eval_graph;
  nn::ParameterStore eval_store(eval_graph, nn::Mode::Eval);
  Value loss =
      reduce_sum(nn::Linear(eval_store, "fc", 2, 1)(eval_graph.input("x", DType::F32, {1, 2})));
  Error eval = error_from([&] { optim::build_train_step(eval_store, loss, optim::SGD()); });
  CHECK_THAT(eval.message(), Contains("Mode::Eval"));

  optim::TrainStep step = optim::build_train_step(store, reduce_sum(out), optim::SGD());
  optim::Trainer trainer(g, step, 0);
  Error state_in_batch = error_from([&] {
    trainer.run(
        {{"x", Tensor::zeros(DType::F32, {4, 2})}, {"fc.bias", Tensor::zeros(DType::F32, {2})}});
  });
  CHECK(state_in_batch.code() == ErrorCode::InvalidInput);
  Error missing = error_from([&] { trainer.run({}); });
  CHECK(missing.code() == ErrorCode::InvalidInput);
  Error wrong_type =
      error_from([&] { trainer.set_state("fc.bias", Tensor::zeros(DType::F32, {3})); });
  CHECK(wrong_type.code() == ErrorCode::InvalidInput);
  Error target = error_from([&] { optim::Trainer(g, step, 0, {.target = "no-such-target"}); });
  CHECK(target.code() == ErrorCode::Unsupported);
}
