// The memory planner and its independent checker.
#include <catch2/catch.hpp>

#include "ir/error.h"
#include "ir/parser.h"
#include "passes/memory_plan.h"
#include "passes/pass.h"
#include "passes/schedule.h"

using namespace loom;

namespace {

// Two values live at the same time (%a is read after %b is computed), a reduction, an
// elementwise op that can overwrite its dying operand, and a parameter update.
const char* kGraph =
    "func @g(%x: f32[8,8], %w: f32[8,8]) -> (new.w: f32[8,8] aliases %w, s: f32[8]) {\n"
    "  %a = exp(%x) : f32[8,8]\n"
    "  %b = tanh(%x) : f32[8,8]\n"
    "  %c = add(%a, %b) : f32[8,8]\n"
    "  %s = reduce_sum(%c) {axes = [0], keepdims = false} : f32[8]\n"
    "  %d = neg(%c) : f32[8,8]\n"
    "  %new = sub(%w, %d) : f32[8,8]\n"
    "  return %new, %s\n"
    "}\n";

struct Fixture {
  std::unique_ptr<ir::Module> module = ir::parse_module(kGraph);
  const ir::Function& fn = *module->functions()[0];
  const ir::Value* value(const std::string& name) const {
    for (const auto& n : fn.nodes())
      if (n->num_results() == 1 && n->result()->name() == name) return n->result();
    FAIL("no value " << name);
    return nullptr;
  }
};

void expect_rejected(const ir::Function& fn, const passes::MemoryPlan& plan,
                     const std::string& what) {
  CHECK_THROWS_MATCHES(
      passes::check_memory_plan(fn, plan), Error, Catch::Predicate<Error>([&](const Error& e) {
        return e.code() == ErrorCode::Internal && e.message().find(what) != std::string::npos;
      }));
}

} // namespace

TEST_CASE("the planner packs to the lower bound on a small graph", "[passes][memory]") {
  Fixture f;
  passes::MemoryPlan plan = passes::plan_memory(f.fn);
  passes::check_memory_plan(f.fn, plan);
  // %a and %b are live together (256 bytes each); %c overwrites %a, %d overwrites %c;
  // the update is written into %w; %s (64 bytes) lives to the end, in %b's old bytes.
  CHECK(plan.offsets.at(f.value("c")) == plan.offsets.at(f.value("a")));
  CHECK(plan.reuses.at(f.value("c")) == f.value("a"));
  CHECK(plan.offsets.at(f.value("d")) == plan.offsets.at(f.value("c")));
  CHECK(plan.in_place_params.at(f.value("new")) == 1);
  CHECK(plan.lower_bound_bytes == 2 * 256);
  CHECK(plan.arena_bytes == plan.lower_bound_bytes);
  CHECK(plan.naive_bytes == 4 * 256 + 64);
  CHECK(plan.report() == "arena_bytes=512 lower_bound_bytes=512 naive_bytes=1088");
}

TEST_CASE("planning is deterministic and the pass annotates the same plan", "[passes][memory]") {
  Fixture f;
  passes::MemoryPlan first = passes::plan_memory(f.fn);
  passes::MemoryPlan second = passes::plan_memory(f.fn);
  CHECK(first.offsets == second.offsets);
  CHECK(first.in_place_params == second.in_place_params);

  ir::Function& fn = *f.module->functions()[0];
  CHECK(passes::annotate_memory_plan(fn));
  CHECK_FALSE(passes::annotate_memory_plan(fn)); // already annotated
  passes::MemoryPlan after = passes::plan_memory(fn);
  CHECK(after.offsets == first.offsets);
  for (const auto& n : fn.nodes()) {
    if (n->op() == Op::Parameter) continue;
    const ir::Value* v = n->result();
    if (after.offsets.count(v))
      CHECK(n->attrs().get_int("test", "arena_offset") == after.offsets.at(v));
    if (after.in_place_params.count(v))
      CHECK(n->attrs().get_string("test", "in_place_param") == "w");
  }
}

