// Executable input checking and the interpreter executable built from a function.
#include <catch2/catch.hpp>

#include <functional>

#include "ir/error.h"
#include "ir/shape_rules.h"
#include "runtime/interp/interpreter.h"
#include "runtime/interp/kernels.h"

namespace loom {
namespace {

Error error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected a loom::Error");
  throw std::logic_error("unreachable");
}

ir::Value* append(ir::Function& fn, Op op, const std::vector<ir::Value*>& operands,
                  ir::SourceLoc loc = {}) {
  std::vector<TensorType> types;
  for (ir::Value* v : operands)
    types.push_back(v->type());
  return fn.append(op, operands, {}, infer_types(op, types, {}), std::move(loc))->result(0);
}

// sum = a + b, product = a * b over f32[3].
std::unique_ptr<ir::Module> add_mul_module() {
  auto module = std::make_unique<ir::Module>();
  ir::Function* fn = module->add_function("main");
  TensorType f32_3{DType::F32, {3}};
  ir::Value* a = fn->add_param("a", f32_3);
  ir::Value* b = fn->add_param("b", f32_3);
  fn->add_output("sum", append(*fn, Op::Add, {a, b}));
  fn->add_output("product", append(*fn, Op::Mul, {a, b}));
  return module;
}

const Tensor kA = Tensor::from_vector<float>({3}, {1, 2, 3});
const Tensor kB = Tensor::from_vector<float>({3}, {4, 5, 6});

TEST_CASE("interpreter executable runs by name and by position", "[runtime][executable]") {
  auto module = add_mul_module();
  auto exe = interp::make_interpreter_executable(*module->find_function("main"));
  CHECK(exe->target() == "interp");
  REQUIRE(exe->inputs().size() == 2);
  CHECK(exe->inputs()[1].name == "b");
  CHECK(exe->outputs()[1].name == "product");
  CHECK(exe->describe_inputs() == "a: f32[3], b: f32[3]");

  TensorMap out = exe->run(TensorMap{{"a", kA}, {"b", kB}});
  REQUIRE(out.size() == 2);
  CHECK(out.at("sum").to_vector<float>() == std::vector<float>{5, 7, 9});
  CHECK(out.at("product").to_vector<float>() == std::vector<float>{4, 10, 18});
  std::vector<Tensor> positional = exe->run(std::vector<Tensor>{kA, kB});
  CHECK(positional.at(0).bit_equal(out.at("sum")));
}

TEST_CASE("bad inputs are Error(InvalidInput) naming input, expected and given",
          "[runtime][executable]") {
  auto module = add_mul_module();
  auto exe = interp::make_interpreter_executable(*module->find_function("main"));
  auto invalid_input = [&](const TensorMap& inputs) {
    Error e = error_of([&] { exe->run(inputs); });
    CHECK(e.code() == ErrorCode::InvalidInput);
    return e.message();
  };
  CHECK(invalid_input({{"a", kA}}) ==
        "missing input 'b' (f32[3]); expected inputs: a: f32[3], b: f32[3]");
  CHECK_THAT(invalid_input({{"a", kA}, {"b", kB}, {"c", kB}}),
             Catch::StartsWith("unknown input 'c'") && Catch::Contains("a: f32[3], b: f32[3]"));
  CHECK(invalid_input({{"a", Tensor(DType::F32, {4})}, {"b", kB}}) ==
        "input 'a': expected f32[3], got f32[4]");
  CHECK(invalid_input({{"a", kA}, {"b", Tensor(DType::I32, {3})}}) ==
        "input 'b': expected f32[3], got i32[3]");
  CHECK(invalid_input({{"a", kA}, {"b", Tensor()}}) ==
        "input 'b': expected f32[3], got an undefined tensor");

  Error e = error_of([&] { exe->run(std::vector<Tensor>{kA}); });
  CHECK(e.code() == ErrorCode::InvalidInput);
  CHECK_THAT(e.message(), Catch::Contains("expected 2 inputs") && Catch::Contains("got 1"));
}

TEST_CASE("the executable owns a copy of the function", "[runtime][executable]") {
  auto module = add_mul_module();
  auto exe = interp::make_interpreter_executable(*module->find_function("main"));
  module.reset(); // the original IR is gone
  CHECK(exe->run(std::vector<Tensor>{kA, kB}).at(1).to_vector<float>() ==
        std::vector<float>{4, 10, 18});
}

TEST_CASE("an output that is an input does not alias the caller's tensor",
          "[runtime][executable]") {
  ir::Module module;
  ir::Function* fn = module.add_function("identity");
  fn->add_output("y", fn->add_param("x", TensorType{DType::I32, {2}}));
  Tensor x = Tensor::from_vector<int32_t>({2}, {1, 2});
  Tensor y = interp::evaluate(*fn, {x}).at(0);
  y.data<int32_t>()[0] = 9;
  CHECK(x.to_vector<int32_t>() == std::vector<int32_t>{1, 2});
}

TEST_CASE("kernel errors name the node and where it came from", "[runtime][executable]") {
  ir::Module module;
  ir::Function* fn = module.add_function("main");
  TensorType i32_2{DType::I32, {2}};
  ir::Value* a = fn->add_param("a", i32_2);
  ir::Value* b = fn->add_param("b", i32_2);
  fn->add_output("q", append(*fn, Op::Div, {a, b}, ir::SourceLoc{"model.py", 12, 5}));
  Error e = error_of([&] {
    interp::evaluate(*fn, {Tensor::from_vector<int32_t>({2}, {1, 2}),
                           Tensor::from_vector<int32_t>({2}, {1, 0})});
  });
  CHECK(e.code() == ErrorCode::RuntimeError);
  CHECK_THAT(e.message(),
             Catch::Contains("division by zero") && Catch::Contains("'div' node at model.py:12"));
  Error count = error_of([&] { interp::evaluate(*fn, {}); });
  CHECK(count.code() == ErrorCode::InvalidArgument);
}

TEST_CASE("a fusion node evaluates its body", "[runtime][executable]") {
  TensorType f32_3{DType::F32, {3}};
  auto body = std::make_unique<ir::Function>("fused");
  ir::Value* p = body->add_param("p", f32_3);
  ir::Value* q = body->add_param("q", f32_3);
  body->add_output("r", append(*body, Op::Mul, {append(*body, Op::Add, {p, q}), q}));

  ir::Module module;
  ir::Function* fn = module.add_function("main");
  ir::Value* a = fn->add_param("a", f32_3);
  ir::Value* b = fn->add_param("b", f32_3);
  ir::Node* fusion = fn->append(Op::Fusion, {a, b}, Attrs{{"kind", std::string("loop")}}, {f32_3});
  fusion->set_body(std::move(body));
  fn->add_output("y", fusion->result(0));
  // (a + b) * b
  CHECK(interp::evaluate(*fn, {kA, kB}).at(0).to_vector<float>() == std::vector<float>{20, 35, 54});
}

TEST_CASE("the interpreter has a kernel for every op but parameter", "[runtime][executable]") {
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    INFO(op_name(op));
    CHECK(interp::has_interp_kernel(op) == (op != Op::Parameter));
  }
}

} // namespace
} // namespace loom
