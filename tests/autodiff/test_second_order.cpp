// Second-order derivatives: grad of grad for a scalar function of each smooth unary op,
// and a Hessian-vector product of a small MLP loss, both against central differences
// of the (symbolic) gradient.
#include <map>

#include "tests/autodiff/gradcheck.h"

namespace loom::autodiff_test {
namespace {

using ir::Builder;
using ir::Value;

Value* sum_all(Builder& b, Value* x) {
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < x->type().rank(); ++d)
    axes.push_back(d);
  return b.op(Op::ReduceSum, {x}, {{"axes", axes}, {"keepdims", false}});
}

// Where each unary op is smooth (domain, away from kinks); others use [-2, 2].
Sampler smooth_region(Op op) {
  static const std::map<Op, Sampler> special = {{Op::Log, uniform(0.5, 3)},
                                                {Op::Sqrt, uniform(0.5, 3)},
                                                {Op::Rsqrt, uniform(0.5, 3)},
                                                {Op::Abs, away_from_zero(0.2, 2)},
                                                {Op::Relu, away_from_zero(0.2, 2)}};
  auto it = special.find(op);
  return it != special.end() ? it->second : uniform(-2, 2);
}

// Central difference of a gradient along a direction: (g(x + h v) - g(x - h v)) / 2h,
// where `gradient` evaluates g at the given inputs.
std::vector<double>
directional_difference(const std::function<Tensor(const std::vector<Tensor>&)>& gradient,
                       const std::vector<Tensor>& inputs, const std::vector<Tensor>& direction,
                       double step) {
  auto shifted = [&](double sign) {
    std::vector<Tensor> args;
    for (size_t i = 0; i < inputs.size(); ++i) {
      Tensor t = inputs[i].clone();
      for (int64_t e = 0; e < t.numel(); ++e)
        store_from_double(t.dtype(), t.raw_data(), e,
                          inputs[i].at(e) + sign * step * direction[i].at(e));
      args.push_back(t);
    }
    return values(gradient(args));
  };
  std::vector<double> up = shifted(1.0), down = shifted(-1.0), result(up.size());
  for (size_t i = 0; i < up.size(); ++i)
    result[i] = (up[i] - down[i]) / (2 * step);
  return result;
}

std::vector<Op> differentiable_unary_ops() {
  std::vector<Op> ops;
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    // cast changes the dtype; its second order is covered by the table-walking check.
    bool unary = has_trait(op, kElementwise) && has_trait(op, kUnary) && op != Op::Cast;
    if (unary && autodiff::is_differentiable(op)) ops.push_back(op);
  }
  return ops;
}

// f(x) = sum(u(x)); f_grad = grad(f) adds grad_x = u'(x). Adding h(x) = sum(grad_x * v)
// to f_grad and taking grad again gives u''(x) * v, compared with the difference of
// grad_x along v.
TEST_CASE("grad of grad of a scalar function of each smooth unary op matches finite differences",
          "[autodiff][second_order]") {
  for (Op op : differentiable_unary_ops()) {
    INFO("op " << op_name(op));
    ir::Module module;
    ir::Function* f = module.add_function("f");
    TensorType type = f64({4});
    Value* x = f->add_param("x", type);
    Builder fb(*f);
    f->add_output("loss", sum_all(fb, fb.op(op, {x})));

    ir::Function* f_grad = autodiff::grad(*f, "loss", {"x"});
    Value* v = f_grad->add_param("v", type);
    Builder gb(*f_grad);
    f_grad->add_output("directional",
                       sum_all(gb, gb.op(Op::Mul, {f_grad->find_output("grad_x")->value, v})));
    ir::Function* f_grad_grad = autodiff::grad(*f_grad, "directional", {"x"});
    REQUIRE_NOTHROW(ir::verify(*f_grad_grad));
    REQUIRE(f_grad_grad->outputs().back().name == "grad_x_2");

    std::mt19937 rng(7);
    Tensor x0 = smooth_region(op)(rng, type), v0 = uniform(-1, 1)(rng, type);
    Tensor second = interp::evaluate(*f_grad_grad, {x0, v0}).back();
    auto first_derivative = [&](const std::vector<Tensor>& args) {
      return interp::evaluate(*f_grad, {args[0], v0})[1];
    };
    std::vector<double> numeric = directional_difference(first_derivative, {x0}, {v0}, 1e-5);
    Discrepancy d = compare_gradient(second, numeric);
    INFO("element " << d.index << ": symbolic " << second.at(d.index) << " vs "
                    << numeric[d.index]);
    CHECK(d.relative < 1e-6);
  }
}

