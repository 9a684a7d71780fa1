// The command-line tools end to end: loom-opt round-trips every .loom file in the
// repository, loom-run writes the interpreter's (and the CPU's) outputs, and bad input
// gives a one-line error and exit code 1, never a signal.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/npy.h"
#include "tests/support/test_support.h"

using namespace loom;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path scratch_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("loom_tools_" + name);
  fs::create_directories(dir);
  return dir;
}

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

} // namespace

TEST_CASE("loom-opt round-trips every .loom file in the repository", "[tools]") {
  fs::path root = test::source_path("");
  fs::path dir = scratch_dir("roundtrip");
  int files = 0;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    if (it->is_directory() && (rel.starts_with("build") || rel.starts_with(".git"))) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().extension() != ".loom") continue;
    ++files;
    INFO(rel);
    fs::path once = dir / "once.loom", twice = dir / "twice.loom", pb = dir / "model.loompb",
             back = dir / "back.loom";
    auto r1 = test::run_command(test::bin_path("loom-opt") + " " + quote(it->path()) + " -o " +
                                quote(once));
    INFO(r1.output);
    REQUIRE(r1.exit_code == 0);
    auto r2 =
        test::run_command(test::bin_path("loom-opt") + " " + quote(once) + " -o " + quote(twice));
    REQUIRE(r2.exit_code == 0);
    CHECK(read_file(once) == read_file(twice));
    // Through the protobuf format and back gives the same text.
    REQUIRE(test::run_command(test::bin_path("loom-opt") + " " + quote(once) + " -o " + quote(pb))
                .exit_code == 0);
    REQUIRE(test::run_command(test::bin_path("loom-opt") + " " + quote(pb) + " -o " + quote(back))
                .exit_code == 0);
    CHECK(read_file(once) == read_file(back));
  }
  CHECK(files >= 10);
}

TEST_CASE("loom-run writes each output as <dir>/<name>.npy on every target", "[tools]") {
  fs::path dir = scratch_dir("run");
  write_npy((dir / "A.npy").string(), Tensor::ones(DType::F32, {10}));
  write_npy((dir / "B.npy").string(), Tensor::full(DType::F32, {10}, 2.0));
  for (std::string target : {"interp", "cpu"}) {
    fs::path out = dir / target;
    auto r = test::run_command(
        test::bin_path("loom-run") + " " + test::source_path("tests/data/loom/symbolic.loom") +
        " --input A=" + quote(dir / "A.npy") + " --input B=" + quote(dir / "B.npy") +
        " --target=" + target + " --output-dir " + quote(out));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    Tensor d = read_npy((out / "D.npy").string());
    CHECK(test::compare_tensors(d, Tensor::full(DType::F32, {10}, 3.0), 0, 0) == "");
  }
  auto bench = test::run_command(
      test::bin_path("loom-run") + " " + test::source_path("tests/data/loom/symbolic.loom") +
      " --input A=" + quote(dir / "A.npy") + " --input B=" + quote(dir / "B.npy") + " --bench 3");
  CHECK(bench.exit_code == 0);
  CHECK(bench.output.find("median_ms=") != std::string::npos);
}

TEST_CASE("the tools reject bad input with one line and exit code 1", "[tools]") {
  fs::path dir = scratch_dir("errors");
  write_npy((dir / "short.npy").string(), Tensor::ones(DType::F32, {3}));
  std::ofstream(dir / "bad.loom")
      << "func @main(%x: f32[2]) -> (y: f32[2]) {\n  %y = mull(%x, %x) : f32[2]\n  return %y\n}\n";
  std::ofstream(dir / "junk.loompb") << "\x08\xff\xff garbage";
  struct Case {
    std::string command, expect;
  };
  std::string symbolic = test::source_path("tests/data/loom/symbolic.loom");
  std::vector<Case> cases = {
      {"loom-run " + symbolic + " --input A=" + quote(dir / "short.npy"),
       "expected inputs: A: f32[10], B: f32[10]"},
      {"loom-run " + symbolic + " --input A=" + quote(dir / "missing.npy"), "io_error"},
      {"loom-opt " + quote(dir / "bad.loom"), "bad.loom:2:8: expected"},
      {"loom-opt " + quote(dir / "junk.loompb"), "serialization_error"},
      {"loom-opt --no-such-flag", "unknown option"},
      {"loomc " + symbolic + " --emit=exe", "--emit must be obj, llvm or ir"},
      {"loomc " + symbolic + " --target=tpu --emit=llvm", "unknown target"},
  };
  for (const Case& c : cases) {
    auto r = test::run_command(test::bin_path("") + c.command);
    INFO(c.command << "\n" << r.output);
    CHECK(r.exit_code == 1);
    CHECK_FALSE(r.signaled);
    CHECK(r.output.find(c.expect) != std::string::npos);
  }
}
