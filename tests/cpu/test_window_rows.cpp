// The runtime's AVX-512 row kernels (runtime/cpu/conv.cpp, pool.cpp) against the
// interpreter and, bit for bit, against the portable loops they replace: rows wider than
// one vector, partial last vectors, padding lanes, row strides and dilations, and
// planes that fall back to the portable loops (NaNs, rows too wide for the register
// accumulators, column strides). On a CPU without AVX-512 both runs take the portable
// loops.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "codegen/compile.h"
#include "runtime/cpu/simd.h"
#include "tests/cpu/cpu_test_util.h"
#include "tests/support/op_builder.h"

using namespace loom;

namespace {

TensorType F(Shape s) { return {DType::F32, std::move(s)}; }

Attrs conv(Shape strides, Shape pads, Shape dil) {
  return {{"strides", strides}, {"pads", pads}, {"dilations", dil}, {"groups", int64_t{1}}};
}
Attrs pool_2x2() {
  return {{"kernel", Shape{2, 2}},
          {"strides", Shape{2, 2}},
          {"pads", Shape{0, 0, 0, 0}},
          {"ceil_mode", false}};
}
Attrs with(Attrs a, const std::string& k, AttrValue v) {
  a.set(k, std::move(v));
  return a;
}

struct Case {
  const char* what;
  Op op;
  std::vector<TensorType> operands;
  Attrs attrs;
};

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.numel() == b.numel() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.numel() * dtype_size(a.dtype())) == 0;
}

// The compiled function's first output, with the runtime's AVX-512 kernels allowed or not.
Tensor run_cpu(const ir::Function& fn, const std::vector<Tensor>& inputs, bool avx512) {
  struct Restore {
    ~Restore() { cpu::allow_avx512_kernels(true); }
  } restore;
  cpu::allow_avx512_kernels(avx512);
  return compile(fn, {.target = "cpu"})->run(inputs)[0];
}

// Both CPU paths bit for bit equal to the interpreter (max pooling only selects and adds
// into zeros, so even NaN payloads and signs of zeros must agree).
bool bitwise_equal(const ir::Function& fn, const std::vector<Tensor>& inputs) {
  Tensor want = compile(fn, {.target = "interp"})->run(inputs)[0];
  return same_bits(run_cpu(fn, inputs, true), want) && same_bits(run_cpu(fn, inputs, false), want);
}

} // namespace

TEST_CASE("2x2 max pooling rows match the interpreter bit for bit", "[cpu][pool]") {
  std::vector<Case> cases = {
      {"LeNet's first pool", Op::MaxPool2D, {F({2, 3, 28, 28})}, pool_2x2()},
      {"two vectors per row, the second partial", Op::MaxPool2D, {F({1, 2, 6, 41})}, pool_2x2()},
      {"gradient, odd rows and columns left out",
       Op::MaxPool2DGrad,
       {F({1, 2, 7, 41}), F({1, 2, 3, 20})},
       pool_2x2()},
      {"gradient, LeNet's second pool",
       Op::MaxPool2DGrad,
       {F({2, 16, 10, 10}), F({2, 16, 5, 5})},
       pool_2x2()},
  };
  uint64_t seed = 90;
  for (const Case& c : cases) {
    INFO(c.what);
    auto module = test::single_op_module(c.op, c.operands, c.attrs);
    const ir::Function& fn = test::main_function(*module);
    auto inputs = test::random_inputs(fn, seed++);
    CHECK(bitwise_equal(fn, inputs));
    // Ties between zeros of both signs (the first in row-major order wins), then a NaN in
    // one plane (that plane takes the portable path; the first NaN wins).
    float* x = inputs[0].data<float>();
    for (int64_t i = 0; i < inputs[0].numel(); ++i)
      x[i] = (i * 7 % 5 == 0) ? -0.0f : (i % 3 == 0 ? 0.0f : -1.0f);
    CHECK(bitwise_equal(fn, inputs));
    x[inputs[0].numel() / 2 + 1] = std::nanf("4");
    x[inputs[0].numel() / 2 + 3] = -std::nanf("5");
    CHECK(bitwise_equal(fn, inputs));
  }
}