// A two-layer perceptron with a squared-error loss, differentiated twice: the vjp of
// its gradient function along v is the Hessian-vector product H v.
TEST_CASE("Hessian-vector product of an MLP loss matches finite differences of the gradient",
          "[autodiff][second_order]") {
  ir::Module module;
  ir::Function* mlp = module.add_function("mlp");
  const std::vector<std::string> weights = {"w1", "b1", "w2", "b2"};
  const std::vector<TensorType> weight_types = {f64({4, 3}), f64({3}), f64({3, 2}), f64({2})};
  std::vector<Value*> w;
  for (size_t i = 0; i < weights.size(); ++i)
    w.push_back(mlp->add_param(weights[i], weight_types[i]));
  Value* x = mlp->add_param("x", f64({5, 4}));
  Value* target = mlp->add_param("target", f64({5, 2}));
  Builder b(*mlp);
  Value* hidden = b.op(Op::Tanh, {b.op(Op::Add, {b.op(Op::MatMul, {x, w[0]}), w[1]})});
  Value* prediction = b.op(Op::Add, {b.op(Op::MatMul, {hidden, w[2]}), w[3]});
  Value* error = b.op(Op::Sub, {prediction, target});
  Value* loss =
      b.op(Op::Mul, {sum_all(b, b.op(Op::Mul, {error, error})), b.scalar(DType::F64, 1.0 / 5)});
  mlp->add_output("loss", loss);

  ir::Function* mlp_grad = autodiff::grad(*mlp, "loss", weights);
  ir::Function* hvp = autodiff::vjp(*mlp_grad, weights);
  REQUIRE_NOTHROW(ir::verify(*hvp));
  // hvp: parameters w1 b1 w2 b2 x target, then the cotangents of loss and of each
  // gradient; outputs loss, grad_w1 .. grad_b2, then the Hessian-vector products.
  REQUIRE(hvp->params().size() == 6 + 5);
  REQUIRE(hvp->outputs().size() == 5 + 4);

  std::mt19937 rng(42);
  std::vector<Tensor> theta, direction;
  for (const TensorType& t : weight_types) {
    theta.push_back(uniform(-1, 1)(rng, t));
    direction.push_back(uniform(-1, 1)(rng, t));
  }
  Tensor x0 = uniform(-1, 1)(rng, x->type()), target0 = uniform(-1, 1)(rng, target->type());

  std::vector<Tensor> hvp_args = theta;
  hvp_args.insert(hvp_args.end(), {x0, target0, Tensor::zeros(DType::F64, {})});
  hvp_args.insert(hvp_args.end(), direction.begin(), direction.end());
  std::vector<Tensor> hvp_out = interp::evaluate(*hvp, hvp_args);

  for (size_t k = 0; k < weights.size(); ++k) {
    INFO("(H v) for " << weights[k]);
    auto gradient_k = [&](const std::vector<Tensor>& shifted) {
      std::vector<Tensor> args = shifted;
      args.insert(args.end(), {x0, target0});
      return interp::evaluate(*mlp_grad, args)[1 + k];
    };
    std::vector<double> numeric = directional_difference(gradient_k, theta, direction, 1e-5);
    Discrepancy d = compare_gradient(hvp_out[5 + k], numeric);
    INFO("element " << d.index << ": symbolic " << hvp_out[5 + k].at(d.index) << " vs "
                    << numeric[d.index]);
    CHECK(d.relative < 1e-6);
  }
}

} // namespace
} // namespace loom::autodiff_test
