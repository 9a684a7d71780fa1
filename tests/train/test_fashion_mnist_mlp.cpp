// End to end on the interpreter: an MLP trained on the first 5,000 Fashion-MNIST
// training images reaches at least 80 % accuracy on the first 1,000 test images.
#include <catch2/catch.hpp>

#include <numeric>
#include <random>

#include "frontend/data/fashion_mnist.h"
#include "frontend/loom.h"
#include "frontend/nn/nn.h"
#include "frontend/optim.h"

using namespace loom;

namespace {

constexpr int64_t kTrainImages = 5000;
constexpr int64_t kTestImages = 1000;
constexpr int64_t kBatch = 50;
constexpr int64_t kEpochs = 3;
constexpr int64_t kPixels = 28 * 28;

// 784 -> 128 (ReLU) -> 10 logits for images [batch, 28, 28].
Value mlp(nn::ParameterStore& store, Value images) {
  nn::Linear hidden(store, "fc1", kPixels, 128, {.weight_init = nn::Init::he_uniform()});
  nn::Linear out(store, "fc2", 128, data::kFashionMnistClasses);
  return out(relu(hidden(reshape(images, {images.shape()[0], kPixels}))));
}

} // namespace

TEST_CASE("an MLP trained on 5000 Fashion-MNIST images reaches 80% test accuracy",
          "[train][fashion_mnist]") {
  if (!data::fashion_mnist_available()) {
    WARN("skipped: Fashion-MNIST is not installed in "
         << data::kFashionMnistDir << " (tools/setup.sh installs Debian's dataset-fashion-mnist)");
    return;
  }
  data::Dataset train = data::load_fashion_mnist(data::Split::Train, kTrainImages);
  data::Dataset test = data::load_fashion_mnist(data::Split::Test, kTestImages);

  Graph graph("train_step");
  nn::ParameterStore store(graph, nn::Mode::Train);
  Value images = graph.input("images", DType::F32, {kBatch, 28, 28});
  Value labels = graph.input("labels", DType::I32, {kBatch});
  Value loss = nn::cross_entropy(mlp(store, images), labels);
  optim::TrainStep step = optim::build_train_step(store, loss, optim::Adam({.lr = 2e-3}));
  optim::Trainer trainer(graph, step, /*seed=*/1, {.target = "interp"});

  Graph eval_graph("evaluate");
  nn::ParameterStore eval_store(eval_graph, nn::Mode::Eval);
  Value test_images = eval_graph.input("images", DType::F32, {kTestImages, 28, 28});
  Value test_labels = eval_graph.input("labels", DType::I32, {kTestImages});
  eval_graph.output("accuracy", nn::accuracy(mlp(eval_store, test_images), test_labels));
  std::unique_ptr<Executable> evaluate = compile(eval_graph, {.target = "interp"});

  std::vector<int64_t> order(kTrainImages);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(7);
  double first_loss = 0, last_epoch_loss = 0;
  for (int64_t epoch = 0; epoch < kEpochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    last_epoch_loss = 0;
    for (int64_t b = 0; b < kTrainImages / kBatch; ++b) {
      std::vector<int64_t> rows(order.begin() + b * kBatch, order.begin() + (b + 1) * kBatch);
      double loss_value = trainer.step({{"images", data::gather_rows(train.images, rows)},
                                        {"labels", data::gather_rows(train.labels, rows)}});
      if (epoch == 0 && b == 0) first_loss = loss_value;
      last_epoch_loss += loss_value / (kTrainImages / kBatch);
    }
  }
  double accuracy = trainer.infer(*evaluate, {{"images", test.images}, {"labels", test.labels}})
                        .at("accuracy")
                        .at(0);
  INFO("first batch loss " << first_loss << ", last epoch mean loss " << last_epoch_loss
                           << ", test accuracy " << accuracy);
  CHECK(last_epoch_loss < 0.6 * first_loss);
  CHECK(accuracy >= 0.80);
}
