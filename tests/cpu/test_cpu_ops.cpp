// Every op compiled for the CPU against the reference interpreter, on random inputs.
// Tolerances (relative, absolute) per op family are written down here and in docs/cpu.md:
//   exact for integer, bool and data-movement results;
//   1e-6 / 1e-6 for f32 arithmetic and polynomial transcendentals (exp, log, tanh,
//   sigmoid, erf: the polynomials are within a few ulp of libm);
//   1e-5 / 1e-5 for f32 reductions and matmul (vectorized sums reassociate; the
//   interpreter accumulates in f64).
#include <catch2/catch.hpp>

#include <set>

#include "codegen/compile.h"
#include "codegen/cpu_backend.h"
#include "ir/builder.h"
#include "ir/error.h"
#include "tests/cpu/cpu_test_util.h"
#include "tests/support/op_builder.h"
#include "tests/support/random_graph.h"
#include "tests/support/test_support.h"

using namespace loom;
using loom::test::InputDomain;

namespace {

struct OpCase {
  Op op;
  std::vector<TensorType> operands;
  Attrs attrs;
  InputDomain domain = {};
  double tol = 1e-6;
};

TensorType F(Shape s) { return {DType::F32, std::move(s)}; }
TensorType D(Shape s) { return {DType::F64, std::move(s)}; }
TensorType I(DType dt, Shape s) { return {dt, std::move(s)}; }

Attrs conv_attrs(Shape strides = {1, 1}, Shape pads = {0, 0, 0, 0}, Shape dil = {1, 1},
                 int64_t groups = 1) {
  return {{"strides", strides}, {"pads", pads}, {"dilations", dil}, {"groups", groups}};
}
Attrs pool_attrs(Shape kernel, Shape strides, Shape pads = {0, 0, 0, 0}) {
  return {{"kernel", kernel}, {"strides", strides}, {"pads", pads}, {"ceil_mode", false}};
}
Attrs with(Attrs a, const std::string& k, AttrValue v) {
  a.set(k, std::move(v));
  return a;
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

std::vector<OpCase> cases() {
  std::vector<OpCase> c;
  InputDomain positive{0.05, 4.0};
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    if (!has_trait(op, kElementwise) || op == Op::Cast) continue;
    if (has_trait(op, kUnary)) {
      if (has_trait(op, kLogical)) {
        c.push_back({op, {I(DType::Bool, {37})}, {}});
        continue;
      }
      bool needs_positive = op == Op::Log || op == Op::Sqrt || op == Op::Rsqrt;
      InputDomain wide{-9.0, 9.0};
      c.push_back({op, {F({3, 67})}, {}, needs_positive ? positive : wide});
      c.push_back({op, {D({5, 3})}, {}, needs_positive ? positive : wide, 1e-12});
      if (!has_trait(op, kFloatOnly)) c.push_back({op, {I(DType::I32, {4, 9})}, {}});
    } else if (has_trait(op, kBinary)) {
      if (has_trait(op, kLogical)) {
        c.push_back({op, {I(DType::Bool, {4, 1}), I(DType::Bool, {5})}, {}});
        continue;
      }
      InputDomain d = op == Op::Pow ? positive : InputDomain{};
      c.push_back({op, {F({4, 1, 33}), F({5, 1})}, {}, d});
      c.push_back({op, {D({7}), D({})}, {}, d, 1e-12});
      if (op != Op::Div && op != Op::Pow)
        c.push_back({op, {I(DType::I64, {3, 4}), I(DType::I64, {4})}, {}});
    }
  }
  c.push_back({Op::Select, {I(DType::Bool, {3, 1}), F({3, 5}), F({})}, {}});
  c.push_back({Op::Cast, {F({50})}, {{"dtype", DType::I32}}, InputDomain{-1e10, 1e10}});
  c.push_back({Op::Cast, {I(DType::I64, {9})}, {{"dtype", DType::F32}}});
  c.push_back({Op::Cast, {F({9})}, {{"dtype", DType::Bool}}});
  c.push_back({Op::Cast, {F({9})}, {{"dtype", DType::BF16}}});
  c.push_back({Op::Constant, {}, {{"value", Literal::filled(F({2, 3}), 1.25)}}});
  c.push_back(
      {Op::Iota, {}, {{"shape", Shape{3, 4}}, {"dtype", DType::F32}, {"axis", int64_t{1}}}});
  c.push_back(
      {Op::RandomUniform, {I(DType::I64, {})}, {{"shape", Shape{100}}, {"dtype", DType::F32}}});
  c.push_back(
      {Op::RandomNormal, {I(DType::I64, {})}, {{"shape", Shape{100}}, {"dtype", DType::F32}}});
  for (Op op : {Op::ReduceSum, Op::ReduceMax, Op::ReduceMin, Op::ReduceProd}) {
    InputDomain d = op == Op::ReduceProd ? InputDomain{0.5, 1.5} : InputDomain{};
    c.push_back({op, {F({4, 5, 300})}, {{"axes", Shape{2}}, {"keepdims", false}}, d, 1e-5});
    c.push_back({op, {F({4, 5, 6})}, {{"axes", Shape{0, 2}}, {"keepdims", true}}, d, 1e-5});
    // Reduced trailing axes run as one flat loop: a bias gradient's shape, and everything.
    c.push_back({op, {F({3, 4, 7, 9})}, {{"axes", Shape{0, 2, 3}}, {"keepdims", false}}, d, 1e-5});
    c.push_back(
        {op, {F({2, 3, 5, 7})}, {{"axes", Shape{0, 1, 2, 3}}, {"keepdims", true}}, d, 1e-5});
    c.push_back({op,
                 {I(DType::I32, {3, 4, 5})},
                 {{"axes", Shape{1, 2}}, {"keepdims", false}},
                 InputDomain{-2, 2, -2, 2}});
    c.push_back({op,
                 {I(DType::I32, {4, 5})},
                 {{"axes", Shape{1}}, {"keepdims", false}},
                 InputDomain{-2, 2, -2, 2}});
  }
  c.push_back({Op::ArgMax, {F({4, 7})}, {{"axis", int64_t{1}}, {"keepdims", false}}});
  c.push_back({Op::ArgMin, {F({4, 7})}, {{"axis", int64_t{0}}, {"keepdims", true}}});
  c.push_back({Op::MatMul, {F({33, 17}), F({17, 29})}, {}, {}, 1e-5});
  c.push_back({Op::MatMul, {D({2, 1, 3, 4}), D({5, 4, 2})}, {}, {}, 1e-12});
  c.push_back({Op::Reshape, {F({4, 6})}, {{"shape", Shape{2, 3, 4}}}});
  c.push_back({Op::Transpose, {F({2, 3, 4})}, {{"perm", Shape{2, 0, 1}}}});
  c.push_back({Op::BroadcastTo, {F({3, 1})}, {{"shape", Shape{2, 3, 4}}}});
  c.push_back({Op::Slice,
               {F({6, 7})},
               {{"start", Shape{1, 6}}, {"stop", Shape{6, 0}}, {"step", Shape{2, -2}}}});
  c.push_back({Op::Concat, {F({2, 3}), F({2, 1}), F({2, 4})}, {{"axis", int64_t{1}}}});
  c.push_back({Op::Pad,
               {F({2, 3})},
               {{"pads_lo", Shape{1, 0}}, {"pads_hi", Shape{0, 2}}, {"value", -1.5}}});
  c.push_back({Op::Gather,
               {F({5, 4}), I(DType::I64, {3})},
               {{"axis", int64_t{0}}},
               InputDomain{-2, 2, 0, 4}});
  c.push_back({Op::ScatterAdd,
               {F({5, 4}), I(DType::I32, {3}), F({3, 4})},
               {{"axis", int64_t{0}}},
               InputDomain{-2, 2, 0, 4}});
  c.push_back({Op::OneHot, {I(DType::I64, {6})}, {{"depth", int64_t{4}}, {"dtype", DType::F32}}});
  c.push_back(
      {Op::Conv2D, {F({2, 3, 9, 8}), F({4, 3, 3, 3})}, conv_attrs({2, 1}, {1, 1, 0, 1}), {}, 1e-5});
  c.push_back({Op::Conv2DBackpropInput,
               {F({1, 4, 4, 4}), F({4, 2, 3, 3})},
               with(conv_attrs({2, 2}, {1, 1, 1, 1}), "input_shape", Shape{1, 2, 8, 8}),
               {},
               1e-5});
  c.push_back({Op::Conv2DBackpropFilter,
               {F({1, 2, 6, 6}), F({1, 4, 4, 4})},
               with(conv_attrs(), "filter_shape", Shape{4, 2, 3, 3}),
               {},
               1e-5});
  c.push_back({Op::MaxPool2D, {F({2, 3, 6, 6})}, pool_attrs({2, 2}, {2, 2})});
  c.push_back({Op::MaxPool2DGrad, {F({1, 2, 4, 4}), F({1, 2, 2, 2})}, pool_attrs({2, 2}, {2, 2})});
  c.push_back({Op::AvgPool2D,
               {F({2, 3, 6, 6})},
               with(pool_attrs({3, 3}, {1, 1}, {1, 1, 1, 1}), "count_include_pad", false)});
  c.push_back({Op::AvgPool2DGrad,
               {F({1, 2, 2, 2})},
               with(with(pool_attrs({2, 2}, {2, 2}), "count_include_pad", false), "input_shape",
                    Shape{1, 2, 4, 4})});
  return c;
}

} // namespace

