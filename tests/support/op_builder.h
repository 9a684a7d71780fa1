// Concise construction of single-op test functions.
#pragma once

#include <memory>
#include <vector>

#include "ir/ir.h"

namespace loom::test {

// A module holding one function "main": parameters x0, x1, ... of the given types, one
// node of `op` with `attrs` (result types from infer_types, so a bad combination throws
// the same Error a builder would), and its first result as the output "out".
std::unique_ptr<ir::Module> single_op_module(Op op, const std::vector<TensorType>& operand_types,
                                             const Attrs& attrs = {});

// The function "main" of a module made by single_op_module.
const ir::Function& main_function(const ir::Module& module);

} // namespace loom::test
