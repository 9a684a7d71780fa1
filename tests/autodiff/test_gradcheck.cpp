// The table-walking gradient checks: every op of ir/ops.def that is differentiable
// must have a VJP rule and at least one registered check case (the cases live in the
// per-family files test_vjp_*.cpp), and its symbolic gradient, and the gradient of
// that gradient, must match central finite differences in f64.
#include "tests/autodiff/gradcheck.h"

namespace loom::autodiff_test {
namespace {

std::vector<const GradCase*> cases_for(Op op) {
  std::vector<const GradCase*> found;
  for (const GradCase& c : registered_cases())
    if (c.op == op) found.push_back(&c);
  return found;
}

std::vector<Op> differentiable_ops() {
  std::vector<Op> ops;
  for (int i = 0; i < kNumOps; ++i)
    if (autodiff::is_differentiable(static_cast<Op>(i))) ops.push_back(static_cast<Op>(i));
  return ops;
}

// A fixed seed per case, so a failure reproduces alone.
std::mt19937 rng_for(const GradCase& c) {
  return std::mt19937(
      static_cast<uint32_t>(std::hash<std::string>{}(std::string(op_name(c.op)) + c.label)));
}

TEST_CASE("every differentiable op has a VJP rule and at least one gradient check case",
          "[autodiff][gradcheck]") {
  for (Op op : differentiable_ops()) {
    INFO("op " << op_name(op));
    CHECK(autodiff::has_vjp(op));
    CHECK_FALSE(cases_for(op).empty());
  }
}

TEST_CASE("ops declared non-differentiable have no VJP rule", "[autodiff][gradcheck]") {
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    INFO("op " << op_name(op));
    if (!autodiff::is_differentiable(op)) CHECK_FALSE(autodiff::has_vjp(op));
  }
  for (Op op : {Op::Eq, Op::Lt, Op::LogicalAnd, Op::ArgMax, Op::ArgMin, Op::Iota, Op::RandomUniform,
                Op::RandomNormal, Op::OneHot, Op::Sign, Op::Floor, Op::Ceil}) {
    INFO("op " << op_name(op));
    CHECK_FALSE(autodiff::is_differentiable(op));
  }
}

TEST_CASE("first-order gradients of every differentiable op match finite differences",
          "[autodiff][gradcheck]") {
  for (Op op : differentiable_ops()) {
    DYNAMIC_SECTION("op " << op_name(op)) {
      for (const GradCase* c : cases_for(op)) {
        INFO("case " << op_name(op) << " " << c->label);
        auto module = build_case(*c);
        const ir::Function& fn = *module->functions().front();
        std::mt19937 rng = rng_for(*c);
        check_gradients(fn, sample_inputs(*c, rng), rng, c->options);
      }
    }
  }
}

// Differentiates each case's vjp function again: the VJP rules are built from
// differentiable ops, so the gradient of the gradient must match finite differences too.
TEST_CASE("second-order gradients of every differentiable op match finite differences",
          "[autodiff][gradcheck]") {
  for (Op op : differentiable_ops()) {
    DYNAMIC_SECTION("op " << op_name(op)) {
      for (const GradCase* c : cases_for(op)) {
        INFO("case " << op_name(op) << " " << c->label << " (vjp of vjp)");
        auto module = build_case(*c);
        const ir::Function& fn = *module->functions().front();
        std::mt19937 rng = rng_for(*c);
        VjpRun first = make_vjp_run(fn, sample_inputs(*c, rng), rng);
        check_gradients(*first.vjp_fn, first.vjp_inputs, rng, c->options);
      }
    }
  }
}

} // namespace
} // namespace loom::autodiff_test
