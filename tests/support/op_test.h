// The shared op-test fixture. Every op test goes through check_function(), which
//  1. verifies the function,
//  2. round-trips its module through the .loom text format (print -> parse -> print
//     must be identical) and through .loompb (serialize -> parse -> serialize must be
//     identical, and the reparsed module must print the same text),
//  3. runs the original and both reparsed copies on the interpreter and compares every
//     output with `expected` (and the copies with each other, bit for bit).
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"
#include "runtime/tensor.h"

namespace loom::test {

struct Tolerance {
  double rtol = 1e-6;
  double atol = 1e-7;
};

// Uses Catch2 assertions; call from inside a TEST_CASE.
void check_function(const ir::Function& fn, const std::vector<Tensor>& inputs,
                    const std::vector<Tensor>& expected, Tolerance tol = {});

// Only the round trips (for ops whose numerics are tested elsewhere).
void check_round_trips(const ir::Module& module);

// Loads tests/data/<relative>.npy (relative to the source tree).
Tensor load_test_npy(const std::string& relative);

} // namespace loom::test