TEST_CASE("the checker rejects overlapping live buffers", "[passes][memory]") {
  Fixture f;
  passes::MemoryPlan plan = passes::plan_memory(f.fn);
  plan.offsets[f.value("b")] = plan.offsets.at(f.value("a")); // both live at %c
  expect_rejected(f.fn, plan, "live at the same time in overlapping bytes");
}

TEST_CASE("the checker rejects bad placement and totals", "[passes][memory]") {
  Fixture f;
  passes::MemoryPlan good = passes::plan_memory(f.fn);

  passes::MemoryPlan misaligned = good;
  misaligned.offsets[f.value("s")] += 4;
  expect_rejected(f.fn, misaligned, "not aligned");

  passes::MemoryPlan small = good;
  small.arena_bytes -= 64;
  expect_rejected(f.fn, small, "does not fit in the arena");

  passes::MemoryPlan homeless = good;
  homeless.offsets.erase(f.value("s"));
  expect_rejected(f.fn, homeless, "has 0 homes");

  passes::MemoryPlan wrong_bound = good;
  wrong_bound.lower_bound_bytes = 64;
  expect_rejected(f.fn, wrong_bound, "lower_bound_bytes");
}

TEST_CASE("the checker rejects illegal reuse", "[passes][memory]") {
  Fixture f;
  passes::MemoryPlan good = passes::plan_memory(f.fn);

  // A reduction may not overwrite its operand.
  passes::MemoryPlan reduction = good;
  reduction.reuses[f.value("s")] = f.value("c");
  expect_rejected(f.fn, reduction, "reuses");

  // A node may only take over a buffer it reads.
  passes::MemoryPlan unread = good;
  unread.reuses[f.value("d")] = f.value("a");
  expect_rejected(f.fn, unread, "does not read");
}

TEST_CASE("the checker rejects an in-place update before a later reader", "[passes][memory]") {
  auto module = ir::parse_module("func @u(%w: f32[4]) -> (new.w: f32[4] aliases %w, y: f32[4]) {\n"
                                 "  %new = neg(%w) : f32[4]\n"
                                 "  %y = exp(%w) : f32[4]\n"
                                 "  return %new, %y\n"
                                 "}\n");
  const ir::Function& fn = *module->functions()[0];
  passes::MemoryPlan plan = passes::plan_memory(fn); // in program order: no in-place update
  CHECK(plan.in_place_params.empty());
  passes::check_memory_plan(fn, plan);
  const ir::Value* updated = fn.nodes()[1]->result();
  plan.in_place_params[updated] = 0;
  plan.offsets.erase(updated);
  expect_rejected(fn, plan, "before a later reader");
}

TEST_CASE("scheduling lowers the peak of live bytes", "[passes][memory]") {
  // Both exps first keeps two 16 KB buffers alive; reducing each right away keeps one.
  auto module =
      ir::parse_module("func @s(%x: f32[64,64], %y: f32[64,64]) -> (a: f32[], b: f32[]) {\n"
                       "  %ex = exp(%x) : f32[64,64]\n"
                       "  %ey = exp(%y) : f32[64,64]\n"
                       "  %a = reduce_sum(%ex) {axes = [0, 1], keepdims = false} : f32[]\n"
                       "  %b = reduce_sum(%ey) {axes = [0, 1], keepdims = false} : f32[]\n"
                       "  return %a, %b\n"
                       "}\n");
  ir::Function& fn = *module->functions()[0];
  int64_t before = passes::estimate_peak_bytes(fn);
  CHECK(passes::schedule(fn));
  int64_t after = passes::estimate_peak_bytes(fn);
  CHECK(before == 2 * 16384 + 64);
  CHECK(after == 16384 + 2 * 64);
  CHECK_FALSE(passes::schedule(fn)); // already the best order
  CHECK(passes::plan_memory(fn).lower_bound_bytes == after);
}
