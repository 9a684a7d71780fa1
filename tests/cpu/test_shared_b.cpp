// Matmuls that read one B operand unchanged (an RNN's recurrent weight, transposed, in
// every time step's input gradient) share one packed copy of it: the first GEMM in
// program order packs it, the others reuse it (loom_rt_matmul's b_cache).
#include <catch2/catch.hpp>

#include "codegen/cpu_backend.h"
#include "ir/builder.h"
#include "runtime/cpu_rt.h"
#include "tests/cpu/cpu_test_util.h"
#include "tests/support/test_support.h"

using namespace loom;

namespace {

TensorType F(Shape s) { return {DType::F32, std::move(s)}; }

// The calls to loom_rt_matmul in the LLVM IR, up to the cache's refresh flag (the
// arguments after it are the store epilogue's), then ")".
std::vector<std::string> matmul_calls(const std::string& llvm_ir) {
  std::vector<std::string> calls;
  for (const std::vector<std::string>& args : test::call_arguments(llvm_ir, "loom_rt_matmul")) {
    std::string call = "(";
    for (size_t i = 0; i < 18 && i < args.size(); ++i)
      call += (i ? ", " : "") + args[i];
    calls.push_back(call + ")");
  }
  return calls;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

} // namespace

TEST_CASE("matmuls reading one B the same way share its packed copy", "[cpu]") {
  // g_t u^T for three steps (the LSTM's shapes: 64 x 1024 times 1024 x 256, big enough
  // for loom's packed GEMM), and one g u read without the transpose (a different B).
  ir::Module m;
  ir::Function* fn = m.add_function("main");
  ir::Value* u = fn->add_param("u", F({256, 1024}));
  ir::Builder b(*fn);
  ir::Value* ut = b.op(Op::Transpose, {u}, {{"perm", std::vector<int64_t>{1, 0}}});
  for (int t = 0; t < 3; ++t) {
    ir::Value* g = fn->add_param("g" + std::to_string(t), F({64, 1024}));
    fn->add_output("dh" + std::to_string(t), b.op(Op::MatMul, {g, ut}));
  }
  ir::Value* h = fn->add_param("h", F({64, 256}));
  fn->add_output("z", b.op(Op::MatMul, {h, u}));

  std::vector<std::string> calls = matmul_calls(codegen::emit_cpu_llvm_ir(*fn, {}));
  REQUIRE(calls.size() == 4);
  int packs = 0, reuses = 0, alone = 0;
  for (const std::string& call : calls) {
    UNSCOPED_INFO(call);
    if (ends_with(call, "ptr null, i32 0)"))
      ++alone;
    else if (ends_with(call, ", i32 1)"))
      ++packs;
    else if (ends_with(call, ", i32 0)"))
      ++reuses;
  }
  CHECK(packs == 1);
  CHECK(reuses == 2);
  CHECK(alone == 1);
  CHECK(ends_with(calls[0], ", i32 1)")); // the first in program order packs

  auto inputs = test::random_inputs(*fn, 3);
  for (int threads : {1, 2}) {
    loom_rt_set_num_threads(threads);
    // 1e-4: f32 sums over k = 1024 against the interpreter's f64.
    CHECK(test::compare_cpu_with_interp(*fn, inputs, 1e-4, 1e-4) == "");
  }
  loom_rt_set_num_threads(0);
}
