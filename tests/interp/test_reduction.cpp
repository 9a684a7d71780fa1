// Interpreter kernels for reduce_sum/max/min/prod and argmax/argmin: numpy references
// (tests/data/gen_interp_refs.py) plus hand-derived cases.
#include <catch2/catch.hpp>

#include <limits>

#include "tests/interp/interp_ref_cases.h"

namespace loom::test {
namespace {

using interp_refs::run_cases;

Attrs reduce_attrs(std::vector<int64_t> axes, bool keepdims) {
  return Attrs{{"axes", std::move(axes)}, {"keepdims", keepdims}};
}

void check_single_op(Op op, const Tensor& x, const Tensor& expected, const Attrs& attrs) {
  auto module = single_op_module(op, {x.type()}, attrs);
  check_function(main_function(*module), {x}, {expected}, Tolerance{0, 0});
}

bool is_value_reduction(Op op) {
  return op == Op::ReduceSum || op == Op::ReduceMax || op == Op::ReduceMin || op == Op::ReduceProd;
}

TEST_CASE("reduce_sum/max/min/prod match numpy", "[interp][reduction]") {
  run_cases(is_value_reduction);
}

TEST_CASE("argmax and argmin match numpy (first index wins ties and NaN)", "[interp][reduction]") {
  run_cases([](Op op) { return op == Op::ArgMax || op == Op::ArgMin; });
}

TEST_CASE("float sums accumulate in f64 and round once", "[interp][reduction]") {
  // In f32, 1e8 + 1 == 1e8, so a float accumulator would return 0.
  Tensor x = Tensor::from_vector<float>({3}, {1e8f, 1.0f, -1e8f});
  check_single_op(Op::ReduceSum, x, Tensor::from_vector<float>({}, {1.0f}),
                  reduce_attrs({0}, false));
  // f16 likewise: 2048 + 1 is not representable in f16 but the f64 sum is exact.
  Tensor h(DType::F16, {3});
  for (int i = 0; i < 3; ++i)
    store_from_double(DType::F16, h.raw_data(), i, std::vector<double>{2048, 1, -2048}[i]);
  Tensor one(DType::F16, {});
  store_from_double(DType::F16, one.raw_data(), 0, 1.0);
  check_single_op(Op::ReduceSum, h, one, reduce_attrs({0}, false));
}

TEST_CASE("integer products accumulate in int64 and wrap", "[interp][reduction]") {
  // 2^16 * 2^16 wraps to 0 in i32 only when stored: the int64 accumulator holds 2^32.
  Tensor x = Tensor::from_vector<int32_t>({2, 2}, {65536, 65536, 3, -4});
  check_single_op(Op::ReduceProd, x, Tensor::from_vector<int32_t>({2, 1}, {0, -12}),
                  reduce_attrs({1}, true));
  Tensor big = Tensor::from_vector<int64_t>({2}, {int64_t{1} << 62, 4});
  check_single_op(Op::ReduceProd, big, Tensor::from_vector<int64_t>({}, {0}),
                  reduce_attrs({0}, false));
}

TEST_CASE("empty axes reduce nothing", "[interp][reduction]") {
  Tensor x = Tensor::from_vector<int64_t>({2, 2}, {1, -2, 3, 4});
  check_single_op(Op::ReduceMin, x, x, reduce_attrs({}, false));
  check_single_op(Op::ReduceSum, x, x, reduce_attrs({}, true));
}

TEST_CASE("reducing an empty extent gives the identity", "[interp][reduction]") {
  Tensor empty(DType::I8, {0, 2});
  check_single_op(Op::ReduceMax, empty, Tensor::from_vector<int8_t>({2}, {-128, -128}),
                  reduce_attrs({0}, false));
  check_single_op(Op::ReduceProd, empty, Tensor::from_vector<int8_t>({1, 2}, {1, 1}),
                  reduce_attrs({0}, true));
  Tensor empty_f64(DType::F64, {3, 0});
  double inf = std::numeric_limits<double>::infinity();
  check_single_op(Op::ReduceMin, empty_f64, Tensor::from_vector<double>({3}, {inf, inf, inf}),
                  reduce_attrs({1}, false));
  // Reducing the non-empty axis of an empty tensor gives an empty result.
  check_single_op(Op::ReduceSum, empty_f64, Tensor(DType::F64, {0}), reduce_attrs({0}, false));
}

TEST_CASE("argmax of bf16 and of a length-1 axis", "[interp][reduction]") {
  Tensor x(DType::BF16, {2, 3});
  std::vector<double> values = {0.5, 2, 2, -1, -3, -3};
  for (size_t i = 0; i < values.size(); ++i)
    store_from_double(DType::BF16, x.raw_data(), i, values[i]);
  Attrs axis1{{"axis", int64_t{1}}, {"keepdims", false}};
  check_single_op(Op::ArgMax, x, Tensor::from_vector<int64_t>({2}, {1, 0}), axis1);
  check_single_op(Op::ArgMin, x, Tensor::from_vector<int64_t>({2}, {0, 1}), axis1);
  Tensor column = Tensor::from_vector<float>({3, 1}, {5, 6, 7});
  check_single_op(Op::ArgMin, column, Tensor::from_vector<int64_t>({3, 1}, {0, 0, 0}),
                  Attrs{{"axis", int64_t{1}}, {"keepdims", true}});
}

} // namespace
} // namespace loom::test
