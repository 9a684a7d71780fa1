// Trains an MLP or a small CNN on Fashion-MNIST with loom: the whole training step
// (forward, backward, optimizer) is one compiled function, run once per batch.
//
//   fashion-mnist --model=mlp --optimizer=adam --epochs 3 --batch 50 --target=interp
//                 --limit-train 5000 --limit-test 1000
//
// Prints per-epoch progress, loss, accuracy and time, and ends with one line
//   test_accuracy=0.XXXX seconds_per_epoch=S compile_ms=C
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>

#include "frontend/data/fashion_mnist.h"
#include "frontend/loom.h"
#include "frontend/nn/nn.h"
#include "frontend/optim.h"
#include "ir/clone.h"
#include "ir/printer.h"
#include "passes/pass.h"

using namespace loom;

namespace {

struct Options {
  std::string model = "mlp";
  std::string optimizer = "adam";
  int64_t epochs = 5;
  int64_t batch = 64;
  std::string target = "cpu";
  int64_t limit_train = 60000;
  int64_t limit_test = 10000;
  double lr = 0.0;                 // 0: the optimizer's default below
  std::string schedule = "cosine"; // or "constant"
  int64_t seed = 1;
  std::string data_dir = data::kFashionMnistDir;
  std::string dump_ir_dir; // --dump-ir=DIR: the training step before and after the pipeline
};

constexpr int64_t kImageSide = 28;
constexpr int64_t kEvalBatch = 500;

void print_usage() {
  std::cerr << "usage: fashion-mnist [--model=mlp|cnn] "
               "[--optimizer=adam|sgd|momentum|nesterov|rmsprop|adagrad|adamw]\n"
               "                     [--epochs N] [--batch B] [--target=interp] [--limit-train N]\n"
               "                     [--limit-test N] [--lr X] [--schedule=cosine|constant] "
               "[--seed S]\n"
               "                     [--data-dir DIR] [--dump-ir=DIR]\n";
}

// The whole of `text` as a number; std::invalid_argument naming the option otherwise.
template <typename T> T parse_number(const std::string& option, const std::string& text) {
  std::istringstream in(text);
  T value{};
  if (!(in >> value) || !in.eof())
    throw std::invalid_argument(option + " expects a number, got '" + text + "'");
  return value;
}

// Accepts "--key=value" and "--key value". Throws std::invalid_argument on bad input.
Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], key = arg, value;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      key = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw std::invalid_argument("missing value for " + arg);
    }
    if (key == "--model")
      o.model = value;
    else if (key == "--optimizer")
      o.optimizer = value;
    else if (key == "--epochs")
      o.epochs = parse_number<int64_t>(key, value);
    else if (key == "--batch")
      o.batch = parse_number<int64_t>(key, value);
    else if (key == "--target")
      o.target = value;
    else if (key == "--limit-train")
      o.limit_train = parse_number<int64_t>(key, value);
    else if (key == "--limit-test")
      o.limit_test = parse_number<int64_t>(key, value);
    else if (key == "--lr")
      o.lr = parse_number<double>(key, value);
    else if (key == "--schedule")
      o.schedule = value;
    else if (key == "--seed")
      o.seed = parse_number<int64_t>(key, value);
    else if (key == "--data-dir")
      o.data_dir = value;
    else if (key == "--dump-ir")
      o.dump_ir_dir = value;
    else
      throw std::invalid_argument("unknown option " + key);
  }
  if (o.model != "mlp" && o.model != "cnn")
    throw std::invalid_argument("--model must be mlp or cnn");
  if (o.schedule != "cosine" && o.schedule != "constant")
    throw std::invalid_argument("--schedule must be cosine or constant");
  if (o.epochs < 1 || o.batch < 1) throw std::invalid_argument("--epochs and --batch must be >= 1");
  return o;
}

double default_learning_rate(const std::string& optimizer) {
  static const std::map<std::string, double> rates = {
      {"adam", 1e-3}, {"adamw", 1e-3},    {"rmsprop", 1e-3}, {"adagrad", 0.05},
      {"sgd", 0.1},   {"momentum", 0.05}, {"nesterov", 0.05}};
  auto it = rates.find(optimizer);
  return it == rates.end() ? 0.01 : it->second;
}

