// The memory plan checker. It recomputes liveness and sharing from the IR and the
// plan's own records rather than reusing the planner's structures; it shares only
// the legality predicate for overwriting an operand (passes/storage.h).
#include <algorithm>
#include <unordered_set>

#include "ir/error.h"
#include "passes/memory_plan.h"
#include "passes/storage.h"

namespace loom::passes {

namespace {

using ir::Node;
using ir::Value;

std::string describe(const Value* v) {
  std::string s = v->name().empty() ? std::string("<unnamed>") : "%" + v->name();
  return s + " (" + std::string(v->def()->name()) + " " + v->type().str() + ")";
}

[[noreturn]] void fail(const std::string& what) {
  throw_error(ErrorCode::Internal, "memory plan: " + what);
}

// One arena range: values that occupy it one after another, and when it is live.
struct Range {
  std::vector<const Value*> values;
  int64_t offset = 0, bytes = 0;
  int start = 0, end = 0;
};

class Checker {
public:
  Checker(const ir::Function& fn, const MemoryPlan& plan)
      : fn_(fn), plan_(plan), end_(fn.num_nodes()) {
    for (int i = 0; i < fn.num_nodes(); ++i)
      position_[fn.nodes()[i].get()] = i;
  }

  void run() {
    check_homes();
    check_param_updates();
    build_ranges();
    check_ranges();
    check_totals();
  }

private:
  // Nodes reading v's bytes, through reshapes (followed via the plan's views).
  std::vector<const Node*> readers(const Value* v) const {
    std::vector<const Node*> out;
    std::vector<const Value*> work{v};
    while (!work.empty()) {
      const Value* x = work.back();
      work.pop_back();
      for (const ir::Use& u : x->uses()) {
        if (u.user && plan_.views.count(u.user->result()) && u.user->op() == Op::Reshape)
          work.push_back(u.user->result());
        else if (u.user)
          out.push_back(u.user);
      }
    }
    return out;
  }

  bool is_output(const Value* v) const {
    std::vector<const Value*> work{v};
    while (!work.empty()) {
      const Value* x = work.back();
      work.pop_back();
      for (const ir::Use& u : x->uses()) {
        if (!u.user) return true;
        if (u.user->op() == Op::Reshape) work.push_back(u.user->result());
      }
    }
    return false;
  }

  const Value* view_root(const Value* v) const {
    for (auto it = plan_.views.find(v); it != plan_.views.end(); it = plan_.views.find(v))
      v = it->second;
    return v;
  }

  // Every result of a top-level node other than parameters and constants has one home.
  void check_homes() {
    std::unordered_set<const Value*> results;
    for (const auto& n : fn_.nodes()) {
      if (n->op() == Op::Parameter || n->op() == Op::Constant) continue;
      for (int i = 0; i < n->num_results(); ++i) {
        const Value* v = n->result(i);
        results.insert(v);
        if (n->op() == Op::Reshape) {
          auto view = plan_.views.find(v);
          if (view == plan_.views.end() || view->second != n->operand(0))
            fail("reshape result " + describe(v) + " is not recorded as a view of its operand");
          auto root_offset = plan_.offsets.find(view_root(v));
          bool has = plan_.offsets.count(v) != 0;
          if (has != (root_offset != plan_.offsets.end()) ||
              (has && plan_.offsets.at(v) != root_offset->second))
            fail("view " + describe(v) + " is not at its operand's offset");
          if (plan_.in_place_params.count(v))
            fail("view " + describe(v) + " is also a parameter update");
          continue;
        }
        int homes = static_cast<int>(plan_.offsets.count(v)) +
                    static_cast<int>(plan_.in_place_params.count(v));
        if (homes != 1)
          fail(describe(v) + " has " + std::to_string(homes) +
               " homes (arena offset / parameter buffer)");
      }
    }
    for (const auto& [v, offset] : plan_.offsets)
      if (!results.count(v))
        fail("the plan places " + describe(v) + ", which is not a top-level result");
    for (const auto& [v, param] : plan_.in_place_params)
      if (!results.count(v))
        fail("the plan updates a parameter with " + describe(v) + ", not a top-level result");
  }

  void check_param_updates() {
    std::unordered_set<int> updated;
    for (const auto& [v, index] : plan_.in_place_params) {
      if (index < 0 || index >= static_cast<int>(fn_.params().size()))
        fail("bad parameter index for " + describe(v));
      const Value* param = fn_.params()[index];
      bool aliased = false;
      for (const auto& [output, name] : fn_.output_aliases()) {
        const ir::Output* o = fn_.find_output(output);
        aliased = aliased || (o && o->value == v && name == param->name());
      }
      if (!aliased)
        fail(describe(v) + " is written into %" + param->name() +
             " but no output updating it is that value");
      if (!updated.insert(index).second) fail("parameter %" + param->name() + " is updated twice");
      if (is_output(param))
        fail("parameter %" + param->name() + " is overwritten but also returned");
      const Node* writer = v->def();
      for (const Node* r : readers(param))
        if (r != writer && position_.at(r) >= position_.at(writer))
          fail("parameter %" + param->name() + " is overwritten by " + describe(v) +
               " before a later reader");
      for (int k = 0; k < writer->num_operands(); ++k)
        if (view_root(writer->operand(k)) == param &&
            !storage::can_overwrite_operand(*writer, k, v->result_index()))
          fail(describe(v) + " overwrites parameter %" + param->name() +
               " while reading it out of order");
    }
  }

