// Runs the ONNX node conformance tests and fails if fewer pass than the thresholds in
// tests/onnx/conformance_threshold.txt. The test data comes from $LOOM_ONNX_NODE_TESTS,
// ../shared/onnx-node-tests next to the source tree, or the installed onnx package;
// without any of them the test is skipped with a warning.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "frontend/onnx/onnx_conformance.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;

std::string onnx_package_node_tests() {
  loom::test::CommandResult r = loom::test::run_command(
      "python3 -c 'import onnx, os; print(os.path.dirname(onnx.__file__))' 2>/dev/null");
  std::string dir = r.output.substr(0, r.output.find('\n'));
  return r.exit_code == 0 && !dir.empty() ? dir + "/backend/test/data/node" : "";
}

// The first existing candidate directory, or "".
std::string find_node_tests() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("LOOM_ONNX_NODE_TESTS")) candidates.push_back(env);
  candidates.push_back(loom::test::source_path("../shared/onnx-node-tests"));
  candidates.push_back(onnx_package_node_tests());
  for (const std::string& dir : candidates)
    if (!dir.empty() && fs::is_directory(dir)) return dir;
  return "";
}

struct Threshold {
  std::string target, subset;
  int min_passed;
};

std::vector<Threshold> read_thresholds() {
  std::ifstream in(loom::test::source_path("tests/onnx/conformance_threshold.txt"));
  REQUIRE(in);
  std::vector<Threshold> thresholds;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Threshold t;
    REQUIRE(fields >> t.target >> t.subset >> t.min_passed);
    thresholds.push_back(t);
  }
  return thresholds;
}

loom::ConformanceSubset subset_of(const std::string& name) {
  if (name == "target") return loom::ConformanceSubset::Target;
  if (name == "eligible") return loom::ConformanceSubset::Eligible;
  REQUIRE(name == "all");
  return loom::ConformanceSubset::All;
}

} // namespace

TEST_CASE("ONNX node conformance tests pass at least as often as the recorded threshold") {
  std::string dir = find_node_tests();
  if (dir.empty()) {
    WARN("SKIPPED: no ONNX node tests found (set LOOM_ONNX_NODE_TESTS, provide "
         "../shared/onnx-node-tests, or pip install onnx==1.22.0)");
    return;
  }
  std::vector<Threshold> thresholds = read_thresholds();
  REQUIRE(!thresholds.empty());
  for (const Threshold& t : thresholds) {
    loom::ConformanceOptions options;
    options.target = t.target;
    options.subset = subset_of(t.subset);
    loom::ConformanceSummary summary = loom::run_onnx_conformance(dir, options);
    std::string failures;
    for (const loom::ConformanceResult& r : summary.results)
      if (r.outcome == loom::ConformanceOutcome::Fail) failures += r.test + ": " + r.reason + "\n";
    INFO(t.target << " " << t.subset << ": passed=" << summary.passed << " failed="
                  << summary.failed << " unsupported=" << summary.unsupported << "\nfailures:\n"
                  << failures);
    CHECK(summary.passed >= t.min_passed);
  }
}
