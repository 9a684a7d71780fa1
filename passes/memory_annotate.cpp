// The plan-memory pass: makes the memory plan visible in the IR as node attributes.
#include "passes/memory_plan.h"

namespace loom::passes {

namespace {

constexpr const char* kOffset = "arena_offset";
constexpr const char* kOffsets = "arena_offsets";
constexpr const char* kParam = "in_place_param";

// The planning attributes a node should carry (arena offsets and parameter updates).
Attrs plan_attrs(const ir::Node& n, const ir::Function& fn, const MemoryPlan& plan) {
  Attrs out;
  std::vector<int64_t> offsets;
  for (int i = 0; i < n.num_results(); ++i) {
    const ir::Value* v = n.result(i);
    auto offset = plan.offsets.find(v);
    offsets.push_back(offset != plan.offsets.end() ? offset->second : -1);
    if (auto param = plan.in_place_params.find(v); param != plan.in_place_params.end()) {
      std::string key =
          n.num_results() == 1 ? kParam : std::string(kParam) + "." + std::to_string(i);
      out.set(key, fn.params()[param->second]->name());
    }
  }
  if (n.num_results() == 1 && offsets[0] >= 0) out.set(kOffset, offsets[0]);
  if (n.num_results() > 1) out.set(kOffsets, offsets);
  return out;
}

bool is_plan_attr(const std::string& name) {
  return name == kOffset || name == kOffsets || name.rfind(kParam, 0) == 0;
}

} // namespace

bool annotate_memory_plan(ir::Function& fn) {
  MemoryPlan plan = plan_memory(fn);
  check_memory_plan(fn, plan);
  bool changed = false;
  for (const auto& owned : fn.nodes()) {
    ir::Node& n = *owned;
    if (n.op() == Op::Parameter || n.op() == Op::Constant) continue;
    Attrs& attrs = n.attrs();
    Attrs old_plan, new_plan = plan_attrs(n, fn, plan);
    for (const auto& [name, value] : attrs.items())
      if (is_plan_attr(name)) old_plan.set(name, value);
    if (old_plan == new_plan) continue;
    for (const auto& [name, value] : old_plan.items())
      attrs.erase(name);
    for (const auto& [name, value] : new_plan.items())
      attrs.set(name, value);
    changed = true;
  }
  return changed;
}

} // namespace loom::passes
