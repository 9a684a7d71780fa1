// The pass manager: runs pipelines of registered passes, verifying, timing and
// printing between them as asked.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "ir/error.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pass.h"

namespace loom::passes {

const PassInfo* find_pass(const std::string& name) {
  for (const PassInfo& p : registry())
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<std::string> parse_pipeline(const std::string& spec) {
  std::vector<std::string> names;
  std::stringstream in(spec);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name.empty()) continue;
    if (!find_pass(name)) {
      std::string known;
      for (const PassInfo& p : registry())
        known += (known.empty() ? "" : ", ") + p.name;
      throw_error(ErrorCode::InvalidArgument,
                  "unknown pass '" + name + "' (known passes: " + known + ")");
    }
    names.push_back(name);
  }
  return names;
}

std::vector<std::string> pipeline_from_flag(const std::string& flag) {
  if (flag == "-O0" || flag == "-O1" || flag == "-O2") return level_pipeline(flag.substr(1));
  const std::string prefix = "--passes=";
  if (flag.rfind(prefix, 0) == 0) return parse_pipeline(flag.substr(prefix.size()));
  throw_error(ErrorCode::InvalidArgument,
              "'" + flag + "' selects no pipeline (use -O0, -O1, -O2 or --passes=a,b,c)");
}

std::string PipelineResult::timing_table() const {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "%-24s %10s  %s\n", "pass", "ms", "changed");
  out += line;
  for (const PassTiming& t : timings) {
    std::snprintf(line, sizeof line, "%-24s %10.3f  %s\n", t.name.c_str(), t.milliseconds,
                  t.changed ? "yes" : "no");
    out += line;
  }
  std::snprintf(line, sizeof line, "%-24s %10.3f\n", "total", total_milliseconds);
  return out + line;
}

PipelineResult run_pipeline(ir::Function& fn, const std::vector<std::string>& passes,
                            const PipelineOptions& options) {
  std::ostream& dump = options.print_stream ? *options.print_stream : std::cerr;
  PipelineResult result;
  for (const std::string& name : passes) {
    const PassInfo* pass = find_pass(name);
    if (!pass) throw_error(ErrorCode::InvalidArgument, "unknown pass '" + name + "'");
    auto start = std::chrono::steady_clock::now();
    bool changed = pass->run(fn);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    result.timings.push_back({name, ms, changed});
    result.total_milliseconds += ms;
    if (options.verify_each) {
      try {
        ir::verify(fn);
      } catch (const Error& e) {
        throw Error(ErrorCode::Internal, "IR invalid after pass '" + name + "': " + e.message());
      }
    }
    bool print = options.print_after_all;
    for (const std::string& p : options.print_after)
      print = print || p == name;
    if (print)
      dump << "// ----- IR of @" << fn.name() << " after " << name << " -----\n"
           << ir::print_function(fn);
  }
  return result;
}

PipelineResult run_pipeline(ir::Module& module, const std::vector<std::string>& passes,
                            const PipelineOptions& options) {
  PipelineResult all;
  for (const auto& fn : module.functions()) {
    PipelineResult one = run_pipeline(*fn, passes, options);
    all.timings.insert(all.timings.end(), one.timings.begin(), one.timings.end());
    all.total_milliseconds += one.total_milliseconds;
  }
  ir::verify(module);
  return all;
}

} // namespace loom::passes
