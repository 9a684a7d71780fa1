// loom-run: compiles a model in-process and runs it on .npy inputs.
//
//   loom-run MODEL --input NAME=FILE.npy ... [--output-dir DIR] [--target=cpu|interp]
//            [--function NAME] [--bench N]
//
// Each output is written to DIR/<output name>.npy (or summarized on stdout without
// --output-dir). --bench N times N calls after one warm-up call.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "codegen/compile.h"
#include "ir/error.h"
#include "ir/serialize.h"
#include "runtime/npy.h"
#include "tools/cli.h"
#include "tools/model_loader.h"

namespace {

constexpr const char* kUsage =
    "usage: loom-run MODEL --input NAME=FILE.npy ... [--output-dir DIR] [--target=cpu|interp]\n"
    "                [--function NAME] [--bench N]\n";

struct Options {
  std::string model;
  std::map<std::string, std::string> inputs; // name -> .npy path
  std::string output_dir;
  std::string target = "cpu";
  std::string function;
  int bench = 0;
};

Options parse_options(int argc, char** argv) {
  loom::cli::Args args(argc, argv);
  Options o;
  while (!args.empty()) {
    args.exit_on_help(kUsage);
    if (auto v = args.value("--input")) {
      auto eq = v->find('=');
      if (eq == std::string::npos || eq == 0)
        loom::throw_error(loom::ErrorCode::InvalidArgument,
                          "--input expects NAME=FILE.npy, got '" + *v + "'");
      o.inputs[v->substr(0, eq)] = v->substr(eq + 1);
    } else if (auto v = args.value("--output-dir")) {
      o.output_dir = *v;
    } else if (auto v = args.value("--target")) {
      o.target = *v;
    } else if (auto v = args.value("--function")) {
      o.function = *v;
    } else if (auto v = args.value("--bench")) {
      try {
        o.bench = std::stoi(*v);
      } catch (const std::exception&) {
        o.bench = -1;
      }
      if (o.bench < 1)
        loom::throw_error(loom::ErrorCode::InvalidArgument, "--bench expects a positive count");
    } else {
      args.take_model(o.model, kUsage);
    }
  }
  loom::cli::Args::require_model(o.model, kUsage);
  return o;
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

void bench(loom::Executable& exe, const loom::TensorMap& inputs, int n) {
  exe.run(inputs); // warm-up
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    exe.run(inputs);
    ms.push_back(milliseconds_since(start));
  }
  std::sort(ms.begin(), ms.end());
  double median = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  std::printf("median_ms=%.4f min_ms=%.4f max_ms=%.4f\n", median, ms.front(), ms.back());
}

int run(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  loom::TensorMap inputs;
  for (const auto& [name, path] : o.inputs)
    inputs[name] = loom::read_npy(path);
  // ONNX models take symbolic dimensions and shape-like inputs from the given inputs.
  loom::OnnxImportOptions onnx;
  for (const auto& [name, tensor] : inputs) {
    onnx.input_shapes[name] = tensor.shape();
    onnx.known_inputs[name] = tensor;
  }
  auto module = loom::cli::load_model(o.model, onnx);
  const loom::ir::Function& fn = loom::cli::pick_function(*module, o.function);
  auto exe = loom::compile(fn, {.target = o.target});
  loom::TensorMap outputs;
  try {
    outputs = exe->run(inputs);
  } catch (const loom::Error& e) {
    if (e.code() != loom::ErrorCode::InvalidInput) throw;
    throw loom::Error(e.code(), e.message() + "; expected inputs: " + exe->describe_inputs());
  }

  if (!o.output_dir.empty()) {
    std::filesystem::create_directories(o.output_dir);
    for (const auto& [name, tensor] : outputs)
      loom::write_npy(o.output_dir + "/" + name + ".npy", tensor);
  } else {
    for (const auto& [name, tensor] : outputs)
      std::printf("%s = %s\n", name.c_str(), tensor.str().c_str());
  }
  if (o.bench > 0) bench(*exe, inputs, o.bench);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  return loom::cli::run_tool("loom-run", [&] { return run(argc, argv); });
}
