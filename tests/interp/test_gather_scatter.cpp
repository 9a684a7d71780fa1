// Interpreter kernels for gather, scatter_add and one_hot: numpy references
// (tests/data/gen_conv_refs.py), negative-index wrapping, duplicate accumulation and
// out-of-range errors.
#include <catch2/catch.hpp>

#include "runtime/interp/interpreter.h"
#include "tests/interp/conv_test_util.h"
#include "tests/support/op_builder.h"
#include "tests/support/op_test.h"

namespace loom::test {
namespace {

Attrs axis_attr(int64_t axis) { return Attrs{{"axis", axis}}; }

// Runs the single op on `inputs` and compares exactly with `expected`.
void check_exact(Op op, const Attrs& attrs, const std::vector<Tensor>& inputs,
                 const Tensor& expected) {
  std::vector<TensorType> types;
  for (const Tensor& t : inputs)
    types.push_back(t.type());
  auto module = single_op_module(op, types, attrs);
  check_function(main_function(*module), inputs, {expected}, Tolerance{0, 0});
}

// The Error message that evaluating the single op on `inputs` throws; fails if none.
std::string runtime_error_of(Op op, const Attrs& attrs, const std::vector<Tensor>& inputs) {
  std::vector<TensorType> types;
  for (const Tensor& t : inputs)
    types.push_back(t.type());
  auto module = single_op_module(op, types, attrs);
  try {
    interp::evaluate(main_function(*module), inputs);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::RuntimeError);
    return e.message();
  }
  FAIL("no error thrown");
  return "";
}

TEST_CASE("gather with 2-D and negative indices (numpy reference)", "[interp][gather]") {
  Tensor x = load_case_array("gather_axis1", "x");
  Tensor indices = load_case_array("gather_axis1", "indices");
  Tensor expected = load_case_array("gather_axis1", "out");
  for (DType dtype : {DType::F32, DType::F16, DType::I64, DType::Bool}) {
    for (DType index_dtype : {DType::I64, DType::I32}) {
      INFO("dtype " << dtype_name(dtype) << ", indices " << dtype_name(index_dtype));
      check_exact(Op::Gather, axis_attr(1), {converted(x, dtype), converted(indices, index_dtype)},
                  converted(expected, dtype));
    }
  }
}

TEST_CASE("gather with a scalar index drops the axis", "[interp][gather]") {
  Tensor x = Tensor::from_vector<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  check_exact(Op::Gather, axis_attr(0), {x, Tensor::from_vector<int64_t>({}, {-1})},
              Tensor::from_vector<float>({2}, {5, 6}));
  check_exact(Op::Gather, axis_attr(1), {x, Tensor::from_vector<int32_t>({}, {1})},
              Tensor::from_vector<float>({3}, {2, 4, 6}));
}

TEST_CASE("gather with an out-of-range index is a runtime error", "[interp][gather]") {
  Tensor x = Tensor::from_vector<float>({2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  std::string message =
      runtime_error_of(Op::Gather, axis_attr(1), {x, Tensor::from_vector<int64_t>({3}, {0, 5, 1})});
  CHECK_THAT(message,
             Catch::Contains("gather") && Catch::Contains("index 5") && Catch::Contains("[-5, 5)"));
  message =
      runtime_error_of(Op::Gather, axis_attr(1), {x, Tensor::from_vector<int32_t>({1}, {-6})});
  CHECK_THAT(message, Catch::Contains("index -6") && Catch::Contains("[-5, 5)"));
}

TEST_CASE("scatter_add accumulates duplicates (numpy reference)", "[interp][scatter]") {
  Tensor x = load_case_array("scatter_add_axis1", "x");
  Tensor indices = load_case_array("scatter_add_axis1", "indices");
  Tensor updates = load_case_array("scatter_add_axis1", "updates");
  Tensor expected = load_case_array("scatter_add_axis1", "out");
  // Small integer values: every dtype adds them exactly.
  for (DType dtype : {DType::F32, DType::F64, DType::BF16, DType::I8, DType::I32, DType::I64}) {
    for (DType index_dtype : {DType::I32, DType::I64}) {
      INFO("dtype " << dtype_name(dtype) << ", indices " << dtype_name(index_dtype));
      check_exact(Op::ScatterAdd, axis_attr(1),
                  {converted(x, dtype), converted(indices, index_dtype), converted(updates, dtype)},
                  converted(expected, dtype));
    }
  }
}

TEST_CASE("scatter_add adds duplicates one at a time in index order", "[interp][scatter]") {
  // In f16, 2048 + 1 rounds back to 2048 (ties to even), so adding the two ones one at
  // a time leaves 2048; adding them in another order (or in f32) would give 2050.
  Tensor x = converted(Tensor::from_vector<float>({1}, {0}), DType::F16);
  Tensor updates = converted(Tensor::from_vector<float>({3}, {2048, 1, 1}), DType::F16);
  check_exact(Op::ScatterAdd, axis_attr(0),
              {x, Tensor::from_vector<int64_t>({3}, {0, 0, -1}), updates},
              converted(Tensor::from_vector<float>({1}, {2048}), DType::F16));
}

TEST_CASE("scatter_add wraps integers", "[interp][scatter]") {
  check_exact(Op::ScatterAdd, axis_attr(0),
              {Tensor::from_vector<int8_t>({2}, {127, -128}),
               Tensor::from_vector<int32_t>({2}, {0, 1}),
               Tensor::from_vector<int8_t>({2}, {1, -1})},
              Tensor::from_vector<int8_t>({2}, {-128, 127}));
}

TEST_CASE("scatter_add with an out-of-range index is a runtime error", "[interp][scatter]") {
  std::string message = runtime_error_of(Op::ScatterAdd, axis_attr(0),
                                         {Tensor::from_vector<float>({3}, {0, 0, 0}),
                                          Tensor::from_vector<int64_t>({2}, {1, -4}),
                                          Tensor::from_vector<float>({2}, {1, 1})});
  CHECK_THAT(message, Catch::Contains("scatter_add") && Catch::Contains("index -4") &&
                          Catch::Contains("[-3, 3)"));
}

TEST_CASE("one_hot wraps negative indices and zeroes out-of-range rows (numpy reference)",
          "[interp][one_hot]") {
  Tensor indices = load_case_array("one_hot", "indices");
  Tensor expected = load_case_array("one_hot", "out");
  for (DType index_dtype : {DType::I8, DType::I32, DType::I64}) {
    for (DType dtype : {DType::F32, DType::F16, DType::I64, DType::Bool}) {
      INFO("indices " << dtype_name(index_dtype) << ", result " << dtype_name(dtype));
      check_exact(Op::OneHot, Attrs{{"depth", int64_t{4}}, {"dtype", dtype}},
                  {converted(indices, index_dtype)}, converted(expected, dtype));
    }
  }
}

TEST_CASE("one_hot with depth 0 is empty", "[interp][one_hot]") {
  check_exact(Op::OneHot, Attrs{{"depth", int64_t{0}}, {"dtype", DType::F32}},
              {Tensor::from_vector<int64_t>({2}, {0, -1})}, Tensor::from_vector<float>({2, 0}, {}));
}

} // namespace
} // namespace loom::test
