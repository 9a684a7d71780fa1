// Shape and type inference: a valid and an invalid case for every op in the table.
// The last test walks ops.def and fails if an op has no case here.
#include <catch2/catch.hpp>

#include <set>

#include "ir/error.h"
#include "ir/shape_rules.h"

using namespace loom;

namespace {

TensorType T(DType dt, Shape s) { return {dt, std::move(s)}; }
TensorType F(Shape s) { return {DType::F32, std::move(s)}; }
TensorType I64(Shape s) { return {DType::I64, std::move(s)}; }
TensorType B(Shape s) { return {DType::Bool, std::move(s)}; }

std::set<Op>& covered() {
  static std::set<Op> ops;
  return ops;
}

TensorType infer1(Op op, std::vector<TensorType> in, Attrs attrs = {}) {
  covered().insert(op);
  auto out = infer_types(op, in, attrs);
  REQUIRE(out.size() == 1);
  return out[0];
}

// Expects inference to fail with `code` and a message starting with the op name.
void expect_error(Op op, std::vector<TensorType> in, Attrs attrs, ErrorCode code) {
  covered().insert(op);
  try {
    infer_types(op, in, attrs);
    FAIL("expected " << error_code_name(code) << " from " << op_name(op));
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == code);
    CHECK(e.message().rfind(std::string(op_name(op)) + ":", 0) == 0);
  }
}

Attrs conv_attrs(Shape strides = {1, 1}, Shape pads = {0, 0, 0, 0}, Shape dil = {1, 1},
                 int64_t groups = 1) {
  return {{"strides", strides}, {"pads", pads}, {"dilations", dil}, {"groups", groups}};
}

Attrs pool_attrs(Shape kernel, Shape strides, Shape pads = {0, 0, 0, 0}, bool ceil = false) {
  return {{"kernel", kernel}, {"strides", strides}, {"pads", pads}, {"ceil_mode", ceil}};
}

} // namespace

static void check_sources() {
  Literal lit = Literal::filled(F({2, 3}), 1.0);
  CHECK(infer1(Op::Constant, {}, {{"value", lit}}) == F({2, 3}));
  expect_error(Op::Constant, {}, {}, ErrorCode::InvalidAttribute);
  expect_error(Op::Constant, {}, {{"value", int64_t{3}}}, ErrorCode::InvalidAttribute);
  expect_error(Op::Parameter, {}, {}, ErrorCode::InvalidArgument);
  expect_error(Op::Fusion, {F({2})}, {}, ErrorCode::InvalidArgument); // types come from the body

  CHECK(
      infer1(Op::Iota, {}, {{"shape", Shape{4, 5}}, {"dtype", DType::I32}, {"axis", int64_t{1}}}) ==
      T(DType::I32, {4, 5}));
  expect_error(Op::Iota, {}, {{"shape", Shape{4}}, {"dtype", DType::I32}, {"axis", int64_t{1}}},
               ErrorCode::InvalidAttribute);
  expect_error(Op::Iota, {}, {{"shape", Shape{-4}}, {"dtype", DType::I32}, {"axis", int64_t{0}}},
               ErrorCode::InvalidAttribute);

  for (Op op : {Op::RandomUniform, Op::RandomNormal}) {
    CHECK(infer1(op, {I64({})}, {{"shape", Shape{3}}, {"dtype", DType::F64}}) ==
          T(DType::F64, {3}));
    expect_error(op, {F({})}, {{"shape", Shape{3}}, {"dtype", DType::F32}},
                 ErrorCode::DTypeMismatch);
    expect_error(op, {I64({})}, {{"shape", Shape{3}}, {"dtype", DType::I32}},
                 ErrorCode::InvalidAttribute);
  }
}

