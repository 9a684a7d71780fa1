// Builder errors are immediate, carry a stable code, name the op and the operand types,
// and point at the user's line, whether the node came from a named function, an
// operator or a scalar overload.
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "frontend/loom.h"

using namespace loom;
using Catch::Matchers::Contains;

namespace {

// Runs `build`, which must throw a loom::Error, and returns it.
Error error_from(const std::function<void()>& build) {
  try {
    build();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected a loom::Error");
  throw std::logic_error("unreachable");
}

// Like error_from, and checks that the message ends with " at <this file>:<line>".
// Pass __LINE__ on the line of the builder call.
Error error_at_line(int line, const std::function<void()>& build) {
  Error e = error_from(build);
  std::string suffix = " at " + std::string(__FILE__) + ":" + std::to_string(line);
  CHECK_THAT(e.message(), Catch::Matchers::EndsWith(suffix));
  return e;
}

} // namespace

TEST_CASE("a shape mismatch names the op, both types and the user's line", "[frontend]") {
  Graph g;
  Value a = g.input("a", DType::F32, {2, 3});
  Value b = g.input("b", DType::F32, {4});

  SECTION("named function") {
    Error e = error_at_line(__LINE__, [&] { add(a, b); });
    CHECK(e.code() == ErrorCode::ShapeMismatch);
    CHECK_THAT(e.message(), Contains("add") && Contains("f32[2,3]") && Contains("f32[4]"));
  }
  SECTION("operator") {
    Error e = error_at_line(__LINE__, [&] { (void)(a + b); });
    CHECK(e.code() == ErrorCode::ShapeMismatch);
    CHECK_THAT(e.message(), Contains("add") && Contains("f32[2,3]") && Contains("f32[4]"));
  }
  SECTION("the message starts with the op and the location appears once") {
    Error e = error_from([&] { matmul(a, a); });
    CHECK(e.message().rfind("matmul", 0) == 0);
    CHECK(e.message().find(" at ") == e.message().rfind(" at "));
    CHECK(std::string(e.what()).rfind("error[shape_mismatch]: matmul", 0) == 0);
  }
}

TEST_CASE("scalar overloads report the user's line", "[frontend]") {
  Graph g;
  Value flags = g.input("flags", DType::Bool, {3});
  Value counts = g.input("counts", DType::I32, {3});

  Error numeric = error_at_line(__LINE__, [&] { (void)(flags + 1.0); });
  CHECK(numeric.code() == ErrorCode::DTypeMismatch);
  CHECK_THAT(numeric.message(), Contains("add") && Contains("bool[3]"));

  Error inexact = error_at_line(__LINE__, [&] { (void)(counts < 0.5); });
  CHECK(inexact.code() == ErrorCode::DTypeMismatch);
  CHECK_THAT(inexact.message(), Contains("lt") && Contains("0.5") && Contains("i32[3]"));

  Error reversed = error_at_line(__LINE__, [&] { (void)(2.5 * counts); });
  CHECK_THAT(reversed.message(), Contains("mul"));

  CHECK_NOTHROW(counts * 3);
  CHECK_NOTHROW(counts < -7);
}

TEST_CASE("dtype mismatches name both types", "[frontend]") {
  Graph g;
  Value x = g.input("x", DType::F32, {3});
  Value n = g.input("n", DType::I32, {3});

  Error e = error_at_line(__LINE__, [&] { sub(x, n); });
  CHECK(e.code() == ErrorCode::DTypeMismatch);
  CHECK_THAT(e.message(), Contains("sub") && Contains("f32[3]") && Contains("i32[3]"));

  Error float_only = error_from([&] { exp(n); });
  CHECK(float_only.code() == ErrorCode::DTypeMismatch);
  CHECK_THAT(float_only.message(), Contains("exp") && Contains("i32[3]"));

  CHECK(error_from([&] { logical_not(x); }).code() == ErrorCode::DTypeMismatch);
  CHECK(error_from([&] { select(n, x, x); }).code() == ErrorCode::DTypeMismatch);
}

TEST_CASE("invalid attributes are rejected where they are written", "[frontend]") {
  Graph g;
  Value x = g.input("x", DType::F32, {2, 3});

  SECTION("axis out of range") {
    Error e = error_at_line(__LINE__, [&] { reduce_sum(x, {2}); });
    CHECK(e.code() == ErrorCode::InvalidAttribute);
    CHECK_THAT(e.message(), Contains("reduce_sum") && Contains("2") && Contains("f32[2,3]"));
    CHECK(error_from([&] { reduce_max(x, {-3}); }).code() == ErrorCode::InvalidAttribute);
    CHECK(error_from([&] { argmax(x, 5); }).code() == ErrorCode::InvalidAttribute);
    CHECK(error_from([&] { concat({x, x}, -3); }).code() == ErrorCode::InvalidAttribute);
    CHECK(error_from([&] { iota(g, {2}, DType::F32, 1); }).code() == ErrorCode::InvalidAttribute);
  }
  SECTION("repeated axis") {
    Error e = error_from([&] { reduce_sum(x, {1, -1}); });
    CHECK(e.code() == ErrorCode::InvalidAttribute);
    CHECK_THAT(e.message(), Contains("twice"));
  }
  SECTION("bad perm") {
    Error e = error_at_line(__LINE__, [&] { transpose(x, {0, 0}); });
    CHECK(e.code() == ErrorCode::InvalidAttribute);
    CHECK_THAT(e.message(), Contains("transpose") && Contains("[0,0]") && Contains("f32[2,3]"));
    CHECK(error_from([&] { transpose(x, {0, 1, 2}); }).code() == ErrorCode::InvalidAttribute);
    CHECK(error_from([&] { transpose(x, {0, 7}); }).code() == ErrorCode::InvalidAttribute);
  }
  SECTION("reshape") {
    CHECK(error_from([&] { reshape(x, {-1, -1}); }).code() == ErrorCode::InvalidAttribute);
    CHECK(error_from([&] { reshape(x, {-2, 3}); }).code() == ErrorCode::InvalidAttribute);
    Error uneven = error_from([&] { reshape(x, {4, -1}); });
    CHECK(uneven.code() == ErrorCode::ShapeMismatch);
    CHECK_THAT(uneven.message(), Contains("f32[2,3]") && Contains("[4,-1]"));
    CHECK(error_from([&] { reshape(x, {7}); }).code() == ErrorCode::ShapeMismatch);
  }
  SECTION("slice") {
    CHECK(error_from([&] { slice(x, {0}, {1}, {0}); }).code() == ErrorCode::InvalidAttribute);
    CHECK(error_from([&] { slice(x, {0, 0}, {1}); }).code() == ErrorCode::InvalidAttribute);
    CHECK(error_from([&] {
            slice(x, {0, 0, 0}, {1, 1, 1});
          }).code() == ErrorCode::InvalidAttribute);
  }
  SECTION("convolution and pooling") {
    Value img = g.input("img", DType::F32, {1, 2, 5, 5});
    Value w = g.input("w", DType::F32, {4, 2, 3, 3});
    CHECK(error_from([&] {
            conv2d(img, w, {1, 1}, {1, 1, 1});
          }).code() == ErrorCode::InvalidAttribute);
    CHECK(error_from([&] { conv2d(img, w, {0, 1}); }).code() == ErrorCode::InvalidAttribute);
    CHECK(error_from([&] { conv2d(img, x); }).code() == ErrorCode::ShapeMismatch);
    CHECK(error_from([&] {
            max_pool2d(img, {2, 2}, {}, {2, 2});
          }).code() == ErrorCode::InvalidAttribute);
  }
}

TEST_CASE("values from another graph and null values are rejected", "[frontend]") {
  Graph g;
  Graph other;
  Value x = g.input("x", DType::F32, {3});
  Value y = other.input("y", DType::F32, {3});

  Error mixed = error_at_line(__LINE__, [&] { (void)(x * y); });
  CHECK(mixed.code() == ErrorCode::InvalidArgument);
  CHECK_THAT(mixed.message(), Contains("mul") && Contains("different Graph"));
  CHECK(error_from([&] { concat({x, y}, 0); }).code() == ErrorCode::InvalidArgument);
  CHECK(error_from([&] { g.output("y", y); }).code() == ErrorCode::InvalidArgument);
  Value cond = g.input("cond", DType::Bool, {3});
  CHECK(error_from([&] { select(cond, y, 0.0); }).code() == ErrorCode::InvalidArgument);

  Value null;
  CHECK_FALSE(null.defined());
  Error unary = error_at_line(__LINE__, [&] { relu(null); });
  CHECK(unary.code() == ErrorCode::InvalidArgument);
  CHECK_THAT(unary.message(), Contains("relu") && Contains("null"));
  CHECK(error_from([&] { (void)(x + null); }).code() == ErrorCode::InvalidArgument);
  CHECK(error_from([&] { (void)(null + 1.0); }).code() == ErrorCode::InvalidArgument);
  CHECK(error_from([&] { add(1.0, 2.0); }).code() == ErrorCode::InvalidArgument);
  CHECK(error_from([&] { (void)null.type(); }).code() == ErrorCode::InvalidArgument);
  CHECK(error_from([&] { g.output("n", null); }).code() == ErrorCode::InvalidArgument);
}

TEST_CASE("graph-level misuse", "[frontend]") {
  Graph g;
  Value x = g.input("x", DType::F32, {3});
  Value n = g.input("n", DType::I32, {3});

  CHECK(error_from([&] { g.input("x", DType::F32, {1}); }).code() == ErrorCode::InvalidArgument);
  CHECK(error_from([&] { g.input("", DType::F32, {1}); }).code() == ErrorCode::InvalidArgument);
  Error negative = error_from([&] { g.input("bad", DType::F32, {2, -1}); });
  CHECK_THAT(negative.message(), Contains("bad") && Contains("[2,-1]"));

  g.output("y", x + 1.0);
  CHECK(error_from([&] { g.output("y", x); }).code() == ErrorCode::InvalidArgument);

  CHECK(error_from([&] { g.output_updates("x1", x + 1.0, x + 2.0); }).code() ==
        ErrorCode::InvalidArgument);
  CHECK(error_from([&] { g.output_updates("x1", cast(n, DType::F32), n); }).code() ==
        ErrorCode::DTypeMismatch);
  CHECK(error_from([&] { g.output_updates("x1", reduce_sum(x), x); }).code() ==
        ErrorCode::ShapeMismatch);
  g.output_updates("x1", x * 0.5, x);
  CHECK(error_from([&] { g.output_updates("x2", x * 0.25, x); }).code() ==
        ErrorCode::InvalidArgument);

  CHECK(error_from([&] { g.constant(Tensor()); }).code() == ErrorCode::InvalidArgument);
  CHECK(error_from([&] { g.constant(Literal()); }).code() == ErrorCode::InvalidArgument);
  g.weight("w", Literal::scalar(DType::F32, 1.0));
  CHECK(error_from([&] { g.weight("w", Literal::scalar(DType::F32, 2.0)); }).code() ==
        ErrorCode::InvalidArgument);
}
