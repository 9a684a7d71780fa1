// Ahead-of-time compilation: tests/data/loom/mlp.loom is compiled by loomc into an
// object file at build time and linked into a driver with the runtime library only
// (tests/aot/driver.cpp). The driver's outputs must equal the interpreter's.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ir/serialize.h"
#include "runtime/interp/interpreter.h"
#include "runtime/npy.h"
#include "tests/support/test_support.h"

using namespace loom;

TEST_CASE("an object file from loomc links without LLVM and matches the interpreter",
          "[cpu][aot]") {
  auto module = ir::read_module_file(test::source_path("tests/data/loom/mlp.loom"));
  const ir::Function& fn = *module->find_function("mlp");
  Tensor x =
      Tensor::from_vector<float>({2, 4}, {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f, 0.0f, -2.0f});

  auto dir = std::filesystem::temp_directory_path() / "loom_aot_test";
  std::filesystem::create_directories(dir);
  write_npy((dir / "x.npy").string(), x);
  auto result =
      test::run_command(test::bin_path("aot-mlp-driver") + " " + dir.string() + " " + dir.string());
  INFO(result.output);
  REQUIRE(result.exit_code == 0);

  std::vector<Tensor> expected = interp::evaluate(fn, {x});
  for (size_t i = 0; i < expected.size(); ++i) {
    std::ifstream in(dir / (fn.outputs()[i].name + ".bin"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(static_cast<int64_t>(bytes.size()) == expected[i].nbytes());
    Tensor got(expected[i].dtype(), expected[i].shape());
    std::memcpy(got.raw_data(), bytes.data(), bytes.size());
    INFO("output " << fn.outputs()[i].name);
    CHECK(test::compare_tensors(got, expected[i], 1e-6, 1e-6) == "");
  }

  // The driver must not depend on LLVM.
  auto ldd = test::run_command("ldd " + test::bin_path("aot-mlp-driver"));
  CHECK(ldd.output.find("libLLVM") == std::string::npos);
}
