// Fusion and memory planning on whole training steps (tests/passes/training_graphs.h):
// kernel counts, every elementwise op fused, arena within 10% of the lower bound, and
// results preserved (on small instances the interpreter runs quickly).
#include <catch2/catch.hpp>

#include "ir/clone.h"
#include "passes/fuse.h"
#include "passes/memory_plan.h"
#include "passes/pass.h"
#include "tests/passes/pass_test_util.h"
#include "tests/passes/training_graphs.h"

using namespace loom;

namespace {

// -O2 with the verifier after every pass; the memory plan is checked independently.
passes::MemoryPlan optimize(ir::Function& fn) {
  passes::PipelineOptions options;
  options.verify_each = true;
  passes::run_pipeline(fn, passes::level_pipeline("O2"), options);
  passes::MemoryPlan plan = passes::plan_memory(fn);
  passes::check_memory_plan(fn, plan);
  return plan;
}

// No elementwise op or reduction is left outside a fusion node.
void check_all_fused(const ir::Function& fn) {
  for (const auto& n : fn.nodes()) {
    INFO("top-level " << n->name());
    CHECK_FALSE(has_trait(n->op(), kElementwise));
    CHECK_FALSE((has_trait(n->op(), kReduction) && n->op() != Op::ArgMax && n->op() != Op::ArgMin));
  }
}

int count_op(const ir::Function& fn, Op op) {
  int count = 0;
  for (const auto& n : fn.nodes())
    count += n->op() == op ? 1 : 0;
  return count;
}

void check_memory_figures(const passes::MemoryPlan& plan) {
  INFO(plan.report());
  CHECK(plan.arena_bytes <= plan.lower_bound_bytes * 11 / 10);
  CHECK(plan.arena_bytes < plan.naive_bytes);
}

void check_preserved(const Graph& graph) {
  auto module = ir::clone_function_as_module(graph.function());
  ir::Function& fn = *module->functions()[0];
  optimize(fn);
  test::check_same_results(graph.function(), fn, /*seed=*/3, 1e-4, 1e-5);
}

} // namespace

// The MLP 784-1024-1024-10 (batch 256, softmax cross-entropy, SGD) compiles to 36
// kernels (listed in passes/README.md): 3 forward contractions (matmul + bias + relu),
// 5 kernels for the log-softmax loss and 6 for its gradient, the one_hot of the labels,
// 5 transposes feeding gradient matmuls, 2 relu masks, 2 input-gradient contractions
// (mask as epilogue), 3 weight-gradient contractions (learning rate as epilogue), 3
// bias-gradient reductions (same) and 6 parameter updates written in place.
TEST_CASE("MLP training step: kernel count and memory", "[passes][training]") {
  std::unique_ptr<Graph> graph = test::mlp_training_step();
  ir::Function& fn = graph->function();
  passes::MemoryPlan plan = optimize(fn);
  check_all_fused(fn);
  CHECK(passes::count_kernels(fn) == 36);
  CHECK(count_op(fn, Op::Fusion) == 35);
  CHECK(count_op(fn, Op::OneHot) == 1);
  CHECK(plan.in_place_params.size() == 6); // every weight and bias updated in place
  check_memory_figures(plan);
}

TEST_CASE("MLP training step built by optim::build_train_step", "[passes][training]") {
  std::unique_ptr<Graph> graph = test::mlp_optim_training_step();
  ir::Function& fn = graph->function();
  passes::MemoryPlan plan = optimize(fn);
  check_all_fused(fn);
  // One more kernel than the hand-built step: the update counter's increment.
  CHECK(passes::count_kernels(fn) == 37);
  CHECK(plan.in_place_params.size() == 7);
  check_memory_figures(plan);
}

TEST_CASE("CNN training step: memory", "[passes][training]") {
  std::unique_ptr<Graph> graph = test::cnn_training_step();
  ir::Function& fn = graph->function();
  passes::MemoryPlan plan = optimize(fn);
  check_all_fused(fn);
  check_memory_figures(plan);
}

TEST_CASE("LSTM training step: memory", "[passes][training]") {
  std::unique_ptr<Graph> graph = test::lstm_training_step();
  ir::Function& fn = graph->function();
  passes::MemoryPlan plan = optimize(fn);
  check_all_fused(fn);
  check_memory_figures(plan);
}

TEST_CASE("training steps compute the same after -O2", "[passes][training]") {
  check_preserved(*test::mlp_training_step({.batch = 4, .sizes = {12, 16, 16, 5}}));
  check_preserved(*test::mlp_optim_training_step({.batch = 4, .sizes = {6, 8, 3}}));
  check_preserved(*test::cnn_training_step(/*batch=*/2));
  check_preserved(*test::lstm_training_step(/*batch=*/2, /*steps=*/3, /*input=*/4, /*hidden=*/5));
}
