#include "passes/fold.h"

#include "ir/builder.h"
#include "ir/error.h"
#include "passes/dce.h"
#include "passes/rewrite_util.h"
#include "runtime/interp/kernels.h"

namespace loom::passes {

namespace {

bool foldable(const ir::Node& node) {
  if (node.num_operands() == 0 || node.body()) return false;
  int64_t operand_elements = 0, result_elements = 0;
  for (const ir::Value* v : node.operands()) {
    if (!is_constant(v) || v->type().numel() > kMaxFoldElements) return false;
    operand_elements += v->type().numel();
  }
  for (int r = 0; r < node.num_results(); ++r) {
    if (node.result(r)->type().numel() > kMaxFoldElements) return false;
    result_elements += node.result(r)->type().numel();
  }
  if (result_elements > operand_elements && !has_trait(node.op(), kRandom)) return false;
  return interp::kernel_table().find(node.op()) != nullptr;
}

// The node's results computed by the interpreter, or nothing if its kernel reports an
// error for these inputs.
std::optional<std::vector<Tensor>> evaluate(const ir::Node& node) {
  std::vector<Tensor> operands;
  for (const ir::Value* v : node.operands())
    operands.push_back(Tensor::from_literal(v->def()->attrs().get_literal("constant", "value")));
  try {
    return (*interp::kernel_table().find(node.op()))(node, operands);
  } catch (const Error&) {
    return std::nullopt;
  }
}

} // namespace

bool fold_constants(ir::Function& fn) {
  bool changed = false;
  std::vector<ir::Node*> snapshot;
  for (const auto& n : fn.nodes())
    snapshot.push_back(n.get());
  // In program order, so a folded node's users see a constant operand when they come up.
  for (ir::Node* node : snapshot) {
    if (!foldable(*node)) continue;
    std::optional<std::vector<Tensor>> results = evaluate(*node);
    if (!results || static_cast<int>(results->size()) != node->num_results()) continue;
    ir::Builder b(fn, node);
    b.set_loc(node->loc());
    for (int r = 0; r < node->num_results(); ++r) {
      if ((*results)[r].type() != node->result(r)->type())
        throw_error(ErrorCode::Internal, "constant folding: interpreter kernel for '" +
                                             std::string(node->name()) + "' returned " +
                                             (*results)[r].type().str() + ", the node has " +
                                             node->result(r)->type().str());
      replace_value(node->result(r), b.constant((*results)[r].to_literal()));
    }
    changed = true;
  }
  if (changed) eliminate_dead_code(fn);
  return changed;
}

} // namespace loom::passes