TEST_CASE("every op compiled for the CPU matches the interpreter", "[cpu]") {
  std::set<Op> covered = {Op::Parameter,
                          Op::Fusion}; // parameters are in every case; fusion has its own tests
  uint64_t seed = 1;
  for (const OpCase& oc : cases()) {
    covered.insert(oc.op);
    auto module = test::single_op_module(oc.op, oc.operands, oc.attrs);
    const ir::Function& fn = test::main_function(*module);
    INFO("op " << op_name(oc.op) << " operands " << [&] {
      std::string s;
      for (auto& t : oc.operands)
        s += t.str() + " ";
      return s;
    }());
    auto inputs = test::random_inputs(fn, seed++, oc.domain);
    CHECK(test::compare_cpu_with_interp(fn, inputs, oc.tol, oc.tol) == "");
  }
  for (int i = 0; i < kNumOps; ++i) {
    INFO("op without a CPU test case: " << op_name(static_cast<Op>(i)));
    CHECK(covered.count(static_cast<Op>(i)) == 1);
  }
}

TEST_CASE("an index out of range in compiled code is a clear run-time error", "[cpu]") {
  for (Op op : {Op::Gather, Op::ScatterAdd}) {
    auto module =
        op == Op::Gather
            ? test::single_op_module(op, {F({5, 4}), I(DType::I64, {3})}, {{"axis", int64_t{0}}})
            : test::single_op_module(op, {F({5, 4}), I(DType::I64, {3}), F({3, 4})},
                                     {{"axis", int64_t{0}}});
    const ir::Function& fn = test::main_function(*module);
    auto exe = compile(fn, {.target = "cpu"});
    auto inputs = test::random_inputs(fn, 7);
    inputs[1].data<int64_t>()[1] = 9; // rows are 0..4 (or -5..-1)
    try {
      exe->run(inputs);
      FAIL("expected a run-time error from " << op_name(op));
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::RuntimeError);
      CHECK(std::string(e.what()).find(std::string(op_name(op)) + ": an index is out of range") !=
            std::string::npos);
    }
    inputs[1].data<int64_t>()[1] = -5; // negative indices count from the end
    CHECK_NOTHROW(exe->run(inputs));
  }
}

