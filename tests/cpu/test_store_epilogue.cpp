// A matmul's bias, ReLU and ReLU-gradient select run in loom's GEMM as it stores C
// (codegen/cpu/store_epilogue.h, loom_rt_matmul's epilogue arguments) instead of as a
// loop kernel over C afterwards; other epilogues still run as loop kernels.
#include <catch2/catch.hpp>

#include <algorithm>

#include "codegen/cpu_backend.h"
#include "ir/builder.h"
#include "runtime/cpu/gemm.h"
#include "runtime/cpu_rt.h"
#include "tests/cpu/cpu_test_util.h"
#include "tests/support/test_support.h"

using namespace loom;
using loom::cpu::GemmEpilogue;

namespace {

TensorType F(Shape s) { return {DType::F32, std::move(s)}; }

// The epilogue kind of each loom_rt_matmul call in the LLVM IR (its 19th argument,
// "i32 <kind>"), and how many loop kernels the entry runs.
struct Calls {
  std::vector<int> kinds;
  int loops = 0;
};
Calls calls_in(const std::string& llvm_ir) {
  Calls calls;
  for (const std::vector<std::string>& args : test::call_arguments(llvm_ir, "loom_rt_matmul"))
    calls.kinds.push_back(std::stoi(args.at(18).substr(4)));
  calls.loops = static_cast<int>(test::call_arguments(llvm_ir, "loom_rt_parallel_for").size());
  return calls;
}

} // namespace

TEST_CASE("matmul epilogues run in the GEMM as it stores C", "[cpu]") {
  // The MLP's layers: relu(x w + b), its logits x w + b, the ReLU gradient
  // select(h > 0, g v, 0), a plain relu(x w); and tanh(x w), which the GEMM does not know.
  ir::Module m;
  ir::Function* fn = m.add_function("main");
  ir::Value* x = fn->add_param("x", F({64, 300}));
  ir::Value* w = fn->add_param("w", F({300, 200}));
  ir::Value* bias = fn->add_param("bias", F({200}));
  ir::Value* v = fn->add_param("v", F({120, 200}));
  std::vector<ir::Value*> g; // one per product (equal products would be merged)
  for (int i = 0; i < 4; ++i)
    g.push_back(fn->add_param("g" + std::to_string(i), F({64, 120})));
  ir::Builder b(*fn);
  ir::Value* h = b.op(Op::Relu, {b.op(Op::Add, {b.op(Op::MatMul, {x, w}), bias})});
  fn->add_output("h", h);
  fn->add_output("logits", b.op(Op::Add, {b.op(Op::MatMul, {g[0], v}), bias}));
  ir::Value* zero = b.scalar(DType::F32, 0.0);
  ir::Value* mask = b.op(Op::Gt, {h, zero});
  fn->add_output("dh", b.op(Op::Select, {mask, b.op(Op::MatMul, {g[1], v}), zero}));
  fn->add_output("r", b.op(Op::Relu, {b.op(Op::MatMul, {g[2], v})}));
  fn->add_output("t", b.op(Op::Tanh, {b.op(Op::MatMul, {g[3], v})}));

  Calls calls = calls_in(codegen::emit_cpu_llvm_ir(*fn, {}));
  std::vector<int> kinds = calls.kinds;
  std::sort(kinds.begin(), kinds.end());
  CHECK(kinds == std::vector<int>{GemmEpilogue::kNone, GemmEpilogue::kBias, GemmEpilogue::kBiasRelu,
                                  GemmEpilogue::kRelu, GemmEpilogue::kSelect});
  CHECK(calls.loops == 2); // the mask h > 0, and tanh

  auto inputs = test::random_inputs(*fn, 5);
  for (int threads : {1, 2}) {
    loom_rt_set_num_threads(threads);
    CHECK(test::compare_cpu_with_interp(*fn, inputs, 1e-4, 1e-4) == "");
  }
  loom_rt_set_num_threads(0);
}

TEST_CASE("a batched matmul's epilogue runs as a loop kernel", "[cpu]") {
  ir::Module m;
  ir::Function* fn = m.add_function("main");
  ir::Value* x = fn->add_param("x", F({3, 40, 50}));
  ir::Value* w = fn->add_param("w", F({3, 50, 60}));
  ir::Value* bias = fn->add_param("bias", F({60}));
  ir::Builder b(*fn);
  fn->add_output("y", b.op(Op::Relu, {b.op(Op::Add, {b.op(Op::MatMul, {x, w}), bias})}));
  Calls calls = calls_in(codegen::emit_cpu_llvm_ir(*fn, {}));
  CHECK(calls.kinds == std::vector<int>{GemmEpilogue::kNone});
  CHECK(calls.loops == 1);
  CHECK(test::compare_cpu_with_interp(*fn, test::random_inputs(*fn, 6), 1e-4, 1e-4) == "");
}
