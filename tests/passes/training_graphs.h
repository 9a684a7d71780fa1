// Training steps of small models, built with the builder API and loom::grad: the graphs
// the fusion and memory-planning figures are measured on (see passes/README.md).
//
// Each step is one function: forward pass, softmax cross-entropy loss, gradients of every
// parameter (loom::grad), and an SGD update `w - lr * dw` output as "new.<w>" aliasing
// its parameter.
#pragma once

#include <memory>
#include <vector>

#include "frontend/grad.h"
#include "frontend/nn/nn.h"
#include "frontend/optim.h"

namespace loom::test {

// Adds the gradients of `loss`, the SGD updates and the outputs to the store's Graph.
inline void add_sgd_step(nn::ParameterStore& store, Value loss, double lr = 0.01) {
  Graph& g = store.graph();
  std::vector<Value> params = store.trainable_values();
  std::vector<Value> grads = grad(loss, params);
  g.output("loss", loss);
  for (size_t i = 0; i < params.size(); ++i)
    g.output_updates("new." + params[i].name(), params[i] - lr * grads[i], params[i]);
}

struct MlpConfig {
  int64_t batch = 256;
  std::vector<int64_t> sizes = {784, 1024, 1024, 10}; // input, hidden..., classes
};

// Linear layers with relu between them (none after the last).
inline std::unique_ptr<Graph> mlp_training_step(const MlpConfig& config = {}) {
  auto g = std::make_unique<Graph>("mlp_train_step");
  nn::ParameterStore store(*g);
  Value h = g->input("x", DType::F32, {config.batch, config.sizes.front()});
  Value labels = g->input("labels", DType::I32, {config.batch});
  for (size_t i = 0; i + 1 < config.sizes.size(); ++i) {
    nn::Linear fc(store, "fc" + std::to_string(i + 1), config.sizes[i], config.sizes[i + 1]);
    h = fc(h);
    if (i + 2 < config.sizes.size()) h = relu(h);
  }
  add_sgd_step(store, nn::cross_entropy(h, labels));
  return g;
}

// The same MLP with its training step built by optim::build_train_step (plain SGD): it
// also carries the update counter "optim.step" as state.
inline std::unique_ptr<Graph> mlp_optim_training_step(const MlpConfig& config = {}) {
  auto g = std::make_unique<Graph>("mlp_train_step");
  nn::ParameterStore store(*g);
  Value h = g->input("x", DType::F32, {config.batch, config.sizes.front()});
  Value labels = g->input("labels", DType::I32, {config.batch});
  for (size_t i = 0; i + 1 < config.sizes.size(); ++i) {
    nn::Linear fc(store, "fc" + std::to_string(i + 1), config.sizes[i], config.sizes[i + 1]);
    h = fc(h);
    if (i + 2 < config.sizes.size()) h = relu(h);
  }
  optim::build_train_step(store, nn::cross_entropy(h, labels), optim::SGD({.lr = 0.01}));
  return g;
}

// conv(1->8, 3x3, pad 1) relu maxpool2 conv(8->16, 3x3, pad 1) relu maxpool2 flatten
// linear(16*7*7 -> 10) on 28x28 images.
inline std::unique_ptr<Graph> cnn_training_step(int64_t batch = 32) {
  auto g = std::make_unique<Graph>("cnn_train_step");
  nn::ParameterStore store(*g);
  Value x = g->input("x", DType::F32, {batch, 1, 28, 28});
  Value labels = g->input("labels", DType::I32, {batch});
  nn::Conv2d conv1(store, "conv1", 1, 8, {3, 3}, {.pads = {1, 1}});
  nn::Conv2d conv2(store, "conv2", 8, 16, {3, 3}, {.pads = {1, 1}});
  nn::Linear fc(store, "fc", 16 * 7 * 7, 10);
  nn::MaxPool2d pool{.kernel = {2, 2}};
  Value h = pool(relu(conv1(x)));
  h = pool(relu(conv2(h)));
  add_sgd_step(store, nn::cross_entropy(fc(nn::flatten(h)), labels));
  return g;
}

// An LSTM unrolled over `steps` time steps; the last hidden state feeds a classifier.
inline std::unique_ptr<Graph> lstm_training_step(int64_t batch = 32, int64_t steps = 8,
                                                 int64_t input = 32, int64_t hidden = 64) {
  auto g = std::make_unique<Graph>("lstm_train_step");
  nn::ParameterStore store(*g);
  Value x = g->input("x", DType::F32, {batch, steps, input});
  Value labels = g->input("labels", DType::I32, {batch});
  nn::LSTM lstm(store, "lstm", input, hidden);
  nn::Linear fc(store, "fc", hidden, 10);
  add_sgd_step(store, nn::cross_entropy(fc(lstm(x).final.h), labels));
  return g;
}

} // namespace loom::test
