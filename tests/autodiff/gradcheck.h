// Finite-difference gradient checks for the autodiff tests, and the registry of
// per-op check cases that tests/autodiff/test_gradcheck.cpp walks over ops.def.
//
// A check takes a function, differentiates it with autodiff::vjp with respect to all
// floating-point parameters, evaluates the gradient on the reference interpreter, and
// compares it with central differences of sum_k <output_k, C_k> for random fixed
// cotangents C_k. Inputs are f64 wherever possible so the comparison can be tight.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "autodiff/autodiff.h"
#include "ir/builder.h"
#include "ir/verifier.h"
#include "runtime/interp/interpreter.h"
#include "runtime/tensor.h"

namespace loom::autodiff_test {

// --- random inputs -----------------------------------------------------------------------

// Fills a tensor of the given type with random values.
using Sampler = std::function<Tensor(std::mt19937&, const TensorType&)>;

inline Tensor fill(std::mt19937& rng, const TensorType& type,
                   const std::function<double(std::mt19937&)>& draw) {
  Tensor t(type.dtype, type.shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    store_from_double(type.dtype, t.raw_data(), i, draw(rng));
  return t;
}

inline Sampler uniform(double lo, double hi) {
  return [=](std::mt19937& rng, const TensorType& type) {
    std::uniform_real_distribution<double> dist(lo, hi);
    return fill(rng, type, [&](std::mt19937& r) { return dist(r); });
  };
}

// |x| in [lo, hi] with a random sign: keeps samples away from kinks at zero.
inline Sampler away_from_zero(double lo, double hi) {
  return [=](std::mt19937& rng, const TensorType& type) {
    std::uniform_real_distribution<double> magnitude(lo, hi);
    std::bernoulli_distribution negative(0.5);
    return fill(rng, type,
                [&](std::mt19937& r) { return negative(r) ? -magnitude(r) : magnitude(r); });
  };
}

// Values near offset + 0.25 k (k in [-6, 6], jitter below 0.03): two samplers whose
// offsets differ by 0.125 never produce values closer than 0.06, so maximum/minimum
// are smooth at every sampled pair.
inline Sampler on_grid(double offset) {
  return [=](std::mt19937& rng, const TensorType& type) {
    std::uniform_int_distribution<int> k(-6, 6);
    std::uniform_real_distribution<double> jitter(-0.03, 0.03);
    return fill(rng, type, [&](std::mt19937& r) { return offset + 0.25 * k(r) + jitter(r); });
  };
}

// Pairwise distinct values (at least 0.06 apart) in random order: no ties for
// reduce_max/min or max pooling, even after a finite-difference step.
inline Sampler distinct() {
  return [](std::mt19937& rng, const TensorType& type) {
    std::vector<int64_t> order(type.numel());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = static_cast<int64_t>(i);
    std::shuffle(order.begin(), order.end(), rng);
    std::uniform_real_distribution<double> jitter(-0.02, 0.02);
    Tensor t(type.dtype, type.shape);
    double center = 0.05 * static_cast<double>(order.size());
    for (int64_t i = 0; i < t.numel(); ++i)
      store_from_double(type.dtype, t.raw_data(), i,
                        0.1 * static_cast<double>(order[i]) - center + jitter(rng));
    return t;
  };
}

// Multiples of 2^-10 in [lo, hi]: exact in f32, and still exact after a step of 2^-8.
inline Sampler f32_exact(double lo, double hi) {
  return [=](std::mt19937& rng, const TensorType& type) {
    std::uniform_int_distribution<int64_t> k(static_cast<int64_t>(lo * 1024),
                                             static_cast<int64_t>(hi * 1024));
    return fill(rng, type, [&](std::mt19937& r) { return static_cast<double>(k(r)) / 1024.0; });
  };
}

// Integers in [lo, hi] (indices; negative ones count from the end).
inline Sampler integers(int64_t lo, int64_t hi) {
  return [=](std::mt19937& rng, const TensorType& type) {
    std::uniform_int_distribution<int64_t> dist(lo, hi);
    return fill(rng, type, [&](std::mt19937& r) { return static_cast<double>(dist(r)); });
  };
}

inline Sampler bools() {
  return [](std::mt19937& rng, const TensorType& type) {
    std::bernoulli_distribution coin(0.5);
    return fill(rng, type, [&](std::mt19937& r) { return coin(r) ? 1.0 : 0.0; });
  };
}

// --- the check ------------------------------------------------------------------------------

struct CheckOptions {
  double step = 1e-5;      // central-difference step (use a power of two for f32 inputs)
  double tolerance = 1e-6; // on max |symbolic - numeric| / max |numeric|
};

// What a check computed, for chaining a second-order check onto the vjp function.
struct VjpRun {
  const ir::Function* vjp_fn;
  std::vector<Tensor> vjp_inputs; // the function's inputs followed by the cotangents
};

inline std::vector<std::string> float_param_names(const ir::Function& fn) {
  std::vector<std::string> names;
  for (const ir::Value* p : fn.params())
    if (is_float(p->dtype())) names.push_back(p->name());
  return names;
}

// sum_k <outputs_k, cotangents_k> over the floating-point outputs, in f64.
inline double pairing(const std::vector<Tensor>& outputs, const std::vector<Tensor>& cotangents) {
  double sum = 0.0;
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (!is_float(outputs[k].dtype())) continue;
    for (int64_t i = 0; i < outputs[k].numel(); ++i)
      sum += outputs[k].at(i) * cotangents[k].at(i);
  }
  return sum;
}

// Central difference of `objective` with respect to element i of input j.
inline double central_difference(const std::function<double(const std::vector<Tensor>&)>& objective,
                                 const std::vector<Tensor>& inputs, size_t j, int64_t i,
                                 double step) {
  std::vector<Tensor> args = inputs;
  Tensor& x = args[j] = inputs[j].clone();
  double x0 = inputs[j].at(i);
  store_from_double(x.dtype(), x.raw_data(), i, x0 + step);
  double up = x.at(i); // the step as rounded to the input's dtype
  double f_up = objective(args);
  store_from_double(x.dtype(), x.raw_data(), i, x0 - step);
  double down = x.at(i);
  double f_down = objective(args);
  return (f_up - f_down) / (up - down);
}

// Differentiates `fn` (which must be in a module: the vjp function is added to it)
// with respect to all its floating-point parameters, and draws a random cotangent for
// each output.
inline VjpRun make_vjp_run(const ir::Function& fn, const std::vector<Tensor>& inputs,
                           std::mt19937& rng) {
  const ir::Function* vjp_fn = autodiff::vjp(fn, float_param_names(fn));
  REQUIRE_NOTHROW(ir::verify(*vjp_fn));
  std::vector<Tensor> vjp_inputs = inputs;
  for (const ir::Output& out : fn.outputs())
    vjp_inputs.push_back(is_float(out.value->dtype())
                             ? uniform(-1.0, 1.0)(rng, out.value->type())
                             : Tensor(out.value->dtype(), out.value->shape()));
  return {vjp_fn, vjp_inputs};
}

// max |symbolic - numeric| / max |numeric|, and where the largest difference is.
struct Discrepancy {
  double relative = 0.0;
  int64_t index = 0;
  double scale = 0.0;
};

inline Discrepancy compare_gradient(const Tensor& symbolic, const std::vector<double>& numeric) {
  Discrepancy d;
  double worst = 0.0;
  for (size_t i = 0; i < numeric.size(); ++i) {
    d.scale = std::max(d.scale, std::abs(numeric[i]));
    double error = std::abs(symbolic.at(static_cast<int64_t>(i)) - numeric[i]);
    if (error > worst) {
      worst = error;
      d.index = static_cast<int64_t>(i);
    }
  }
  d.relative = worst / std::max(d.scale, 1e-12);
  return d;
}

// Checks the gradient of every output of `fn` (paired with random cotangents) with
// respect to each floating-point parameter against central differences.
inline void check_gradients(const ir::Function& fn, const std::vector<Tensor>& inputs,
                            std::mt19937& rng, const CheckOptions& options = {}) {
  VjpRun run = make_vjp_run(fn, inputs, rng);
  std::vector<Tensor> vjp_outputs = interp::evaluate(*run.vjp_fn, run.vjp_inputs);
  std::vector<Tensor> cotangents(
      run.vjp_inputs.begin() + static_cast<std::ptrdiff_t>(inputs.size()), run.vjp_inputs.end());
  auto objective = [&](const std::vector<Tensor>& args) {
    return pairing(interp::evaluate(fn, args), cotangents);
  };

  size_t grad_output = fn.outputs().size();
  for (size_t j = 0; j < fn.params().size(); ++j) {
    if (!is_float(fn.params()[j]->dtype())) continue;
    const Tensor& symbolic = vjp_outputs[grad_output++];
    REQUIRE(symbolic.type() == inputs[j].type());
    std::vector<double> numeric(inputs[j].numel());
    for (int64_t i = 0; i < inputs[j].numel(); ++i)
      numeric[i] = central_difference(objective, inputs, j, i, options.step);
    Discrepancy d = compare_gradient(symbolic, numeric);
    INFO("function @" << fn.name() << ", gradient of parameter '" << fn.params()[j]->name() << "' "
                      << inputs[j].type().str() << ": element " << d.index << " symbolic "
                      << (numeric.empty() ? 0.0 : symbolic.at(d.index)) << " vs finite difference "
                      << (numeric.empty() ? 0.0 : numeric[d.index]) << ", max |numeric| "
                      << d.scale);
    CHECK(d.relative < options.tolerance);
  }
}

// --- per-op check cases -------------------------------------------------------------------

struct Input {
  TensorType type;
  Sampler sample;
};

// Builds the op under test (and anything around it) from the parameters.
using BuildFn = std::function<ir::Value*(ir::Builder&, const std::vector<ir::Value*>&)>;

struct GradCase {
  Op op;             // the op whose VJP the case checks
  std::string label; // shapes and attributes, for failure messages
  std::vector<Input> inputs;
  BuildFn build;
  CheckOptions options = {};
};

inline std::vector<GradCase>& registered_cases() {
  static std::vector<GradCase> cases;
  return cases;
}

// Each op family's test file registers its cases at static-initialization time.
struct CaseRegistration {
  explicit CaseRegistration(std::vector<GradCase> (*make)()) {
    for (GradCase& c : make())
      registered_cases().push_back(std::move(c));
  }
};

// A case applying `op` with `attrs` directly to parameters of the given inputs.
inline GradCase op_case(Op op, std::string label, std::vector<Input> inputs, Attrs attrs = {},
                        CheckOptions options = {}) {
  BuildFn build = [op, attrs](ir::Builder& b, const std::vector<ir::Value*>& params) {
    return b.op(op, params, attrs);
  };
  return GradCase{op, std::move(label), std::move(inputs), std::move(build), options};
}

inline TensorType f64(Shape shape) { return TensorType{DType::F64, std::move(shape)}; }

// A module with one function "f_<op>" holding the case: parameters x0, x1, ... and the
// output "out".
inline std::unique_ptr<ir::Module> build_case(const GradCase& c) {
  auto module = std::make_unique<ir::Module>();
  ir::Function* fn = module->add_function("f_" + std::string(op_name(c.op)));
  std::vector<ir::Value*> params;
  for (size_t i = 0; i < c.inputs.size(); ++i)
    params.push_back(fn->add_param("x" + std::to_string(i), c.inputs[i].type));
  ir::Builder b(*fn);
  fn->add_output("out", c.build(b, params));
  return module;
}

// "f64[2,3], f64[3]": the input types of a case, for its label.
inline std::string types_label(const std::vector<Input>& inputs) {
  std::string label;
  for (size_t i = 0; i < inputs.size(); ++i)
    label += (i ? ", " : "") + inputs[i].type.str();
  return label;
}

inline std::vector<Tensor> sample_inputs(const GradCase& c, std::mt19937& rng) {
  std::vector<Tensor> inputs;
  for (const Input& in : c.inputs)
    inputs.push_back(in.sample(rng, in.type));
  return inputs;
}

// --- direct gradient evaluation -------------------------------------------------------------

// The gradients of reduce_sum(build(params)) (over all axes) with respect to every
// floating-point parameter, evaluated at `inputs` through autodiff::grad.
inline std::vector<Tensor> gradients_of_sum(const std::vector<TensorType>& types,
                                            const BuildFn& build,
                                            const std::vector<Tensor>& inputs) {
  ir::Module module;
  ir::Function* fn = module.add_function("f");
  std::vector<ir::Value*> params;
  for (size_t i = 0; i < types.size(); ++i)
    params.push_back(fn->add_param("x" + std::to_string(i), types[i]));
  ir::Builder b(*fn);
  ir::Value* y = build(b, params);
  std::vector<int64_t> all_axes;
  for (int64_t d = 0; d < y->type().rank(); ++d)
    all_axes.push_back(d);
  fn->add_output("loss", b.op(Op::ReduceSum, {y}, {{"axes", all_axes}, {"keepdims", false}}));
  const ir::Function* grad_fn = autodiff::grad(*fn, "loss", float_param_names(*fn));
  REQUIRE_NOTHROW(ir::verify(*grad_fn));
  std::vector<Tensor> outputs = interp::evaluate(*grad_fn, inputs);
  return std::vector<Tensor>(outputs.begin() + 1, outputs.end());
}

inline std::vector<double> values(const Tensor& t) {
  std::vector<double> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i)
    v[i] = t.at(i);
  return v;
}

} // namespace loom::autodiff_test
