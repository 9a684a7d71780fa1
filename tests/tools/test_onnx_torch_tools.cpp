// loom-run end to end on a model exported from PyTorch (tests/data/onnx_torch/): the
// residual block's free batch dimension takes its size from the .npy input, and the
// output written to --output-dir matches PyTorch's.
#include <catch2/catch.hpp>

#include <filesystem>

#include "runtime/npy.h"
#include "tests/support/test_support.h"

using namespace loom;
namespace fs = std::filesystem;

TEST_CASE("loom-run runs a PyTorch-exported ResNet block with a free batch dimension",
          "[tools][onnx]") {
  fs::path out_root = fs::temp_directory_path() / "loom_tools_onnx_torch";
  std::string model = test::source_path("tests/data/onnx_torch/resnet_block.onnx");
  for (const std::string batch : {"batch2", "batch5"}) {
    for (const std::string target : {"interp", "cpu"}) {
      INFO(batch << " on " << target);
      fs::path out = out_root / (batch + "_" + target);
      fs::remove_all(out);
      std::string prefix = test::source_path("tests/data/onnx_torch/resnet_block." + batch);
      auto r =
          test::run_command(test::bin_path("loom-run") + " '" + model + "' --input x='" + prefix +
                            ".input.x.npy' --output-dir '" + out.string() + "' --target=" + target);
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      Tensor y = read_npy((out / "y.npy").string());
      Tensor expected = read_npy(prefix + ".output.y.npy");
      CHECK(test::compare_tensors(y, expected, 1e-4, 1e-5) == "");
    }
  }
}
