// Tensor: aligned zeroed storage, shared handles, typed access and printing.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>

#include "ir/error.h"
#include "runtime/tensor.h"

namespace loom {
namespace {

bool is_aligned_64(const void* p) { return reinterpret_cast<uintptr_t>(p) % 64 == 0; }

ErrorCode code_of_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  FAIL("expected a loom::Error");
  return ErrorCode::Internal;
}

TEST_CASE("a new tensor is zeroed and 64-byte aligned", "[runtime][tensor]") {
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I8, DType::I32,
                      DType::I64, DType::Bool}) {
    for (Shape shape : {Shape{}, Shape{1}, Shape{3, 5}, Shape{17, 1, 3}}) {
      Tensor t(dtype, shape);
      INFO(t.type().str());
      CHECK(t.defined());
      CHECK(is_aligned_64(t.raw_data()));
      CHECK(t.numel() == shape_numel(shape));
      CHECK(t.nbytes() == t.numel() * static_cast<int64_t>(dtype_size(dtype)));
      for (int64_t i = 0; i < t.numel(); ++i)
        CHECK(t.at(i) == 0.0);
    }
  }
}

TEST_CASE("empty and default tensors", "[runtime][tensor]") {
  Tensor empty(DType::F32, {0, 4});
  CHECK(empty.defined()); // an empty tensor still has (aligned) storage
  CHECK(empty.numel() == 0);
  CHECK(is_aligned_64(empty.raw_data()));
  Tensor none;
  CHECK_FALSE(none.defined());
  CHECK(none.str() == "<undefined tensor>");
  CHECK(code_of_error([] { Tensor(DType::F32, {2, -1}); }) == ErrorCode::ShapeMismatch);
}

TEST_CASE("full, ones and from_vector", "[runtime][tensor]") {
  Tensor half = Tensor::full(DType::F16, {2, 2}, 0.5);
  for (int64_t i = 0; i < 4; ++i)
    CHECK(half.at(i) == 0.5);
  Tensor ones = Tensor::ones(DType::I8, {3});
  CHECK(ones.to_vector<int8_t>() == std::vector<int8_t>{1, 1, 1});
  Tensor v = Tensor::from_vector<int64_t>({2, 2}, {1, -2, 3, int64_t{1} << 50});
  CHECK(v.data<int64_t>()[3] == int64_t{1} << 50);
  CHECK(code_of_error([] {
          Tensor::from_vector<float>({2}, {1, 2, 3});
        }) == ErrorCode::InvalidArgument);
}

TEST_CASE("typed access checks the dtype", "[runtime][tensor]") {
  Tensor t(DType::F32, {2});
  CHECK(code_of_error([&] { t.data<int32_t>(); }) == ErrorCode::DTypeMismatch);
  CHECK(code_of_error([&] { t.to_vector<double>(); }) == ErrorCode::DTypeMismatch);
  CHECK(t.data<float>() != nullptr);
}

TEST_CASE("copies share storage, clone copies it", "[runtime][tensor]") {
  Tensor a = Tensor::from_vector<float>({3}, {1, 2, 3});
  Tensor shared = a;
  Tensor copy = a.clone();
  a.data<float>()[0] = 42;
  CHECK(shared.at(0) == 42);
  CHECK(copy.at(0) == 1);
  CHECK(is_aligned_64(copy.raw_data()));
  CHECK_FALSE(Tensor().clone().defined());
}

TEST_CASE("reshaped shares storage and checks the element count", "[runtime][tensor]") {
  Tensor a = Tensor::from_vector<int32_t>({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor r = a.reshaped({3, 2});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.raw_data() == a.raw_data());
  CHECK(a.shape() == Shape{2, 3});
  CHECK(code_of_error([&] { a.reshaped({4}); }) == ErrorCode::ShapeMismatch);
}

TEST_CASE("bit_equal compares type and bytes", "[runtime][tensor]") {
  Tensor a = Tensor::from_vector<float>({2}, {1, NAN});
  CHECK(a.bit_equal(a.clone())); // NaN bits equal themselves
  CHECK_FALSE(a.bit_equal(a.reshaped({2, 1})));
  CHECK_FALSE(a.bit_equal(Tensor::from_vector<float>({2}, {1, 2})));
  CHECK_FALSE(
      Tensor::from_vector<float>({1}, {0.0f}).bit_equal(Tensor::from_vector<float>({1}, {-0.0f})));
  CHECK_FALSE(Tensor::zeros(DType::I32, {1}).bit_equal(Tensor::zeros(DType::F32, {1})));
}

TEST_CASE("literal round trip", "[runtime][tensor]") {
  Tensor a = Tensor::from_vector<int32_t>({2, 2}, {1, 2, 3, 4});
  Literal lit = a.to_literal();
  CHECK(lit.type() == a.type());
  Tensor back = Tensor::from_literal(lit);
  CHECK(back.bit_equal(a));
  CHECK(back.raw_data() != a.raw_data());
  CHECK(Tensor::from_literal(Tensor(DType::BF16, {0}).to_literal()).type().str() == "bf16[0]");
}

TEST_CASE("str prints type and leading elements", "[runtime][tensor]") {
  CHECK(Tensor::from_vector<float>({3}, {1, 2.5f, -3}).str() == "f32[3] [1, 2.5, -3]");
  CHECK(Tensor::from_vector<float>({}, {0.1f}).str() == "f32[] [0.1]");
  CHECK(Tensor::from_vector<double>({1}, {0.1}).str() == "f64[1] [0.1]");
  CHECK(Tensor::from_vector<int64_t>({2}, {-(int64_t{1} << 62), 7}).str() ==
        "i64[2] [-4611686018427387904, 7]");
  CHECK(Tensor::from_vector<bool>({2}, {true, false}).str() == "bool[2] [true, false]");
  CHECK(Tensor::full(DType::BF16, {1}, 1.5).str() == "bf16[1] [1.5]");
  CHECK(Tensor::zeros(DType::I32, {5}).str(2) == "i32[5] [0, 0, ...]");
  CHECK(Tensor::zeros(DType::I32, {5}).str(0) == "i32[5] [...]");
  CHECK(Tensor(DType::F32, {0}).str() == "f32[0] []");
}

} // namespace
} // namespace loom
