// Helpers for the source, elementwise, reduction and matmul interpreter tests:
// - the numpy reference cases of tests/data/interp/ (written by
//   tests/data/gen_interp_refs.py, whose docstring describes the layout): each case
//   directory "<op>__<tag>" becomes a single-op function checked with check_function;
// - running one op directly and catching the loom::Error it throws.
#pragma once

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ir/error.h"
#include "ir/op.h"
#include "runtime/interp/interpreter.h"
#include "runtime/npy.h"
#include "tests/support/op_builder.h"
#include "tests/support/op_test.h"
#include "tests/support/test_support.h"

namespace loom::test::interp_refs {

struct RefCase {
  std::string name;
  Op op;
  std::vector<Tensor> inputs;
  Tensor expected;
  Attrs attrs;
};

inline std::filesystem::path cases_dir() { return source_path("tests/data/interp"); }

// The op of a case directory "<op>__<tag>"; nullopt for other directories (random/).
inline std::optional<Op> case_op(const std::string& case_name) {
  size_t split = case_name.find("__");
  if (split == std::string::npos) return std::nullopt;
  return parse_op(case_name.substr(0, split));
}

// Names of the case directories whose op satisfies `wanted`, sorted.
inline std::vector<std::string> case_names(const std::function<bool(Op)>& wanted) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(cases_dir())) {
    std::string name = entry.path().filename().string();
    std::optional<Op> op = case_op(name);
    if (op && wanted(*op)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// attr_<name>.npy: 1-d int64 -> int list, int64 scalar -> int, bool scalar -> bool.
inline AttrValue attr_from_tensor(const Tensor& t, const std::string& file) {
  if (t.dtype() == DType::I64 && t.rank() == 1) return t.to_vector<int64_t>();
  if (t.dtype() == DType::I64 && t.rank() == 0) return t.data<int64_t>()[0];
  if (t.dtype() == DType::Bool && t.rank() == 0) return t.data<bool>()[0];
  throw std::runtime_error("reference attribute file " + file + " has unexpected type " +
                           t.type().str());
}

inline RefCase load_case(const std::string& name) {
  std::filesystem::path dir = cases_dir() / name;
  RefCase c{name, *case_op(name), {}, read_npy((dir / "out.npy").string()), {}};
  for (int i = 0; std::filesystem::exists(dir / ("x" + std::to_string(i) + ".npy")); ++i)
    c.inputs.push_back(read_npy((dir / ("x" + std::to_string(i) + ".npy")).string()));
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string file = entry.path().filename().string();
    if (file.rfind("attr_", 0) != 0) continue;
    std::string attr = file.substr(5, file.size() - 5 - 4); // attr_<name>.npy
    c.attrs.set(attr, attr_from_tensor(read_npy(entry.path().string()), file));
  }
  // Ops whose result dtype is an attribute take it from the expected output.
  if (c.op == Op::Cast || c.op == Op::Iota) c.attrs.set("dtype", c.expected.dtype());
  return c;
}

// References are float64 results rounded once. Kernels match them exactly except where
// the result goes through libm in the dtype itself, f16/bf16 arithmetic rounds twice
// (to f32, then to the dtype), or a sum runs in another order than numpy's; there an
// ulp or so of difference is allowed.
inline bool may_differ_in_last_bits(Op op, DType dtype) {
  if (has_trait(op, kFloatOnly) && op != Op::Floor && op != Op::Ceil) return true;
  if (op == Op::Pow || op == Op::ReduceSum || op == Op::ReduceProd || op == Op::MatMul) return true;
  bool narrow = dtype == DType::F16 || dtype == DType::BF16;
  return narrow && (op == Op::Add || op == Op::Sub || op == Op::Mul || op == Op::Div);
}

inline Tolerance tolerance_for(Op op, DType dtype) {
  if (!may_differ_in_last_bits(op, dtype)) return {0, 0};
  switch (dtype) {
  case DType::F32:
    return {1e-6, 1e-6};
  case DType::F64:
    return {1e-12, 1e-12};
  case DType::F16:
    return {2e-3, 1e-3};
  case DType::BF16:
    return {1e-2, 1e-2};
  default:
    return {0, 0}; // integer results are exact
  }
}

inline void run_case(const RefCase& c) {
  std::vector<TensorType> types;
  for (const Tensor& t : c.inputs)
    types.push_back(t.type());
  auto module = single_op_module(c.op, types, c.attrs);
  check_function(main_function(*module), c.inputs, {c.expected},
                 tolerance_for(c.op, c.expected.dtype()));
}

// Runs every case whose op satisfies `wanted`, each in its own section. Every such op
// must have at least one case, so a missing or half-generated data directory cannot
// pass vacuously.
inline void run_cases(const std::function<bool(Op)>& wanted) {
  std::vector<std::string> names = case_names(wanted);
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    if (!wanted(op)) continue;
    INFO("op " << op_name(op));
    CHECK(std::any_of(names.begin(), names.end(),
                      [&](const std::string& n) { return case_op(n) == op; }));
  }
  for (const std::string& name : names) {
    DYNAMIC_SECTION(name) { run_case(load_case(name)); }
  }
}

// Evaluates a single-op function on `inputs` (types taken from the inputs).
inline Tensor eval_op(Op op, const std::vector<Tensor>& inputs, const Attrs& attrs = {}) {
  std::vector<TensorType> types;
  for (const Tensor& t : inputs)
    types.push_back(t.type());
  auto module = single_op_module(op, types, attrs);
  return interp::evaluate(main_function(*module), inputs).at(0);
}

// The loom::Error thrown by `fn`; fails the test if it throws nothing or something else.
template <typename Fn> Error thrown_error(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected a loom::Error");
  throw std::logic_error("unreachable");
}

} // namespace loom::test::interp_refs