static void check_elementwise_unary() {
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    if (!has_trait(op, kElementwise) || !has_trait(op, kUnary) || op == Op::Cast) continue;
    INFO(op_name(op));
    if (has_trait(op, kLogical)) {
      CHECK(infer1(op, {B({2, 3})}) == B({2, 3}));
      expect_error(op, {F({2})}, {}, ErrorCode::DTypeMismatch);
    } else if (has_trait(op, kFloatOnly)) {
      CHECK(infer1(op, {T(DType::F16, {4})}) == T(DType::F16, {4}));
      expect_error(op, {T(DType::I32, {4})}, {}, ErrorCode::DTypeMismatch);
    } else {
      CHECK(infer1(op, {T(DType::I32, {})}) == T(DType::I32, {}));
      expect_error(op, {B({4})}, {}, ErrorCode::DTypeMismatch);
    }
    expect_error(op, {F({2}), F({2})}, {}, ErrorCode::InvalidArgument);
  }
  CHECK(infer1(Op::Cast, {F({2, 2})}, {{"dtype", DType::BF16}}) == T(DType::BF16, {2, 2}));
  expect_error(Op::Cast, {F({2})}, {{"dtype", int64_t{1}}}, ErrorCode::InvalidAttribute);
}

static void check_elementwise_binary_broadcasting() {
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    if (!has_trait(op, kElementwise) || !has_trait(op, kBinary)) continue;
    INFO(op_name(op));
    DType dt = has_trait(op, kLogical) ? DType::Bool : DType::F32;
    DType out = has_trait(op, kComparison) || has_trait(op, kLogical) ? DType::Bool : dt;
    CHECK(infer1(op, {T(dt, {2, 1, 3}), T(dt, {4, 1})}) == T(out, {2, 4, 3}));
    CHECK(infer1(op, {T(dt, {}), T(dt, {5})}) == T(out, {5}));
    expect_error(op, {T(dt, {2, 3}), T(dt, {4})}, {}, ErrorCode::ShapeMismatch);
    expect_error(op, {T(dt, {2}), T(DType::F64, {2})}, {}, ErrorCode::DTypeMismatch);
  }
  CHECK(infer1(Op::Lt, {T(DType::I64, {3}), T(DType::I64, {3})}) == B({3}));
  expect_error(Op::Add, {B({2}), B({2})}, {}, ErrorCode::DTypeMismatch);
}

static void check_select() {
  CHECK(infer1(Op::Select, {B({2, 1}), F({3}), F({})}) == F({2, 3}));
  expect_error(Op::Select, {F({2}), F({2}), F({2})}, {}, ErrorCode::DTypeMismatch);
  expect_error(Op::Select, {B({2}), F({2}), T(DType::F64, {2})}, {}, ErrorCode::DTypeMismatch);
  expect_error(Op::Select, {B({2}), F({3}), F({3})}, {}, ErrorCode::ShapeMismatch);
}

static void check_reductions() {
  for (Op op : {Op::ReduceSum, Op::ReduceMax, Op::ReduceMin, Op::ReduceProd}) {
    CHECK(infer1(op, {F({2, 3, 4})}, {{"axes", Shape{0, 2}}, {"keepdims", false}}) == F({3}));
    CHECK(infer1(op, {F({2, 3, 4})}, {{"axes", Shape{1}}, {"keepdims", true}}) == F({2, 1, 4}));
    CHECK(infer1(op, {F({2, 3})}, {{"axes", Shape{}}, {"keepdims", false}}) == F({2, 3}));
    expect_error(op, {F({2, 3})}, {{"axes", Shape{2}}, {"keepdims", false}},
                 ErrorCode::InvalidAttribute);
    expect_error(op, {F({2, 3})}, {{"axes", Shape{1, 0}}, {"keepdims", false}},
                 ErrorCode::InvalidAttribute);
    expect_error(op, {B({2})}, {{"axes", Shape{0}}, {"keepdims", false}}, ErrorCode::DTypeMismatch);
  }
  for (Op op : {Op::ArgMax, Op::ArgMin}) {
    CHECK(infer1(op, {F({2, 3})}, {{"axis", int64_t{1}}, {"keepdims", false}}) == I64({2}));
    CHECK(infer1(op, {F({2, 3})}, {{"axis", int64_t{0}}, {"keepdims", true}}) == I64({1, 3}));
    expect_error(op, {F({2, 3})}, {{"axis", int64_t{-1}}, {"keepdims", false}},
                 ErrorCode::InvalidAttribute);
    expect_error(op, {F({2, 0})}, {{"axis", int64_t{1}}, {"keepdims", false}},
                 ErrorCode::ShapeMismatch);
  }
}

