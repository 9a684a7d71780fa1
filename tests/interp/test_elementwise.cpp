// Interpreter kernels for elementwise unary and binary ops, select and cast: numpy
// references (tests/data/gen_interp_refs.py) plus hand-derived edge cases.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "runtime/interp/kernels.h"
#include "tests/interp/interp_ref_cases.h"

namespace loom::test {
namespace {

using interp_refs::eval_op;
using interp_refs::run_cases;
using interp_refs::thrown_error;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A tensor of `dtype` holding `values` (each rounded to the dtype).
Tensor values_of(DType dtype, Shape shape, const std::vector<double>& values) {
  Tensor t(dtype, std::move(shape));
  REQUIRE(static_cast<int64_t>(values.size()) == t.numel());
  for (size_t i = 0; i < values.size(); ++i)
    store_from_double(dtype, t.raw_data(), i, values[i]);
  return t;
}

void check_single_op(Op op, const std::vector<Tensor>& inputs, const Tensor& expected,
                     const Attrs& attrs = {}, Tolerance tol = {0, 0}) {
  std::vector<TensorType> types;
  for (const Tensor& t : inputs)
    types.push_back(t.type());
  auto module = single_op_module(op, types, attrs);
  check_function(main_function(*module), inputs, {expected}, tol);
}

bool is_unary(Op op) {
  return has_trait(op, kElementwise) && has_trait(op, kUnary) && op != Op::Cast;
}
bool is_binary(Op op) { return has_trait(op, kElementwise) && has_trait(op, kBinary); }

TEST_CASE("unary ops match numpy", "[interp][elementwise]") { run_cases(is_unary); }

TEST_CASE("binary ops match numpy, with broadcasting", "[interp][elementwise]") {
  run_cases(is_binary);
}

TEST_CASE("select matches numpy.where", "[interp][elementwise]") {
  run_cases([](Op op) { return op == Op::Select; });
}

TEST_CASE("cast matches docs/ops.md (numpy plus saturation)", "[interp][elementwise]") {
  run_cases([](Op op) { return op == Op::Cast; });
}

TEST_CASE("every elementwise op has an interpreter kernel", "[interp][elementwise]") {
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    INFO(op_name(op));
    if (has_trait(op, kElementwise)) CHECK(interp::has_interp_kernel(op));
  }
}

TEST_CASE("elementwise ops on empty tensors give empty results", "[interp][elementwise]") {
  Tensor empty(DType::F32, {0, 3});
  check_single_op(Op::Exp, {empty}, Tensor(DType::F32, {0, 3}));
  check_single_op(Op::Add, {empty, values_of(DType::F32, {3}, {1, 2, 3})},
                  Tensor(DType::F32, {0, 3}));
  check_single_op(Op::Lt, {Tensor(DType::I32, {2, 0}), Tensor(DType::I32, {1, 1})},
                  Tensor(DType::Bool, {2, 0}));
}

TEST_CASE("integer arithmetic wraps around", "[interp][elementwise]") {
  check_single_op(Op::Add,
                  {values_of(DType::I8, {2}, {127, -128}), values_of(DType::I8, {2}, {1, -1})},
                  values_of(DType::I8, {2}, {-128, 127}));
  check_single_op(Op::Mul,
                  {values_of(DType::I32, {1}, {65536}), values_of(DType::I32, {1}, {65536})},
                  values_of(DType::I32, {1}, {0}));
  Tensor i64_min = Tensor::from_vector<int64_t>({1}, {std::numeric_limits<int64_t>::min()});
  check_single_op(Op::Sub, {i64_min, Tensor::from_vector<int64_t>({1}, {1})},
                  Tensor::from_vector<int64_t>({1}, {std::numeric_limits<int64_t>::max()}));
  check_single_op(Op::Neg, {i64_min}, i64_min);
  check_single_op(Op::Div, {i64_min, Tensor::from_vector<int64_t>({1}, {-1})}, i64_min);
}

TEST_CASE("integer division truncates toward zero", "[interp][elementwise]") {
  check_single_op(
      Op::Div,
      {values_of(DType::I32, {4}, {7, -7, 7, -7}), values_of(DType::I32, {4}, {2, 2, -2, -2})},
      values_of(DType::I32, {4}, {3, -3, -3, 3}));
}

TEST_CASE("integer division by zero is a runtime error", "[interp][elementwise]") {
  for (DType dtype : {DType::I8, DType::I32, DType::I64}) {
    INFO(dtype_name(dtype));
    Error e = thrown_error([&] {
      eval_op(Op::Div, {values_of(dtype, {2}, {1, 2}), values_of(dtype, {2}, {1, 0})});
    });
    CHECK(e.code() == ErrorCode::RuntimeError);
    CHECK_THAT(e.message(), Catch::Contains("division by zero") && Catch::Contains("div"));
  }
}

TEST_CASE("float division by zero follows IEEE", "[interp][elementwise]") {
  check_single_op(Op::Div,
                  {values_of(DType::F32, {3}, {1, -1, 0}), values_of(DType::F32, {3}, {0, 0, 0})},
                  values_of(DType::F32, {3}, {kInf, -kInf, kNaN}));
}

TEST_CASE("integer pow: negative exponents only for bases 1 and -1", "[interp][elementwise]") {
  check_single_op(Op::Pow,
                  {values_of(DType::I64, {3}, {0, 3, -2}), values_of(DType::I64, {3}, {0, 4, 3})},
                  values_of(DType::I64, {3}, {1, 81, -8}));
  Error e = thrown_error([] {
    eval_op(Op::Pow, {values_of(DType::I32, {1}, {2}), values_of(DType::I32, {1}, {-1})});
  });
  CHECK(e.code() == ErrorCode::RuntimeError);
  CHECK_THAT(e.message(), Catch::Contains("negative"));
}

TEST_CASE("maximum and minimum propagate NaN from either side", "[interp][elementwise]") {
  Tensor a = values_of(DType::F64, {3}, {1, kNaN, kNaN});
  Tensor b = values_of(DType::F64, {3}, {kNaN, 2, kNaN});
  Tensor nan3 = values_of(DType::F64, {3}, {kNaN, kNaN, kNaN});
  check_single_op(Op::Maximum, {a, b}, nan3);
  check_single_op(Op::Minimum, {b, a}, nan3);
}

TEST_CASE("sign and relu keep NaN", "[interp][elementwise]") {
  Tensor x = values_of(DType::F32, {4}, {kNaN, -3, 0, 2});
  check_single_op(Op::Sign, {x}, values_of(DType::F32, {4}, {kNaN, -1, 0, 1}));
  check_single_op(Op::Relu, {x}, values_of(DType::F32, {4}, {kNaN, 0, 0, 2}));
}

TEST_CASE("sigmoid does not overflow for large inputs", "[interp][elementwise]") {
  std::vector<double> x = {-100, -88, -20, 0, 20, 88, 100};
  std::vector<double> expected;
  for (double v : x)
    expected.push_back(std::exp(-std::log1p(std::exp(-v)))); // 1/(1+e^-v)
  check_single_op(Op::Sigmoid, {values_of(DType::F32, {7}, x)},
                  values_of(DType::F32, {7}, expected), {}, Tolerance{1e-6, 3e-45});
}

TEST_CASE("bf16 and f16 compute in f32 and round to nearest even", "[interp][elementwise]") {
  // 1 + 2^-8 is a tie between bf16 neighbours 1 and 1 + 2^-7: even wins, giving 1.
  // 1 + 3 * 2^-8 ties between 1 + 2^-7 and 1 + 2^-6: again the even one, 1 + 2^-6.
  Tensor one = values_of(DType::BF16, {2}, {1, 1});
  check_single_op(Op::Add, {one, values_of(DType::BF16, {2}, {0x1p-8, 3 * 0x1p-8})},
                  values_of(DType::BF16, {2}, {1, 1 + 0x1p-6}));
  check_single_op(Op::Exp, {values_of(DType::BF16, {1}, {1})},
                  values_of(DType::BF16, {1}, {2.71875}));
  // f16 overflows to inf past 65504 + 16.
  check_single_op(Op::Add,
                  {values_of(DType::F16, {2}, {65504, 65504}), values_of(DType::F16, {2}, {8, 32})},
                  values_of(DType::F16, {2}, {65504, kInf}));
  check_single_op(Op::Lt, {values_of(DType::F16, {2}, {0.5, 2}), values_of(DType::F16, {1}, {1})},
                  Tensor::from_vector<bool>({2}, {true, false}));
}

TEST_CASE("select broadcasts bool operands too", "[interp][elementwise]") {
  Tensor cond = Tensor::from_vector<bool>({2, 1}, {true, false});
  Tensor a = Tensor::from_vector<bool>({3}, {true, true, false});
  Tensor b = Tensor::from_vector<bool>({}, {false});
  check_single_op(Op::Select, {cond, a, b},
                  Tensor::from_vector<bool>({2, 3}, {true, true, false, false, false, false}));
}

TEST_CASE("cast to and from bf16 rounds and saturates", "[interp][elementwise]") {
  Attrs to_bf16{{"dtype", DType::BF16}};
  check_single_op(Op::Cast, {values_of(DType::F32, {3}, {1 + 0x1p-8, 1 + 3 * 0x1p-8, kNaN})},
                  values_of(DType::BF16, {3}, {1, 1 + 0x1p-6, kNaN}), to_bf16);
  Attrs to_i32{{"dtype", DType::I32}};
  check_single_op(Op::Cast, {values_of(DType::BF16, {4}, {3e38, -3e38, kNaN, -2.5})},
                  Tensor::from_vector<int32_t>({4}, {std::numeric_limits<int32_t>::max(),
                                                     std::numeric_limits<int32_t>::min(), 0, -2}),
                  to_i32);
  // f64 -> bf16 rounds once: 1 + 2^-8 + 2^-30 lies above the tie, so it rounds up.
  check_single_op(Op::Cast, {values_of(DType::F64, {1}, {1 + 0x1p-8 + 0x1p-30})},
                  values_of(DType::BF16, {1}, {1 + 0x1p-7}), to_bf16);
}

} // namespace
} // namespace loom::test
