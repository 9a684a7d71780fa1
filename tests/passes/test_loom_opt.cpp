// loom-opt end to end: the tool runs the same pipelines as the C++ API and prints the
// reports the pass pipeline issue asks for.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

#include "ir/printer.h"
#include "tests/passes/filecheck.h"
#include "tests/passes/training_graphs.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;
using namespace loom;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A scratch directory removed at the end of the test.
struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("loom-opt-test-" + std::to_string(getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() { fs::remove_all(path); }
};

test::CommandResult loom_opt(const std::string& args) {
  return test::run_command(test::bin_path("loom-opt") + " " + args);
}

} // namespace

TEST_CASE("loom-opt --passes runs an IR-text test case", "[passes][loom-opt]") {
  std::string input = test::source_path("tests/data/passes/fuse/dense_layer.loom");
  test::CommandResult r = loom_opt("--passes=fuse --verify-each " + input);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(test::file_check(r.output, test::parse_check_lines(read_text(input))) == "");
}

TEST_CASE("loom-opt -O2 on the MLP training step: timings and memory report",
          "[passes][loom-opt]") {
  ScratchDir dir;
  fs::path model = dir.path / "mlp_train_step.loom";
  std::ofstream(model) << ir::print_module(test::mlp_training_step()->module());

  test::CommandResult r = loom_opt("-O2 --time-passes --mem-report --verify-each " +
                                   model.string() + " -o " + (dir.path / "out.loom").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* pass :
       {"simplify", "stability", "fold", "cse", "dce", "fuse", "schedule", "plan-memory", "total"})
    CHECK_THAT(r.output, Catch::Contains(pass));
  std::smatch m;
  REQUIRE(std::regex_search(
      r.output, m, std::regex(R"(arena_bytes=(\d+) lower_bound_bytes=(\d+) naive_bytes=(\d+))")));
  CHECK(std::stoll(m[1]) <= std::stoll(m[2]) * 11 / 10);
  REQUIRE(std::regex_search(r.output, m, std::regex(R"(total\s+([0-9.]+))")));
  // The budget is 100 ms in a Release build (passes/README.md); debug builds and
  // sanitizers are several times slower, so only a gross regression fails here.
  CHECK(std::stod(m[1]) < 2000.0);

  // The optimized module reads back, and -O2 is a fixed point on it.
  std::string optimized = read_text(dir.path / "out.loom");
  CHECK_THAT(optimized,
             Catch::Contains("kind = \"contraction\"") && Catch::Contains("in_place_param"));
  test::CommandResult again = loom_opt("-O2 --verify-each " + (dir.path / "out.loom").string() +
                                       " -o " + (dir.path / "again.loom").string());
  INFO(again.output);
  CHECK(again.exit_code == 0);
  CHECK(read_text(dir.path / "again.loom") == optimized);
}

TEST_CASE("loom-opt --dot draws fused groups as clusters", "[passes][loom-opt]") {
  ScratchDir dir;
  fs::path dot = dir.path / "graph.dot";
  test::CommandResult r = loom_opt("--passes=fuse --dot=" + dot.string() + " " +
                                   test::source_path("tests/data/passes/fuse/dense_layer.loom"));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::string text = read_text(dot);
  CHECK_THAT(text, Catch::StartsWith("digraph \"dense\" {"));
  CHECK_THAT(text, Catch::Contains("subgraph cluster_0 {") &&
                       Catch::Contains("label=\"contraction fusion"));
  CHECK_THAT(text, Catch::Contains("matmul\\nf32[8,4]") && Catch::Contains("-> out0;"));
}

TEST_CASE("loom-opt printing and errors", "[passes][loom-opt]") {
  std::string input = test::source_path("tests/data/passes/simplify/relu_mask.loom");
  test::CommandResult printed = loom_opt("--passes=simplify,dce --print-after=simplify " + input);
  CHECK(printed.exit_code == 0);
  CHECK_THAT(printed.output, Catch::Contains("IR of @relu_backward after simplify"));
  CHECK_THAT(printed.output, !Catch::Contains("after dce"));

  test::CommandResult all = loom_opt("-O1 --print-after-all " + input);
  CHECK_THAT(all.output, Catch::Contains("after fold") && Catch::Contains("after cse"));

  test::CommandResult both = loom_opt("-O1 --passes=dce " + input);
  CHECK(both.exit_code == 1);
  CHECK_THAT(both.output, Catch::Contains("choose one pipeline"));

  test::CommandResult unknown = loom_opt("--passes=fuse,nope " + input);
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.output, Catch::Contains("unknown pass 'nope'"));

  test::CommandResult bad_print = loom_opt("--print-after=nope " + input);
  CHECK(bad_print.exit_code == 1);

  test::CommandResult listing = loom_opt("--list-passes");
  CHECK_THAT(listing.output, Catch::Contains("plan-memory") && Catch::Contains("-O2 = simplify,"));
  CHECK(loom_opt("--list-ops").exit_code == 0);
}
