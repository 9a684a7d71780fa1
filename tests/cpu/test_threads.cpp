// Results of compiled code must not depend on the number of threads: work is split
// into chunks fixed at compile time and every output element is computed by one
// thread in a fixed order.
#include <catch2/catch.hpp>

#include "codegen/compile.h"
#include "ir/builder.h"
#include "runtime/cpu_rt.h"
#include "tests/cpu/cpu_test_util.h"

using namespace loom;

TEST_CASE("compiled results are bit-identical with 1 and 2 threads", "[cpu][threads]") {
  ir::Module m;
  ir::Function* fn = m.add_function("main");
  ir::Value* x = fn->add_param("x", {DType::F32, {256, 1024}});
  ir::Value* w = fn->add_param("w", {DType::F32, {1024, 384}});
  ir::Value* a = fn->add_param("a", {DType::F32, {1024}});
  ir::Builder b(*fn);
  ir::Value* y = b.op(Op::Tanh, {b.op(Op::Add, {b.op(Op::Mul, {x, a}), x})});
  ir::Value* h = b.op(Op::MatMul, {y, w});
  fn->add_output("h", b.op(Op::Sigmoid, {h}));
  fn->add_output("row_sums", b.op(Op::ReduceSum, {y},
                                  {{"axes", std::vector<int64_t>{1}}, {"keepdims", false}}));
  fn->add_output("col_max", b.op(Op::ReduceMax, {h},
                                 {{"axes", std::vector<int64_t>{0}}, {"keepdims", false}}));
  // A convolution's bias gradient: few outputs, each a long sum, one row per output.
  ir::Value* dy = fn->add_param("dy", {DType::F32, {16, 6, 28, 28}});
  fn->add_output("bias_grad", b.op(Op::ReduceSum, {b.op(Op::Relu, {dy})},
                                   {{"axes", std::vector<int64_t>{0, 2, 3}}, {"keepdims", false}}));

  auto inputs = test::random_inputs(*fn, 42);
  auto exe = compile(*fn, {.target = "cpu"});
  loom_rt_set_num_threads(1);
  auto one = exe->run(inputs);
  loom_rt_set_num_threads(2);
  auto two = exe->run(inputs);
  loom_rt_set_num_threads(0);
  auto again = exe->run(inputs);
  CHECK(test::compare_cpu_with_interp(*fn, inputs, 1e-5, 1e-5) == "");
  for (size_t i = 0; i < one.size(); ++i) {
    INFO("output " << fn->outputs()[i].name);
    CHECK(one[i].bit_equal(two[i]));
    CHECK(one[i].bit_equal(again[i]));
  }
}
