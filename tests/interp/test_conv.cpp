// Interpreter kernels for conv2d, conv2d_backprop_input and conv2d_backprop_filter:
// numpy references (tests/data/gen_conv_refs.py; the gradient references there are
// checked by the adjoint identity and by numerical differentiation) and the adjoint
// identity on random configurations.
#include <catch2/catch.hpp>

#include "tests/interp/conv_test_util.h"
#include "tests/support/op_builder.h"
#include "tests/support/op_test.h"

namespace loom::test {
namespace {

const std::vector<ReferenceCase> kConvCases = {
    {"conv_basic", {DType::F32, DType::F64}},
    {"conv_strided_padded", {DType::F32, DType::F64}},
    {"conv_dilated", {DType::F32, DType::F64}},
    {"conv_groups", {DType::F32, DType::F64}},
    {"conv_depthwise", {DType::F32, DType::F64}},
    {"conv_1x1_strided", {DType::F32, DType::F64}},
    {"conv_groups_f16", {DType::F16}},
    {"conv_groups_bf16", {DType::BF16}},
};

// attrs.npy: strides (2), pads (4), dilations (2), groups.
Attrs conv_attrs(const std::vector<int64_t>& a) {
  return Attrs{{"strides", std::vector<int64_t>{a[0], a[1]}},
               {"pads", std::vector<int64_t>{a[2], a[3], a[4], a[5]}},
               {"dilations", std::vector<int64_t>{a[6], a[7]}},
               {"groups", a[8]}};
}

void check_single_op(Op op, const Attrs& attrs, const std::vector<Tensor>& inputs,
                     const Tensor& expected, Tolerance tol) {
  INFO("op " << op_name(op));
  std::vector<TensorType> types;
  for (const Tensor& t : inputs)
    types.push_back(t.type());
  auto module = single_op_module(op, types, attrs);
  check_function(main_function(*module), inputs, {expected}, tol);
}

TEST_CASE("conv2d and its gradients match numpy references", "[interp][conv]") {
  for (const ReferenceCase& c : kConvCases) {
    for (DType dtype : c.dtypes) {
      INFO("case " << c.name << ", dtype " << dtype_name(dtype));
      auto load = [&](const std::string& array) {
        return converted(load_case_array(c.name, array), dtype);
      };
      Tensor x = load("x"), w = load("w"), dy = load("dy");
      Attrs attrs = conv_attrs(load_case_attrs(c.name));
      Tolerance tol = reference_tolerance(dtype);
      check_single_op(Op::Conv2D, attrs, {x, w}, load("y"), tol);
      check_single_op(Op::Conv2DBackpropInput, with_attr(attrs, "input_shape", x.shape()), {dy, w},
                      load("dx"), tol);
      check_single_op(Op::Conv2DBackpropFilter, with_attr(attrs, "filter_shape", w.shape()),
                      {x, dy}, load("dw"), tol);
    }
  }
}

TEST_CASE("conv2d of a hand-worked example", "[interp][conv]") {
  // 1x1x3x3 input 1..9, 2x2 filter of ones, pads [1,0,0,0], stride 2: windows start at
  // rows -1 and 1, columns 0 only (column 2 would need a third column), so
  // out = [[1+2], [4+5+7+8]].
  Tensor x = Tensor::from_vector<float>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor w = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 1, 1, 1});
  Attrs attrs{{"strides", std::vector<int64_t>{2, 2}},
              {"pads", std::vector<int64_t>{1, 0, 0, 0}},
              {"dilations", std::vector<int64_t>{1, 1}},
              {"groups", int64_t{1}}};
  check_single_op(Op::Conv2D, attrs, {x, w}, Tensor::from_vector<float>({1, 1, 2, 1}, {3, 24}),
                  Tolerance{0, 0});
}

// A random convolution configuration that the shape rules accept.
struct ConvConfig {
  Shape x_shape, w_shape;
  Attrs attrs;
};

ConvConfig random_conv_config(std::mt19937& rng) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (;;) {
    int64_t groups = pick(1, 2);
    Shape x_shape{pick(1, 2), groups * pick(1, 3), pick(3, 9), pick(3, 9)};
    Shape w_shape{groups * pick(1, 3), x_shape[1] / groups, pick(1, 3), pick(1, 3)};
    Attrs attrs{{"strides", std::vector<int64_t>{pick(1, 2), pick(1, 2)}},
                {"pads", std::vector<int64_t>{pick(0, 2), pick(0, 2), pick(0, 2), pick(0, 2)}},
                {"dilations", std::vector<int64_t>{pick(1, 2), pick(1, 2)}},
                {"groups", groups}};
    try {
      (void)infer_types(Op::Conv2D, {{DType::F64, x_shape}, {DType::F64, w_shape}}, attrs);
      return {x_shape, w_shape, attrs};
    } catch (const Error&) {
      // The filter does not fit the padded input: draw again.
    }
  }
}

TEST_CASE("conv2d gradients satisfy the adjoint identity", "[interp][conv]") {
  // sum(conv2d(x, w) * dy) == sum(x * backprop_input(dy, w)) == sum(w * backprop_filter(x, dy)).
  // The function computes the two differences; both must vanish.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    ConvConfig config = random_conv_config(rng);
    INFO("trial " << trial << ": x " << shape_str(config.x_shape) << ", w "
                  << shape_str(config.w_shape));
    Tensor x = random_tensor(DType::F64, config.x_shape, rng);
    Tensor w = random_tensor(DType::F64, config.w_shape, rng);
    Shape y_shape = infer_types(Op::Conv2D, {x.type(), w.type()}, config.attrs)[0].shape;
    Tensor dy = random_tensor(DType::F64, y_shape, rng);

    FunctionUnderTest f;
    ir::Value* xv = f.param("x", x);
    ir::Value* wv = f.param("w", w);
    ir::Value* dyv = f.param("dy", dy);
    ir::Value* y = append_inferred(*f.fn, Op::Conv2D, {xv, wv}, config.attrs);
    ir::Value* dx = append_inferred(*f.fn, Op::Conv2DBackpropInput, {dyv, wv},
                                    with_attr(config.attrs, "input_shape", config.x_shape));
    ir::Value* dw = append_inferred(*f.fn, Op::Conv2DBackpropFilter, {xv, dyv},
                                    with_attr(config.attrs, "filter_shape", config.w_shape));
    ir::Value* y_dot_dy = append_inner_product(*f.fn, y, dyv);
    f.fn->add_output("input_gap", append_inferred(*f.fn, Op::Sub,
                                                  {y_dot_dy, append_inner_product(*f.fn, xv, dx)}));
    f.fn->add_output(
        "filter_gap",
        append_inferred(*f.fn, Op::Sub, {y_dot_dy, append_inner_product(*f.fn, wv, dw)}));
    Tensor zero = Tensor::zeros(DType::F64, {});
    check_function(*f.fn, {x, w, dy}, {zero, zero}, Tolerance{0, 1e-11});
  }
}

} // namespace
} // namespace loom::test
