// Gradient check cases of the reductions and matmul (run by test_gradcheck.cpp), and
// the documented conventions for ties and zeros.
#include "tests/autodiff/gradcheck.h"

namespace loom::autodiff_test {
namespace {

Attrs reduce_attrs(std::vector<int64_t> axes, bool keepdims) {
  return {{"axes", axes}, {"keepdims", keepdims}};
}

// One axis, several axes with keepdims, all axes, and no axis at all.
void add_reduction(std::vector<GradCase>& cases, Op op, const Sampler& sample) {
  const std::vector<std::pair<std::vector<int64_t>, bool>> reductions = {
      {{1}, false}, {{0, 2}, true}, {{0, 1, 2}, false}, {{}, false}};
  for (const auto& [axes, keepdims] : reductions) {
    std::vector<Input> inputs = {{f64({2, 3, 4}), sample}};
    std::string label =
        types_label(inputs) + " axes " + shape_str(axes) + (keepdims ? " keepdims" : "");
    cases.push_back(op_case(op, label, inputs, reduce_attrs(axes, keepdims)));
  }
}

// Plain, batched with a broadcast 2-D operand, broadcast batch dims on both sides.
void add_matmul(std::vector<GradCase>& cases) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {4, 5}}, {{2, 3, 4}, {4, 5}}, {{3, 4}, {2, 4, 2}}, {{2, 1, 3, 4}, {3, 4, 2}}};
  for (const auto& [a, b] : shapes) {
    std::vector<Input> inputs = {{f64(a), uniform(-1, 1)}, {f64(b), uniform(-1, 1)}};
    cases.push_back(op_case(Op::MatMul, types_label(inputs), inputs));
  }
}

std::vector<GradCase> reduction_cases() {
  std::vector<GradCase> cases;
  add_reduction(cases, Op::ReduceSum, uniform(-2, 2));
  add_reduction(cases, Op::ReduceMax, distinct());
  add_reduction(cases, Op::ReduceMin, distinct());
  add_reduction(cases, Op::ReduceProd, away_from_zero(0.5, 1.5));
  add_matmul(cases);
  return cases;
}

const CaseRegistration registration(reduction_cases);

ir::Value* reduce_all_but_last(ir::Builder& b, Op op, ir::Value* x) {
  return b.op(op, {x}, reduce_attrs({0}, false));
}

TEST_CASE("reduce_max and reduce_min split the gradient evenly among ties",
          "[autodiff][reduction]") {
  // Columns: a tie of two at the max, a tie of three, no tie.
  Tensor x = Tensor::from_vector<double>({3, 3}, {4, 1, 7, 4, 1, 2, 0, 1, 3});
  auto grads = gradients_of_sum(
      {x.type()},
      [](ir::Builder& b, auto& p) { return reduce_all_but_last(b, Op::ReduceMax, p[0]); }, {x});
  CHECK(values(grads[0]) == std::vector<double>{0.5, 1.0 / 3, 1, 0.5, 1.0 / 3, 0, 0, 1.0 / 3, 0});
  grads = gradients_of_sum(
      {x.type()},
      [](ir::Builder& b, auto& p) { return reduce_all_but_last(b, Op::ReduceMin, p[0]); }, {x});
  CHECK(values(grads[0]) == std::vector<double>{0, 1.0 / 3, 0, 0, 1.0 / 3, 1, 1, 1.0 / 3, 0});
}

TEST_CASE("reduce_prod's gradient is exact with zeros in the group", "[autodiff][reduction]") {
  // Columns: no zero, one zero, two zeros.
  Tensor x = Tensor::from_vector<double>({3, 3}, {2, 0, 0, 3, 5, 0, 4, 6, 7});
  auto grads = gradients_of_sum(
      {x.type()},
      [](ir::Builder& b, auto& p) { return reduce_all_but_last(b, Op::ReduceProd, p[0]); }, {x});
  CHECK(values(grads[0]) == std::vector<double>{12, 30, 0, 8, 0, 0, 6, 0, 0});
}

} // namespace
} // namespace loom::autodiff_test
