// Small helpers shared by the rewriting passes (simplify, fold, stability, fuse).
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "ir/ir.h"

namespace loom::passes {

// Whether `v` is the result of a `constant` node.
bool is_constant(const ir::Value* v);

// The value every element of `v` has, when `v` is a constant whose elements are all
// equal, possibly seen through broadcast_to/reshape (a "splat"). Only literals of at
// most kMaxSplatScan elements are inspected.
inline constexpr int64_t kMaxSplatScan = 1 << 16;
std::optional<double> splat_value(const ir::Value* v);
bool is_splat(const ir::Value* v, double value);

// Redirects every use of `old_value` (operands and function outputs) to `new_value`;
// a name the old value had carries over to an unnamed new value, so printed IR keeps
// the user's names.
void replace_value(ir::Value* old_value, ir::Value* new_value);

// Applies `rewrite` to every single-result node without a body whose result is used,
// replacing the result by what it returns (nullptr: no change), then removes dead code;
// repeats while something changed, at most `max_rounds` times (each round may expose
// new opportunities; the bound guards against rules that undo each other).
bool rewrite_to_fixed_point(ir::Function& fn, int max_rounds,
                            const std::function<ir::Value*(ir::Node&)>& rewrite);

// Whether the nodes are in SSA order (every operand defined by an earlier node).
bool is_topologically_ordered(const ir::Function& fn);

// A topological order of fn's nodes: parameters first, then Kahn's algorithm picking,
// among the ready nodes, the one with the smallest `priority` (ties: current position).
std::vector<ir::Node*> topological_order(const ir::Function& fn,
                                         const std::function<int64_t(const ir::Node*)>& priority);

// Puts the nodes into SSA order if a rewrite left them out of it, keeping the current
// relative order wherever possible. Returns true if the order changed.
bool restore_topological_order(ir::Function& fn);

} // namespace loom::passes
