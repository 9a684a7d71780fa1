// Gradient check cases of the data-movement ops (run by test_gradcheck.cpp), and
// exact adjoint checks of slice with steps.
#include "tests/autodiff/gradcheck.h"

namespace loom::autodiff_test {
namespace {

std::vector<Input> one_input(Shape shape) { return {{f64(std::move(shape)), uniform(-2, 2)}}; }

void add_shape_ops(std::vector<GradCase>& cases) {
  cases.push_back(
      op_case(Op::Reshape, "[2,3,4] -> [6,4]", one_input({2, 3, 4}), {{"shape", Shape{6, 4}}}));
  cases.push_back(op_case(Op::Reshape, "[] -> [1,1]", one_input({}), {{"shape", Shape{1, 1}}}));
  cases.push_back(op_case(Op::Transpose, "[2,3,4] perm [2,0,1]", one_input({2, 3, 4}),
                          {{"perm", std::vector<int64_t>{2, 0, 1}}}));
  cases.push_back(
      op_case(Op::BroadcastTo, "[3,1] -> [2,3,4]", one_input({3, 1}), {{"shape", Shape{2, 3, 4}}}));
  cases.push_back(op_case(Op::BroadcastTo, "[] -> [2,2]", one_input({}), {{"shape", Shape{2, 2}}}));
  cases.push_back(
      op_case(Op::BroadcastTo, "[4] -> [3,4]", one_input({4}), {{"shape", Shape{3, 4}}}));
}

Attrs slice_attrs(std::vector<int64_t> start, std::vector<int64_t> stop,
                  std::vector<int64_t> step) {
  return {{"start", start}, {"stop", stop}, {"step", step}};
}

void add_slices(std::vector<GradCase>& cases) {
  cases.push_back(
      op_case(Op::Slice, "[5,6] 1:4, ::2", one_input({5, 6}), slice_attrs({1, 0}, {4, 6}, {1, 2})));
  cases.push_back(op_case(Op::Slice, "[8] 1:8:3", one_input({8}), slice_attrs({1}, {8}, {3})));
  cases.push_back(op_case(Op::Slice, "[5,6] 4::-2, 5:0:-1", one_input({5, 6}),
                          slice_attrs({4, 5}, {-1, 0}, {-2, -1})));
  cases.push_back(op_case(Op::Slice, "[7,2] 5:0:-3, all", one_input({7, 2}),
                          slice_attrs({5, 0}, {0, 2}, {-3, 1})));
  cases.push_back(op_case(Op::Slice, "[4,3] empty 2:2", one_input({4, 3}),
                          slice_attrs({2, 0}, {2, 3}, {1, 1})));
}

void add_concat_and_pad(std::vector<GradCase>& cases) {
  std::vector<Input> along_columns = {
      {f64({2, 3}), uniform(-2, 2)}, {f64({2, 1}), uniform(-2, 2)}, {f64({2, 2}), uniform(-2, 2)}};
  cases.push_back(op_case(Op::Concat, types_label(along_columns) + " axis 1", along_columns,
                          {{"axis", int64_t{1}}}));
  std::vector<Input> along_rows = {{f64({1, 3}), uniform(-2, 2)}, {f64({2, 3}), uniform(-2, 2)}};
  cases.push_back(
      op_case(Op::Concat, types_label(along_rows) + " axis 0", along_rows, {{"axis", int64_t{0}}}));
  cases.push_back(op_case(Op::Pad, "[2,3] lo [1,0] hi [0,2] value 1.5", one_input({2, 3}),
                          {{"pads_lo", std::vector<int64_t>{1, 0}},
                           {"pads_hi", std::vector<int64_t>{0, 2}},
                           {"value", 1.5}}));
}

// Indices include negative ones and duplicates (which must accumulate).
void add_gather_scatter(std::vector<GradCase>& cases) {
  std::vector<Input> rows = {{f64({5, 3}), uniform(-2, 2)},
                             {TensorType{DType::I64, {6}}, integers(-5, 4)}};
  cases.push_back(op_case(Op::Gather, "x [5,3] i64 [6] axis 0", rows, {{"axis", int64_t{0}}}));
  std::vector<Input> middle = {{f64({2, 4, 3}), uniform(-2, 2)},
                               {TensorType{DType::I32, {2, 2}}, integers(0, 3)}};
  cases.push_back(
      op_case(Op::Gather, "x [2,4,3] i32 [2,2] axis 1", middle, {{"axis", int64_t{1}}}));

  std::vector<Input> scatter_rows = {{f64({5, 3}), uniform(-2, 2)},
                                     {TensorType{DType::I64, {6}}, integers(-5, 4)},
                                     {f64({6, 3}), uniform(-2, 2)}};
  cases.push_back(
      op_case(Op::ScatterAdd, "x [5,3] i64 [6] axis 0", scatter_rows, {{"axis", int64_t{0}}}));
  std::vector<Input> scatter_columns = {{f64({2, 4}), uniform(-2, 2)},
                                        {TensorType{DType::I32, {3}}, integers(0, 3)},
                                        {f64({2, 3}), uniform(-2, 2)}};
  cases.push_back(
      op_case(Op::ScatterAdd, "x [2,4] i32 [3] axis 1", scatter_columns, {{"axis", int64_t{1}}}));
}

std::vector<GradCase> layout_cases() {
  std::vector<GradCase> cases;
  add_shape_ops(cases);
  add_slices(cases);
  add_concat_and_pad(cases);
  add_gather_scatter(cases);
  return cases;
}

const CaseRegistration registration(layout_cases);

// The gradient of sum(slice(x) * w) puts w at exactly the positions the slice read.
TEST_CASE("slice gradients land on the sliced positions for positive and negative steps",
          "[autodiff][layout]") {
  Tensor x = Tensor::from_vector<double>({7}, {0, 0, 0, 0, 0, 0, 0});
  struct Case {
    int64_t start, stop, step;
    std::vector<double> expected; // weights 1, 2, 3 in slice order
  };
  for (const Case& c : std::vector<Case>{{1, 7, 3, {0, 1, 0, 0, 2, 0, 0}},
                                         {6, 0, -2, {0, 0, 3, 0, 2, 0, 1}},
                                         {5, -1, -3, {0, 0, 2, 0, 0, 1, 0}},
                                         {0, 3, 1, {1, 2, 3, 0, 0, 0, 0}}}) {
    INFO("slice " << c.start << ":" << c.stop << ":" << c.step);
    auto grads = gradients_of_sum(
        {x.type()},
        [&](ir::Builder& b, auto& p) {
          ir::Value* sliced = b.op(Op::Slice, {p[0]}, slice_attrs({c.start}, {c.stop}, {c.step}));
          int64_t n = sliced->shape()[0];
          std::vector<double> weights(n);
          for (int64_t i = 0; i < n; ++i)
            weights[i] = static_cast<double>(i + 1);
          ir::Value* w = b.constant(Tensor::from_vector<double>({n}, weights).to_literal());
          return b.op(Op::Mul, {sliced, w});
        },
        {x});
    CHECK(values(grads[0]) == c.expected);
  }
}

} // namespace
} // namespace loom::autodiff_test
