#include "codegen/cpu/gemm_update.h"

namespace loom::codegen {

namespace {

bool single_non_param_node(const ir::Function& body, const ir::Node** only) {
  *only = nullptr;
  for (const auto& n : body.nodes()) {
    if (n->op() == Op::Parameter) continue;
    if (*only) return false;
    *only = n.get();
  }
  return *only != nullptr;
}

// The value of a scalar constant (possibly broadcast), if v is one.
std::optional<double> scalar_constant(const ir::Value* v) {
  const ir::Node* n = v->def();
  if (n->op() == Op::BroadcastTo) n = n->operand(0)->def();
  if (n->op() != Op::Constant) return std::nullopt;
  const Literal& lit = n->attrs().get_literal("constant", "value");
  if (lit.type().numel() != 1) return std::nullopt;
  return lit.as_double(0);
}

bool plain_matmul(const ir::Node& n) {
  DType dt = n.result()->dtype();
  return n.op() == Op::MatMul && (dt == DType::F32 || dt == DType::F64) && n.operand(0)->rank() == 2 &&
         n.operand(1)->rank() == 2;
}

// product = s (A B): a plain matmul (s = 1) or a contraction fusion whose body is a
// matmul of two parameters, optionally times a scalar constant.
bool match_product(const ir::Node& product, GemmUpdate& u, double& scale) {
  if (plain_matmul(product)) {
    u.matmul = &product;
    u.a = product.operand(0);
    u.b = product.operand(1);
    scale = 1.0;
    return true;
  }
  if (product.op() != Op::Fusion || !product.attrs().has("kind") ||
      product.attrs().get_string("fusion", "kind") != "contraction")
    return false;
  const ir::Function& body = *product.body();
  if (body.outputs().size() != 1) return false;
  const ir::Node* mm = nullptr;
  const ir::Node* mul = nullptr;
  for (const auto& n : body.nodes()) {
    if (n->op() == Op::Parameter || n->op() == Op::Constant || n->op() == Op::BroadcastTo) continue;
    if (plain_matmul(*n) && !mm) mm = n.get();
    else if (n->op() == Op::Mul && !mul) mul = n.get();
    else return false;
  }
  if (!mm) return false;
  for (const ir::Value* v : mm->operands())
    if (v->def()->op() != Op::Parameter) return false;
  const ir::Value* out = body.outputs()[0].value;
  scale = 1.0;
  if (mul) {
    const ir::Value* other = mul->operand(0) == mm->result() ? mul->operand(1) : mul->operand(0);
    std::optional<double> s = scalar_constant(other);
    if (!s || out != mul->result() || mm->result()->uses().size() != 1) return false;
    scale = *s;
  } else if (out != mm->result()) {
    return false;
  }
  auto outer = [&](const ir::Value* param) -> const ir::Value* {
    for (size_t i = 0; i < body.params().size(); ++i)
      if (body.params()[i] == param) return product.operand(static_cast<int>(i));
    return nullptr;
  };
  u.matmul = mm;
  u.a = outer(mm->operand(0));
  u.b = outer(mm->operand(1));
  return u.a && u.b;
}

} // namespace

std::optional<GemmUpdate> match_gemm_update(const ir::Node& update) {
  if (update.num_results() != 1) return std::nullopt;
  const TensorType& type = update.result()->type();
  if (type.dtype != DType::F32 && type.dtype != DType::F64) return std::nullopt;
  // The update's arithmetic and its two operands (outer values).
  const ir::Node* op = &update;
  const ir::Value *lhs = nullptr, *rhs = nullptr;
  if (update.op() == Op::Fusion) {
    if (!update.attrs().has("kind") || update.attrs().get_string("fusion", "kind") != "loop" ||
        update.num_operands() != 2 || !single_non_param_node(*update.body(), &op) ||
        update.body()->outputs()[0].value != op->result())
      return std::nullopt;
    const auto& params = update.body()->params();
    if (op->num_operands() != 2 || op->operand(0) == op->operand(1)) return std::nullopt;
    lhs = update.operand(op->operand(0) == params[0] ? 0 : 1);
    rhs = update.operand(op->operand(1) == params[0] ? 0 : 1);
  } else {
    if (update.num_operands() != 2) return std::nullopt;
    lhs = update.operand(0);
    rhs = update.operand(1);
  }
  if (op->op() != Op::Add && op->op() != Op::Sub) return std::nullopt;
  if (lhs->type() != type || rhs->type() != type || lhs == rhs) return std::nullopt;

  for (int side = 0; side < 2; ++side) {
    const ir::Value* product = side == 0 ? rhs : lhs;
    const ir::Value* acc = side == 0 ? lhs : rhs;
    if (product->uses().size() != 1 || product->uses()[0].user != &update) continue; // not an output either
    GemmUpdate u;
    double scale = 1.0;
    if (!match_product(*product->def(), u, scale)) continue;
    u.product = product->def();
    u.accumulator = acc;
    bool subtract = op->op() == Op::Sub;
    // lhs - rhs: the product on the right is subtracted; on the left, P is.
    u.alpha = (subtract && side == 0) ? -scale : scale;
    u.beta = (subtract && side == 1) ? -1.0 : 1.0;
    if (u.a == acc || u.b == acc) continue; // the GEMM would read what it writes
    return u;
  }
  return std::nullopt;
}

} // namespace loom::codegen