TEST_CASE("500 random graphs compiled for the CPU match the interpreter", "[cpu][property]") {
  for (uint32_t seed = 1; seed <= 500; ++seed) {
    std::unique_ptr<ir::Module> module = test::RandomGraph(seed).build();
    const ir::Function& fn = *module->functions()[0];
    INFO("seed " << seed);
    auto inputs = test::random_inputs(fn, seed);
    CHECK(test::compare_cpu_with_interp(fn, inputs, 1e-5, 1e-5) == "");
  }
}

TEST_CASE("transposes feeding matmuls are read in place and stay correct", "[cpu]") {
  ir::Module m;
  ir::Function* fn = m.add_function("main");
  ir::Value* x = fn->add_param("x", F({64, 96}));
  ir::Value* w = fn->add_param("w", F({48, 96}));
  ir::Value* bias = fn->add_param("bias", F({48}));
  ir::Builder b(*fn);
  Attrs swap{{"perm", std::vector<int64_t>{1, 0}}};
  ir::Value* wt = b.op(Op::Transpose, {w}, swap);
  ir::Value* h =
      b.op(Op::Relu, {b.op(Op::Add, {b.op(Op::MatMul, {x, wt}), bias})}); // contraction fusion
  ir::Value* xt = b.op(Op::Transpose, {x}, swap);
  fn->add_output("h", h);
  fn->add_output("gram", b.op(Op::MatMul, {xt, x})); // plain matmul with a transposed operand
  fn->add_output("both", b.op(Op::MatMul, {b.op(Op::Transpose, {h}, swap), h}));
  auto inputs = test::random_inputs(*fn, 11);
  CHECK(test::compare_cpu_with_interp(*fn, inputs, 1e-5, 1e-5) == "");
}

