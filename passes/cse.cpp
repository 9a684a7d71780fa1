#include "passes/cse.h"

#include <functional>
#include <unordered_map>

#include "passes/dce.h"

namespace loom::passes {

namespace {

size_t hash_combine(size_t seed, size_t v) {
  return seed ^ (v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

size_t hash_attr(const AttrValue& v) {
  return std::visit(
      [](const auto& x) -> size_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Literal>) {
          size_t h = std::hash<int64_t>()(x.nbytes());
          size_t n = std::min<size_t>(x.nbytes(), 64); // a prefix is enough to spread buckets
          for (size_t i = 0; i < n; ++i)
            h = hash_combine(h, x.data()[i]);
          return h;
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          size_t h = x.size();
          for (int64_t e : x)
            h = hash_combine(h, std::hash<int64_t>()(e));
          return h;
        } else if constexpr (std::is_same_v<T, DType>) {
          return static_cast<size_t>(x);
        } else {
          return std::hash<T>()(x);
        }
      },
      v);
}

struct NodeKey {
  const ir::Node* node;
  bool operator==(const NodeKey& o) const {
    const ir::Node &a = *node, &b = *o.node;
    if (a.op() != b.op() || a.operands() != b.operands() || a.num_results() != b.num_results())
      return false;
    for (int i = 0; i < a.num_results(); ++i)
      if (a.result(i)->type() != b.result(i)->type()) return false;
    return a.attrs() == b.attrs();
  }
};

struct NodeKeyHash {
  size_t operator()(const NodeKey& k) const {
    size_t h = static_cast<size_t>(k.node->op());
    for (const ir::Value* v : k.node->operands())
      h = hash_combine(h, std::hash<const void*>()(v));
    for (const auto& [name, value] : k.node->attrs().items())
      h = hash_combine(hash_combine(h, std::hash<std::string>()(name)), hash_attr(value));
    return h;
  }
};

bool cse_eligible(const ir::Node& n) { return n.op() != Op::Parameter && n.body() == nullptr; }

} // namespace

bool eliminate_common_subexpressions(ir::Function& fn) {
  std::unordered_map<NodeKey, const ir::Node*, NodeKeyHash> seen;
  bool changed = false;
  for (const auto& node : fn.nodes()) {
    if (!cse_eligible(*node)) continue;
    auto [it, inserted] = seen.emplace(NodeKey{node.get()}, node.get());
    if (inserted) continue;
    for (int i = 0; i < node->num_results(); ++i) {
      ir::Value* keep = it->second->result(i);
      ir::Value* dup = node->result(i);
      if (keep->name().empty() && !dup->name().empty()) keep->set_name(dup->name());
      dup->replace_all_uses_with(keep);
    }
    changed = true;
  }
  if (changed) eliminate_dead_code(fn);
  return changed;
}

} // namespace loom::passes
