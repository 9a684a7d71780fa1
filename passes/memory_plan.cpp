// The memory planner: buffers from liveness over the schedule, in-place decisions, then
// offset packing.
#include "passes/memory_plan.h"

#include <algorithm>
#include <functional>
#include <limits>

#include "passes/storage.h"

namespace loom::passes {

std::string MemoryPlan::report() const {
  return "arena_bytes=" + std::to_string(arena_bytes) +
         " lower_bound_bytes=" + std::to_string(lower_bound_bytes) +
         " naive_bytes=" + std::to_string(naive_bytes);
}

namespace {

using ir::Node;
using ir::Value;

// Values sharing one arena range over one live interval.
struct Buffer {
  std::vector<const Value*> values; // in definition order; each later one reuses the range
  int64_t bytes = 0;
  int start = 0, end = 0; // first and last step (inclusive) the range is live
  int64_t offset = 0;
};

class Planner {
public:
  explicit Planner(const ir::Function& fn) : fn_(fn), end_of_program_(fn.num_nodes()) {
    for (int i = 0; i < fn.num_nodes(); ++i)
      position_[fn.nodes()[i].get()] = i;
  }

  MemoryPlan run() {
    place_param_updates();
    make_buffers();
    for (const Buffer& b : buffers_)
      for (const Value* v : b.values)
        plan_.naive_bytes += storage::aligned_bytes(v->type());
    plan_.lower_bound_bytes = lower_bound();
    pack();
    for (const Buffer& b : buffers_)
      for (const Value* v : b.values)
        plan_.offsets[v] = b.offset;
    for (const auto& [view, operand] : plan_.views) {
      auto it = buffer_of_.find(storage::root(view));
      if (it != buffer_of_.end()) plan_.offsets[view] = buffers_[it->second].offset;
    }
    return std::move(plan_);
  }

private:
  // The last step reading v's bytes (the end of the program for outputs).
  int last_use(const Value* v) const {
    if (storage::reaches_output(v)) return end_of_program_;
    int last = position_.at(v->def());
    for (const Node* r : storage::byte_readers(v))
      last = std::max(last, position_.at(r));
    return last;
  }

  void place_param_updates() {
    for (const storage::ParamUpdate& update : storage::param_update_candidates(fn_)) {
      const Node* writer = update.value->def();
      std::vector<const Node*> readers = storage::byte_readers(fn_.params()[update.param]);
      bool others_first = std::all_of(readers.begin(), readers.end(), [&](const Node* r) {
        return r == writer || position_.at(r) < position_.at(writer);
      });
      if (others_first) plan_.in_place_params[update.value] = update.param;
    }
  }

  void make_buffers() {
    for (const auto& owned : fn_.nodes()) {
      const Node* n = owned.get();
      if (n->op() == Op::Reshape) plan_.views[n->result()] = n->operand(0);
      if (n->num_results() == 0 || !storage::is_computed(n->result(0))) continue;
      std::vector<int> taken; // buffers results of this node already moved into
      for (int i = 0; i < n->num_results(); ++i) {
        const Value* v = n->result(i);
        if (plan_.in_place_params.count(v)) continue;
        int reused = reusable_buffer(*n, i, taken);
        if (reused >= 0) {
          Buffer& b = buffers_[reused];
          b.values.push_back(v);
          b.end = last_use(v);
          taken.push_back(reused);
          buffer_of_[v] = reused;
          continue;
        }
        buffer_of_[v] = static_cast<int>(buffers_.size());
        buffers_.push_back(
            {{v}, storage::aligned_bytes(v->type()), position_.at(n), last_use(v), 0});
      }
    }
  }

  // A buffer of an operand that dies at n and that result i may overwrite, or -1.
  int reusable_buffer(const Node& n, int result, const std::vector<int>& taken) {
    for (const Value* root : storage::overwritable_roots(n, result)) {
      auto it = buffer_of_.find(root);
      if (it == buffer_of_.end()) continue; // a parameter update's value
      int id = it->second;
      const Buffer& b = buffers_[id];
      if (b.values.back() != root || b.end != position_.at(&n)) continue; // still read later
      if (std::find(taken.begin(), taken.end(), id) != taken.end()) continue;
      for (const Value* operand : n.operands())
        if (storage::root(operand) == root) {
          plan_.reuses[n.result(result)] = operand;
          break;
        }
      return id;
    }
    return -1;
  }