TEST_CASE("window kernels match the interpreter on padding, strides, ties and NaNs", "[cpu]") {
  std::vector<OpCase> edge = {
      // 2x2 windows of stride 2, tiling the input or leaving an odd last row and column out.
      {Op::MaxPool2D, {F({2, 3, 8, 6})}, pool_attrs({2, 2}, {2, 2})},
      {Op::MaxPool2DGrad, {F({2, 3, 8, 6}), F({2, 3, 4, 3})}, pool_attrs({2, 2}, {2, 2})},
      {Op::MaxPool2D, {F({1, 2, 7, 5})}, pool_attrs({2, 2}, {2, 2})},
      {Op::MaxPool2DGrad, {F({1, 2, 7, 5}), F({1, 2, 3, 2})}, pool_attrs({2, 2}, {2, 2})},
      {Op::MaxPool2D, {F({2, 3, 7, 6})}, pool_attrs({3, 3}, {2, 2}, {1, 1, 1, 1})},
      {Op::MaxPool2DGrad,
       {F({1, 2, 7, 6}), F({1, 2, 4, 3})},
       pool_attrs({3, 3}, {2, 2}, {1, 1, 1, 1})},
      {Op::AvgPool2D,
       {F({1, 2, 7, 6})},
       with(pool_attrs({3, 2}, {2, 2}, {1, 0, 1, 1}), "count_include_pad", true)},
      {Op::Conv2D,
       {F({2, 3, 9, 8}), F({4, 3, 3, 2})},
       conv_attrs({2, 3}, {2, 1, 1, 2}, {2, 1}),
       {},
       1e-5},
      {Op::Conv2DBackpropInput,
       {F({1, 4, 5, 4}), F({4, 2, 3, 3})},
       with(conv_attrs({2, 2}, {2, 2, 1, 1}, {1, 2}), "input_shape", Shape{1, 2, 9, 9}),
       {},
       1e-5},
      {Op::Conv2DBackpropFilter,
       {F({1, 2, 9, 8}), F({1, 4, 5, 3})},
       with(conv_attrs({2, 3}, {1, 1, 0, 0}), "filter_shape", Shape{4, 2, 2, 2}),
       {},
       1e-5},
      // Images large enough that convolutions run in several blocks of images.
      {Op::Conv2D,
       {F({5, 8, 32, 32}), F({4, 8, 3, 3})},
       conv_attrs({1, 1}, {1, 1, 1, 1}),
       {},
       1e-5},
      {Op::Conv2DBackpropInput,
       {F({5, 4, 32, 32}), F({4, 8, 3, 3})},
       with(conv_attrs({1, 1}, {1, 1, 1, 1}), "input_shape", Shape{5, 8, 32, 32}),
       {},
       1e-5},
      // Each filter gradient sums 5 * 32 * 32 = 5120 f32 products (the interpreter: f64).
      {Op::Conv2DBackpropFilter,
       {F({5, 8, 32, 32}), F({5, 4, 32, 32})},
       with(conv_attrs({1, 1}, {1, 1, 1, 1}), "filter_shape", Shape{4, 8, 3, 3}),
       {},
       1e-4},
  };
  uint64_t seed = 40;
  for (const OpCase& oc : edge) {
    auto module = test::single_op_module(oc.op, oc.operands, oc.attrs);
    const ir::Function& fn = test::main_function(*module);
    INFO("op " << op_name(oc.op));
    auto inputs = test::random_inputs(fn, seed++, oc.domain);
    CHECK(test::compare_cpu_with_interp(fn, inputs, oc.tol, oc.tol) == "");
    if (oc.op != Op::MaxPool2D && oc.op != Op::MaxPool2DGrad) continue;
    // Ties everywhere (the first maximum wins) and NaNs in some windows (the first NaN wins).
    float* x = inputs[0].data<float>();
    for (int64_t i = 0; i < inputs[0].numel(); ++i)
      x[i] = static_cast<float>(i % 3);
    x[5] = std::nanf("1");
    x[9] = -std::nanf("2");
    x[inputs[0].numel() - 1] = std::nanf("3");
    CHECK(test::compare_cpu_with_interp(fn, inputs, 0.0, 0.0) == "");
  }
}