static void check_matmul() {
  CHECK(infer1(Op::MatMul, {F({2, 3}), F({3, 4})}) == F({2, 4}));
  CHECK(infer1(Op::MatMul, {F({5, 1, 2, 3}), F({7, 3, 4})}) == F({5, 7, 2, 4}));
  expect_error(Op::MatMul, {F({2, 3}), F({4, 5})}, {}, ErrorCode::ShapeMismatch);
  expect_error(Op::MatMul, {F({3}), F({3, 4})}, {}, ErrorCode::ShapeMismatch);
  expect_error(Op::MatMul, {F({2, 2, 3}), F({3, 3, 4})}, {}, ErrorCode::ShapeMismatch);
  expect_error(Op::MatMul, {F({2, 3}), T(DType::F64, {3, 4})}, {}, ErrorCode::DTypeMismatch);
}

static void check_data_movement() {
  CHECK(infer1(Op::Reshape, {F({2, 6})}, {{"shape", Shape{3, 4}}}) == F({3, 4}));
  expect_error(Op::Reshape, {F({2, 6})}, {{"shape", Shape{5}}}, ErrorCode::ShapeMismatch);
  expect_error(Op::Reshape, {F({2, 6})}, {{"shape", Shape{-1, 6}}}, ErrorCode::InvalidAttribute);

  CHECK(infer1(Op::Transpose, {F({2, 3, 4})}, {{"perm", Shape{2, 0, 1}}}) == F({4, 2, 3}));
  expect_error(Op::Transpose, {F({2, 3})}, {{"perm", Shape{0, 0}}}, ErrorCode::InvalidAttribute);
  expect_error(Op::Transpose, {F({2, 3})}, {{"perm", Shape{0}}}, ErrorCode::InvalidAttribute);

  CHECK(infer1(Op::BroadcastTo, {F({3, 1})}, {{"shape", Shape{2, 3, 4}}}) == F({2, 3, 4}));
  expect_error(Op::BroadcastTo, {F({3, 2})}, {{"shape", Shape{3, 4}}}, ErrorCode::ShapeMismatch);
  expect_error(Op::BroadcastTo, {F({3, 4})}, {{"shape", Shape{4}}}, ErrorCode::ShapeMismatch);

  Attrs slice{{"start", Shape{1, 5}}, {"stop", Shape{4, -1}}, {"step", Shape{2, -2}}};
  CHECK(infer1(Op::Slice, {F({4, 6})}, slice) == F({2, 3}));
  CHECK(infer1(Op::Slice, {F({4})},
               {{"start", Shape{2}}, {"stop", Shape{2}}, {"step", Shape{1}}}) == F({0}));
  expect_error(Op::Slice, {F({4})}, {{"start", Shape{0}}, {"stop", Shape{5}}, {"step", Shape{1}}},
               ErrorCode::InvalidAttribute);
  expect_error(Op::Slice, {F({4})}, {{"start", Shape{0}}, {"stop", Shape{4}}, {"step", Shape{0}}},
               ErrorCode::InvalidAttribute);
  expect_error(Op::Slice, {F({4, 4})},
               {{"start", Shape{0}}, {"stop", Shape{4}}, {"step", Shape{1}}},
               ErrorCode::InvalidAttribute);

  CHECK(infer1(Op::Concat, {F({2, 3}), F({2, 5}), F({2, 0})}, {{"axis", int64_t{1}}}) == F({2, 8}));
  expect_error(Op::Concat, {F({2, 3}), F({3, 3})}, {{"axis", int64_t{1}}},
               ErrorCode::ShapeMismatch);
  expect_error(Op::Concat, {F({2}), T(DType::I32, {2})}, {{"axis", int64_t{0}}},
               ErrorCode::DTypeMismatch);
  expect_error(Op::Concat, {}, {{"axis", int64_t{0}}}, ErrorCode::InvalidArgument);

  Attrs pad{{"pads_lo", Shape{1, 0}}, {"pads_hi", Shape{2, 3}}, {"value", 0.0}};
  CHECK(infer1(Op::Pad, {F({2, 3})}, pad) == F({5, 6}));
  expect_error(Op::Pad, {F({2, 3})},
               {{"pads_lo", Shape{-1, 0}}, {"pads_hi", Shape{0, 0}}, {"value", 0.0}},
               ErrorCode::InvalidAttribute);

  CHECK(infer1(Op::Gather, {F({5, 6, 7}), I64({2, 3})}, {{"axis", int64_t{1}}}) == F({5, 2, 3, 7}));
  expect_error(Op::Gather, {F({5}), F({2})}, {{"axis", int64_t{0}}}, ErrorCode::DTypeMismatch);
  expect_error(Op::Gather, {F({5}), I64({2})}, {{"axis", int64_t{1}}}, ErrorCode::InvalidAttribute);

  CHECK(infer1(Op::ScatterAdd, {F({5, 6}), T(DType::I32, {4}), F({4, 6})},
               {{"axis", int64_t{0}}}) == F({5, 6}));
  expect_error(Op::ScatterAdd, {F({5, 6}), I64({4}), F({4, 5})}, {{"axis", int64_t{0}}},
               ErrorCode::ShapeMismatch);

  CHECK(infer1(Op::OneHot, {I64({3})}, {{"depth", int64_t{10}}, {"dtype", DType::F32}}) ==
        F({3, 10}));
  expect_error(Op::OneHot, {F({3})}, {{"depth", int64_t{10}}, {"dtype", DType::F32}},
               ErrorCode::DTypeMismatch);
  expect_error(Op::OneHot, {I64({3})}, {{"depth", int64_t{-1}}, {"dtype", DType::F32}},
               ErrorCode::InvalidAttribute);
}

