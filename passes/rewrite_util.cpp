#include "passes/rewrite_util.h"

#include <cmath>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "ir/error.h"
#include "passes/dce.h"

namespace loom::passes {

bool is_constant(const ir::Value* v) { return v->def()->op() == Op::Constant; }

std::optional<double> splat_value(const ir::Value* v) {
  const ir::Node* def = v->def();
  while (def->op() == Op::BroadcastTo || def->op() == Op::Reshape)
    def = def->operand(0)->def();
  if (def->op() != Op::Constant) return std::nullopt;
  const Literal& lit = def->attrs().get_literal("constant", "value");
  int64_t n = lit.type().numel();
  if (n == 0 || n > kMaxSplatScan) return std::nullopt;
  double first = lit.as_double(0);
  for (int64_t i = 1; i < n; ++i) {
    double x = lit.as_double(i);
    if (x != first) return std::nullopt;
  }
  if (std::isnan(first)) return std::nullopt; // no identity involves NaN
  return first;
}

bool is_splat(const ir::Value* v, double value) {
  std::optional<double> s = splat_value(v);
  return s && *s == value;
}

void replace_value(ir::Value* old_value, ir::Value* new_value) {
  if (old_value == new_value) return;
  if (new_value->name().empty() && !old_value->name().empty())
    new_value->set_name(old_value->name());
  old_value->replace_all_uses_with(new_value);
}

bool is_topologically_ordered(const ir::Function& fn) {
  std::unordered_set<const ir::Value*> defined;
  for (const auto& node : fn.nodes()) {
    for (const ir::Value* v : node->operands())
      if (!defined.count(v)) return false;
    for (int r = 0; r < node->num_results(); ++r)
      defined.insert(node->result(r));
  }
  return true;
}

std::vector<ir::Node*> topological_order(const ir::Function& fn,
                                         const std::function<int64_t(const ir::Node*)>& priority) {
  const auto& nodes = fn.nodes();
  std::unordered_map<const ir::Node*, int> position;
  for (size_t i = 0; i < nodes.size(); ++i)
    position[nodes[i].get()] = static_cast<int>(i);

  // Dependency counts and successor lists over distinct predecessor nodes.
  std::unordered_map<const ir::Node*, int> pending;
  std::unordered_map<const ir::Node*, std::vector<ir::Node*>> successors;
  for (const auto& owned : nodes) {
    ir::Node* n = owned.get();
    std::unordered_set<const ir::Node*> preds;
    for (const ir::Value* v : n->operands())
      preds.insert(v->def());
    pending[n] = static_cast<int>(preds.size());
    for (const ir::Node* p : preds)
      successors[p].push_back(n);
  }

  using Entry = std::pair<std::pair<int64_t, int>, ir::Node*>; // ((priority, position), node)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> ready;
  std::vector<ir::Node*> order;
  order.reserve(nodes.size());
  for (const auto& owned : nodes) {
    ir::Node* n = owned.get();
    if (n->op() == Op::Parameter)
      order.push_back(n); // the signature stays in front
    else if (pending[n] == 0)
      ready.push({{priority(n), position[n]}, n});
  }
  auto release = [&](const ir::Node* done) {
    for (ir::Node* s : successors[done])
      if (--pending[s] == 0) ready.push({{priority(s), position[s]}, s});
  };
  for (ir::Node* p : std::vector<ir::Node*>(order))
    release(p);
  while (!ready.empty()) {
    ir::Node* n = ready.top().second;
    ready.pop();
    order.push_back(n);
    release(n);
  }
  if (order.size() != nodes.size())
    throw_error(ErrorCode::Internal, "function @" + fn.name() + " has a dependency cycle");
  return order;
}

bool restore_topological_order(ir::Function& fn) {
  if (is_topologically_ordered(fn)) return false;
  std::unordered_map<const ir::Node*, int64_t> position;
  for (int i = 0; i < fn.num_nodes(); ++i)
    position[fn.nodes()[i].get()] = i;
  fn.reorder(topological_order(fn, [&](const ir::Node* n) { return position.at(n); }));
  return true;
}

bool rewrite_to_fixed_point(ir::Function& fn, int max_rounds,
                            const std::function<ir::Value*(ir::Node&)>& rewrite) {
  bool changed_any = false;
  for (int round = 0; round < max_rounds; ++round) {
    bool changed = false;
    std::vector<ir::Node*> snapshot;
    for (const auto& n : fn.nodes())
      snapshot.push_back(n.get());
    for (ir::Node* n : snapshot) {
      if (n->num_results() != 1 || n->body() || !n->result()->has_uses()) continue;
      if (ir::Value* replacement = rewrite(*n)) {
        replace_value(n->result(), replacement);
        changed = true;
      }
    }
    if (!changed) break;
    changed_any = true;
    eliminate_dead_code(fn);
  }
  return changed_any;
}

} // namespace loom::passes
