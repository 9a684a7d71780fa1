// Algebraic simplification. Every rule maps one node to an existing or newly built
// value computing the same result; the pass repeats until no rule applies.
#include "passes/simplify.h"

#include <numeric>

#include "ir/builder.h"
#include "ir/shape_rules.h"
#include "passes/rewrite_util.h"

namespace loom::passes {

namespace {

using ir::Node;
using ir::Value;

class Simplifier {
public:
  Simplifier(ir::Function& fn, Node& node) : node_(node), b_(fn, &node) { b_.set_loc(node.loc()); }

  // A value computing the node's result more cheaply, or nullptr.
  Value* run() {
    Op op = node_.op();
    if (has_trait(op, kBinary)) return binary();
    switch (op) {
    case Op::Select:
      return select();
    case Op::Neg:
    case Op::LogicalNot:
      if (Value* v = involution()) return v;
      return unary_before_broadcast();
    case Op::Abs:
    case Op::Relu:
    case Op::Floor:
    case Op::Ceil:
    case Op::Sign:
      if (Value* v = idempotent()) return v;
      return unary_before_broadcast();
    case Op::Cast:
      if (Value* v = cast()) return v;
      return unary_before_broadcast();
    case Op::Reshape:
      return reshape();
    case Op::Transpose:
      return transpose();
    case Op::BroadcastTo:
      return broadcast_to();
    case Op::Slice:
      return slice();
    case Op::Pad:
      return pad();
    case Op::Concat:
      return node_.num_operands() == 1 ? fit(in(0)) : nullptr;
    case Op::ReduceSum:
    case Op::ReduceMax:
    case Op::ReduceMin:
    case Op::ReduceProd:
      return trivial_reduction();
    default:
      return has_trait(op, kUnary) ? unary_before_broadcast() : nullptr;
    }
  }

private:
  Value* in(int i) const { return node_.operand(i); }
  const TensorType& out_type() const { return node_.result()->type(); }
  const Attrs& attrs() const { return node_.attrs(); }
  std::string_view name() const { return node_.name(); }

  // `x` as a value of the node's result type: itself, or broadcast to the result's
  // shape when the node's other operands made the result larger. nullptr if neither.
  Value* fit(Value* x) {
    if (x->type() == out_type()) return x;
    if (x->dtype() != out_type().dtype) return nullptr;
    std::optional<Shape> joined = broadcast_shapes(x->shape(), out_type().shape);
    if (!joined || *joined != out_type().shape) return nullptr;
    return b_.op(Op::BroadcastTo, {x}, {{"shape", out_type().shape}});
  }
  Value* fit_neg(Value* x) {
    Value* fitted = fit(x);
    return fitted ? b_.op(Op::Neg, {fitted}) : nullptr;
  }

  Value* binary() {
    Value *a = in(0), *b = in(1);
    switch (node_.op()) {
    case Op::Add:
      if (is_splat(b, 0)) return fit(a);
      if (is_splat(a, 0)) return fit(b);
      return nullptr;
    case Op::Sub:
      if (is_splat(b, 0)) return fit(a);
      if (is_splat(a, 0)) return fit_neg(b);
      return nullptr;
    case Op::Mul:
      if (is_splat(b, 1)) return fit(a);
      if (is_splat(a, 1)) return fit(b);
      if (is_splat(b, -1)) return fit_neg(a);
      if (is_splat(a, -1)) return fit_neg(b);
      return nullptr;
    case Op::Div:
      return is_splat(b, 1) ? fit(a) : nullptr;
    case Op::Pow:
      if (is_splat(b, 1)) return fit(a);
      if (is_splat(b, 2)) {
        Value* x = fit(a);
        return x ? b_.op(Op::Mul, {x, x}) : nullptr;
      }
      return nullptr;
    case Op::Maximum:
    case Op::Minimum:
      return a == b ? fit(a) : nullptr;
    case Op::Gt:
      return is_splat(b, 0) ? compare_relu_instead(a, b, /*relu_first=*/true) : nullptr;
    case Op::Lt:
      return is_splat(a, 0) ? compare_relu_instead(b, a, /*relu_first=*/false) : nullptr;
    case Op::LogicalAnd:
      if (a == b || is_splat(b, 1)) return fit(a);
      return is_splat(a, 1) ? fit(b) : nullptr;
    case Op::LogicalOr:
      if (a == b || is_splat(b, 0)) return fit(a);
      return is_splat(a, 0) ? fit(b) : nullptr;
    default:
      return nullptr;
    }
  }

  // x > 0 equals relu(x) > 0 (NaN: both false). When relu(x) is computed anyway,
  // comparing it instead lets x die at the relu (and the relu fuse into x's producer)
  // instead of staying alive until the comparison (typically in the backward pass).
  Value* compare_relu_instead(Value* x, Value* zero, bool relu_first) {
    for (const ir::Use& u : x->uses()) {
      if (!u.user || u.user->op() != Op::Relu) continue;
      Value* r = u.user->result();
      if (node_.parent()->index_of(u.user) > node_.parent()->index_of(&node_)) return nullptr;
      return relu_first ? b_.op(Op::Gt, {r, zero}) : b_.op(Op::Lt, {zero, r});
    }
    return nullptr;
  }

  Value* select() {
    if (in(1) == in(2) || is_splat(in(0), 1)) return fit(in(1));
    if (is_splat(in(0), 0)) return fit(in(2));
    return nullptr;
  }

  // f(f(x)) = x
  Value* involution() {
    const Node* inner = in(0)->def();
    return inner->op() == node_.op() ? inner->operand(0) : nullptr;
  }

