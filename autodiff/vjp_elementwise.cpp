// VJP rules of the elementwise ops: unary, binary (numpy broadcasting), select, cast.
// Each rule builds the derivative from differentiable ops (using the node's result
// where that is cheaper), so rules compose into second-order derivatives.
#include <numbers>

#include "autodiff/emit.h"
#include "autodiff/vjp_table.h"

namespace loom::autodiff {

namespace {

using namespace emit;
using ir::Node;
using Cotangents = std::vector<Value*>;

Value* operand(const Node& node, int i) { return node.operand(i); }
Value* result(const Node& node) { return node.result(); }
Value* one_minus(Builder& b, Value* x) { return sub(b, scalar_like(b, x, 1.0), x); }

// --- unary -----------------------------------------------------------------------------

Cotangents neg_vjp(Builder& b, const Node&, Value* g) { return {neg(b, g)}; }

// d|x| = sign(x): 0 at x = 0.
Cotangents abs_vjp(Builder& b, const Node& n, Value* g) {
  return {mul(b, g, unary(b, Op::Sign, operand(n, 0)))};
}

Cotangents exp_vjp(Builder& b, const Node& n, Value* g) { return {mul(b, g, result(n))}; }

Cotangents log_vjp(Builder& b, const Node& n, Value* g) { return {div(b, g, operand(n, 0))}; }

// d sqrt(x) = 1 / (2 sqrt(x))
Cotangents sqrt_vjp(Builder& b, const Node& n, Value* g) {
  return {div(b, scale(b, g, 0.5), result(n))};
}

// d x^(-1/2) = -x^(-3/2) / 2 = -y^3 / 2
Cotangents rsqrt_vjp(Builder& b, const Node& n, Value* g) {
  Value* y = result(n);
  return {mul(b, g, scale(b, mul(b, y, mul(b, y, y)), -0.5))};
}

Cotangents tanh_vjp(Builder& b, const Node& n, Value* g) {
  Value* y = result(n);
  return {mul(b, g, one_minus(b, mul(b, y, y)))};
}

Cotangents sigmoid_vjp(Builder& b, const Node& n, Value* g) {
  Value* y = result(n);
  return {mul(b, g, mul(b, y, one_minus(b, y)))};
}

// Derivative 0 at x = 0 (and for NaN).
Cotangents relu_vjp(Builder& b, const Node& n, Value* g) {
  Value* x = operand(n, 0);
  return {select_or_zero(b, binary(b, Op::Gt, x, scalar_like(b, x, 0.0)), g)};
}

Cotangents sin_vjp(Builder& b, const Node& n, Value* g) {
  return {mul(b, g, unary(b, Op::Cos, operand(n, 0)))};
}

Cotangents cos_vjp(Builder& b, const Node& n, Value* g) {
  return {mul(b, g, neg(b, unary(b, Op::Sin, operand(n, 0))))};
}

// d erf(x) = 2/sqrt(pi) exp(-x^2)
Cotangents erf_vjp(Builder& b, const Node& n, Value* g) {
  Value* x = operand(n, 0);
  Value* gaussian = unary(b, Op::Exp, neg(b, mul(b, x, x)));
  return {mul(b, g, scale(b, gaussian, 2.0 * std::numbers::inv_sqrtpi))};
}

// Only float-to-float casts carry gradients: the cotangent is cast back.
Cotangents cast_vjp(Builder& b, const Node& n, Value* g) {
  DType from = operand(n, 0)->dtype(), to = result(n)->dtype();
  if (!is_float(from) || !is_float(to)) return {nullptr};
  return {cast(b, g, from)};
}

// --- binary ------------------------------------------------------------------------------

// Operand cotangents from their broadcast-shaped versions.
Cotangents unbroadcast(Builder& b, const Node& n, Value* da, Value* db) {
  return {sum_to_shape(b, da, operand(n, 0)->shape()), sum_to_shape(b, db, operand(n, 1)->shape())};
}

Cotangents add_vjp(Builder& b, const Node& n, Value* g) { return unbroadcast(b, n, g, g); }

Cotangents sub_vjp(Builder& b, const Node& n, Value* g) { return unbroadcast(b, n, g, neg(b, g)); }

Cotangents mul_vjp(Builder& b, const Node& n, Value* g) {
  return unbroadcast(b, n, mul(b, g, operand(n, 1)), mul(b, g, operand(n, 0)));
}

// y = a / b: da = g / b, db = -g a / b^2 = -(g / b) y
Cotangents div_vjp(Builder& b, const Node& n, Value* g) {
  Value* g_over_b = div(b, g, operand(n, 1));
  return unbroadcast(b, n, g_over_b, neg(b, mul(b, g_over_b, result(n))));
}

// y = a^b: da = g b a^(b-1); db = g y log(a) where a > 0, else 0. The logarithm takes
// a guarded operand (1 where a <= 0) so that neither the value nor its derivative
// produces NaN in the branch the outer select discards.
Cotangents pow_vjp(Builder& b, const Node& n, Value* g) {
  Value* base = operand(n, 0);
  Value* exponent = operand(n, 1);
  Value* da = mul(
      b, g,
      mul(b, exponent, binary(b, Op::Pow, base, sub(b, exponent, scalar_like(b, exponent, 1.0)))));
  Value* positive = binary(b, Op::Gt, base, scalar_like(b, base, 0.0));
  Value* safe_base = b.op(Op::Select, {positive, base, scalar_like(b, base, 1.0)});
  Value* dy_db = select_or_zero(b, positive, mul(b, result(n), unary(b, Op::Log, safe_base)));
  return unbroadcast(b, n, da, mul(b, g, dy_db));
}

// Ties go to the first operand (pick-first).
Cotangents maximum_vjp(Builder& b, const Node& n, Value* g) {
  Value* first_wins = binary(b, Op::Ge, operand(n, 0), operand(n, 1));
  return unbroadcast(b, n, select_or_zero(b, first_wins, g), zero_or_select(b, first_wins, g));
}

Cotangents minimum_vjp(Builder& b, const Node& n, Value* g) {
  Value* first_wins = binary(b, Op::Le, operand(n, 0), operand(n, 1));
  return unbroadcast(b, n, select_or_zero(b, first_wins, g), zero_or_select(b, first_wins, g));
}

// select(cond, a, b): no gradient for the bool condition.
Cotangents select_vjp(Builder& b, const Node& n, Value* g) {
  Value* cond = operand(n, 0);
  return {nullptr, sum_to_shape(b, select_or_zero(b, cond, g), operand(n, 1)->shape()),
          sum_to_shape(b, zero_or_select(b, cond, g), operand(n, 2)->shape())};
}

} // namespace

void register_elementwise_vjps(VjpTable& t) {
  t.define(Op::Neg, neg_vjp);
  t.define(Op::Abs, abs_vjp);
  t.define(Op::Exp, exp_vjp);
  t.define(Op::Log, log_vjp);
  t.define(Op::Sqrt, sqrt_vjp);
  t.define(Op::Rsqrt, rsqrt_vjp);
  t.define(Op::Tanh, tanh_vjp);
  t.define(Op::Sigmoid, sigmoid_vjp);
  t.define(Op::Relu, relu_vjp);
  t.define(Op::Sin, sin_vjp);
  t.define(Op::Cos, cos_vjp);
  t.define(Op::Erf, erf_vjp);
  t.define(Op::Cast, cast_vjp);
  t.define(Op::Add, add_vjp);
  t.define(Op::Sub, sub_vjp);
  t.define(Op::Mul, mul_vjp);
  t.define(Op::Div, div_vjp);
  t.define(Op::Pow, pow_vjp);
  t.define(Op::Maximum, maximum_vjp);
  t.define(Op::Minimum, minimum_vjp);
  t.define(Op::Select, select_vjp);
}

} // namespace loom::autodiff
