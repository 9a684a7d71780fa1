#include "passes/schedule.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "passes/storage.h"

namespace loom::passes {

namespace {

using ir::Node;
using ir::Value;

// Everything the live-bytes simulation needs, computed once per function.
struct Model {
  std::unordered_map<const Value*, int64_t> bytes;    // buffer size of each computed root
  std::unordered_map<const Value*, int> reader_count; // distinct nodes reading its bytes
  std::unordered_set<const Value*> pinned;            // live to the end (outputs)
  std::unordered_map<const Node*, std::vector<const Value*>> reads; // distinct roots a node reads
  // Per node: (result index, operand root) pairs where the result may overwrite the root.
  std::unordered_map<const Node*, std::vector<std::pair<int, const Value*>>> reusable;
  std::unordered_map<const Node*, std::vector<Node*>> extra_deps; // must run before the key
};

// Nodes reachable from `from` along def-use edges and the extra dependencies so far.
std::unordered_set<const Node*>
descendants(const Node* from,
            const std::unordered_map<const Node*, std::vector<Node*>>& extra_succ) {
  std::unordered_set<const Node*> seen{from};
  std::vector<const Node*> work{from};
  while (!work.empty()) {
    const Node* n = work.back();
    work.pop_back();
    auto visit = [&](const Node* s) {
      if (seen.insert(s).second) work.push_back(s);
    };
    for (int i = 0; i < n->num_results(); ++i)
      for (const ir::Use& u : n->result(i)->uses())
        if (u.user) visit(u.user);
    if (auto it = extra_succ.find(n); it != extra_succ.end())
      for (const Node* s : it->second)
        visit(s);
  }
  return seen;
}

// Orders each parameter update after the parameter's other readers, when that is
// possible without a cycle; such updates will not need arena bytes.
void add_param_update_orders(const ir::Function& fn, Model& m,
                             std::unordered_set<const Value*>& in_place) {
  std::unordered_map<const Node*, std::vector<Node*>> extra_succ;
  for (const storage::ParamUpdate& update : storage::param_update_candidates(fn)) {
    Node* writer = update.value->def();
    std::vector<const Node*> readers = storage::byte_readers(fn.params()[update.param]);
    std::unordered_set<const Node*> after = descendants(writer, extra_succ);
    bool possible = std::none_of(readers.begin(), readers.end(),
                                 [&](const Node* r) { return r != writer && after.count(r); });
    if (!possible) continue;
    in_place.insert(update.value);
    for (const Node* r : readers) {
      if (r == writer) continue;
      m.extra_deps[writer].push_back(const_cast<Node*>(r));
      extra_succ[r].push_back(writer);
    }
  }
}

Model build_model(const ir::Function& fn) {
  Model m;
  std::unordered_set<const Value*> in_place;
  add_param_update_orders(fn, m, in_place);
  for (const auto& owned : fn.nodes()) {
    const Node* n = owned.get();
    for (int i = 0; i < n->num_results(); ++i) {
      const Value* v = n->result(i);
      if (!storage::is_computed(v)) continue;
      m.bytes[v] = in_place.count(v) ? 0 : storage::aligned_bytes(v->type());
      m.reader_count[v] = static_cast<int>(storage::byte_readers(v).size());
      if (storage::reaches_output(v)) m.pinned.insert(v);
      for (const Value* r : storage::overwritable_roots(*n, i))
        m.reusable[n].push_back({i, r});
    }
    if (n->op() == Op::Reshape) continue; // a view reads nothing at run time
    std::vector<const Value*>& reads = m.reads[n];
    for (const Value* v : n->operands()) {
      const Value* r = storage::root(v);
      if (storage::is_computed(r) && std::find(reads.begin(), reads.end(), r) == reads.end())
        reads.push_back(r);
    }
  }
  return m;
}

// Live bytes as nodes run in some order.
class Simulation {
public:
  explicit Simulation(const Model& m) : m_(m), remaining_(m.reader_count) {}

  // Bytes running n would allocate minus the bytes it would free.
  int64_t delta(const Node* n) const {
    Effect e = effect(n);
    return e.allocated - e.freed;
  }

  void run(const Node* n) {
    Effect e = effect(n);
    peak_ = std::max(peak_, live_ + e.allocated);
    live_ += e.allocated - e.freed;
    for (const Value* r : e.taken_over)
      taken_.insert(r);
    if (m_.reads.count(n))
      for (const Value* r : m_.reads.at(n))
        --remaining_[r];
    // A result nobody reads dies at once.
    for (int i = 0; i < n->num_results(); ++i) {
      const Value* v = n->result(i);
      if (m_.bytes.count(v) && remaining_[v] == 0 && !m_.pinned.count(v) &&
          !e.reused_results.count(v))
        live_ -= m_.bytes.at(v);
    }
  }

  int64_t peak() const { return peak_; }

private:
  struct Effect {
    int64_t allocated = 0, freed = 0;
    std::vector<const Value*> taken_over;            // operand buffers results move into
    std::unordered_set<const Value*> reused_results; // results living in such a buffer
  };

  bool dies_at(const Value* r) const {
    return remaining_.at(r) == 1 && !m_.pinned.count(r) && !taken_.count(r) && m_.bytes.at(r) > 0;
  }

