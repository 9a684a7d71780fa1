// Models exported from PyTorch with torch.onnx.export (tests/data/onnx_torch/, made by
// export_models.py there): an MLP, a small CNN with batch norm, a ResNet-style residual
// block and a 2-layer nn.LSTM. Each is imported as the tools import it (a free batch
// dimension takes its size from the input's shape, like `--shape x=...`), compiled for
// "interp" and "cpu", run on the saved inputs, and every output must match PyTorch's
// (same shape and dtype, |a - e| <= 1e-5 + 1e-4 |e| element by element).
//
// LOOM_TORCH_REPORT=1 prints the worst absolute and relative error per case and target.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "codegen/compile.h"
#include "frontend/onnx/onnx_import.h"
#include "ir/error.h"
#include "runtime/npy.h"
#include "tests/support/test_support.h"

namespace {

using loom::Tensor;

constexpr double kRtol = 1e-4;
constexpr double kAtol = 1e-5;

struct TorchCase {
  std::string model; // <model>.onnx
  std::string name;  // prefix of the .npy files
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  bool free_batch; // the model's batch dimension is symbolic ("batch")
};

const std::vector<TorchCase>& torch_cases() {
  static const std::vector<TorchCase> cases = {
      {"mlp", "mlp", {"x"}, {"y"}, false},
      {"cnn_bn", "cnn_bn.batch2", {"x"}, {"y"}, true},
      {"cnn_bn", "cnn_bn.batch3", {"x"}, {"y"}, true},
      {"resnet_block", "resnet_block.batch2", {"x"}, {"y"}, true},
      {"resnet_block", "resnet_block.batch5", {"x"}, {"y"}, true},
      {"lstm", "lstm", {"x", "h0", "c0"}, {"y", "h_n", "c_n"}, false},
  };
  return cases;
}

std::string data_path(const std::string& file) {
  return loom::test::source_path("tests/data/onnx_torch/" + file);
}

// The element-by-element comparison with the worst errors.
struct Comparison {
  bool types_match = false;
  int64_t failures = 0;     // elements outside atol + rtol |e|
  int64_t worst_index = -1; // largest |a - e| / (atol + rtol |e|)
  double worst_ratio = 0;
  double max_abs = 0;  // max |a - e|
  double max_rel = 0;  // max |a - e| / |e| over elements with e != 0
  std::string message; // "" when close
};

Comparison compare(const Tensor& actual, const Tensor& expected) {
  Comparison c;
  c.types_match = actual.dtype() == expected.dtype() && actual.shape() == expected.shape();
  if (!c.types_match) {
    c.message = "got " + actual.type().str() + ", expected " + expected.type().str();
    return c;
  }
  for (int64_t i = 0; i < actual.numel(); ++i) {
    double a = actual.at(i), e = expected.at(i);
    double diff = std::fabs(a - e);
    if (std::isnan(diff)) diff = INFINITY; // NaN never matches: PyTorch's outputs are finite
    double ratio = diff / (kAtol + kRtol * std::fabs(e));
    if (diff > c.max_abs) c.max_abs = diff;
    if (e != 0 && diff / std::fabs(e) > c.max_rel) c.max_rel = diff / std::fabs(e);
    if (!(ratio <= 1)) ++c.failures;
    if (c.worst_index < 0 || !(ratio <= c.worst_ratio)) {
      c.worst_ratio = ratio;
      c.worst_index = i;
    }
  }
  if (c.failures > 0) {
    std::ostringstream m;
    m.precision(9);
    m << c.failures << " of " << actual.numel() << " elements differ; worst is element "
      << c.worst_index << ": got " << actual.at(c.worst_index) << ", expected "
      << expected.at(c.worst_index) << " (max abs error " << c.max_abs << ", max rel error "
      << c.max_rel << ")";
    c.message = m.str();
  }
  return c;
}

loom::OnnxImportOptions import_options(const TorchCase& tc, const loom::TensorMap& inputs) {
  loom::OnnxImportOptions options;
  // What `--shape x=d0,d1,...` does in the tools: the symbolic batch size comes from
  // the input's shape. Shape-valued inputs are not involved (nothing in known_inputs).
  if (tc.free_batch)
    for (const auto& [name, tensor] : inputs)
      options.input_shapes[name] = tensor.shape();
  return options;
}

loom::TensorMap read_tensors(const TorchCase& tc, const std::string& kind,
                             const std::vector<std::string>& names) {
  loom::TensorMap tensors;
  for (const std::string& name : names)
    tensors[name] = loom::read_npy(data_path(tc.name + "." + kind + "." + name + ".npy"));
  return tensors;
}

bool report_requested() {
  const char* env = std::getenv("LOOM_TORCH_REPORT");
  return env && *env && std::string(env) != "0";
}

} // namespace

