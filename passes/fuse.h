#pragma once

#include <string_view>

#include "ir/ir.h"

namespace loom::passes {

// Fusion: replaces groups of top-level nodes by `fusion` nodes whose nested body
// computes the group (rules in passes/fusion_plan.h and passes/README.md). Body
// parameters p0..pN are the fusion's operands in order (for a contraction, p0 and p1
// are the matmul/conv2d operands); body outputs are the node's results. Fusion nodes
// already present are left alone. Returns true if anything changed.
bool fuse(ir::Function& fn);

// Whether `node` is a fusion node of the given kind: "loop", "reduction" or "contraction".
bool is_fusion_of_kind(const ir::Node& node, std::string_view kind);

// Whether a top-level node is a kernel launch of its own: anything but parameters,
// constants (the constant pool) and reshapes (views of their operand's bytes).
bool is_kernel(const ir::Node& node);
// The number of kernels the function launches.
int count_kernels(const ir::Function& fn);

} // namespace loom::passes
