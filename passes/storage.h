// The storage model shared by scheduling and memory planning (and re-derived
// independently by the memory checker where it matters):
//  - parameters live in the caller's buffers, constants in the constant pool;
//  - every other top-level result is a buffer, except reshape results, which are views
//    of their operand's bytes (a reshape is no kernel);
//  - a buffer is live from the step that writes it to the last step that reads it (or
//    any view of it), or to the end if it (or a view) is a function output.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/ir.h"

namespace loom::passes::storage {

inline constexpr int64_t kAlignment = 64;

// Bytes of a buffer of type t, rounded up to the alignment.
int64_t aligned_bytes(const TensorType& t);

// The value whose buffer v occupies: v itself, or for a reshape result the root of its
// operand.
const ir::Value* root(const ir::Value* v);

// Whether a root needs a buffer of its own (it is computed by a kernel).
bool is_computed(const ir::Value* root);

// Nodes that read the bytes of `root`, directly or through views, in no particular
// order (reshape nodes themselves are not readers: they read nothing at run time).
std::vector<const ir::Node*> byte_readers(const ir::Value* root);

// Whether root or a view of it is a function output.
bool reaches_output(const ir::Value* root);

// Whether `node` may write its result `result` into the buffer it reads as operand
// `operand`: element i of the operand must be read before element i of the result is
// written. True for an elementwise op and for a "loop" fusion whose parameter reaches
// every body output through elementwise ops on its own shape only, when the result has
// the operand's type. Never for reductions and contractions (their kernels may write
// the output before they finish reading).
bool can_overwrite_operand(const ir::Node& node, int operand, int result);

// Roots of node's operands that its result `result` may overwrite: every operand reading
// the root must allow it (can_overwrite_operand). Distinct, in operand order.
std::vector<const ir::Value*> overwritable_roots(const ir::Node& node, int result);

// An output that updates a parameter (Function::output_aliases) and whose producer can
// write it into the parameter's buffer, provided every other reader of the parameter
// runs first. At most one per parameter and per value; in the aliases' order.
struct ParamUpdate {
  const ir::Value* value;
  int param; // index in fn.params()
};
std::vector<ParamUpdate> param_update_candidates(const ir::Function& fn);

} // namespace loom::passes::storage