TEST_CASE("PyTorch exports: import, compile and match PyTorch's outputs", "[onnx][torch]") {
  for (const TorchCase& tc : torch_cases()) {
    for (const std::string target : {"interp", "cpu"}) {
      DYNAMIC_SECTION(tc.name << " on " << target) {
        loom::TensorMap inputs = read_tensors(tc, "input", tc.inputs);
        loom::TensorMap expected = read_tensors(tc, "output", tc.outputs);
        auto module =
            loom::import_onnx_file(data_path(tc.model + ".onnx"), import_options(tc, inputs));
        REQUIRE(module->functions().size() == 1);
        auto exe = loom::compile(*module->functions().at(0), {.target = target});
        REQUIRE(exe->target() == target);

        // The signature is the ONNX graph's, with the batch size the inputs give.
        REQUIRE(exe->inputs().size() == tc.inputs.size());
        for (const loom::IOSpec& in : exe->inputs()) {
          INFO("input " << in.name);
          REQUIRE(inputs.count(in.name) == 1);
          CHECK(in.type == inputs.at(in.name).type());
        }
        REQUIRE(exe->outputs().size() == tc.outputs.size());

        loom::TensorMap outputs = exe->run(inputs);
        REQUIRE(outputs.size() == tc.outputs.size());
        for (const std::string& name : tc.outputs) {
          INFO(tc.name << " on " << target << ", output " << name);
          REQUIRE(outputs.count(name) == 1);
          const Tensor& e = expected.at(name);
          Comparison c = compare(outputs.at(name), e);
          INFO(c.message);
          CHECK(c.types_match);
          CHECK(c.failures == 0);
          if (report_requested())
            std::printf("%-20s %-6s %-4s max_abs=%.3g max_rel=%.3g worst=%.3g of tolerance\n",
                        tc.name.c_str(), target.c_str(), name.c_str(), c.max_abs, c.max_rel,
                        c.worst_ratio);
        }
      }
    }
  }
}

TEST_CASE("PyTorch exports: the free batch dimension needs a size and follows it",
          "[onnx][torch]") {
  // Without a shape for 'x' the error names the input and torch's symbol.
  try {
    loom::import_onnx_file(data_path("resnet_block.onnx"));
    FAIL("importing without a batch size succeeded");
  } catch (const loom::Error& e) {
    CHECK(e.code() == loom::ErrorCode::InvalidArgument);
    CHECK_THAT(e.what(), Catch::Contains("'x'") && Catch::Contains("'batch'"));
  }
  // cnn_bn computes its Reshape target from Shape(x): the folded shape follows the batch size.
  for (int64_t batch : {1, 4, 7}) {
    loom::OnnxImportOptions options;
    options.input_shapes["x"] = {batch, 3, 8, 8};
    auto module = loom::import_onnx_file(data_path("cnn_bn.onnx"), options);
    auto exe = loom::compile(*module->functions().at(0), {.target = "interp"});
    REQUIRE(exe->outputs().size() == 1);
    CHECK(exe->outputs()[0].type.shape == loom::Shape{batch, 5});
  }
}

TEST_CASE("PyTorch exports: the comparison catches a wrong output", "[onnx][torch]") {
  // The check above is not vacuous: references are not all zero, and a small
  // perturbation of one element, or a wrong shape, fails the comparison.
  for (const TorchCase& tc : torch_cases()) {
    for (const auto& [name, e] : read_tensors(tc, "output", tc.outputs)) {
      INFO(tc.name << " output " << name);
      double max_abs = 0;
      for (int64_t i = 0; i < e.numel(); ++i)
        max_abs = std::max(max_abs, std::fabs(e.at(i)));
      CHECK(max_abs > 1e-2);
      Tensor off = e.clone();
      int64_t i = off.numel() / 2;
      off.data<float>()[i] += static_cast<float>(2 * (kAtol + kRtol * std::fabs(e.at(i))));
      CHECK(compare(e, e).failures == 0);
      CHECK(compare(off, e).failures == 1);
      CHECK_FALSE(compare(e.reshaped({e.numel()}), e).types_match);
    }
  }
}
