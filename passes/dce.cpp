// Dead code elimination: removes nodes none of whose results reach an output.
#include "passes/dce.h"

#include <unordered_set>

namespace loom::passes {

bool eliminate_dead_code(ir::Function& fn) {
  std::unordered_set<const ir::Node*> live;
  std::vector<const ir::Node*> work;
  for (const ir::Output& out : fn.outputs())
    if (live.insert(out.value->def()).second) work.push_back(out.value->def());
  while (!work.empty()) {
    const ir::Node* n = work.back();
    work.pop_back();
    for (ir::Value* v : n->operands())
      if (live.insert(v->def()).second) work.push_back(v->def());
  }
  bool changed = false;
  // Reverse order: users die before their operands, so use lists empty out in turn.
  for (int i = fn.num_nodes() - 1; i >= 0; --i) {
    ir::Node* n = fn.nodes()[i].get();
    if (live.count(n) || n->op() == Op::Parameter) continue; // parameters are the signature
    fn.erase(n);
    changed = true;
  }
  return changed;
}

} // namespace loom::passes