TEST_CASE("GEMM updates accumulate into their output and match the interpreter", "[cpu]") {
  struct Form {
    const char* name;
    bool product_on_left, subtract, scaled, in_place_read; // in_place_read: the GEMM reads P itself
  };
  for (Form form :
       {Form{"P - s*(X^T D)", false, true, true, false},
        Form{"P + X^T D", false, false, false, false}, Form{"X^T D - P", true, true, false, false},
        Form{"s*(X^T D) + P", true, false, true, false},
        Form{"P - P^T P (reads P: not fused)", false, true, false, true}}) {
    INFO(form.name);
    ir::Module m;
    ir::Function* fn = m.add_function("main");
    ir::Value* x = fn->add_param("x", F({32, 24}));
    ir::Value* d = fn->add_param("d", F({32, 24}));
    ir::Value* p = fn->add_param("p", F({24, 24}));
    ir::Builder b(*fn);
    Attrs swap{{"perm", std::vector<int64_t>{1, 0}}};
    ir::Value* product = form.in_place_read ? b.op(Op::MatMul, {b.op(Op::Transpose, {p}, swap), p})
                                            : b.op(Op::MatMul, {b.op(Op::Transpose, {x}, swap), d});
    if (form.scaled)
      product = b.op(Op::Mul, {product, b.constant(Literal::scalar(DType::F32, 0.01))});
    Op op = form.subtract ? Op::Sub : Op::Add;
    ir::Value* out = form.product_on_left ? b.op(op, {product, p}) : b.op(op, {p, product});
    fn->add_output("new_p", out);
    fn->set_output_alias("new_p", "p");
    auto inputs = test::random_inputs(*fn, 5);
    CHECK(test::compare_cpu_with_interp(*fn, inputs, 1e-5, 1e-5) == "");
    std::string llvm_ir = codegen::emit_cpu_llvm_ir(*fn, {});
    CHECK((llvm_ir.find("gemm_update") != std::string::npos) == !form.in_place_read);
    // Donated: the GEMM writes into p's own buffer.
    auto exe = compile(*fn, {.target = "cpu", .donate_inputs = true});
    auto expected = compile(*fn, {.target = "interp"})->run(inputs);
    Tensor p_copy = inputs[2].clone();
    std::vector<Tensor> donated_inputs = {inputs[0], inputs[1], p_copy};
    auto got = exe->run(donated_inputs);
    CHECK(got[0].raw_data() == p_copy.raw_data());
    CHECK(test::compare_tensors(got[0], expected[0], 1e-5, 1e-5) == "");
  }
}