  int64_t lower_bound() const {
    std::vector<int64_t> delta(end_of_program_ + 2, 0);
    for (const Buffer& b : buffers_) {
      delta[b.start] += b.bytes;
      delta[b.end + 1] -= b.bytes;
    }
    int64_t live = 0, peak = 0;
    for (int64_t d : delta)
      peak = std::max(peak, live += d);
    return peak;
  }

  // Offsets for buffers taken in `order`: each goes into the lowest (first fit) or the
  // tightest (best fit) gap among the ranges of buffers live at the same time.
  std::pair<int64_t, std::vector<int64_t>> place(const std::vector<int>& order,
                                                 bool best_fit) const {
    std::vector<int64_t> offset(buffers_.size(), -1);
    std::vector<int> placed;
    int64_t arena = 0;
    for (int id : order) {
      const Buffer& b = buffers_[id];
      std::vector<std::pair<int64_t, int64_t>> busy; // [begin, end) byte ranges
      for (int other : placed) {
        const Buffer& o = buffers_[other];
        if (o.start <= b.end && b.start <= o.end && o.bytes > 0)
          busy.push_back({offset[other], offset[other] + o.bytes});
      }
      std::sort(busy.begin(), busy.end());
      int64_t chosen = -1, chosen_gap = std::numeric_limits<int64_t>::max(), cursor = 0;
      for (const auto& [begin, end] : busy) {
        int64_t gap = begin - cursor;
        if (gap >= b.bytes && gap < chosen_gap) {
          chosen = cursor;
          chosen_gap = gap;
          if (!best_fit) break;
        }
        cursor = std::max(cursor, end);
      }
      offset[id] = chosen >= 0 ? chosen : cursor;
      arena = std::max(arena, offset[id] + b.bytes);
      placed.push_back(id);
    }
    return {arena, offset};
  }

  void pack() {
    using Key = std::function<bool(const Buffer&, const Buffer&)>;
    auto duration = [](const Buffer& b) { return int64_t{b.end - b.start + 1}; };
    const std::vector<Key> orders = {
        [](const Buffer& a, const Buffer& b) {
          return a.bytes != b.bytes ? a.bytes > b.bytes : a.start < b.start;
        },
        [](const Buffer& a, const Buffer& b) {
          return a.start != b.start ? a.start < b.start : a.bytes > b.bytes;
        },
        [&](const Buffer& a, const Buffer& b) {
          return duration(a) != duration(b) ? duration(a) > duration(b) : a.bytes > b.bytes;
        },
        [&](const Buffer& a, const Buffer& b) {
          return a.bytes * duration(a) > b.bytes * duration(b);
        },
    };
    int64_t best_arena = -1;
    std::vector<int64_t> best_offsets;
    for (const Key& key : orders) {
      std::vector<int> order(buffers_.size());
      for (size_t i = 0; i < order.size(); ++i)
        order[i] = static_cast<int>(i);
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return key(buffers_[a], buffers_[b]); });
      for (bool best_fit : {false, true}) {
        auto [arena, offsets] = place(order, best_fit);
        if (best_arena < 0 || arena < best_arena) {
          best_arena = arena;
          best_offsets = std::move(offsets);
        }
      }
    }
    plan_.arena_bytes = std::max<int64_t>(best_arena, 0);
    for (size_t i = 0; i < buffers_.size(); ++i)
      buffers_[i].offset = best_offsets[i];
  }

  const ir::Function& fn_;
  int end_of_program_;
  std::unordered_map<const Node*, int> position_;
  std::vector<Buffer> buffers_;
  std::unordered_map<const Value*, int> buffer_of_;
  MemoryPlan plan_;
};

} // namespace

MemoryPlan plan_memory(const ir::Function& fn) { return Planner(fn).run(); }

} // namespace loom::passes
