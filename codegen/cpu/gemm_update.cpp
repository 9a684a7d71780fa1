#include "codegen/cpu/gemm_update.h"

#include <functional>

#include "passes/fuse.h"
#include "passes/rewrite_util.h"

namespace loom::codegen {

namespace {

using passes::is_fusion_of_kind;

bool plain_matmul(const ir::Node& n) {
  DType dt = n.result()->dtype();
  return n.op() == Op::MatMul && (dt == DType::F32 || dt == DType::F64) &&
         n.operand(0)->rank() == 2 && n.operand(1)->rank() == 2;
}

// Whether v is read by `reader` only (not an output, not read twice).
bool read_only_by(const ir::Value* v, const ir::Node* reader) {
  return v->uses().size() == 1 && v->uses()[0].user == reader;
}

// product = scale * (sum of terms): a plain matmul, or a contraction fusion whose body
// is an add tree over its core matmul and parameters bound to plain matmuls that only
// it reads, optionally times a scalar constant. With `accumulate`, the body may end in
// P +- that or that - P (the fuser puts updates without an alias into the epilogue),
// which sets acc.accumulator and acc.beta.
bool match_sum(const ir::Node& product, GemmAccumulation& acc, double& scale,
               bool accumulate = false) {
  scale = 1.0;
  if (plain_matmul(product)) {
    acc.terms.push_back({&product, nullptr, product.operand(0), product.operand(1)});
    acc.fused.push_back(&product);
    return true;
  }
  if (!is_fusion_of_kind(product, "contraction") || product.num_results() != 1) return false;
  const ir::Function& body = *product.body();
  auto outer = [&](const ir::Value* param) -> const ir::Value* {
    for (size_t i = 0; i < body.params().size(); ++i)
      if (body.params()[i] == param) return product.operand(static_cast<int>(i));
    return nullptr;
  };
  const ir::Value* root = body.outputs()[0].value;
  const ir::Value* accumulator = nullptr;
  double sign = 1.0, beta = 0.0;
  size_t updates = 0;
  if (accumulate && (root->def()->op() == Op::Add || root->def()->op() == Op::Sub)) {
    const ir::Node& op = *root->def();
    for (int side = 0; side < 2 && !accumulator; ++side) {
      const ir::Value* p = op.operand(side);
      const ir::Value* bound = p->def()->op() == Op::Parameter ? outer(p) : nullptr;
      if (!bound || p->type() != root->type() || p->uses().size() != 1 ||
          op.operand(1 - side)->uses().size() != 1 ||
          (plain_matmul(*bound->def()) && read_only_by(bound, &product)))
        continue;
      accumulator = bound;
      bool subtract = op.op() == Op::Sub;
      sign = (subtract && side == 0) ? -1.0 : 1.0;
      beta = (subtract && side == 1) ? -1.0 : 1.0;
      root = op.operand(1 - side);
      updates = 1;
    }
  }
  const ir::Value* scaled_root = root;
  if (root->def()->op() == Op::Mul) {
    const ir::Node& mul = *root->def();
    for (int side = 0; side < 2; ++side)
      if (std::optional<double> s = passes::splat_value(mul.operand(1 - side))) {
        scale = *s;
        root = mul.operand(side);
        break;
      }
    if (root == scaled_root || root->uses().size() != 1) return false;
  }
  GemmAccumulation found;
  std::function<bool(const ir::Value*)> leaves = [&](const ir::Value* v) -> bool {
    const ir::Node& n = *v->def();
    if (n.op() == Op::Add && v->uses().size() == 1 && n.operand(0)->type() == v->type() &&
        n.operand(1)->type() == v->type())
      return leaves(n.operand(0)) && leaves(n.operand(1));
    if (plain_matmul(n) && v->uses().size() == 1) {
      const ir::Value *a = outer(n.operand(0)), *b = outer(n.operand(1));
      if (!a || !b) return false;
      found.terms.push_back({&n, &product, a, b});
      return true;
    }
    if (n.op() != Op::Parameter) return false;
    const ir::Value* bound = outer(v);
    if (!bound || !plain_matmul(*bound->def()) || !read_only_by(bound, &product) ||
        v->uses().size() != 1)
      return false;
    found.terms.push_back(
        {bound->def(), nullptr, bound->def()->operand(0), bound->def()->operand(1)});
    found.fused.push_back(bound->def());
    return true;
  };
  if (!leaves(root)) return false;
  // Every body node must be part of the sum (no other work hides in the fusion).
  size_t used = 0;
  for (const auto& n : body.nodes())
    used +=
        n->op() == Op::Parameter || n->op() == Op::Constant || n->op() == Op::BroadcastTo ? 0 : 1;
  size_t adds = found.terms.size() - 1, muls = root == scaled_root ? 0 : 1;
  size_t inner_matmuls = 0;
  for (const GemmTerm& t : found.terms)
    inner_matmuls += t.fusion ? 1 : 0;
  if (used != adds + muls + inner_matmuls + updates) return false;
  scale *= sign;
  acc.accumulator = accumulator;
  acc.beta = beta;
  acc.terms.insert(acc.terms.end(), found.terms.begin(), found.terms.end());
  acc.fused.insert(acc.fused.end(), found.fused.begin(), found.fused.end());
  acc.fused.push_back(&product);
  return true;
}

// P +- product (or product - P) as a loop fusion with one add/sub, or a plain add/sub.
std::optional<GemmAccumulation> match_update(const ir::Node& update) {
  const ir::Node* op = &update;
  const ir::Value *lhs = nullptr, *rhs = nullptr;
  if (update.num_operands() != 2) return std::nullopt;
  if (is_fusion_of_kind(update, "loop")) {
    const ir::Function& body = *update.body();
    op = nullptr;
    for (const auto& n : body.nodes()) {
      if (n->op() == Op::Parameter) continue;
      if (op) return std::nullopt;
      op = n.get();
    }
    if (!op || body.outputs()[0].value != op->result() || op->num_operands() != 2 ||
        op->operand(0) == op->operand(1))
      return std::nullopt;
    lhs = update.operand(op->operand(0) == body.params()[0] ? 0 : 1);
    rhs = update.operand(op->operand(1) == body.params()[0] ? 0 : 1);
  } else {
    lhs = update.operand(0);
    rhs = update.operand(1);
  }
  const TensorType& type = update.result()->type();
  if ((op->op() != Op::Add && op->op() != Op::Sub) || lhs->type() != type || rhs->type() != type ||
      lhs == rhs)
    return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    const ir::Value* product = side == 0 ? rhs : lhs;
    const ir::Value* p = side == 0 ? lhs : rhs;
    if (!read_only_by(product, &update)) continue;
    GemmAccumulation acc;
    double scale = 1.0;
    if (!match_sum(*product->def(), acc, scale)) continue;
    bool subtract = op->op() == Op::Sub;
    acc.alpha = (subtract && side == 0) ? -scale : scale; // lhs - rhs
    acc.accumulator = p;
    acc.beta = (subtract && side == 1) ? -1.0 : 1.0;
    return acc;
  }
  return std::nullopt;
}

} // namespace

std::optional<GemmAccumulation> match_gemm_accumulation(const ir::Node& node) {
  if (node.num_results() != 1) return std::nullopt;
  DType dt = node.result()->dtype();
  if (dt != DType::F32 && dt != DType::F64) return std::nullopt;
  std::optional<GemmAccumulation> acc;
  if (node.op() == Op::Add || node.op() == Op::Sub || is_fusion_of_kind(node, "loop")) {
    acc = match_update(node);
  } else if (is_fusion_of_kind(node, "contraction")) {
    acc.emplace();
    double scale = 1.0;
    // A single product alone is an ordinary contraction.
    if (!match_sum(node, *acc, scale, /*accumulate=*/true) ||
        (acc->terms.size() < 2 && !acc->accumulator))
      return std::nullopt;
    acc->fused.pop_back(); // the node itself is lowered here, not fused away
    acc->alpha = scale;
  }
  if (!acc) return std::nullopt;
  for (const GemmTerm& t : acc->terms)
    if (t.a == acc->accumulator || t.b == acc->accumulator)
      return std::nullopt; // would read what it writes
  return acc;
}

} // namespace loom::codegen
