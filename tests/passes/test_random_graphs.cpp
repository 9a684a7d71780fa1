// Property test: -O2 preserves what randomly generated graphs compute, the verifier
// accepts the IR after every pass, and the independent checker accepts every memory
// plan. The graphs mix elementwise ops (with broadcasting and constants that trigger
// simplifications), reductions, matmuls, reshapes, transposes, broadcasts, slices,
// pads, concats, softmax and log-sigmoid patterns (for the stability rewrites) and
// parameter updates (outputs aliasing parameters, planned in place).
#include <catch2/catch.hpp>

#include <numeric>
#include <random>

#include "ir/builder.h"
#include "ir/clone.h"
#include "ir/printer.h"
#include "passes/fuse.h"
#include "passes/memory_plan.h"
#include "passes/pass.h"
#include "tests/passes/pass_test_util.h"
#include "tests/support/random_graph.h"

using namespace loom;

TEST_CASE("the O2 pipeline preserves results of 500 random graphs", "[passes][property]") {
  constexpr uint32_t kGraphs = 500;
  int fused_graphs = 0, in_place_updates = 0;
  for (uint32_t seed = 1; seed <= kGraphs; ++seed) {
    std::unique_ptr<ir::Module> module = test::RandomGraph(seed).build();
    ir::Function& fn = *module->find_function("random_" + std::to_string(seed));
    auto original = ir::clone_function_as_module(fn);
    INFO("seed " << seed << "\n" << ir::print_function(fn));
    passes::PipelineOptions options;
    options.verify_each = true;
    REQUIRE_NOTHROW(passes::run_pipeline(fn, passes::level_pipeline("O2"), options));
    INFO("after -O2:\n" << ir::print_function(fn));
    passes::MemoryPlan plan = passes::plan_memory(fn);
    REQUIRE_NOTHROW(passes::check_memory_plan(fn, plan));
    CHECK(plan.arena_bytes >= plan.lower_bound_bytes);
    test::check_same_results(*original->find_function(fn.name()), fn, seed);
    for (const auto& n : fn.nodes())
      fused_graphs += n->op() == Op::Fusion ? 1 : 0;
    in_place_updates += static_cast<int>(plan.in_place_params.size());
  }
  // The generator exercises what it claims to.
  CHECK(fused_graphs > static_cast<int>(kGraphs));
  CHECK(in_place_updates > 50);
}
