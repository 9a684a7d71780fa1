// Source kernels iota and constant: numpy references (tests/data/gen_interp_refs.py)
// and hand-written literals of every dtype.
#include <catch2/catch.hpp>

#include "ir/shape_rules.h"
#include "tests/interp/interp_ref_cases.h"

namespace loom::test {
namespace {

using interp_refs::run_cases;

TEST_CASE("iota matches numpy.indices", "[interp][source]") {
  run_cases([](Op op) { return op == Op::Iota; });
}

TEST_CASE("iota along each axis, worked by hand", "[interp][source]") {
  Attrs attrs{{"shape", Shape{2, 3}}, {"dtype", DType::I64}, {"axis", int64_t{0}}};
  auto module = single_op_module(Op::Iota, {}, attrs);
  check_function(main_function(*module), {},
                 {Tensor::from_vector<int64_t>({2, 3}, {0, 0, 0, 1, 1, 1})});
  attrs.set("axis", int64_t{1});
  attrs.set("dtype", DType::BF16);
  module = single_op_module(Op::Iota, {}, attrs);
  Tensor expected(DType::BF16, {2, 3});
  for (int64_t i = 0; i < 6; ++i)
    store_from_double(DType::BF16, expected.raw_data(), i, static_cast<double>(i % 3));
  check_function(main_function(*module), {}, {expected});
}

// A function whose output is one constant node holding `value`.
std::unique_ptr<ir::Module> constant_module(const Tensor& value) {
  Attrs attrs{{"value", value.to_literal()}};
  return single_op_module(Op::Constant, {}, attrs);
}

TEST_CASE("constant returns its literal for every dtype", "[interp][source]") {
  std::vector<Tensor> literals = {
      Tensor::from_vector<float>({2, 2}, {1.5f, -2.0f, 0.0f, 3.25f}),
      Tensor::from_vector<double>({3}, {1e-300, -1e300, 0.1}),
      Tensor::from_vector<int8_t>({2}, {-128, 127}),
      Tensor::from_vector<int32_t>({}, {-7}),
      Tensor::from_vector<int64_t>({2, 1}, {int64_t{1} << 40, -1}),
      Tensor::from_vector<bool>({3}, {true, false, true}),
      Tensor::full(DType::F16, {2}, 0.5),
      Tensor::full(DType::BF16, {1, 2}, -3.0),
      Tensor(DType::F32, {0, 4}),
  };
  for (const Tensor& value : literals) {
    INFO(value.str());
    auto module = constant_module(value);
    check_function(main_function(*module), {}, {value}, Tolerance{0, 0});
  }
}

TEST_CASE("constant results do not share the literal's bytes", "[interp][source]") {
  Tensor value = Tensor::from_vector<int32_t>({2}, {1, 2});
  auto module = constant_module(value);
  std::vector<Tensor> first = interp::evaluate(main_function(*module), {});
  first[0].data<int32_t>()[0] = 99; // a caller writing into an output
  std::vector<Tensor> second = interp::evaluate(main_function(*module), {});
  CHECK(second[0].to_vector<int32_t>() == std::vector<int32_t>{1, 2});
}

TEST_CASE("constants feed other nodes", "[interp][source]") {
  ir::Module module;
  ir::Function* fn = module.add_function("main");
  ir::Value* x = fn->add_param("x", TensorType{DType::F32, {3}});
  Attrs value{{"value", Literal::filled(TensorType{DType::F32, {}}, 2.0)}};
  ir::Value* two =
      fn->append(Op::Constant, {}, value, infer_types(Op::Constant, {}, value))->result(0);
  ir::Value* y =
      fn->append(Op::Mul, {x, two}, {}, infer_types(Op::Mul, {x->type(), two->type()}, {}))
          ->result(0);
  fn->add_output("y", y);
  check_function(*fn, {Tensor::from_vector<float>({3}, {1, -2, 0.5f})},
                 {Tensor::from_vector<float>({3}, {2, -4, 1})});
}

} // namespace
} // namespace loom::test
