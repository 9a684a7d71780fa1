// Passes and the pass manager. A pass transforms one function in place. Passes are
// registered by name in one list (passes/registry.cpp); pipelines are data: a list of
// names, or a named level (-O0, -O1, -O2).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace loom::passes {

struct PassInfo {
  std::string name;
  std::string description;
  // Runs the pass; returns true if it changed the function.
  std::function<bool(ir::Function&)> run;
};

// Every registered pass, in a fixed order.
const std::vector<PassInfo>& registry();
const PassInfo* find_pass(const std::string& name);

struct PipelineOptions {
  bool verify_each = true;              // run the verifier after every pass
  bool print_after_all = false;         // print the IR after every pass
  std::vector<std::string> print_after; // print after these passes
  bool time_passes = false; // the caller wants PipelineResult::timing_table() (times are
                            // always collected: two clock reads per pass)
  std::ostream* print_stream = nullptr; // where IR dumps go (default std::cerr)
};

struct PassTiming {
  std::string name;
  double milliseconds;
  bool changed;
};

struct PipelineResult {
  std::vector<PassTiming> timings;
  double total_milliseconds = 0;
  // "pass  ms  changed" table, one line per pass run, then the total.
  std::string timing_table() const;
};

// Pass names of a level: "O0" (nothing), "O1", "O2".
std::vector<std::string> level_pipeline(const std::string& level);
// Splits "a,b,c" into names; checks every name is registered (Error(InvalidArgument)
// listing the known passes otherwise).
std::vector<std::string> parse_pipeline(const std::string& spec);

// The pass names a command-line pipeline flag selects: "-O0", "-O1", "-O2" or
// "--passes=a,b,c". Error(InvalidArgument) for anything else or an unknown pass.
std::vector<std::string> pipeline_from_flag(const std::string& flag);

// Runs the named passes in order on fn.
PipelineResult run_pipeline(ir::Function& fn, const std::vector<std::string>& passes,
                            const PipelineOptions& options = {});

// Runs the pipeline on every function of the module in turn (timings of all functions,
// in order), then verifies the whole module. This is what loom-opt does.
PipelineResult run_pipeline(ir::Module& module, const std::vector<std::string>& passes,
                            const PipelineOptions& options = {});

} // namespace loom::passes
