// Assembles the VJP table: the rules of each op family, and the explicit lists of
// non-differentiable and unsupported ops (see the comment at the top of autodiff/autodiff.h).
#include "autodiff/vjp_table.h"

#include "autodiff/autodiff.h"
#include "ir/error.h"

namespace loom::autodiff {

VjpTable::Entry& VjpTable::fresh_entry(Op op) {
  Entry& e = entries_[static_cast<int>(op)];
  if (e.rule || !e.non_differentiable_reason.empty() || !e.unsupported_reason.empty())
    throw_error(ErrorCode::Internal,
                "VJP table: op " + std::string(op_name(op)) + " is declared twice");
  return e;
}

void VjpTable::define(Op op, VjpRule rule) { fresh_entry(op).rule = rule; }

void VjpTable::declare_non_differentiable(Op op, const std::string& reason) {
  fresh_entry(op).non_differentiable_reason = reason;
}

void VjpTable::declare_unsupported(Op op, const std::string& reason) {
  fresh_entry(op).unsupported_reason = reason;
}

namespace {

void declare_non_differentiable_ops(VjpTable& t) {
  for (Op op : {Op::Constant, Op::Parameter, Op::Iota})
    t.declare_non_differentiable(op, "a leaf without data operands");
  for (Op op : {Op::RandomUniform, Op::RandomNormal})
    t.declare_non_differentiable(op, "random numbers depend only on an integer seed");
  for (Op op : {Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge})
    t.declare_non_differentiable(op, "a comparison is piecewise constant");
  for (Op op : {Op::LogicalNot, Op::LogicalAnd, Op::LogicalOr})
    t.declare_non_differentiable(op, "logical ops act on bool values");
  for (Op op : {Op::Sign, Op::Floor, Op::Ceil})
    t.declare_non_differentiable(op,
                                 "piecewise constant: the derivative is zero almost everywhere");
  for (Op op : {Op::ArgMax, Op::ArgMin})
    t.declare_non_differentiable(op, "an index result is piecewise constant");
  t.declare_non_differentiable(Op::OneHot, "its operand is an integer index");
  // Fusion groups are made by a pass that runs after autodiff.
  t.declare_unsupported(Op::Fusion, "differentiate before the fusion pass, not after");
}

VjpTable make_table() {
  VjpTable t;
  declare_non_differentiable_ops(t);
  register_elementwise_vjps(t);
  register_reduction_vjps(t);
  register_layout_vjps(t);
  register_conv_vjps(t);
  return t;
}

} // namespace

const VjpTable& vjp_table() {
  static const VjpTable table = make_table();
  return table;
}

bool has_vjp(Op op) { return vjp_table()[op].rule != nullptr; }

bool is_differentiable(Op op) {
  const VjpTable::Entry& e = vjp_table()[op];
  return e.non_differentiable_reason.empty() && e.unsupported_reason.empty();
}

} // namespace loom::autodiff
