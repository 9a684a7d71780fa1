// Helpers shared by the pass tests (header-only: the test area has one executable).
#pragma once

#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "ir/ir.h"
#include "runtime/interp/interpreter.h"
#include "runtime/tensor.h"
#include "tests/support/test_support.h"

namespace loom::test {

// Random arguments for fn's parameters: floats uniform in [-2, 2], integers in [0, 8)
// (valid class labels for up to 8 classes), bools fair coins.
inline std::vector<Tensor> random_arguments(const ir::Function& fn, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> real(-2.0, 2.0);
  std::uniform_int_distribution<int> small(0, 7);
  std::vector<Tensor> args;
  for (const ir::Value* p : fn.params()) {
    Tensor t(p->dtype(), p->shape());
    for (int64_t i = 0; i < t.numel(); ++i) {
      double v = is_float(p->dtype())        ? real(rng)
                 : p->dtype() == DType::Bool ? small(rng) % 2
                                             : small(rng);
      store_from_double(p->dtype(), t.raw_data(), i, v);
    }
    args.push_back(t);
  }
  return args;
}

// Both functions (same signature) give the same outputs on the same random arguments,
// within float tolerance (rewrites such as log-softmax change rounding).
inline void check_same_results(const ir::Function& before, const ir::Function& after, uint32_t seed,
                               double rtol = 1e-4, double atol = 1e-5) {
  std::vector<Tensor> args = random_arguments(before, seed);
  std::vector<Tensor> expected;
  try {
    expected = interp::evaluate(before, args);
  } catch (const Error& e) {
    // A run-time data error (integer division by zero) must survive optimization.
    REQUIRE(e.code() == ErrorCode::RuntimeError);
    CHECK_THROWS_MATCHES(interp::evaluate(after, args), Error,
                         Catch::Predicate<Error>(
                             [](const Error& a) { return a.code() == ErrorCode::RuntimeError; }));
    return;
  }
  std::vector<Tensor> actual = interp::evaluate(after, args);
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    INFO("output " << after.outputs()[i].name);
    CHECK(compare_tensors(actual[i], expected[i], rtol, atol) == "");
  }
}

} // namespace loom::test
