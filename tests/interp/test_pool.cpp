// Interpreter kernels for max_pool2d, max_pool2d_grad, avg_pool2d and avg_pool2d_grad:
// numpy references (tests/data/gen_conv_refs.py, gradients there checked by numerical
// differentiation), hand-worked edge cases (padding, ties, NaN, integers) and the
// adjoint identity on random configurations.
#include <catch2/catch.hpp>

#include <limits>

#include "tests/interp/conv_test_util.h"
#include "tests/support/op_builder.h"
#include "tests/support/op_test.h"

namespace loom::test {
namespace {

const std::vector<ReferenceCase> kPoolCases = {
    {"pool_basic", {DType::F32, DType::F64}},
    {"pool_overlap_padded", {DType::F32, DType::F64}},
    {"pool_overlap_padded_incl", {DType::F32, DType::F64}},
    {"pool_asym_ceil", {DType::F32, DType::F64}},
    {"pool_asym_ceil_incl", {DType::F32, DType::F64}},
    {"pool_ceil_past_pad_incl", {DType::F32, DType::F64}},
    {"pool_ceil_no_pad", {DType::F32, DType::F64}},
    {"pool_ceil_drops_last", {DType::F32, DType::F64}},
    {"pool_nonsquare_stride", {DType::F32, DType::F64}},
    {"pool_asym_ceil_f16", {DType::F16}},
    {"pool_asym_ceil_bf16", {DType::BF16}},
};

// max_pool2d's attributes from attrs.npy: kernel (2), strides (2), pads (4), ceil_mode.
Attrs max_pool_attrs(const std::vector<int64_t>& a) {
  return Attrs{{"kernel", std::vector<int64_t>{a[0], a[1]}},
               {"strides", std::vector<int64_t>{a[2], a[3]}},
               {"pads", std::vector<int64_t>{a[4], a[5], a[6], a[7]}},
               {"ceil_mode", a[8] != 0}};
}

// avg_pool2d's: those plus count_include_pad.
Attrs avg_pool_attrs(const std::vector<int64_t>& a) {
  Attrs attrs = max_pool_attrs(a);
  attrs.set("count_include_pad", a[9] != 0);
  return attrs;
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

TEST_CASE("pooling and its gradients match numpy references", "[interp][pool]") {
  for (const ReferenceCase& c : kPoolCases) {
    for (DType dtype : c.dtypes) {
      INFO("case " << c.name << ", dtype " << dtype_name(dtype));
      auto load = [&](const std::string& array) {
        return converted(load_case_array(c.name, array), dtype);
      };
      Tensor x = load("x"), dy = load("dy");
      std::vector<int64_t> attrs = load_case_attrs(c.name);
      Tolerance tol = reference_tolerance(dtype);
      check_single_op(Op::MaxPool2D, max_pool_attrs(attrs), {x}, load("max_y"), tol);
      check_single_op(Op::MaxPool2DGrad, max_pool_attrs(attrs), {x, dy}, load("max_dx"), tol);
      check_single_op(Op::AvgPool2D, avg_pool_attrs(attrs), {x}, load("avg_y"), tol);
      check_single_op(Op::AvgPool2DGrad, with_attr(avg_pool_attrs(attrs), "input_shape", x.shape()),
                      {dy}, load("avg_dx"), tol);
    }
  }
}

Attrs pool_attrs(std::vector<int64_t> kernel, std::vector<int64_t> strides,
                 std::vector<int64_t> pads) {
  return Attrs{{"kernel", std::move(kernel)},
               {"strides", std::move(strides)},
               {"pads", std::move(pads)},
               {"ceil_mode", false}};
}

TEST_CASE("max_pool2d: padding never wins", "[interp][pool]") {
  Tensor x = Tensor::from_vector<float>({1, 1, 2, 2}, {-3, -4, -5, -6});
  // 2x2 windows over the input padded by 1 on every side: each window holds only the
  // input elements it overlaps, never a padded zero.
  check_single_op(Op::MaxPool2D, pool_attrs({2, 2}, {1, 1}, {1, 1, 1, 1}), {x},
                  Tensor::from_vector<float>({1, 1, 3, 3}, {-3, -3, -4, -3, -3, -4, -5, -5, -6}),
                  Tolerance{0, 0});
}

TEST_CASE("max_pool2d_grad routes ties to the first position of the window", "[interp][pool]") {
  // All equal: each window's maximum is its top-left element.
  Tensor x = Tensor::from_vector<int32_t>({1, 1, 3, 3}, {5, 5, 5, 5, 5, 5, 5, 5, 5});
  Tensor dy = Tensor::from_vector<int32_t>({1, 1, 2, 2}, {1, 2, 3, 4});
  Attrs attrs = pool_attrs({2, 2}, {1, 1}, {0, 0, 0, 0});
  check_single_op(Op::MaxPool2D, attrs, {x},
                  Tensor::from_vector<int32_t>({1, 1, 2, 2}, {5, 5, 5, 5}), Tolerance{0, 0});
  check_single_op(Op::MaxPool2DGrad, attrs, {x, dy},
                  Tensor::from_vector<int32_t>({1, 1, 3, 3}, {1, 2, 0, 3, 4, 0, 0, 0, 0}),
                  Tolerance{0, 0});
}

TEST_CASE("max_pool2d_grad accumulates overlapping windows and wraps integers", "[interp][pool]") {
  // 1x3 windows with stride 1 over [1, 9, 2, 0]: 9 is the maximum of both windows.
  Tensor x = Tensor::from_vector<int8_t>({1, 1, 1, 4}, {1, 9, 2, 0});
  Tensor dy = Tensor::from_vector<int8_t>({1, 1, 1, 2}, {100, 100});
  Attrs attrs = pool_attrs({1, 3}, {1, 1}, {0, 0, 0, 0});
  check_single_op(Op::MaxPool2DGrad, attrs, {x, dy},
                  Tensor::from_vector<int8_t>({1, 1, 1, 4}, {0, -56, 0, 0}), Tolerance{0, 0});
}

TEST_CASE("max_pool2d propagates NaN and routes its gradient to the first NaN", "[interp][pool]") {
  float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = Tensor::from_vector<float>({1, 1, 2, 2}, {1, nan, 3, nan});
  Attrs attrs = pool_attrs({2, 2}, {1, 1}, {0, 0, 0, 0});
  check_single_op(Op::MaxPool2D, attrs, {x}, Tensor::from_vector<float>({1, 1, 1, 1}, {nan}),
                  Tolerance{0, 0});
  check_single_op(Op::MaxPool2DGrad, attrs, {x, Tensor::from_vector<float>({1, 1, 1, 1}, {2})},
                  Tensor::from_vector<float>({1, 1, 2, 2}, {0, 2, 0, 0}), Tolerance{0, 0});
}

TEST_CASE("avg_pool2d divisors with and without padding", "[interp][pool]") {
  // The row [1, 2, 4] padded by one on each side, 1x2 windows with stride 2.
  Tensor x = Tensor::from_vector<double>({1, 1, 1, 3}, {1, 2, 4});
  Attrs attrs{{"kernel", std::vector<int64_t>{1, 2}},
              {"strides", std::vector<int64_t>{1, 2}},
              {"pads", std::vector<int64_t>{0, 1, 0, 1}},
              {"ceil_mode", false},
              {"count_include_pad", false}};
  // Windows: columns [-1, 1) holds {1}, [1, 3) holds {2, 4}; counting the padding, the
  // first window's divisor is 2.
  check_single_op(Op::AvgPool2D, attrs, {x}, Tensor::from_vector<double>({1, 1, 1, 2}, {1, 3}),
                  Tolerance{0, 0});
  attrs.set("count_include_pad", true);
  check_single_op(Op::AvgPool2D, attrs, {x}, Tensor::from_vector<double>({1, 1, 1, 2}, {0.5, 3}),
                  Tolerance{0, 0});
}

// A random pooling configuration that the shape rules accept.
struct PoolConfig {
  Shape x_shape;
  Attrs attrs; // avg_pool2d's; max_pool2d takes the same but count_include_pad

  Attrs max_attrs() const {
    Attrs a = attrs;
    a.erase("count_include_pad");
    return a;
  }
};

PoolConfig random_pool_config(std::mt19937& rng) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (;;) {
    Shape x_shape{pick(1, 2), pick(1, 3), pick(2, 8), pick(2, 8)};
    std::vector<int64_t> kernel{pick(1, 3), pick(1, 3)};
    Attrs attrs{{"kernel", kernel},
                {"strides", std::vector<int64_t>{pick(1, 3), pick(1, 3)}},
                {"pads", std::vector<int64_t>{pick(0, kernel[0] - 1), pick(0, kernel[1] - 1),
                                              pick(0, kernel[0] - 1), pick(0, kernel[1] - 1)}},
                {"ceil_mode", pick(0, 1) == 1},
                {"count_include_pad", pick(0, 1) == 1}};
    try {
      (void)infer_types(Op::AvgPool2D, {{DType::F64, x_shape}}, attrs);
      return {x_shape, attrs};
    } catch (const Error&) {
      // The kernel does not fit the padded input: draw again.
    }
  }
}

TEST_CASE("pooling gradients satisfy the adjoint identity", "[interp][pool]") {
  // sum(pool(x) * dy) == sum(x * pool_grad(dy)); max pooling is linear once its argmax is
  // fixed, so the identity holds for it too. The function computes both differences.
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    PoolConfig config = random_pool_config(rng);
    INFO("trial " << trial << ": x " << shape_str(config.x_shape));
    Tensor x = random_tensor(DType::F64, config.x_shape, rng);
    Shape y_shape = infer_types(Op::AvgPool2D, {x.type()}, config.attrs)[0].shape;
    Tensor dy = random_tensor(DType::F64, y_shape, rng);

    FunctionUnderTest f;
    ir::Value* xv = f.param("x", x);
    ir::Value* dyv = f.param("dy", dy);
    ir::Value* max_y = append_inferred(*f.fn, Op::MaxPool2D, {xv}, config.max_attrs());
    ir::Value* max_dx = append_inferred(*f.fn, Op::MaxPool2DGrad, {xv, dyv}, config.max_attrs());
    ir::Value* avg_y = append_inferred(*f.fn, Op::AvgPool2D, {xv}, config.attrs);
    ir::Value* avg_dx = append_inferred(*f.fn, Op::AvgPool2DGrad, {dyv},
                                        with_attr(config.attrs, "input_shape", config.x_shape));
    f.fn->add_output("max_gap", append_inferred(*f.fn, Op::Sub,
                                                {append_inner_product(*f.fn, max_y, dyv),
                                                 append_inner_product(*f.fn, xv, max_dx)}));
    f.fn->add_output("avg_gap", append_inferred(*f.fn, Op::Sub,
                                                {append_inner_product(*f.fn, avg_y, dyv),
                                                 append_inner_product(*f.fn, xv, avg_dx)}));
    Tensor zero = Tensor::zeros(DType::F64, {});
    check_function(*f.fn, {x, dy}, {zero, zero}, Tolerance{0, 1e-11});
  }
}

} // namespace
} // namespace loom::test
