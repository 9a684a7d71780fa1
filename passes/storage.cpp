#include "passes/storage.h"

#include <algorithm>
#include <unordered_set>

#include "passes/fuse.h"

namespace loom::passes::storage {

int64_t aligned_bytes(const TensorType& t) {
  return (t.nbytes() + kAlignment - 1) / kAlignment * kAlignment;
}

const ir::Value* root(const ir::Value* v) {
  while (v->def()->op() == Op::Reshape)
    v = v->def()->operand(0);
  return v;
}

bool is_computed(const ir::Value* root) {
  Op op = root->def()->op();
  return op != Op::Parameter && op != Op::Constant && op != Op::Reshape;
}

namespace {

// Calls fn(use) for every use of root and of the views of it.
template <typename Fn> void for_each_byte_use(const ir::Value* root, Fn&& fn) {
  std::vector<const ir::Value*> work{root};
  while (!work.empty()) {
    const ir::Value* v = work.back();
    work.pop_back();
    for (const ir::Use& u : v->uses()) {
      if (u.user && u.user->op() == Op::Reshape)
        work.push_back(u.user->result());
      else
        fn(u);
    }
  }
}

// Whether a body parameter reaches every output only through elementwise ops of its
// own shape (so output element i depends on parameter element i alone).
bool elementwise_only_from(const ir::Value* param) {
  std::vector<const ir::Value*> work{param};
  std::unordered_set<const ir::Value*> seen{param};
  while (!work.empty()) {
    const ir::Value* v = work.back();
    work.pop_back();
    for (const ir::Use& u : v->uses()) {
      if (!u.user) continue;
      const ir::Node* n = u.user;
      if (!has_trait(n->op(), kElementwise) || n->result()->shape() != param->shape()) return false;
      if (seen.insert(n->result()).second) work.push_back(n->result());
    }
  }
  return true;
}

} // namespace

std::vector<const ir::Node*> byte_readers(const ir::Value* root) {
  std::vector<const ir::Node*> readers;
  std::unordered_set<const ir::Node*> seen;
  for_each_byte_use(root, [&](const ir::Use& u) {
    if (u.user && seen.insert(u.user).second) readers.push_back(u.user);
  });
  return readers;
}

bool reaches_output(const ir::Value* root) {
  bool output = false;
  for_each_byte_use(root, [&](const ir::Use& u) { output = output || !u.user; });
  return output;
}

bool can_overwrite_operand(const ir::Node& node, int operand, int result) {
  if (node.result(result)->type() != node.operand(operand)->type()) return false;
  if (node.op() != Op::Fusion) return has_trait(node.op(), kElementwise);
  if (!node.body() || !is_fusion_of_kind(node, "loop")) return false;
  return elementwise_only_from(node.body()->params().at(operand));
}

std::vector<const ir::Value*> overwritable_roots(const ir::Node& node, int result) {
  std::vector<const ir::Value*> out;
  for (int j = 0; j < node.num_operands(); ++j) {
    const ir::Value* r = root(node.operand(j));
    if (!is_computed(r) || std::find(out.begin(), out.end(), r) != out.end()) continue;
    bool all = true;
    for (int k = 0; k < node.num_operands() && all; ++k)
      if (root(node.operand(k)) == r) all = can_overwrite_operand(node, k, result);
    if (all) out.push_back(r);
  }
  return out;
}

std::vector<ParamUpdate> param_update_candidates(const ir::Function& fn) {
  std::vector<ParamUpdate> out;
  std::unordered_set<const ir::Value*> claimed_values;
  std::unordered_set<int> claimed_params;
  for (const auto& [output_name, param_name] : fn.output_aliases()) {
    const ir::Output* output = fn.find_output(output_name);
    const ir::Value* param = fn.find_param(param_name);
    if (!output || !param) continue;
    const ir::Value* v = output->value;
    const ir::Node* writer = v->def();
    if (!is_computed(v) || reaches_output(param)) continue;
    bool safe = true;
    for (int j = 0; j < writer->num_operands(); ++j)
      if (root(writer->operand(j)) == param)
        safe = safe && can_overwrite_operand(*writer, j, v->result_index());
    int index = 0;
    while (fn.params()[index] != param)
      ++index;
    if (!safe || claimed_params.count(index) || !claimed_values.insert(v).second) continue;
    claimed_params.insert(index);
    out.push_back({v, index});
  }
  return out;
}

} // namespace loom::passes::storage