TEST_CASE("sums of matmuls accumulate into one output, alone or as an update", "[cpu]") {
  for (bool as_update : {false, true}) {
    INFO((as_update ? "P - s*(sum of A_i B_i)" : "sum of A_i B_i"));
    ir::Module m;
    ir::Function* fn = m.add_function("main");
    ir::Value* p = fn->add_param("p", F({24, 20}));
    ir::Builder b(*fn);
    Attrs swap{{"perm", std::vector<int64_t>{1, 0}}};
    ir::Value* sum = nullptr;
    for (int i = 0; i < 3; ++i) { // like an unrolled RNN's weight gradient: sum_t h_t^T g_t
      ir::Value* h = fn->add_param("h" + std::to_string(i), F({16, 24}));
      ir::Value* g = fn->add_param("g" + std::to_string(i), F({16, 20}));
      ir::Value* term = b.op(Op::MatMul, {b.op(Op::Transpose, {h}, swap), g});
      sum = sum ? b.op(Op::Add, {sum, term}) : term;
    }
    ir::Value* out =
        as_update ? b.op(Op::Sub, {p, b.op(Op::Mul, {sum, b.scalar(DType::F32, 0.5)})}) : sum;
    fn->add_output("out", out);
    auto inputs = test::random_inputs(*fn, 9);
    CHECK(test::compare_cpu_with_interp(*fn, inputs, 1e-5, 1e-5) == "");
    std::string llvm_ir = codegen::emit_cpu_llvm_ir(*fn, {});
    CHECK(occurrences(llvm_ir, "call void @loom_rt_matmul") == 3);
    CHECK((llvm_ir.find("copy_acc") != std::string::npos) == as_update);
    CHECK(llvm_ir.find("parallel_for") == std::string::npos); // no loop kernel adds the products
  }
}

TEST_CASE("matmul operands that only re-index a buffer are read in place", "[cpu]") {
  // x[:, t, :]^T g_t summed over t (an RNN's input-weight gradient), x[::2, 1, :] g, and
  // x[:, 0, ::2]^T g (the last axis strided: not a view, materialized).
  ir::Module m;
  ir::Function* fn = m.add_function("main");
  ir::Value* x = fn->add_param("x", F({6, 3, 8}));
  ir::Builder b(*fn);
  auto slice = [&](ir::Value* v, std::vector<int64_t> start, std::vector<int64_t> stop,
                   std::vector<int64_t> step) {
    return b.op(Op::Slice, {v}, {{"start", start}, {"stop", stop}, {"step", step}});
  };
  auto reshape = [&](ir::Value* v, std::vector<int64_t> shape) {
    return b.op(Op::Reshape, {v}, {{"shape", shape}});
  };
  Attrs swap{{"perm", std::vector<int64_t>{1, 0}}};
  ir::Value* sum = nullptr;
  for (int64_t t = 0; t < 3; ++t) {
    ir::Value* g = fn->add_param("g" + std::to_string(t), F({6, 5}));
    ir::Value* xt = reshape(slice(x, {0, t, 0}, {6, t + 1, 8}, {1, 1, 1}), {6, 8});
    ir::Value* term = b.op(Op::MatMul, {b.op(Op::Transpose, {xt}, swap), g});
    sum = sum ? b.op(Op::Add, {sum, term}) : term;
  }
  fn->add_output("weight_grad", sum);
  ir::Value* w = fn->add_param("w", F({8, 5}));
  fn->add_output("every_other_row",
                 b.op(Op::MatMul, {reshape(slice(x, {0, 1, 0}, {6, 2, 8}, {2, 1, 1}), {3, 8}), w}));
  ir::Value* batched = fn->add_param("batched", F({2, 8, 5})); // a view broadcast over a batch
  fn->add_output(
      "broadcast_view",
      b.op(Op::MatMul, {reshape(slice(x, {0, 2, 0}, {6, 3, 8}, {1, 1, 1}), {6, 8}), batched}));
  ir::Value* h = fn->add_param("h", F({6, 5}));
  ir::Value* strided = reshape(slice(x, {0, 0, 0}, {6, 1, 8}, {1, 1, 2}), {6, 4});
  fn->add_output("strided_columns", b.op(Op::MatMul, {b.op(Op::Transpose, {strided}, swap), h}));
  auto inputs = test::random_inputs(*fn, 21);
  CHECK(test::compare_cpu_with_interp(*fn, inputs, 1e-5, 1e-5) == "");
  // Only the strided-columns operand needs a copy (one loop kernel).
  std::string llvm_ir = codegen::emit_cpu_llvm_ir(*fn, {});
  CHECK(occurrences(llvm_ir, "call void @loom_rt_parallel_for") == 1);
}
