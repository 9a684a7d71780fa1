// Accuracy of the CPU backend's polynomial exp, log, tanh, sigmoid and erf (f32)
// against libm in double precision, over dense samples. The bounds asserted here are
// the documented accuracy (docs/cpu.md).
#include <catch2/catch.hpp>

#include <cmath>

#include "codegen/compile.h"
#include "ir/builder.h"

using namespace loom;

namespace {

struct Accuracy {
  double max_abs = 0, max_rel = 0;
};

// Runs op over n evenly spaced f32 samples of [lo, hi] on the CPU backend.
Accuracy measure(Op op, double lo, double hi, double (*reference)(double), int64_t n = 1 << 20) {
  ir::Module m;
  ir::Function* fn = m.add_function("main");
  ir::Value* x = fn->add_param("x", {DType::F32, {n}});
  ir::Builder b(*fn);
  fn->add_output("y", b.op(op, {x}));
  auto exe = compile(*fn, {.target = "cpu"});
  Tensor in(DType::F32, {n});
  float* p = in.data<float>();
  for (int64_t i = 0; i < n; ++i)
    p[i] = static_cast<float>(lo + (hi - lo) * static_cast<double>(i) / (n - 1));
  Tensor out = exe->run(std::vector<Tensor>{in})[0];
  const float* y = out.data<float>();
  Accuracy acc;
  for (int64_t i = 0; i < n; ++i) {
    double want = reference(p[i]);
    double err = std::fabs(y[i] - want);
    acc.max_abs = std::max(acc.max_abs, err);
    if (std::fabs(want) > 1e-30) acc.max_rel = std::max(acc.max_rel, err / std::fabs(want));
  }
  return acc;
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double exp_ref(double x) { return std::exp(x); }
double log_ref(double x) { return std::log(x); }
double tanh_ref(double x) { return std::tanh(x); }
double erf_ref(double x) { return std::erf(x); }

} // namespace

TEST_CASE("polynomial transcendentals are accurate against libm", "[cpu][math]") {
  Accuracy e = measure(Op::Exp, -87.0, 88.0, exp_ref);
  Accuracy l1 = measure(Op::Log, 1e-37, 10.0, log_ref);
  Accuracy l2 = measure(Op::Log, 10.0, 3e38, log_ref);
  Accuracy t = measure(Op::Tanh, -10.0, 10.0, tanh_ref);
  Accuracy s = measure(Op::Sigmoid, -30.0, 30.0, sigmoid_ref);
  Accuracy r = measure(Op::Erf, -5.0, 5.0, erf_ref);
  WARN("exp max_rel=" << e.max_rel << " log max_rel=" << std::max(l1.max_rel, l2.max_rel)
                      << " tanh max_abs=" << t.max_abs << " sigmoid max_abs=" << s.max_abs
                      << " erf max_abs=" << r.max_abs);
  CHECK(e.max_rel < 2e-7);
  CHECK(l1.max_rel < 2e-7);
  CHECK(l2.max_rel < 2e-7);
  CHECK(t.max_abs < 5e-7);
  CHECK(s.max_abs < 3e-7);
  CHECK(r.max_abs < 5e-7);
}

TEST_CASE("special values of the polynomial functions", "[cpu][math]") {
  ir::Module m;
  ir::Function* fn = m.add_function("main");
  ir::Value* x = fn->add_param("x", {DType::F32, {6}});
  ir::Builder b(*fn);
  for (Op op : {Op::Exp, Op::Log, Op::Tanh, Op::Sigmoid, Op::Erf})
    fn->add_output(std::string(op_name(op)), b.op(op, {x}));
  auto exe = compile(*fn, {.target = "cpu"});
  float inf = INFINITY;
  Tensor in = Tensor::from_vector<float>({6}, {-inf, -0.0f, 0.0f, inf, NAN, -1.0f});
  auto out = exe->run(std::vector<Tensor>{in});
  auto at = [&](int o, int i) { return out[o].data<float>()[i]; };
  CHECK(at(0, 0) == 0.0f);
  CHECK(at(0, 2) == 1.0f);
  CHECK(at(0, 3) == inf);
  CHECK(std::isnan(at(0, 4)));
  CHECK(at(1, 2) == -inf);
  CHECK(at(1, 3) == inf);
  CHECK(std::isnan(at(1, 5)));
  CHECK(at(2, 0) == -1.0f);
  CHECK(at(2, 3) == 1.0f);
  CHECK(std::isnan(at(2, 4)));
  CHECK(at(3, 0) == 0.0f);
  CHECK(at(3, 3) == 1.0f);
  CHECK(at(4, 0) == -1.0f);
  CHECK(at(4, 3) == 1.0f);
}