// Logits [batch, 10] for images [batch, 28, 28].
Value build_model(nn::ParameterStore& store, Value images, const std::string& model) {
  int64_t batch = images.shape()[0];
  // Standardize pixels with the training set's mean and standard deviation.
  images = (images - 0.2860) / 0.3530;
  if (model == "mlp") {
    // Batch norm after each hidden layer: a plain MLP needs more than 5 epochs to pass 88 %.
    nn::Linear fc1(store, "fc1", kImageSide * kImageSide, 512,
                   {.weight_init = nn::Init::he_uniform()});
    nn::BatchNorm bn1(store, "bn1", 512);
    nn::Linear fc2(store, "fc2", 512, 256, {.weight_init = nn::Init::he_uniform()});
    nn::BatchNorm bn2(store, "bn2", 256);
    nn::Linear out(store, "fc3", 256, data::kFashionMnistClasses);
    Value h = relu(bn1(fc1(reshape(images, {batch, kImageSide * kImageSide}))));
    return out(relu(bn2(fc2(h))));
  }
  nn::Conv2d conv1(store, "conv1", 1, 32, {3, 3}, {.pads = {1, 1}});
  nn::Conv2d conv2(store, "conv2", 32, 64, {3, 3}, {.pads = {1, 1}});
  nn::MaxPool2d pool{.kernel = {2, 2}};
  nn::Linear hidden(store, "fc1", 64 * 7 * 7, 128, {.weight_init = nn::Init::he_uniform()});
  nn::Linear out(store, "fc2", 128, data::kFashionMnistClasses);
  Value x = reshape(images, {batch, 1, kImageSide, kImageSide});
  x = pool(relu(conv1(x)));
  x = pool(relu(conv2(x)));
  return out(relu(hidden(nn::flatten(x))));
}

// Writes DIR/train_step.loom (as built) and DIR/train_step.O2.loom (after the -O2
// pipeline the CPU backend runs before lowering).
void dump_ir(const Graph& graph, const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const ir::Module& m) {
    std::ofstream out(dir + "/" + name);
    out << ir::print_module(m);
    if (!out) throw Error(ErrorCode::IOError, "cannot write " + dir + "/" + name);
  };
  auto copy = ir::clone_module(graph.module());
  write("train_step.loom", *copy);
  passes::run_pipeline(*copy->functions()[0], passes::level_pipeline("O2"));
  write("train_step.O2.loom", *copy);
  std::cout << "wrote " << dir << "/train_step.loom and train_step.O2.loom\n";
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Redraws the bar on a terminal at each percent; in a log (not a terminal) only the
// finished bar of each epoch is written.
void draw_progress(int64_t epoch, int64_t epochs, int64_t done, int64_t total, double loss) {
  constexpr int kWidth = 30;
  static const bool terminal = isatty(fileno(stderr)) != 0;
  int64_t percent = 100 * done / std::max<int64_t>(total, 1);
  int64_t previous = 100 * (done - 1) / std::max<int64_t>(total, 1);
  if (terminal ? percent == previous && done != total : done != total) return;
  int filled = static_cast<int>(kWidth * done / std::max<int64_t>(total, 1));
  std::fprintf(stderr, "\repoch %lld/%lld [%s%s] %3lld%% loss %.4f", static_cast<long long>(epoch),
               static_cast<long long>(epochs), std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(),
               static_cast<long long>(100 * done / std::max<int64_t>(total, 1)), loss);
  std::fflush(stderr);
}

// Evaluates the model on `test` in batches of kEvalBatch (one executable per batch
// size: the last batch may be smaller) with the trainer's current parameters.
class Evaluator {
public:
  explicit Evaluator(const Options& options) : options_(options) {}

  double accuracy(const optim::Trainer& trainer, const data::Dataset& test) {
    int64_t correct = 0;
    for (int64_t begin = 0; begin < test.size(); begin += kEvalBatch) {
      int64_t count = std::min(kEvalBatch, test.size() - begin);
      TensorMap out = trainer.infer(program_for(count),
                                    {{"images", data::slice_rows(test.images, begin, count)}});
      const Tensor& predicted = out.at("predicted");
      for (int64_t i = 0; i < count; ++i)
        correct += predicted.at(i) == test.labels.at(begin + i);
    }
    return static_cast<double>(correct) / static_cast<double>(test.size());
  }

