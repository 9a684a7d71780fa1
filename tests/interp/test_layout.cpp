// Interpreter kernels for reshape, transpose, broadcast_to, slice, concat and pad,
// against numpy references (tests/data/gen_conv_refs.py) and small hand-worked cases.
#include <catch2/catch.hpp>

#include "tests/interp/conv_test_util.h"
#include "tests/support/op_builder.h"
#include "tests/support/op_test.h"

namespace loom::test {
namespace {

// Data movement copies elements whatever their dtype; these cover every element size
// (1, 2, 4 and 8 bytes) and bool. Reference values are small integers, exact in all.
const std::vector<DType> kLayoutDTypes = {DType::F32, DType::F64, DType::F16, DType::BF16,
                                          DType::I8,  DType::I32, DType::I64, DType::Bool};

// Runs one op on `inputs` converted to `dtype` and compares exactly with `expected`
// converted likewise (conversion commutes with data movement).
void check_layout_op(Op op, const Attrs& attrs, const std::vector<Tensor>& inputs,
                     const Tensor& expected, DType dtype) {
  INFO("op " << op_name(op) << ", dtype " << dtype_name(dtype));
  std::vector<Tensor> typed_inputs;
  std::vector<TensorType> types;
  for (const Tensor& t : inputs) {
    typed_inputs.push_back(converted(t, dtype));
    types.push_back(typed_inputs.back().type());
  }
  auto module = single_op_module(op, types, attrs);
  check_function(main_function(*module), typed_inputs, {converted(expected, dtype)},
                 Tolerance{0, 0});
}

void check_layout_case(Op op, const Attrs& attrs, const std::string& case_name,
                       const std::vector<std::string>& input_names) {
  std::vector<Tensor> inputs;
  for (const std::string& name : input_names)
    inputs.push_back(load_case_array(case_name, name));
  Tensor expected = load_case_array(case_name, "out");
  for (DType dtype : kLayoutDTypes)
    check_layout_op(op, attrs, inputs, expected, dtype);
}

Tensor f32_values(Shape shape, std::vector<float> values) {
  return Tensor::from_vector<float>(std::move(shape), values);
}

TEST_CASE("reshape keeps row-major order", "[interp][layout]") {
  Tensor x = f32_values({2, 3}, {1, 2, 3, 4, 5, 6});
  for (DType dtype : kLayoutDTypes) {
    check_layout_op(Op::Reshape, Attrs{{"shape", Shape{3, 1, 2}}}, {x},
                    f32_values({3, 1, 2}, {1, 2, 3, 4, 5, 6}), dtype);
  }
  SECTION("to and from a scalar") {
    Tensor one = f32_values({1, 1}, {7});
    check_layout_op(Op::Reshape, Attrs{{"shape", Shape{}}}, {one}, f32_values({}, {7}), DType::F32);
    check_layout_op(Op::Reshape, Attrs{{"shape", Shape{1}}}, {f32_values({}, {7})},
                    f32_values({1}, {7}), DType::I64);
  }
}

TEST_CASE("transpose permutes axes (numpy reference)", "[interp][layout]") {
  check_layout_case(Op::Transpose, Attrs{{"perm", std::vector<int64_t>{2, 0, 3, 1}}}, "transpose",
                    {"x"});
}

TEST_CASE("transpose of a matrix", "[interp][layout]") {
  check_layout_op(Op::Transpose, Attrs{{"perm", std::vector<int64_t>{1, 0}}},
                  {f32_values({2, 3}, {1, 2, 3, 4, 5, 6})}, f32_values({3, 2}, {1, 4, 2, 5, 3, 6}),
                  DType::F32);
}

TEST_CASE("broadcast_to stretches ones and adds leading axes (numpy reference)",
          "[interp][layout]") {
  check_layout_case(Op::BroadcastTo, Attrs{{"shape", Shape{2, 3, 5, 4}}}, "broadcast_to", {"x"});
}

Attrs slice_attrs(std::vector<int64_t> start, std::vector<int64_t> stop,
                  std::vector<int64_t> step) {
  return Attrs{{"start", std::move(start)}, {"stop", std::move(stop)}, {"step", std::move(step)}};
}

TEST_CASE("slice with positive and negative steps (numpy reference)", "[interp][layout]") {
  check_layout_case(Op::Slice, slice_attrs({4, 1, 6}, {-1, 6, 0}, {-2, 2, -3}),
                    "slice_negative_steps", {"x"});
}

TEST_CASE("slice edge cases", "[interp][layout]") {
  Tensor x = f32_values({5}, {0, 1, 2, 3, 4});
  SECTION("stop -1 with step -1 reverses the whole axis") {
    check_layout_op(Op::Slice, slice_attrs({4}, {-1}, {-1}), {x}, f32_values({5}, {4, 3, 2, 1, 0}),
                    DType::F32);
  }
  SECTION("a step larger than the extent takes the start only") {
    check_layout_op(Op::Slice, slice_attrs({1}, {5}, {7}), {x}, f32_values({1}, {1}), DType::I32);
  }
  SECTION("the extent rounds up: 0:5:2 has 3 elements") {
    check_layout_op(Op::Slice, slice_attrs({0}, {5}, {2}), {x}, f32_values({3}, {0, 2, 4}),
                    DType::I8);
  }
  SECTION("an empty extent gives an empty result") {
    Tensor m = f32_values({2, 3}, {1, 2, 3, 4, 5, 6});
    check_layout_op(Op::Slice, slice_attrs({1, 0}, {1, 3}, {1, 1}), {m}, f32_values({0, 3}, {}),
                    DType::F32);
    check_layout_op(Op::Slice, slice_attrs({0, 2}, {2, 2}, {1, -1}), {m}, f32_values({2, 0}, {}),
                    DType::F32);
  }
}

TEST_CASE("concat joins operands along the axis (numpy reference)", "[interp][layout]") {
  check_layout_case(Op::Concat, Attrs{{"axis", int64_t{1}}}, "concat", {"x0", "x1", "x2"});
}

TEST_CASE("concat of one operand and of an empty operand", "[interp][layout]") {
  Tensor x = f32_values({2, 2}, {1, 2, 3, 4});
  check_layout_op(Op::Concat, Attrs{{"axis", int64_t{0}}}, {x}, x, DType::F64);
  check_layout_op(Op::Concat, Attrs{{"axis", int64_t{0}}}, {f32_values({0, 2}, {}), x, x},
                  f32_values({4, 2}, {1, 2, 3, 4, 1, 2, 3, 4}), DType::F16);
}

TEST_CASE("pad surrounds the operand with the value (numpy reference)", "[interp][layout]") {
  // value 2.5 converts like cast: 2 for integers, true for bool.
  Attrs attrs{{"pads_lo", std::vector<int64_t>{1, 0, 2}},
              {"pads_hi", std::vector<int64_t>{0, 3, 1}},
              {"value", 2.5}};
  check_layout_case(Op::Pad, attrs, "pad", {"x"});
}

TEST_CASE("pad value saturates in small integer types", "[interp][layout]") {
  Attrs attrs{{"pads_lo", std::vector<int64_t>{1}},
              {"pads_hi", std::vector<int64_t>{1}},
              {"value", 1000.0}};
  auto module = single_op_module(Op::Pad, {TensorType{DType::I8, {1}}}, attrs);
  check_function(main_function(*module), {Tensor::from_vector<int8_t>({1}, {-5})},
                 {Tensor::from_vector<int8_t>({3}, {127, -5, 127})}, Tolerance{0, 0});
}

} // namespace
} // namespace loom::test