static void check_convolution() {
  CHECK(infer1(Op::Conv2D, {F({1, 3, 28, 28}), F({6, 3, 5, 5})}, conv_attrs()) ==
        F({1, 6, 24, 24}));
  CHECK(infer1(Op::Conv2D, {F({2, 4, 9, 10}), F({6, 2, 3, 3})},
               conv_attrs({2, 2}, {1, 1, 1, 1}, {2, 1}, 2)) == F({2, 6, 4, 5}));
  expect_error(Op::Conv2D, {F({1, 3, 8, 8}), F({6, 2, 3, 3})}, conv_attrs(),
               ErrorCode::ShapeMismatch);
  expect_error(Op::Conv2D, {F({1, 3, 2, 2}), F({6, 3, 3, 3})}, conv_attrs(),
               ErrorCode::ShapeMismatch);
  expect_error(Op::Conv2D, {F({1, 3, 8, 8}), F({6, 3, 3, 3})}, conv_attrs({0, 1}),
               ErrorCode::InvalidAttribute);
  expect_error(Op::Conv2D, {T(DType::I32, {1, 3, 8, 8}), T(DType::I32, {6, 3, 3, 3})}, conv_attrs(),
               ErrorCode::DTypeMismatch);

  Attrs bi = conv_attrs({2, 2}, {1, 1, 1, 1});
  bi.set("input_shape", Shape{1, 3, 8, 8});
  CHECK(infer1(Op::Conv2DBackpropInput, {F({1, 6, 4, 4}), F({6, 3, 3, 3})}, bi) == F({1, 3, 8, 8}));
  expect_error(Op::Conv2DBackpropInput, {F({1, 6, 5, 5}), F({6, 3, 3, 3})}, bi,
               ErrorCode::ShapeMismatch);

  Attrs bf = conv_attrs();
  bf.set("filter_shape", Shape{6, 3, 3, 3});
  CHECK(infer1(Op::Conv2DBackpropFilter, {F({1, 3, 8, 8}), F({1, 6, 6, 6})}, bf) ==
        F({6, 3, 3, 3}));
  expect_error(Op::Conv2DBackpropFilter, {F({1, 3, 8, 8}), F({1, 6, 7, 7})}, bf,
               ErrorCode::ShapeMismatch);
}

