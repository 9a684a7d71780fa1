// Helpers for the layout, gather/scatter, convolution and pooling interpreter tests:
// dtype conversion of test tensors, random tensors, the numpy reference cases in
// tests/data/interp_conv/ (written by tests/data/gen_conv_refs.py), and building small
// multi-op functions for adjoint-identity checks.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "ir/shape_rules.h"
#include "runtime/tensor.h"
#include "tests/support/op_test.h"

namespace loom::test {

// `t` with every element converted to `dtype` (as `cast` does).
inline Tensor converted(const Tensor& t, DType dtype) {
  Tensor out(dtype, t.shape());
  for (int64_t i = 0; i < t.numel(); ++i)
    store_from_double(dtype, out.raw_data(), i, t.at(i));
  return out;
}

// Uniform values in [-1, 1) rounded to `dtype`.
inline Tensor random_tensor(DType dtype, const Shape& shape, std::mt19937& rng) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Tensor out(dtype, shape);
  for (int64_t i = 0; i < out.numel(); ++i)
    store_from_double(dtype, out.raw_data(), i, uniform(rng));
  return out;
}

// A numpy reference case and the dtypes it runs in: cases with inputs exactly
// representable in f16 or bf16 run in that dtype.
struct ReferenceCase {
  std::string name;
  std::vector<DType> dtypes;
};

// One rounding of the exact result, with slack for the reference's own rounding.
inline Tolerance reference_tolerance(DType dtype) {
  switch (dtype) {
  case DType::F64:
    return {1e-12, 1e-12};
  case DType::F32:
    return {1e-6, 1e-7};
  case DType::F16:
    return {1e-3, 1e-5};
  default:
    return {8e-3, 1e-5}; // bf16
  }
}

// `attrs` with one more attribute.
inline Attrs with_attr(Attrs attrs, const std::string& name, AttrValue value) {
  attrs.set(name, std::move(value));
  return attrs;
}

// tests/data/interp_conv/<case_name>/<array>.npy
inline Tensor load_case_array(const std::string& case_name, const std::string& array) {
  return load_test_npy("interp_conv/" + case_name + "/" + array);
}

// The case's attrs.npy (field order documented in gen_conv_refs.py).
inline std::vector<int64_t> load_case_attrs(const std::string& case_name) {
  return load_case_array(case_name, "attrs").to_vector<int64_t>();
}

// Appends `op` to `fn` with result types from the op's shape rule; returns result 0.
inline ir::Value* append_inferred(ir::Function& fn, Op op, const std::vector<ir::Value*>& operands,
                                  const Attrs& attrs = {}) {
  std::vector<TensorType> types;
  for (const ir::Value* v : operands)
    types.push_back(v->type());
  return fn.append(op, operands, attrs, infer_types(op, types, attrs))->result(0);
}

// sum(a * b) over all elements, as a scalar.
inline ir::Value* append_inner_product(ir::Function& fn, ir::Value* a, ir::Value* b) {
  ir::Value* product = append_inferred(fn, Op::Mul, {a, b});
  std::vector<int64_t> all_axes;
  for (int64_t d = 0; d < product->type().rank(); ++d)
    all_axes.push_back(d);
  return append_inferred(fn, Op::ReduceSum, {product},
                         Attrs{{"axes", all_axes}, {"keepdims", false}});
}

// A module with one function "main" and the given parameters, for building by hand.
struct FunctionUnderTest {
  std::unique_ptr<ir::Module> module = std::make_unique<ir::Module>();
  ir::Function* fn = module->add_function("main");

  ir::Value* param(const std::string& name, const Tensor& example) {
    return fn->add_param(name, example.type());
  }
};

} // namespace loom::test
