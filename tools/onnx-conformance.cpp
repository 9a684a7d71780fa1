// onnx-conformance: runs the ONNX backend node tests through loom's importer
// (the harness itself: frontend/onnx/onnx_conformance.h).
//
//   onnx-conformance DIR [--target=interp|cpu] [--subset=all|target|eligible]
//                        [--filter=SUBSTRING] [--show=fail|unsupported|all]
//
// DIR holds one directory per test (model.onnx + test_data_set_0/{input,output}_k.pb),
// e.g. onnx/backend/test/data/node of the onnx 1.22.0 wheel. Subsets: `target` =
// single-node tests of the 68 operators of the ONNX import issue; `eligible` = those
// whose tensors are all f32, f64, i32, i64 or bool. --show prints one line per test of
// that outcome with its reason. The last line is always `passed=P failed=F unsupported=U`.
#include <chrono>
#include <cstdio>

#include "frontend/onnx/onnx_conformance.h"
#include "ir/error.h"
#include "tools/cli.h"

namespace {

constexpr const char* kUsage =
    "usage: onnx-conformance DIR [--target=interp|cpu] [--subset=all|target|eligible]\n"
    "                            [--filter=SUBSTRING] [--show=fail|unsupported|all]\n";

struct Options {
  std::string dir;
  std::string subset = "all";
  std::string show;
  loom::ConformanceOptions harness;
};

loom::ConformanceSubset parse_subset(const std::string& subset) {
  if (subset == "all") return loom::ConformanceSubset::All;
  if (subset == "target") return loom::ConformanceSubset::Target;
  if (subset == "eligible") return loom::ConformanceSubset::Eligible;
  loom::throw_error(loom::ErrorCode::InvalidArgument, "--subset must be all, target or eligible");
}

Options parse_options(int argc, char** argv) {
  loom::cli::Args args(argc, argv);
  Options o;
  while (!args.empty()) {
    args.exit_on_help(kUsage);
    if (auto v = args.value("--target"))
      o.harness.target = *v;
    else if (auto v = args.value("--subset"))
      o.subset = *v;
    else if (auto v = args.value("--filter"))
      o.harness.filter = *v;
    else if (auto v = args.value("--show"))
      o.show = *v;
    else {
      std::string a = args.next();
      if (a.rfind("-", 0) == 0 || !o.dir.empty())
        loom::throw_error(loom::ErrorCode::InvalidArgument,
                          "unexpected argument '" + a + "'\n" + kUsage);
      o.dir = a;
    }
  }
  if (o.dir.empty())
    loom::throw_error(loom::ErrorCode::InvalidArgument, std::string("missing DIR\n") + kUsage);
  o.harness.subset = parse_subset(o.subset);
  return o;
}

const char* outcome_name(loom::ConformanceOutcome outcome) {
  switch (outcome) {
  case loom::ConformanceOutcome::Pass:
    return "PASS";
  case loom::ConformanceOutcome::Fail:
    return "FAIL";
  case loom::ConformanceOutcome::Unsupported:
    return "UNSUPPORTED";
  }
  return "?";
}

bool should_print(const std::string& show, loom::ConformanceOutcome outcome) {
  return show == "all" || (show == "fail" && outcome == loom::ConformanceOutcome::Fail) ||
         (show == "unsupported" && outcome == loom::ConformanceOutcome::Unsupported);
}

int run(const Options& o) {
  auto start = std::chrono::steady_clock::now();
  loom::ConformanceSummary summary =
      loom::run_onnx_conformance(o.dir, o.harness, [&](const loom::ConformanceResult& r) {
        if (!should_print(o.show, r.outcome)) return;
        std::printf("%-11s %s%s%s\n", outcome_name(r.outcome), r.test.c_str(),
                    r.reason.empty() ? "" : ": ", r.reason.c_str());
        std::fflush(stdout);
      });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("onnx-conformance: target %s, subset %s, %zu tests in %.1f s\n",
              o.harness.target.c_str(), o.subset.c_str(), summary.results.size(), seconds);
  std::printf("passed=%d failed=%d unsupported=%d\n", summary.passed, summary.failed,
              summary.unsupported);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  return loom::cli::run_tool("onnx-conformance", [&] { return run(parse_options(argc, argv)); });
}
