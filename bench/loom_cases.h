// The benchmark cases on loom's side. Each case builds its graph with the public API
// (frontend/loom.h, frontend/nn, frontend/optim.h), compiles it for the CPU, checks the
// result once and hands back a closure that runs one iteration. The peers in
// bench/peers/ build the same computations; bench/README.md lists the shapes.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace loom::bench {

// A case ready to be timed.
struct PreparedCase {
  double compile_ms = 0.0;        // wall time of loom::compile (or of the Trainer's compile)
  std::function<void()> run_once; // one iteration: a call, or one training step
};

struct CaseSpec {
  std::string name;        // e.g. "mlp_train"; the same name in every suite
  std::string description; // one line for listings
  double flops = 0.0;      // nominal arithmetic (matmuls and convolutions), 0 if not meaningful
  double bytes = 0.0;      // minimum memory traffic, 0 if not meaningful
  // Builds, compiles and checks the case. Throws std::runtime_error if the compiled
  // code computes a wrong result.
  std::function<PreparedCase()> prepare;
};

// Every case, in report order.
const std::vector<CaseSpec>& all_cases();

// Compiles a one-op graph so that LLVM's one-time initialization is not charged to the
// first real case; returns its wall time in milliseconds.
double compile_warmup_graph();

// When set (non-empty), every case writes its graph, as built and before compilation, to
// DIRECTORY/<case>.loom, for loom-opt / loomc (--time-passes, --emit=ir).
void set_ir_dump_directory(std::string directory);

} // namespace loom::bench
