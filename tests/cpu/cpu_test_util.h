// Differential testing of the CPU backend against the reference interpreter.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "runtime/tensor.h"

namespace loom::test {

// Inputs for fn's parameters: floats uniform in [lo, hi], integers uniform in
// [int_lo, int_hi], bools fair coins. Deterministic in `seed`.
struct InputDomain {
  double lo = -2.0, hi = 2.0;
  int64_t int_lo = -5, int_hi = 5;
};
std::vector<Tensor> random_inputs(const ir::Function& fn, uint64_t seed,
                                  const InputDomain& domain = {});

// Runs fn on the interpreter and on the CPU backend with the same inputs and returns
// "" if every output agrees within tolerance (bitwise for non-float outputs), else a
// description of the first mismatch.
std::string compare_cpu_with_interp(const ir::Function& fn, const std::vector<Tensor>& inputs,
                                    double rtol, double atol);

// The arguments of each call to `callee` in LLVM IR text, in order ("i32 0", "ptr %5").
std::vector<std::vector<std::string>> call_arguments(const std::string& llvm_ir,
                                                     const std::string& callee);

} // namespace loom::test