static void check_pooling() {
  CHECK(infer1(Op::MaxPool2D, {F({1, 2, 28, 28})}, pool_attrs({2, 2}, {2, 2})) ==
        F({1, 2, 14, 14}));
  // ceil_mode keeps a partial last window, but never one that starts in the padding.
  CHECK(infer1(Op::MaxPool2D, {F({1, 1, 5, 5})}, pool_attrs({2, 2}, {2, 2}, {0, 0, 0, 0}, true)) ==
        F({1, 1, 3, 3}));
  CHECK(infer1(Op::MaxPool2D, {F({1, 1, 4, 4})}, pool_attrs({2, 2}, {2, 2}, {1, 1, 1, 1}, true)) ==
        F({1, 1, 3, 3}));
  expect_error(Op::MaxPool2D, {F({1, 1, 4, 4})}, pool_attrs({2, 2}, {1, 1}, {2, 0, 0, 0}),
               ErrorCode::InvalidAttribute);
  expect_error(Op::MaxPool2D, {F({1, 4, 4})}, pool_attrs({2, 2}, {1, 1}), ErrorCode::ShapeMismatch);

  CHECK(infer1(Op::MaxPool2DGrad, {F({1, 2, 4, 4}), F({1, 2, 2, 2})}, pool_attrs({2, 2}, {2, 2})) ==
        F({1, 2, 4, 4}));
  expect_error(Op::MaxPool2DGrad, {F({1, 2, 4, 4}), F({1, 2, 3, 3})}, pool_attrs({2, 2}, {2, 2}),
               ErrorCode::ShapeMismatch);

  Attrs avg = pool_attrs({3, 3}, {1, 1}, {1, 1, 1, 1});
  avg.set("count_include_pad", false);
  CHECK(infer1(Op::AvgPool2D, {F({2, 3, 5, 5})}, avg) == F({2, 3, 5, 5}));
  expect_error(Op::AvgPool2D, {T(DType::I32, {2, 3, 5, 5})}, avg, ErrorCode::DTypeMismatch);
  expect_error(Op::AvgPool2D, {F({2, 3, 5, 5})}, pool_attrs({3, 3}, {1, 1}),
               ErrorCode::InvalidAttribute);

  Attrs avg_grad = avg;
  avg_grad.set("input_shape", Shape{2, 3, 5, 5});
  CHECK(infer1(Op::AvgPool2DGrad, {F({2, 3, 5, 5})}, avg_grad) == F({2, 3, 5, 5}));
  expect_error(Op::AvgPool2DGrad, {F({2, 3, 4, 4})}, avg_grad, ErrorCode::ShapeMismatch);
}

TEST_CASE("shape rules: sources", "[shape]") { check_sources(); }
TEST_CASE("shape rules: elementwise unary", "[shape]") { check_elementwise_unary(); }
TEST_CASE("shape rules: elementwise binary broadcasting", "[shape]") {
  check_elementwise_binary_broadcasting();
}
TEST_CASE("shape rules: select", "[shape]") { check_select(); }
TEST_CASE("shape rules: reductions", "[shape]") { check_reductions(); }
TEST_CASE("shape rules: matmul", "[shape]") { check_matmul(); }
TEST_CASE("shape rules: data movement", "[shape]") { check_data_movement(); }
TEST_CASE("shape rules: convolution", "[shape]") { check_convolution(); }
TEST_CASE("shape rules: pooling", "[shape]") { check_pooling(); }

TEST_CASE("every op in the table has shape rule tests", "[shape]") {
  covered().clear();
  check_sources();
  check_elementwise_unary();
  check_elementwise_binary_broadcasting();
  check_select();
  check_reductions();
  check_matmul();
  check_data_movement();
  check_convolution();
  check_pooling();
  std::string missing;
  for (int i = 0; i < kNumOps; ++i)
    if (!covered().count(static_cast<Op>(i)))
      missing += std::string(op_name(static_cast<Op>(i))) + " ";
  INFO("ops without shape tests: " << missing);
  CHECK(missing.empty());
}
