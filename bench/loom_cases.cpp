#include "bench/loom_cases.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include "frontend/loom.h"
#include "frontend/nn/nn.h"
#include "frontend/optim.h"
#include "ir/printer.h"

namespace loom::bench {
namespace {

constexpr int64_t kSeed = 42;
const CompileOptions kCpu{.target = "cpu"};

std::string& ir_dump_directory() {
  static std::string directory;
  return directory;
}

// Writes the graph's module to <dump directory>/<function name>.loom, if dumping is on.
void dump_if_requested(const Graph& graph) {
  if (ir_dump_directory().empty()) return;
  std::filesystem::create_directories(ir_dump_directory());
  std::filesystem::path path =
      std::filesystem::path(ir_dump_directory()) / (graph.function().name() + ".loom");
  std::ofstream out(path);
  out << ir::print_module(graph.module());
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// --- Helpers ---------------------------------------------------------------------------

Tensor random_uniform_tensor(Shape shape, uint32_t seed, float low = -1.0f, float high = 1.0f) {
  Tensor t(DType::F32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = dist(rng);
  return t;
}

Tensor random_labels(int64_t batch, int64_t classes, uint32_t seed) {
  Tensor t(DType::I32, {batch});
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(classes - 1));
  int32_t* p = t.data<int32_t>();
  for (int64_t i = 0; i < batch; ++i)
    p[i] = dist(rng);
  return t;
}

struct Compiled {
  std::shared_ptr<Executable> executable;
  double compile_ms = 0.0;
};

Compiled timed_compile(const Graph& graph) {
  dump_if_requested(graph);
  auto start = std::chrono::steady_clock::now();
  std::shared_ptr<Executable> executable = compile(graph, kCpu);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return {std::move(executable), ms};
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

bool close_to(double got, double expected, double tolerance) {
  return std::fabs(got - expected) <= tolerance * (1.0 + std::fabs(expected));
}

// The output `name` of the second call on `inputs`: timed runs repeat the call on the
// same inputs, so checking the second call also catches code that changes its inputs.
Tensor second_call_output(Executable& executable, const TensorMap& inputs,
                          const std::string& name) {
  executable.run(inputs);
  return executable.run(inputs).at(name);
}

// A case that calls an executable on fixed inputs.
PreparedCase call_case(Compiled compiled, TensorMap inputs) {
  auto shared_inputs = std::make_shared<TensorMap>(std::move(inputs));
  std::shared_ptr<Executable> executable = compiled.executable;
  return {compiled.compile_ms, [executable, shared_inputs] { executable->run(*shared_inputs); }};
}

// A case that runs training steps on one fixed batch; the first loss must be finite.
PreparedCase training_case(const Graph& graph, optim::TrainStep step, TensorMap batch) {
  dump_if_requested(graph);
  auto trainer = std::make_shared<optim::Trainer>(graph, std::move(step), kSeed, kCpu);
  double first_loss = trainer->step(batch);
  require(std::isfinite(first_loss), "the first training step gave a non-finite loss");
  auto shared_batch = std::make_shared<TensorMap>(std::move(batch));
  return {trainer->compile_ms(), [trainer, shared_batch] { trainer->step(*shared_batch); }};
}

// --- sgemm ------------------------------------------------------------------------------

void check_sgemm(int64_t n, const Tensor& a, const Tensor& b, const Tensor& c) {
  const float *pa = a.data<float>(), *pb = b.data<float>(), *pc = c.data<float>();
  for (int64_t probe = 0; probe < 16; ++probe) {
    int64_t i = (probe * 7919) % n, j = (probe * 104729) % n;
    double expected = 0.0;
    for (int64_t k = 0; k < n; ++k)
      expected += static_cast<double>(pa[i * n + k]) * pb[k * n + j];
    require(close_to(pc[i * n + j], expected, 1e-4 * std::sqrt(static_cast<double>(n))),
            "sgemm: wrong entry (" + std::to_string(i) + ", " + std::to_string(j) + ")");
  }
}

PreparedCase prepare_sgemm(int64_t n) {
  Graph graph("sgemm_" + std::to_string(n));
  Value a = graph.input("a", DType::F32, {n, n});
  Value b = graph.input("b", DType::F32, {n, n});
  graph.output("c", matmul(a, b));
  Compiled compiled = timed_compile(graph);
  TensorMap inputs{{"a", random_uniform_tensor({n, n}, 1)},
                   {"b", random_uniform_tensor({n, n}, 2)}};
  Tensor original_a = inputs.at("a").clone(), original_b = inputs.at("b").clone();
  check_sgemm(n, original_a, original_b, second_call_output(*compiled.executable, inputs, "c"));
  return call_case(std::move(compiled), std::move(inputs));
}

// --- Elementwise chain --------------------------------------------------------------------

constexpr int64_t kElementwiseSize = int64_t{1} << 24;
constexpr float kA = 0.5f, kB = 0.25f, kC = 2.0f;

PreparedCase prepare_elementwise() {
  Graph graph("elementwise");
  Value x = graph.input("x", DType::F32, {kElementwiseSize});
  Value a = graph.input("a", DType::F32, {});
  Value b = graph.input("b", DType::F32, {});
  Value c = graph.input("c", DType::F32, {});
  graph.output("y", tanh(x * a + b) * c + x);
  Compiled compiled = timed_compile(graph);
  TensorMap inputs{{"x", random_uniform_tensor({kElementwiseSize}, 3, -4.0f, 4.0f)},
                   {"a", Tensor::full(DType::F32, {}, kA)},
                   {"b", Tensor::full(DType::F32, {}, kB)},
                   {"c", Tensor::full(DType::F32, {}, kC)}};
  Tensor original_x = inputs.at("x").clone();
  Tensor y = second_call_output(*compiled.executable, inputs, "y");
  const float *px = original_x.data<float>(), *py = y.data<float>();
  for (int64_t i = 0; i < kElementwiseSize; i += 9973) {
    double expected = std::tanh(px[i] * kA + kB) * kC + px[i];
    require(close_to(py[i], expected, 1e-5), "elementwise: wrong value at " + std::to_string(i));
  }
  return call_case(std::move(compiled), std::move(inputs));
}

// --- MLP 784-1024-1024-10 -------------------------------------------------------------------

constexpr int64_t kMlpBatch = 256, kMlpIn = 784, kMlpHidden = 1024, kClasses = 10;

Value mlp_logits(nn::ParameterStore& store, Value x) {
  nn::Linear fc1(store, "fc1", kMlpIn, kMlpHidden);
  nn::Linear fc2(store, "fc2", kMlpHidden, kMlpHidden);
  nn::Linear fc3(store, "fc3", kMlpHidden, kClasses);
  return fc3(relu(fc2(relu(fc1(x)))));
}

// relu(x @ w + b) (or x @ w + b) for one row x, in double, from host tensors.
std::vector<double> dense_row(const std::vector<double>& x, const Tensor& w, const Tensor& b,
                              bool apply_relu) {
  int64_t in = w.shape()[0], out = w.shape()[1];
  const float *pw = w.data<float>(), *pb = b.data<float>();
  std::vector<double> y(static_cast<size_t>(out));
  for (int64_t j = 0; j < out; ++j) {
    double sum = pb[j];
    for (int64_t k = 0; k < in; ++k)
      sum += x[static_cast<size_t>(k)] * pw[k * out + j];
    y[static_cast<size_t>(j)] = apply_relu ? std::max(sum, 0.0) : sum;
  }
  return y;
}

void check_mlp_logits(const TensorMap& inputs, const Tensor& logits) {
  const float* px = inputs.at("x").data<float>();
  for (int64_t row : {int64_t{0}, kMlpBatch - 1}) {
    std::vector<double> h(px + row * kMlpIn, px + (row + 1) * kMlpIn);
    h = dense_row(h, inputs.at("fc1.weight"), inputs.at("fc1.bias"), true);
    h = dense_row(h, inputs.at("fc2.weight"), inputs.at("fc2.bias"), true);
    h = dense_row(h, inputs.at("fc3.weight"), inputs.at("fc3.bias"), false);
    for (int64_t j = 0; j < kClasses; ++j)
      require(close_to(logits.at(row * kClasses + j), h[static_cast<size_t>(j)], 1e-3),
              "mlp_inference: wrong logit in row " + std::to_string(row));
  }
}

PreparedCase prepare_mlp_inference() {
  Graph graph("mlp_inference");
  nn::ParameterStore store(graph, nn::Mode::Eval);
  Value x = graph.input("x", DType::F32, {kMlpBatch, kMlpIn});
  graph.output("logits", mlp_logits(store, x));
  Compiled compiled = timed_compile(graph);
  TensorMap inputs = store.initial_values(kSeed, kCpu);
  inputs["x"] = random_uniform_tensor({kMlpBatch, kMlpIn}, 4, 0.0f, 1.0f);
  check_mlp_logits(inputs, second_call_output(*compiled.executable, inputs, "logits"));
  return call_case(std::move(compiled), std::move(inputs));
}

PreparedCase prepare_mlp_train() {
  Graph graph("mlp_train");
  nn::ParameterStore store(graph, nn::Mode::Train);
  Value x = graph.input("x", DType::F32, {kMlpBatch, kMlpIn});
  Value labels = graph.input("labels", DType::I32, {kMlpBatch});
  Value loss = nn::cross_entropy(mlp_logits(store, x), labels);
  optim::TrainStep step = optim::build_train_step(store, loss, optim::SGD({.lr = 0.01}));
  return training_case(graph, std::move(step),
                       {{"x", random_uniform_tensor({kMlpBatch, kMlpIn}, 5, 0.0f, 1.0f)},
                        {"labels", random_labels(kMlpBatch, kClasses, 6)}});
}

// --- LeNet-5 ---------------------------------------------------------------------------------

constexpr int64_t kLenetBatch = 64, kImageSide = 28;

// LeNet-5 for 28x28 inputs (the first convolution pads by 2, as for MNIST), with ReLU
// and max pooling: conv 1->6 5x5, pool, conv 6->16 5x5, pool, 400-120-84-10.
Value lenet_logits(nn::ParameterStore& store, Value images) {
  nn::Conv2d conv1(store, "conv1", 1, 6, {5, 5}, {.pads = {2, 2}});
  nn::Conv2d conv2(store, "conv2", 6, 16, {5, 5});
  nn::MaxPool2d pool{.kernel = {2, 2}};
  nn::Linear fc1(store, "fc1", 16 * 5 * 5, 120);
  nn::Linear fc2(store, "fc2", 120, 84);
  nn::Linear fc3(store, "fc3", 84, kClasses);
  Value x = pool(relu(conv1(images)));
  x = pool(relu(conv2(x)));
  return fc3(relu(fc2(relu(fc1(nn::flatten(x))))));
}

PreparedCase prepare_lenet_train() {
  Graph graph("lenet_train");
  nn::ParameterStore store(graph, nn::Mode::Train);
  Value images = graph.input("images", DType::F32, {kLenetBatch, 1, kImageSide, kImageSide});
  Value labels = graph.input("labels", DType::I32, {kLenetBatch});
  Value loss = nn::cross_entropy(lenet_logits(store, images), labels);
  optim::TrainStep step = optim::build_train_step(store, loss, optim::SGD({.lr = 0.01}));
  return training_case(
      graph, std::move(step),
      {{"images", random_uniform_tensor({kLenetBatch, 1, kImageSide, kImageSide}, 7, 0.0f, 1.0f)},
       {"labels", random_labels(kLenetBatch, kClasses, 8)}});
}

// --- LSTM -------------------------------------------------------------------------------------

constexpr int64_t kLstmBatch = 64, kLstmSteps = 32, kLstmInput = 128, kLstmHidden = 256;

// Forward over the whole sequence, mean squared error of the final hidden state against a
// target, backward through all steps, and an SGD update.
PreparedCase prepare_lstm_train() {
  Graph graph("lstm_train");
  nn::ParameterStore store(graph, nn::Mode::Train);
  Value x = graph.input("x", DType::F32, {kLstmBatch, kLstmSteps, kLstmInput});
  Value target = graph.input("target", DType::F32, {kLstmBatch, kLstmHidden});
  nn::LSTM lstm(store, "lstm", kLstmInput, kLstmHidden);
  Value loss = nn::mse_loss(lstm(x).final.h, target);
  optim::TrainStep step = optim::build_train_step(store, loss, optim::SGD({.lr = 0.01}));
  return training_case(
      graph, std::move(step),
      {{"x", random_uniform_tensor({kLstmBatch, kLstmSteps, kLstmInput}, 9)},
       {"target", random_uniform_tensor({kLstmBatch, kLstmHidden}, 10, -0.5f, 0.5f)}});
}

// --- ResNet-shaped convolution ---------------------------------------------------------------

constexpr int64_t kResnetBatch = 8, kResnetChannels = 64, kResnetSide = 56;

// One ResNet-18 stage-1 convolution (64 -> 64, 3x3, pad 1, on 56x56) with bias and ReLU,
// mean squared error against a target, and an SGD update: im2col + GEMM's shape (576
// taps per output) rather than LeNet's small layers.
PreparedCase prepare_resnet_conv_train() {
  Graph graph("resnet_conv_train");
  nn::ParameterStore store(graph, nn::Mode::Train);
  Shape shape = {kResnetBatch, kResnetChannels, kResnetSide, kResnetSide};
  Value x = graph.input("x", DType::F32, shape);
  Value target = graph.input("target", DType::F32, shape);
  nn::Conv2d conv(store, "conv", kResnetChannels, kResnetChannels, {3, 3}, {.pads = {1, 1}});
  Value loss = nn::mse_loss(relu(conv(x)), target);
  optim::TrainStep step = optim::build_train_step(store, loss, optim::SGD({.lr = 0.01}));
  return training_case(graph, std::move(step),
                       {{"x", random_uniform_tensor(shape, 11)},
                        {"target", random_uniform_tensor(shape, 12, 0.0f, 1.0f)}});
}

// --- Nominal work -----------------------------------------------------------------------------

double matmul_flops(double m, double n, double k) { return 2.0 * m * n * k; }

double mlp_forward_flops() {
  return matmul_flops(kMlpBatch, kMlpHidden, kMlpIn) +
         matmul_flops(kMlpBatch, kMlpHidden, kMlpHidden) +
         matmul_flops(kMlpBatch, kClasses, kMlpHidden);
}

double lenet_forward_flops() {
  double conv1 = matmul_flops(kLenetBatch * 28.0 * 28.0, 6, 1 * 25);
  double conv2 = matmul_flops(kLenetBatch * 10.0 * 10.0, 16, 6 * 25);
  double dense = matmul_flops(kLenetBatch, 120, 400) + matmul_flops(kLenetBatch, 84, 120) +
                 matmul_flops(kLenetBatch, kClasses, 84);
  return conv1 + conv2 + dense;
}

double resnet_conv_forward_flops() {
  return matmul_flops(kResnetBatch * double(kResnetSide * kResnetSide), kResnetChannels,
                      kResnetChannels * 9.0);
}

double lstm_forward_flops() {
  return kLstmSteps * matmul_flops(kLstmBatch, 4 * kLstmHidden, kLstmInput + kLstmHidden);
}

} // namespace

const std::vector<CaseSpec>& all_cases() {
  // A training step costs about three forward passes of matmul work (forward, and the
  // gradients with respect to activations and to weights).
  static const std::vector<CaseSpec> cases = {
      {"sgemm_1024", "f32 matmul 1024x1024 @ 1024x1024", matmul_flops(1024, 1024, 1024), 0,
       [] { return prepare_sgemm(1024); }},
      {"sgemm_2048", "f32 matmul 2048x2048 @ 2048x2048", matmul_flops(2048, 2048, 2048), 0,
       [] { return prepare_sgemm(2048); }},
      {"elementwise", "tanh(x*a+b)*c+x on 2^24 f32 (a, b, c scalar inputs)", 0,
       2.0 * sizeof(float) * kElementwiseSize, prepare_elementwise},
      {"mlp_inference", "MLP 784-1024-1024-10 (ReLU) forward, batch 256", mlp_forward_flops(), 0,
       prepare_mlp_inference},
      {"mlp_train", "MLP 784-1024-1024-10 training step: softmax cross-entropy, SGD, batch 256",
       3 * mlp_forward_flops(), 0, prepare_mlp_train},
      {"lenet_train", "LeNet-5 training step: softmax cross-entropy, SGD, batch 64",
       3 * lenet_forward_flops(), 0, prepare_lenet_train},
      {"lstm_train",
       "LSTM input 128, hidden 256, 32 steps, batch 64: forward, backward, SGD update",
       3 * lstm_forward_flops(), 0, prepare_lstm_train},
      {"resnet_conv_train",
       "ResNet-18 stage-1 conv 64->64 3x3 pad 1 + bias + ReLU on 8x64x56x56: MSE, SGD",
       3 * resnet_conv_forward_flops(), 0, prepare_resnet_conv_train},
  };
  return cases;
}

void set_ir_dump_directory(std::string directory) { ir_dump_directory() = std::move(directory); }

double compile_warmup_graph() {
  Graph graph("warmup");
  Value x = graph.input("x", DType::F32, {16});
  graph.output("y", exp(x) + 1.0);
  auto start = std::chrono::steady_clock::now();
  compile(graph, kCpu);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace loom::bench