  // f(f(x)) = f(x); also abs(neg(x)) = abs(x).
  Value* idempotent() {
    const Node* inner = in(0)->def();
    if (inner->op() == node_.op()) return in(0);
    if (node_.op() == Op::Abs && inner->op() == Op::Neg) return b_.op(Op::Abs, {inner->operand(0)});
    return nullptr;
  }

  // f(broadcast_to(x)) = broadcast_to(f(x)) for an elementwise unary f: computes f on
  // the small tensor, and exposes constant operands to folding.
  Value* unary_before_broadcast() {
    const Node* bcast = in(0)->def();
    if (bcast->op() != Op::BroadcastTo) return nullptr;
    Value* small = b_.op(node_.op(), {bcast->operand(0)}, attrs());
    return b_.op(Op::BroadcastTo, {small}, {{"shape", out_type().shape}});
  }

  // The single-element value a reshape/broadcast_to chain spreads, if any: such a
  // chain is one broadcast of that scalar.
  static Value* spread_scalar(Value* v) {
    Value* source = v;
    while (source->def()->op() == Op::Reshape || source->def()->op() == Op::BroadcastTo)
      source = source->def()->operand(0);
    return source != v && source->type().numel() == 1 ? source : nullptr;
  }
  Value* broadcast_scalar(Value* scalar) {
    if (!scalar->shape().empty()) scalar = b_.op(Op::Reshape, {scalar}, {{"shape", Shape{}}});
    return b_.op(Op::BroadcastTo, {scalar}, {{"shape", out_type().shape}});
  }

  Value* cast() { return in(0)->dtype() == out_type().dtype ? in(0) : nullptr; }

  Value* reshape() {
    if (in(0)->shape() == out_type().shape) return in(0);
    const Node* inner = in(0)->def();
    if (inner->op() == Op::Reshape)
      return b_.op(Op::Reshape, {inner->operand(0)}, {{"shape", out_type().shape}});
    if (Value* scalar = spread_scalar(in(0)); scalar && inner->op() == Op::BroadcastTo)
      return broadcast_scalar(scalar);
    return nullptr;
  }

  Value* as_reshape(Value* x) { return b_.op(Op::Reshape, {x}, {{"shape", out_type().shape}}); }

  Value* transpose() {
    const std::vector<int64_t>& perm = attrs().get_ints(name(), "perm");
    std::vector<int64_t> identity(perm.size());
    std::iota(identity.begin(), identity.end(), 0);
    if (perm == identity) return in(0);
    const Node* inner = in(0)->def();
    if (inner->op() == Op::Transpose) {
      const std::vector<int64_t>& first = inner->attrs().get_ints(name(), "perm");
      std::vector<int64_t> composed(perm.size());
      for (size_t i = 0; i < perm.size(); ++i)
        composed[i] = first[perm[i]];
      if (composed == identity) return inner->operand(0);
      return b_.op(Op::Transpose, {inner->operand(0)}, {{"perm", composed}});
    }
    // Moving only size-1 dimensions keeps the row-major element order: a reshape.
    const Shape& shape = in(0)->shape();
    int64_t last_moved = -1;
    for (int64_t axis : perm) {
      if (shape[axis] == 1) continue;
      if (axis < last_moved) return nullptr;
      last_moved = axis;
    }
    return as_reshape(in(0));
  }

  Value* broadcast_to() {
    if (in(0)->shape() == out_type().shape) return in(0);
    const Node* inner = in(0)->def();
    if (inner->op() == Op::BroadcastTo)
      return b_.op(Op::BroadcastTo, {inner->operand(0)}, {{"shape", out_type().shape}});
    if (Value* scalar = spread_scalar(in(0)); scalar && in(0)->rank() > 0)
      return broadcast_scalar(scalar);
    // Only leading or size-1 dimensions added: the same elements in the same order.
    if (in(0)->type().numel() == out_type().numel()) return as_reshape(in(0));
    return nullptr;
  }

  Value* slice() {
    const Shape& shape = in(0)->shape();
    const auto& start = attrs().get_ints(name(), "start");
    const auto& stop = attrs().get_ints(name(), "stop");
    const auto& step = attrs().get_ints(name(), "step");
    for (size_t d = 0; d < shape.size(); ++d)
      if (start[d] != 0 || stop[d] != shape[d] || step[d] != 1) return nullptr;
    return in(0);
  }

  Value* pad() {
    for (const char* a : {"pads_lo", "pads_hi"})
      for (int64_t p : attrs().get_ints(name(), a))
        if (p != 0) return nullptr;
    return in(0);
  }

  // A reduction over no axes, or over axes of extent 1, only drops dimensions.
  Value* trivial_reduction() {
    const Shape& shape = in(0)->shape();
    for (int64_t axis : attrs().get_ints(name(), "axes"))
      if (shape[axis] != 1) return nullptr;
    if (in(0)->shape() == out_type().shape) return in(0);
    return as_reshape(in(0));
  }

  Node& node_;
  ir::Builder b_;
};

Value* simplify_node(ir::Function& fn, Node& node) {
  if (node.num_results() != 1 || node.body()) return nullptr;
  return Simplifier(fn, node).run();
}

} // namespace

bool simplify(ir::Function& fn) {
  // The rules only shrink the graph or replace a node by a cheaper one, so a few rounds
  // reach the fixed point (a reshape chain collapses over several).
  return rewrite_to_fixed_point(fn, 16, [&](Node& n) { return simplify_node(fn, n); });
}

} // namespace loom::passes
