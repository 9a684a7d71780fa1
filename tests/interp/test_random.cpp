// random_uniform and random_normal: the Philox-4x32-10 recipe of docs/ops.md, pinned
// against an independent Python implementation (tests/data/gen_interp_refs.py), plus
// reproducibility, shape independence and distribution statistics.
#include <catch2/catch.hpp>

#include <cmath>

#include "runtime/interp/random_util.h"
#include "tests/interp/interp_ref_cases.h"

namespace loom::test {
namespace {

using interp_refs::eval_op;

const std::vector<DType> kFloatDTypes = {DType::F32, DType::F64, DType::F16, DType::BF16};

Attrs random_attrs(DType dtype, Shape shape) {
  return Attrs{{"dtype", dtype}, {"shape", std::move(shape)}};
}

Tensor seed_tensor(int64_t seed) { return Tensor::from_vector<int64_t>({}, {seed}); }

Tensor generate(Op op, int64_t seed, DType dtype, Shape shape) {
  return eval_op(op, {seed_tensor(seed)}, random_attrs(dtype, std::move(shape)));
}

Tensor load_random(const std::string& name) { return load_test_npy("interp/random/" + name); }

std::string kind_name(Op op) { return op == Op::RandomUniform ? "uniform" : "normal"; }

TEST_CASE("Philox-4x32-10 matches the Random123 known-answer vectors", "[interp][random]") {
  using interp::philox4x32_10;
  CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) ==
        interp::PhiloxBlock{0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8});
  CHECK(philox4x32_10({~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}) ==
        interp::PhiloxBlock{0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD});
  CHECK(philox4x32_10({0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344}, {0xA4093822, 0x299F31D0}) ==
        interp::PhiloxBlock{0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1});
}

TEST_CASE("Philox words of a large index use the counter's high word", "[interp][random]") {
  std::vector<int64_t> seeds = load_random("seeds").to_vector<int64_t>();
  int64_t index = load_random("high_index").to_vector<int64_t>().at(0);
  std::vector<int64_t> words = load_random("high_index_words").to_vector<int64_t>();
  for (size_t s = 0; s < seeds.size(); ++s) {
    interp::PhiloxBlock got = interp::philox_words(seeds[s], index);
    for (size_t k = 0; k < 4; ++k)
      CHECK(static_cast<int64_t>(got[k]) == words[s * 4 + k]);
  }
}

TEST_CASE("random values equal the independent Python implementation", "[interp][random]") {
  std::vector<int64_t> seeds = load_random("seeds").to_vector<int64_t>();
  std::vector<int64_t> indices = load_random("indices").to_vector<int64_t>();
  for (Op op : {Op::RandomUniform, Op::RandomNormal}) {
    for (DType dtype : kFloatDTypes) {
      Tensor table = load_random(kind_name(op) + "_" + std::string(dtype_name(dtype)));
      for (size_t s = 0; s < seeds.size(); ++s) {
        INFO(op_name(op) << " " << dtype_name(dtype) << " seed " << seeds[s]);
        Tensor values = generate(op, seeds[s], dtype, {1000});
        // Box-Muller goes through libm's log and cos; allow for a last-bit difference.
        double rtol = op == Op::RandomNormal && dtype == DType::F64 ? 1e-14 : 0.0;
        for (size_t k = 0; k < indices.size(); ++k) {
          double expected = table.at(static_cast<int64_t>(s * indices.size() + k));
          INFO("element " << indices[k]);
          CHECK(std::fabs(values.at(indices[k]) - expected) <= rtol * std::fabs(expected));
        }
      }
    }
  }
}

