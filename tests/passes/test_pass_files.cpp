// IR-text tests: every tests/data/passes/<pass>/<case>.loom holds an input module, a
// `// RUN: <pipeline flag>` line and CHECK lines (filecheck.h). Each case runs through
// passes::run_pipeline on the module (what loom-opt does for that flag) with the
// verifier after every pass, and must also compute what its input computed (both run
// on the interpreter with the same random arguments).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "ir/clone.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/memory_plan.h"
#include "passes/pass.h"
#include "runtime/interp/interpreter.h"
#include "tests/passes/filecheck.h"
#include "tests/passes/pass_test_util.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;
using namespace loom;

namespace {

std::vector<fs::path> case_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(test::source_path("tests/data/passes")))
    if (entry.is_regular_file() && entry.path().extension() == ".loom")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void run_case(const fs::path& path) {
  std::string text = read_file(path);
  std::string flag = test::run_line(text);
  REQUIRE_FALSE(flag.empty());
  std::vector<test::CheckLine> checks = test::parse_check_lines(text);
  REQUIRE_FALSE(checks.empty());

  auto module = ir::parse_module(text, path.filename().string());
  auto original = ir::clone_module(*module);
  passes::PipelineOptions options;
  options.verify_each = true;
  passes::run_pipeline(*module, passes::pipeline_from_flag(flag), options);

  std::string output = ir::print_module(*module);
  INFO("output:\n" << output);
  CHECK(test::file_check(output, checks) == "");
  for (const auto& fn : module->functions()) {
    passes::check_memory_plan(*fn, passes::plan_memory(*fn));
    test::check_same_results(*original->find_function(fn->name()), *fn, /*seed=*/7);
  }
}

} // namespace

TEST_CASE("pass IR-text tests", "[passes][files]") {
  std::vector<fs::path> files = case_files();
  REQUIRE(files.size() >= 8);
  for (const fs::path& path : files) {
    std::string name = fs::relative(path, test::source_path("tests/data/passes")).string();
    DYNAMIC_SECTION(name) { run_case(path); }
  }
}