  int last_use(const Value* v) const {
    if (is_output(v)) return end_;
    int last = position_.at(v->def());
    for (const Node* r : readers(v))
      last = std::max(last, position_.at(r));
    return last;
  }

  // Groups arena values into ranges by following the recorded reuses.
  void build_ranges() {
    std::unordered_map<const Value*, int> range_of;
    std::vector<const Value*> placed;
    for (const auto& [v, offset] : plan_.offsets)
      if (!plan_.views.count(v)) placed.push_back(v);
    std::sort(placed.begin(), placed.end(), [&](const Value* a, const Value* b) {
      int pa = position_.at(a->def()), pb = position_.at(b->def());
      return pa != pb ? pa < pb : a->result_index() < b->result_index();
    });
    for (const Value* v : placed) {
      auto reuse = plan_.reuses.find(v);
      if (reuse == plan_.reuses.end()) {
        range_of[v] = static_cast<int>(ranges_.size());
        ranges_.push_back({{v},
                           plan_.offsets.at(v),
                           storage::aligned_bytes(v->type()),
                           position_.at(v->def()),
                           last_use(v)});
        continue;
      }
      const Value* operand = reuse->second;
      const Value* previous = view_root(operand);
      check_reuse(v, operand, previous);
      Range& r = ranges_[range_of.at(previous)];
      if (r.values.back() != previous)
        fail(describe(v) + " reuses the buffer of " + describe(previous) +
             ", which already holds another value");
      r.values.push_back(v);
      r.end = last_use(v);
      range_of[v] = range_of.at(previous);
    }
  }

  void check_reuse(const Value* v, const Value* operand, const Value* previous) const {
    const Node* writer = v->def();
    const auto& ops = writer->operands();
    if (std::find(ops.begin(), ops.end(), operand) == ops.end())
      fail(describe(v) + " reuses " + describe(operand) + ", which its node does not read");
    if (!plan_.offsets.count(previous) || plan_.offsets.at(previous) != plan_.offsets.at(v))
      fail(describe(v) + " reuses the buffer of " + describe(previous) + " at another offset");
    if (v->type() != operand->type()) fail(describe(v) + " reuses a buffer of another type");
    for (int k = 0; k < writer->num_operands(); ++k)
      if (view_root(writer->operand(k)) == previous &&
          !storage::can_overwrite_operand(*writer, k, v->result_index()))
        fail(describe(v) + " overwrites " + describe(previous) + " while still reading it");
    if (last_use(previous) > position_.at(writer))
      fail(describe(v) + " overwrites " + describe(previous) + ", which is read later");
  }

  void check_ranges() const {
    std::vector<const Range*> by_start;
    for (const Range& r : ranges_) {
      if (r.offset < 0 || r.offset % kBufferAlignment != 0)
        fail(describe(r.values[0]) + " is not aligned");
      if (r.offset + r.bytes > plan_.arena_bytes)
        fail(describe(r.values[0]) + " does not fit in the arena");
      if (r.bytes > 0) by_start.push_back(&r);
    }
    std::sort(by_start.begin(), by_start.end(),
              [](const Range* a, const Range* b) { return a->start < b->start; });
    for (size_t i = 0; i < by_start.size(); ++i)
      for (size_t j = i + 1; j < by_start.size() && by_start[j]->start <= by_start[i]->end; ++j) {
        const Range &a = *by_start[i], &b = *by_start[j];
        if (a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes)
          fail(describe(a.values[0]) + " and " + describe(b.values[0]) +
               " are live at the same time in overlapping bytes");
      }
  }

  void check_totals() const {
    std::vector<int64_t> delta(end_ + 2, 0);
    int64_t naive = 0;
    for (const Range& r : ranges_) {
      delta[r.start] += r.bytes;
      delta[r.end + 1] -= r.bytes;
      for (const Value* v : r.values)
        naive += storage::aligned_bytes(v->type());
    }
    int64_t live = 0, peak = 0;
    for (int64_t d : delta)
      peak = std::max(peak, live += d);
    if (peak != plan_.lower_bound_bytes)
      fail("lower_bound_bytes is " + std::to_string(plan_.lower_bound_bytes) +
           ", the liveness gives " + std::to_string(peak));
    if (naive != plan_.naive_bytes)
      fail("naive_bytes is " + std::to_string(plan_.naive_bytes) + ", the buffers sum to " +
           std::to_string(naive));
    if (plan_.arena_bytes < peak) fail("the arena is smaller than the lower bound");
  }

  const ir::Function& fn_;
  const MemoryPlan& plan_;
  int end_;
  std::unordered_map<const Node*, int> position_;
  std::vector<Range> ranges_;
};

} // namespace

void check_memory_plan(const ir::Function& fn, const MemoryPlan& plan) { Checker(fn, plan).run(); }

} // namespace loom::passes