  Effect effect(const Node* n) const {
    Effect e;
    for (int i = 0; i < n->num_results(); ++i) {
      const Value* v = n->result(i);
      if (!m_.bytes.count(v) || m_.bytes.at(v) == 0) continue;
      const Value* reuse = nullptr;
      if (auto it = m_.reusable.find(n); it != m_.reusable.end())
        for (const auto& [result, root] : it->second)
          if (result == i && dies_at(root) &&
              std::find(e.taken_over.begin(), e.taken_over.end(), root) == e.taken_over.end()) {
            reuse = root;
            break;
          }
      if (reuse) {
        e.taken_over.push_back(reuse);
        e.reused_results.insert(v);
      } else {
        e.allocated += m_.bytes.at(v);
      }
    }
    if (auto it = m_.reads.find(n); it != m_.reads.end())
      for (const Value* r : it->second)
        if (dies_at(r) &&
            std::find(e.taken_over.begin(), e.taken_over.end(), r) == e.taken_over.end())
          e.freed += m_.bytes.at(r);
    return e;
  }

  const Model& m_;
  std::unordered_map<const Value*, int> remaining_;
  std::unordered_set<const Value*> taken_;
  int64_t live_ = 0, peak_ = 0;
};

int64_t simulate_peak(const std::vector<Node*>& order, const Model& m) {
  Simulation sim(m);
  for (const Node* n : order)
    sim.run(n);
  return sim.peak();
}

std::vector<Node*> predecessors(const Node* n, const Model& m) {
  std::vector<Node*> preds;
  for (const Value* v : n->operands())
    if (std::find(preds.begin(), preds.end(), v->def()) == preds.end()) preds.push_back(v->def());
  if (auto it = m.extra_deps.find(n); it != m.extra_deps.end())
    for (Node* d : it->second)
      if (std::find(preds.begin(), preds.end(), d) == preds.end()) preds.push_back(d);
  return preds;
}

std::vector<Node*> current_order(const ir::Function& fn) {
  std::vector<Node*> order;
  for (const auto& n : fn.nodes())
    order.push_back(n.get());
  return order;
}

bool respects(const std::vector<Node*>& order, const Model& m) {
  std::unordered_set<const Node*> done;
  for (const Node* n : order) {
    for (const Node* p : predecessors(n, m))
      if (!done.count(p)) return false;
    done.insert(n);
  }
  return true;
}

// Among the ready nodes, the one with the best net memory effect (ties: program order).
std::vector<Node*> greedy_order(const ir::Function& fn, const Model& m) {
  std::unordered_map<const Node*, int> position, pending;
  std::unordered_map<const Node*, std::vector<Node*>> successors;
  std::vector<Node*> order, ready;
  for (int i = 0; i < fn.num_nodes(); ++i) {
    Node* n = fn.nodes()[i].get();
    position[n] = i;
    std::vector<Node*> preds = predecessors(n, m);
    pending[n] = static_cast<int>(preds.size());
    for (Node* p : preds)
      successors[p].push_back(n);
    if (preds.empty()) ready.push_back(n);
  }
  Simulation sim(m);
  while (!ready.empty()) {
    auto best = std::min_element(ready.begin(), ready.end(), [&](const Node* a, const Node* b) {
      bool pa = a->op() == Op::Parameter, pb = b->op() == Op::Parameter;
      if (pa != pb) return pa; // the signature stays in front
      int64_t da = sim.delta(a), db = sim.delta(b);
      return da != db ? da < db : position[a] < position[b];
    });
    Node* n = *best;
    ready.erase(best);
    sim.run(n);
    order.push_back(n);
    for (Node* s : successors[n])
      if (--pending[s] == 0) ready.push_back(s);
  }
  return order;
}

// Depth-first post-order from the outputs: each value is computed just before its
// first reader needs it.
std::vector<Node*> depth_first_order(const ir::Function& fn, const Model& m) {
  std::vector<Node*> order;
  std::unordered_set<const Node*> visited;
  auto visit_from = [&](Node* start) {
    std::vector<std::pair<Node*, size_t>> stack; // node, next predecessor to visit
    if (!visited.insert(start).second) return;
    stack.push_back({start, 0});
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      std::vector<Node*> preds = predecessors(n, m);
      if (next < preds.size()) {
        Node* p = preds[next++];
        if (visited.insert(p).second) stack.push_back({p, 0});
        continue;
      }
      order.push_back(n);
      stack.pop_back();
    }
  };
  for (const Value* p : fn.params())
    visit_from(p->def());
  for (const ir::Output& o : fn.outputs())
    visit_from(o.value->def());
  for (const auto& n : fn.nodes())
    visit_from(n.get());
  return order;
}

} // namespace

bool schedule(ir::Function& fn) {
  Model m = build_model(fn);
  std::vector<Node*> current = current_order(fn);
  std::vector<std::vector<Node*>> candidates;
  if (respects(current, m)) candidates.push_back(current);
  candidates.push_back(greedy_order(fn, m));
  candidates.push_back(depth_first_order(fn, m));
  const std::vector<Node*>* best = nullptr;
  int64_t best_peak = 0;
  for (const auto& order : candidates) {
    int64_t peak = simulate_peak(order, m);
    if (!best || peak < best_peak) {
      best = &order;
      best_peak = peak;
    }
  }
  if (*best == current) return false;
  fn.reorder(*best);
  return true;
}

int64_t estimate_peak_bytes(const ir::Function& fn) {
  return simulate_peak(current_order(fn), build_model(fn));
}

} // namespace loom::passes