TEST_CASE("random ops go through the op-test fixture", "[interp][random]") {
  // The first 8 pinned elements are a whole [8] tensor: check_function also round-trips
  // the function and checks that the reparsed copies give bit-identical numbers.
  int64_t seed = load_random("seeds").to_vector<int64_t>().at(1);
  size_t columns = load_random("indices").numel();
  for (Op op : {Op::RandomUniform, Op::RandomNormal}) {
    for (DType dtype : {DType::F32, DType::F16}) {
      Tensor table = load_random(kind_name(op) + "_" + std::string(dtype_name(dtype)));
      Tensor expected(dtype, {8});
      for (int64_t i = 0; i < 8; ++i)
        store_from_double(dtype, expected.raw_data(), i,
                          table.at(static_cast<int64_t>(columns) + i));
      auto module = single_op_module(op, {seed_tensor(seed).type()}, random_attrs(dtype, {8}));
      check_function(main_function(*module), {seed_tensor(seed)}, {expected}, Tolerance{0, 0});
    }
  }
}

TEST_CASE("random numbers are reproducible and depend on the seed", "[interp][random]") {
  for (Op op : {Op::RandomUniform, Op::RandomNormal}) {
    for (DType dtype : kFloatDTypes) {
      INFO(op_name(op) << " " << dtype_name(dtype));
      Tensor first = generate(op, 1234, dtype, {64});
      CHECK(first.bit_equal(generate(op, 1234, dtype, {64})));
      CHECK_FALSE(first.bit_equal(generate(op, 1235, dtype, {64})));
      CHECK_FALSE(first.bit_equal(generate(op, 1234 + (int64_t{1} << 32), dtype, {64})));
    }
  }
}

TEST_CASE("element i does not depend on the tensor's shape or size", "[interp][random]") {
  for (Op op : {Op::RandomUniform, Op::RandomNormal}) {
    for (DType dtype : kFloatDTypes) {
      INFO(op_name(op) << " " << dtype_name(dtype));
      Tensor small = generate(op, 99, dtype, {10});
      Tensor large = generate(op, 99, dtype, {1000});
      Tensor matrix = generate(op, 99, dtype, {2, 5});
      for (int64_t i = 0; i < 10; ++i) {
        CHECK(small.at(i) == large.at(i));
        CHECK(small.at(i) == matrix.at(i));
      }
    }
  }
}

struct Moments {
  double mean, variance, min, max;
};

Moments moments(const Tensor& t) {
  double sum = 0, sum_sq = 0, lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = t.at(i);
    sum += v;
    sum_sq += v * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  double mean = sum / t.numel();
  return {mean, sum_sq / t.numel() - mean * mean, lo, hi};
}

// With 1e5 samples the standard error of the mean is 0.0009 (uniform) and 0.003
// (normal); the bounds below are about five of those. The seed is fixed, so the test
// is deterministic.
TEST_CASE("random_uniform is uniform on [0, 1)", "[interp][random]") {
  for (DType dtype : kFloatDTypes) {
    INFO(dtype_name(dtype));
    Moments m = moments(generate(Op::RandomUniform, 7, dtype, {100000}));
    CHECK(m.mean == Approx(0.5).margin(0.005));
    CHECK(m.variance == Approx(1.0 / 12).margin(0.003));
    CHECK(m.min >= 0.0);
    CHECK(m.max < 1.0); // f16/bf16 round toward zero so that values near 1 stay below it
    CHECK(m.max > 0.99);
  }
}

TEST_CASE("random_normal is standard normal", "[interp][random]") {
  for (DType dtype : kFloatDTypes) {
    INFO(dtype_name(dtype));
    Tensor t = generate(Op::RandomNormal, 7, dtype, {100000});
    Moments m = moments(t);
    CHECK(m.mean == Approx(0.0).margin(0.015));
    CHECK(m.variance == Approx(1.0).margin(0.03));
    CHECK(std::isfinite(m.min));
    CHECK(std::isfinite(m.max));
    int64_t within_one_sigma = 0;
    for (int64_t i = 0; i < t.numel(); ++i)
      within_one_sigma += std::fabs(t.at(i)) < 1.0;
    CHECK(static_cast<double>(within_one_sigma) / t.numel() == Approx(0.6827).margin(0.01));
  }
}

} // namespace
} // namespace loom::test