TEST_CASE("convolution rows with unit column stride match the interpreter", "[cpu][conv]") {
  // Over 32 taps, so the forward convolutions run im2col + GEMM in the runtime rather than
  // in a loop kernel; gradients always do.
  std::vector<Case> cases = {
      {"LeNet's second layer (rows of one vector)",
       Op::Conv2D,
       {F({2, 6, 14, 14}), F({16, 6, 5, 5})},
       conv({1, 1}, {0, 0, 0, 0}, {1, 1})},
      {"LeNet's second layer, filter gradient",
       Op::Conv2DBackpropFilter,
       {F({2, 6, 14, 14}), F({2, 16, 10, 10})},
       with(conv({1, 1}, {0, 0, 0, 0}, {1, 1}), "filter_shape", Shape{16, 6, 5, 5})},
      {"LeNet's second layer, input gradient",
       Op::Conv2DBackpropInput,
       {F({2, 16, 10, 10}), F({16, 6, 5, 5})},
       with(conv({1, 1}, {0, 0, 0, 0}, {1, 1}), "input_shape", Shape{2, 6, 14, 14})},
      {"input gradient, two vectors per row",
       Op::Conv2DBackpropInput,
       {F({1, 3, 8, 26}), F({3, 4, 3, 3})},
       with(conv({1, 1}, {1, 1, 1, 1}, {1, 1}), "input_shape", Shape{1, 4, 8, 26})},
      {"padded, row stride 2, column dilation 2, 3 vectors per row",
       Op::Conv2D,
       {F({2, 4, 9, 40}), F({3, 4, 3, 3})},
       conv({2, 1}, {1, 2, 2, 1}, {1, 2})},
      {"filter gradient, padded and dilated",
       Op::Conv2DBackpropFilter,
       {F({2, 4, 9, 40}), F({2, 3, 5, 39})},
       with(conv({2, 1}, {1, 2, 2, 1}, {1, 2}), "filter_shape", Shape{3, 4, 3, 3})},
      {"input gradient, padded, row stride 2, dilated",
       Op::Conv2DBackpropInput,
       {F({2, 3, 5, 39}), F({3, 4, 3, 3})},
       with(conv({2, 1}, {1, 2, 2, 1}, {1, 2}), "input_shape", Shape{2, 4, 9, 40})},
      {"input gradient, rows too wide for the register accumulators",
       Op::Conv2DBackpropInput,
       {F({1, 2, 4, 70}), F({2, 3, 3, 3})},
       with(conv({1, 1}, {1, 1, 1, 1}, {1, 1}), "input_shape", Shape{1, 3, 4, 70})},
      {"input gradient, column stride 2 (portable loops)",
       Op::Conv2DBackpropInput,
       {F({1, 2, 4, 10}), F({2, 3, 3, 3})},
       with(conv({1, 2}, {1, 1, 1, 1}, {1, 1}), "input_shape", Shape{1, 3, 4, 20})},
  };
  uint64_t seed = 95;
  for (const Case& c : cases) {
    INFO(c.what);
    auto module = test::single_op_module(c.op, c.operands, c.attrs);
    const ir::Function& fn = test::main_function(*module);
    auto inputs = test::random_inputs(fn, seed++);
    CHECK(test::compare_cpu_with_interp(fn, inputs, 1e-5, 1e-5) == "");
    CHECK(same_bits(run_cpu(fn, inputs, true), run_cpu(fn, inputs, false)));
  }
}

TEST_CASE("2x2 average pooling does not take the max-pooling rows", "[cpu][pool]") {
  auto module = test::single_op_module(Op::AvgPool2D, {F({2, 3, 28, 28})},
                                       with(pool_2x2(), "count_include_pad", false));
  const ir::Function& fn = test::main_function(*module);
  CHECK(test::compare_cpu_with_interp(fn, test::random_inputs(fn, 97), 1e-6, 1e-6) == "");
}