  double compile_ms() const { return compile_ms_; }

private:
  Executable& program_for(int64_t batch) {
    std::unique_ptr<Executable>& program = programs_[batch];
    if (!program) {
      Graph graph("evaluate");
      nn::ParameterStore store(graph, nn::Mode::Eval);
      Value images = graph.input("images", DType::F32, {batch, kImageSide, kImageSide});
      graph.output("predicted", argmax(build_model(store, images, options_.model), -1));
      auto start = std::chrono::steady_clock::now();
      program = compile(graph, {.target = options_.target});
      compile_ms_ += milliseconds_since(start);
    }
    return *program;
  }

  const Options& options_;
  std::map<int64_t, std::unique_ptr<Executable>> programs_;
  double compile_ms_ = 0.0;
};

int run(const Options& options) {
  double lr = options.lr > 0 ? options.lr : default_learning_rate(options.optimizer);
  std::unique_ptr<optim::Optimizer> optimizer = optim::make_optimizer(options.optimizer, lr);
  data::Dataset train =
      data::load_fashion_mnist(data::Split::Train, options.limit_train, options.data_dir);
  data::Dataset test =
      data::load_fashion_mnist(data::Split::Test, options.limit_test, options.data_dir);
  int64_t batches = train.size() / options.batch;
  if (batches == 0 || test.size() == 0)
    throw std::invalid_argument("need at least one training batch and one test image");
  // Cosine annealing to zero over the whole run, as is usual for short schedules: the
  // last epoch takes small steps, so the final weights do not land on a noisy update.
  if (options.schedule == "cosine")
    optimizer->set_schedule(optim::LrSchedule::cosine(options.epochs * batches));
  std::cout << "fashion-mnist: model " << options.model << ", optimizer " << optimizer->name()
            << " (lr " << lr << ", " << options.schedule << " schedule), " << batches
            << " batches of " << options.batch << " (" << train.size() << " images), "
            << test.size() << " test images, target " << options.target << "\n";

  Graph graph("train_step");
  nn::ParameterStore store(graph, nn::Mode::Train);
  Value images = graph.input("images", DType::F32, {options.batch, kImageSide, kImageSide});
  Value labels = graph.input("labels", DType::I32, {options.batch});
  Value loss = nn::cross_entropy(build_model(store, images, options.model), labels);
  optim::TrainStep step = optim::build_train_step(store, loss, *optimizer);
  if (!options.dump_ir_dir.empty()) dump_ir(graph, options.dump_ir_dir);
  optim::Trainer trainer(graph, step, options.seed, {.target = options.target});
  Evaluator evaluator(options);

  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 shuffle_rng(static_cast<uint64_t>(options.seed));
  double total_seconds = 0.0, test_accuracy = 0.0;
  for (int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    auto start = std::chrono::steady_clock::now();
    double loss_sum = 0.0;
    for (int64_t b = 0; b < batches; ++b) {
      std::vector<int64_t> rows(order.begin() + b * options.batch,
                                order.begin() + (b + 1) * options.batch);
      loss_sum += trainer.step({{"images", data::gather_rows(train.images, rows)},
                                {"labels", data::gather_rows(train.labels, rows)}});
      draw_progress(epoch, options.epochs, b + 1, batches, loss_sum / static_cast<double>(b + 1));
    }
    double seconds = milliseconds_since(start) / 1000.0;
    total_seconds += seconds;
    test_accuracy = evaluator.accuracy(trainer, test);
    std::fprintf(stderr, "\n");
    std::printf("epoch %lld/%lld: loss %.4f  test accuracy %.4f  %.2f s\n",
                static_cast<long long>(epoch), static_cast<long long>(options.epochs),
                loss_sum / static_cast<double>(batches), test_accuracy, seconds);
  }
  double compile_ms = trainer.compile_ms() + evaluator.compile_ms();
  std::printf("compile: training step %.1f ms, evaluation %.1f ms\n", trainer.compile_ms(),
              evaluator.compile_ms());
  std::printf("test_accuracy=%.4f seconds_per_epoch=%.3f compile_ms=%.1f\n", test_accuracy,
              total_seconds / static_cast<double>(options.epochs), compile_ms);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      print_usage();
      return 0;
    }
  Options options;
  try {
    options = parse_options(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "fashion-mnist: " << e.what() << "\n";
    print_usage();
    return 2;
  }
  try {
    return run(options);
  } catch (const Error& e) {
    std::cerr << "fashion-mnist: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "fashion-mnist: " << e.what() << "\n";
    return 1;
  }
}
