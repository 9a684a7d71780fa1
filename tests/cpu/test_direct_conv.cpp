// Convolutions with few filter taps run inside loop kernels (codegen/cpu/direct_conv.h,
// is_direct_conv): fused with their bias and activation, reading a zero-padded copy of
// a padded input. Checked against the interpreter and in the LLVM IR they become.
#include <catch2/catch.hpp>

#include <cmath>

#include "codegen/cpu_backend.h"
#include "ir/builder.h"
#include "tests/cpu/cpu_test_util.h"
#include "tests/support/op_builder.h"

using namespace loom;

namespace {

struct ConvCase {
  const char* what;
  DType dtype;
  Shape x, w;
  std::vector<int64_t> strides, pads, dilations;
  int64_t groups = 1;
};

// y = relu(conv2d(x, w) + bias): one contraction fusion.
std::unique_ptr<ir::Module> conv_bias_relu(const ConvCase& c) {
  auto m = std::make_unique<ir::Module>();
  ir::Function* fn = m->add_function("main");
  ir::Value* x = fn->add_param("x", {c.dtype, c.x});
  ir::Value* w = fn->add_param("w", {c.dtype, c.w});
  ir::Value* bias = fn->add_param("bias", {c.dtype, {c.w[0]}});
  ir::Builder b(*fn);
  Attrs conv{
      {"strides", c.strides}, {"pads", c.pads}, {"dilations", c.dilations}, {"groups", c.groups}};
  ir::Value* y = b.op(Op::Conv2D, {x, w}, conv);
  ir::Value* shaped = b.op(Op::Reshape, {bias}, {{"shape", std::vector<int64_t>{1, c.w[0], 1, 1}}});
  fn->add_output("y", b.op(Op::Relu, {b.op(Op::Add, {y, shaped})}));
  return m;
}

const std::vector<ConvCase>& cases() {
  static const std::vector<ConvCase> all = {
      {"LeNet's first layer (1->6, 5x5, pad 2)",
       DType::F32,
       {3, 1, 28, 28},
       {6, 1, 5, 5},
       {1, 1},
       {2, 2, 2, 2},
       {1, 1}},
      {"strides, dilations and uneven pads",
       DType::F32,
       {2, 2, 13, 11},
       {4, 2, 3, 2},
       {2, 3},
       {2, 0, 1, 3},
       {2, 1}},
      {"groups", DType::F32, {2, 4, 9, 10}, {6, 2, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2},
      {"f64, no padding", DType::F64, {2, 3, 8, 7}, {2, 3, 2, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}},
      {"a kernel wider than the input's padding",
       DType::F32,
       {1, 1, 3, 3},
       {2, 1, 5, 5},
       {1, 1},
       {2, 2, 2, 2},
       {1, 1}},
  };
  return all;
}

} // namespace

TEST_CASE("direct convolutions match the interpreter", "[cpu]") {
  uint64_t seed = 70;
  for (const ConvCase& c : cases()) {
    auto module = conv_bias_relu(c);
    const ir::Function& fn = *module->functions()[0];
    INFO(c.what);
    auto inputs = test::random_inputs(fn, seed++);
    CHECK(test::compare_cpu_with_interp(fn, inputs, 1e-5, 1e-5) == "");
    // Non-finite inputs by the border reach exactly the outputs whose taps read them.
    if (c.dtype != DType::F32) continue;
    float* x = inputs[0].data<float>();
    x[0] = std::nanf("1");
    x[c.x[3] - 1] = INFINITY;
    x[inputs[0].numel() - 1] = -INFINITY;
    CHECK(test::compare_cpu_with_interp(fn, inputs, 1e-5, 1e-5) == "");
  }
}

TEST_CASE("small convolutions become loop kernels, larger ones call im2col + GEMM", "[cpu]") {
  ConvCase small = cases()[0];
  ConvCase large = small;
  large.x = {3, 8, 12, 12};
  large.w = {16, 8, 3, 3}; // 72 taps
  std::string small_ir = codegen::emit_cpu_llvm_ir(*conv_bias_relu(small)->functions()[0], {});
  std::string large_ir = codegen::emit_cpu_llvm_ir(*conv_bias_relu(large)->functions()[0], {});
  CHECK(small_ir.find("loom_rt_conv2d_f32") == std::string::npos);
  CHECK(small_ir.find("llvm.fmuladd.v16f32") != std::string::npos); // vectorized over columns
  CHECK(large_ir.find("loom_rt_conv2d_f32") != std::string::npos);
}

TEST_CASE("a padded direct convolution reads a zero-padded copy of its input", "[cpu]") {
  auto module = conv_bias_relu(cases()[0]);
  ir::Function& fn = *module->functions()[0];
  codegen::prepare_for_cpu(fn);
  const ir::Node* conv = nullptr;
  for (const auto& n : fn.nodes())
    if (n->op() == Op::Conv2D) conv = n.get();
  REQUIRE(conv);
  CHECK(conv->attrs().get_ints("conv2d", "pads") == std::vector<int64_t>{0, 0, 0, 0});
  REQUIRE(conv->operand(0)->def()->op() == Op::Pad);
  CHECK(conv->operand(0)->shape() == Shape{3, 1, 32, 32});
}
