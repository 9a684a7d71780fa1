// loom-bench: times loom's side of the benchmark (bench/loom_cases.cpp) and prints one
// JSON line per case (format: bench/timing.h). bench/run.sh runs it once per thread
// count next to the peers and turns all lines into bench/RESULTS.md.
//
//   loom-bench [--threads N] [--cases a,b,...] [--min-seconds S] [--min-runs R]
//              [--warmup W] [--dump-ir DIR] [--list]
#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "bench/loom_cases.h"
#include "bench/timing.h"
#include "runtime/cpu_rt.h"
#include "runtime/thread_pool.h"

namespace {

using loom::bench::CaseSpec;
using loom::bench::JsonLine;

struct Options {
  int threads = 0; // 0: loom's default (LOOM_NUM_THREADS or every core)
  std::set<std::string> cases;
  loom::bench::TimingPolicy policy;
  bool list = false;
};

const char* kUsage =
    "usage: loom-bench [--threads N] [--cases a,b,...] [--min-seconds S] [--min-runs R]\n"
    "                  [--warmup W] [--dump-ir DIR] [--list]\n";

std::set<std::string> parse_names(const std::string& text) {
  std::set<std::string> names;
  std::stringstream in(text);
  std::string name;
  while (std::getline(in, name, ','))
    if (!name.empty()) names.insert(name);
  return names;
}

int parse_positive(const std::string& option, const std::string& text) {
  int value = std::atoi(text.c_str());
  if (value < 1)
    throw std::invalid_argument(option + " expects a positive integer, got '" + text + "'");
  return value;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("missing value for " + arg);
      return argv[++i];
    };
    if (arg == "--threads")
      o.threads = parse_positive(arg, value());
    else if (arg == "--cases")
      o.cases = parse_names(value());
    else if (arg == "--min-seconds")
      o.policy.min_seconds = std::atof(value().c_str());
    else if (arg == "--min-runs")
      o.policy.min_runs = parse_positive(arg, value());
    else if (arg == "--warmup")
      o.policy.warmup = std::atoi(value().c_str());
    else if (arg == "--dump-ir")
      loom::bench::set_ir_dump_directory(value());
    else if (arg == "--list")
      o.list = true;
    else
      throw std::invalid_argument("unknown option " + arg + "\n" + kUsage);
  }
  for (const std::string& name : o.cases) {
    bool known = false;
    for (const CaseSpec& spec : loom::bench::all_cases())
      known = known || spec.name == name;
    if (!known) throw std::invalid_argument("unknown case '" + name + "' (see --list)");
  }
  return o;
}

// Prepares and times one case; a failure becomes an "error" line so the report shows it.
void run_case(const CaseSpec& spec, const Options& options, const std::string& config) {
  std::cerr << "loom-bench: " << spec.name << " (" << config << ")\n";
  JsonLine line;
  line.add("suite", "loom")
      .add("case", spec.name)
      .add("config", config)
      .add("threads", options.threads);
  try {
    loom::bench::PreparedCase prepared = spec.prepare();
    loom::bench::Timing timing = loom::bench::time_runs(prepared.run_once, options.policy);
    line.add_timing(timing).add("compile_ms", prepared.compile_ms);
    if (spec.flops > 0) line.add("flops", spec.flops);
    if (spec.bytes > 0) line.add("bytes", spec.bytes);
  } catch (const std::exception& e) {
    std::cerr << "loom-bench: " << spec.name << " failed: " << e.what() << "\n";
    line.add("error", e.what());
  }
  line.print();
}

} // namespace

int main(int argc, char** argv) {
  try {
    Options options = parse_options(argc, argv);
    if (options.list) {
      for (const CaseSpec& spec : loom::bench::all_cases())
        std::cout << spec.name << "\t" << spec.description << "\n";
      return 0;
    }
    if (options.threads > 0) loom_rt_set_num_threads(options.threads);
    options.threads = loom::ThreadPool::global().num_threads();
    std::string config = "threads=" + std::to_string(options.threads);

    // LLVM's one-time setup, reported on its own so that no case is charged for it.
    JsonLine()
        .add("suite", "loom")
        .add("case", "first_compile")
        .add("config", config)
        .add("threads", options.threads)
        .add("compile_ms", loom::bench::compile_warmup_graph())
        .print();
    for (const CaseSpec& spec : loom::bench::all_cases())
      if (options.cases.empty() || options.cases.count(spec.name)) run_case(spec, options, config);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "loom-bench: " << e.what() << "\n";
    return 1;
  }
}
