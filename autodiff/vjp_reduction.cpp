// VJP rules of the reductions and of matmul (a contraction: a sum of products).
#include <numeric>

#include "autodiff/emit.h"
#include "autodiff/vjp_table.h"

namespace loom::autodiff {

namespace {

using namespace emit;
using ir::Node;
using Cotangents = std::vector<Value*>;

const std::vector<int64_t>& reduced_axes(const Node& n) {
  return n.attrs().get_ints(n.name(), "axes");
}

// A reduction's result (or its cotangent) reshaped so that it broadcasts against the
// input: the reduced axes become 1.
Value* with_kept_dims(Builder& b, const Node& n, Value* reduced) {
  return reshape(b, reduced, keepdims_shape(n.operand(0)->shape(), reduced_axes(n)));
}

Cotangents reduce_sum_vjp(Builder& b, const Node& n, Value* g) {
  return {broadcast_to(b, with_kept_dims(b, n, g), n.operand(0)->shape())};
}

// Every element equal to the extreme shares the cotangent evenly, so ties get a
// symmetric subgradient. The mask and the tie count are piecewise constant.
Cotangents reduce_extreme_vjp(Builder& b, const Node& n, Value* g) {
  Value* x = n.operand(0);
  Value* is_extreme = binary(b, Op::Eq, x, with_kept_dims(b, n, n.result()));
  Value* tie_count = reduce_sum(b, cast(b, is_extreme, x->dtype()), reduced_axes(n), true);
  Value* share = div(b, with_kept_dims(b, n, g), tie_count);
  return {select_or_zero(b, is_extreme, share)};
}

// d prod(x) / dx_i = product of the other elements, computed without dividing by
// zero: with no zero in the group it is prod / x_i; with exactly one zero, only the
// zero element gets the product of the others; with more, every element gets 0.
Cotangents reduce_prod_vjp(Builder& b, const Node& n, Value* g) {
  Value* x = n.operand(0);
  const auto& axes = reduced_axes(n);
  Value* is_zero = binary(b, Op::Eq, x, scalar_like(b, x, 0.0));
  Value* nonzero_x = b.op(Op::Select, {is_zero, scalar_like(b, x, 1.0), x});
  Value* nonzero_product = b.op(Op::ReduceProd, {nonzero_x}, {{"axes", axes}, {"keepdims", true}});
  Value* zero_count = reduce_sum(b, cast(b, is_zero, x->dtype()), axes, true);
  Value* no_zero = binary(b, Op::Eq, zero_count, scalar_like(b, x, 0.0));
  Value* the_only_zero =
      binary(b, Op::LogicalAnd, is_zero, binary(b, Op::Eq, zero_count, scalar_like(b, x, 1.0)));
  Value* product_of_others = b.op(Op::Select, {no_zero, div(b, nonzero_product, nonzero_x),
                                               select_or_zero(b, the_only_zero, nonzero_product)});
  return {mul(b, with_kept_dims(b, n, g), product_of_others)};
}

// Swaps the last two dimensions (the matrix transpose of a batch of matrices).
Value* matrix_transpose(Builder& b, Value* x) {
  std::vector<int64_t> perm(x->shape().size());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[perm.size() - 2], perm[perm.size() - 1]);
  return transpose(b, x, perm);
}

// y = a @ b with broadcast batch dimensions: da = g @ b^T, db = a^T @ g, each summed
// over the batch dimensions its operand was broadcast along.
Cotangents matmul_vjp(Builder& b, const Node& n, Value* g) {
  Value* lhs = n.operand(0);
  Value* rhs = n.operand(1);
  Value* dlhs = b.op(Op::MatMul, {g, matrix_transpose(b, rhs)});
  Value* drhs = b.op(Op::MatMul, {matrix_transpose(b, lhs), g});
  return {sum_to_shape(b, dlhs, lhs->shape()), sum_to_shape(b, drhs, rhs->shape())};
}

} // namespace

void register_reduction_vjps(VjpTable& t) {
  t.define(Op::ReduceSum, reduce_sum_vjp);
  t.define(Op::ReduceMax, reduce_extreme_vjp);
  t.define(Op::ReduceMin, reduce_extreme_vjp);
  t.define(Op::ReduceProd, reduce_prod_vjp);
  t.define(Op::MatMul, matmul_vjp);
}

} // namespace loom::autodiff
