// Interpreter matmul kernel: numpy references (tests/data/gen_interp_refs.py) for plain,
// batched and broadcast-batched products in several dtypes, plus hand-derived cases.
#include <catch2/catch.hpp>

#include "tests/interp/interp_ref_cases.h"

namespace loom::test {
namespace {

using interp_refs::run_cases;

void check_matmul(const Tensor& a, const Tensor& b, const Tensor& expected) {
  auto module = single_op_module(Op::MatMul, {a.type(), b.type()});
  check_function(main_function(*module), {a, b}, {expected}, Tolerance{0, 0});
}

TEST_CASE("matmul matches numpy, including broadcast batch dimensions", "[interp][matmul]") {
  run_cases([](Op op) { return op == Op::MatMul; });
}

TEST_CASE("matmul of small matrices, worked by hand", "[interp][matmul]") {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<float>({3, 2}, {7, 8, 9, 10, 11, 12});
  // [1*7+2*9+3*11, 1*8+2*10+3*12; 4*7+5*9+6*11, 4*8+5*10+6*12]
  check_matmul(a, b, Tensor::from_vector<float>({2, 2}, {58, 64, 139, 154}));
  Tensor i = Tensor::from_vector<int64_t>({1, 2, 2}, {1, 0, 0, 1});
  Tensor m = Tensor::from_vector<int64_t>({3, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4});
  check_matmul(i, m, m); // the identity broadcast over three batch entries
}

TEST_CASE("float matmul accumulates in f64 and rounds once", "[interp][matmul]") {
  Tensor a = Tensor::from_vector<float>({1, 3}, {1e8f, 1.0f, -1e8f});
  Tensor b = Tensor::from_vector<float>({3, 1}, {1, 1, 1});
  check_matmul(a, b, Tensor::from_vector<float>({1, 1}, {1.0f}));
}

TEST_CASE("matmul with empty dimensions", "[interp][matmul]") {
  check_matmul(Tensor(DType::F64, {0, 3}), Tensor(DType::F64, {3, 2}), Tensor(DType::F64, {0, 2}));
  check_matmul(Tensor(DType::I32, {2, 0, 2, 3}), Tensor(DType::I32, {3, 4}),
               Tensor(DType::I32, {2, 0, 2, 4}));
  // k = 0: every output is the empty sum, 0.
  check_matmul(Tensor(DType::I64, {2, 0}), Tensor(DType::I64, {0, 2}), Tensor(DType::I64, {2, 2}));
}

} // namespace
} // namespace loom::test
