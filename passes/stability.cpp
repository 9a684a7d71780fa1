#include "passes/stability.h"

#include <limits>

#include "ir/builder.h"
#include "passes/rewrite_util.h"

namespace loom::passes {

namespace {

using ir::Node;
using ir::Value;

const Node* def_of(const Value* v, Op op) { return v->def()->op() == op ? v->def() : nullptr; }

// v with broadcast_to/reshape nodes looked through.
const Value* strip_layout(const Value* v) {
  while (v->def()->op() == Op::BroadcastTo || v->def()->op() == Op::Reshape)
    v = v->def()->operand(0);
  return v;
}

class StabilityRewriter {
public:
  StabilityRewriter(ir::Function& fn, Node& node) : node_(node), b_(fn, &node) {
    b_.set_loc(node.loc());
  }

  Value* run() {
    if (node_.op() == Op::Log) return rewrite_log();
    if (node_.op() == Op::Div) return recognize_sigmoid();
    return nullptr;
  }

private:
  Value* scalar(double v) { return b_.scalar(node_.result()->dtype(), v); }

  Value* rewrite_log() {
    Value* arg = node_.operand(0);
    if (const Node* e = def_of(arg, Op::Exp)) return e->operand(0);
    if (const Node* d = def_of(arg, Op::Div)) return log_of_quotient(*d);
    if (const Node* s = def_of(arg, Op::ReduceSum)) return log_sum_exp(*s);
    if (const Node* s = def_of(arg, Op::Sigmoid)) return log_sigmoid(s->operand(0));
    return nullptr;
  }

  // log(exp(a) / q) = a - log(q)
  Value* log_of_quotient(const Node& div) {
    const Node* e = def_of(div.operand(0), Op::Exp);
    if (!e) return nullptr;
    return b_.op(Op::Sub, {e->operand(0), log_inside_layout(div.operand(1))});
  }

  // log(q), computed before q's broadcast_to/reshape so it runs on fewer elements.
  Value* log_inside_layout(Value* q) {
    Op op = q->def()->op();
    if (op != Op::BroadcastTo && op != Op::Reshape) return b_.op(Op::Log, {q});
    Value* inner = log_inside_layout(q->def()->operand(0));
    return b_.op(op, {inner}, q->def()->attrs());
  }

  // Whether x is y - (reduce_max(y, axes), possibly guarded by a select and broadcast
  // back): already shifted, as written by frontends or by this rewrite.
  static bool max_shifted(const Value* x, const std::vector<int64_t>& axes) {
    const Node* sub = def_of(x, Op::Sub);
    if (!sub) return false;
    const Value* shift = strip_layout(sub->operand(1));
    if (const Node* guard = def_of(shift, Op::Select)) shift = guard->operand(1);
    const Node* max = def_of(shift, Op::ReduceMax);
    return max && max->operand(0) == sub->operand(0) &&
           max->attrs().get_ints("reduce_max", "axes") == axes;
  }

  // log(sum(exp(x))) = m + log(sum(exp(x - m))) with m = max(x) (0 if not finite).
  Value* log_sum_exp(const Node& sum) {
    const Node* e = def_of(sum.operand(0), Op::Exp);
    if (!e) return nullptr;
    Value* x = e->operand(0);
    const std::vector<int64_t>& axes = sum.attrs().get_ints("reduce_sum", "axes");
    if (axes.empty() || max_shifted(x, axes)) return nullptr;
    bool keepdims = sum.attrs().get_bool("reduce_sum", "keepdims");
    Value* m = b_.op(Op::ReduceMax, {x}, {{"axes", axes}, {"keepdims", true}});
    Value* finite =
        b_.op(Op::Lt, {b_.op(Op::Abs, {m}), scalar(std::numeric_limits<double>::infinity())});
    Value* safe_m = b_.op(Op::Select, {finite, m, scalar(0.0)});
    Value* shifted_exp = b_.op(Op::Exp, {b_.op(Op::Sub, {x, safe_m})});
    Value* shifted_sum =
        b_.op(Op::ReduceSum, {shifted_exp}, {{"axes", axes}, {"keepdims", keepdims}});
    Value* offset =
        keepdims ? safe_m : b_.op(Op::Reshape, {safe_m}, {{"shape", shifted_sum->shape()}});
    return b_.op(Op::Add, {b_.op(Op::Log, {shifted_sum}), offset});
  }

  // log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|))
  Value* log_sigmoid(Value* x) {
    Value* tail = b_.op(Op::Exp, {b_.op(Op::Neg, {b_.op(Op::Abs, {x})})});
    Value* softplus_tail = b_.op(Op::Log, {b_.op(Op::Add, {scalar(1.0), tail})});
    return b_.op(Op::Sub, {b_.op(Op::Minimum, {x, scalar(0.0)}), softplus_tail});
  }

  // 1 / (1 + exp(-x)) = sigmoid(x)
  Value* recognize_sigmoid() {
    if (!is_splat(node_.operand(0), 1.0)) return nullptr;
    const Node* add = def_of(node_.operand(1), Op::Add);
    if (!add) return nullptr;
    for (int i = 0; i < 2; ++i) {
      if (!is_splat(add->operand(1 - i), 1.0)) continue;
      const Node* e = def_of(add->operand(i), Op::Exp);
      const Node* n = e ? def_of(e->operand(0), Op::Neg) : nullptr;
      if (n && n->operand(0)->type() == node_.result()->type())
        return b_.op(Op::Sigmoid, {n->operand(0)});
    }
    return nullptr;
  }

  Node& node_;
  ir::Builder b_;
};

} // namespace

bool improve_stability(ir::Function& fn) {
  // A rewrite can expose another (log of a softmax leaves a log of a sum of exps).
  return rewrite_to_fixed_point(fn, 4, [&](Node& n) { return StabilityRewriter(fn, n).run(); });
}

} // namespace loom::passes
