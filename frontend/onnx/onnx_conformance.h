// The ONNX backend node-test harness (used by tools/onnx-conformance and tests/onnx).
//
// A test directory holds model.onnx and test_data_set_0/{input,output}_k.pb. A test
// imports the model (the graph inputs are also handed over as known values, so inputs
// that act as shapes or axes are frozen into constants), compiles it for a target, runs
// it and compares every output as the ONNX runner does: the same shape and dtype, then
// |actual - expected| <= atol + rtol * |expected| (NaN matches NaN). A test passes,
// fails, or is unsupported (loom lacks an operator, attribute or element type).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace loom {

enum class ConformanceOutcome { Pass, Fail, Unsupported };

struct ConformanceResult {
  std::string test; // directory name, e.g. "test_add_bcast"
  ConformanceOutcome outcome;
  std::string reason; // why it failed or is unsupported; empty for a pass
};

// Which tests to run. `target` = single-node tests of the 68 operators of the ONNX
// import issue; `eligible` = those whose tensors are all f32, f64, i32, i64 or bool.
enum class ConformanceSubset { All, Target, Eligible };

struct ConformanceOptions {
  std::string target = "interp"; // compile target
  ConformanceSubset subset = ConformanceSubset::All;
  std::string filter; // only tests whose name contains this
  double rtol = 1e-3;
  double atol = 1e-7;
};

struct ConformanceSummary {
  int passed = 0, failed = 0, unsupported = 0;
  std::vector<ConformanceResult> results; // in test-name order
};

// Runs every selected test below `dir`; `on_result` (optional) sees each result as it
// completes. Error(IOError) if `dir` is not a directory.
ConformanceSummary
run_onnx_conformance(const std::string& dir, const ConformanceOptions& options,
                     const std::function<void(const ConformanceResult&)>& on_result = {});

// One test directory.
ConformanceResult run_onnx_conformance_test(const std::string& test_dir,
                                            const ConformanceOptions& options);

// The 68 operators the target subset covers.
const std::vector<std::string>& onnx_conformance_target_ops();

} // namespace loom
