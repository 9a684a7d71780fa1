// Memory planning: every intermediate of a scheduled function gets a byte offset in
// one arena. Parameters live in the caller's input buffers, constants in the
// executable's constant pool; outputs are intermediates the executable copies out,
// except outputs that alias (update) a parameter, which are written into that
// parameter's buffer when that is safe. Storage model: passes/storage.h.
//
// Sharing rules the code generator must honour:
//  - views: a reshape is no kernel; its result is its operand's bytes (same offset, or
//    the same parameter/constant buffer);
//  - reuses: a loop fusion or elementwise op writes a result into the buffer of an
//    operand that dies there (same type; every element is read before it is written);
//  - in_place_params: an output is written into the buffer of the parameter it
//    updates; the writer is a loop fusion or elementwise op reading the parameter
//    elementwise, or does not read it at all, and every other reader runs before it.
//
// The plan-memory pass annotates every planned top-level node with `arena_offset`
// (int; `arena_offsets` for several results, -1 where a result is not in the arena)
// and `in_place_param` (the updated parameter's name) so the plan shows in the IR
// text; plan_memory() on the final function returns the same plan (it is a
// deterministic function of the nodes and their order), which is how C++ callers (the
// code generator) get it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "ir/ir.h"

namespace loom::passes {

inline constexpr int64_t kBufferAlignment = 64;

struct MemoryPlan {
  int64_t arena_bytes = 0;       // size of the arena (max offset + size over buffers)
  int64_t lower_bound_bytes = 0; // max over schedule steps of simultaneously live bytes
  int64_t naive_bytes = 0;       // sum of all intermediate sizes (no reuse)
  // Arena offset of every value that needs an arena buffer (results of top-level
  // non-parameter, non-constant nodes), views of arena buffers included.
  std::unordered_map<const ir::Value*, int64_t> offsets;
  // Values written directly into a parameter's buffer (in-place update): value -> param index.
  std::unordered_map<const ir::Value*, int> in_place_params;
  // Reshape results -> their operand: the same bytes (also when the operand is a
  // parameter or constant: then the view has no offset either).
  std::unordered_map<const ir::Value*, const ir::Value*> views;
  // Results written over an operand that dies at their node -> that operand.
  std::unordered_map<const ir::Value*, const ir::Value*> reuses;

  // "arena_bytes=A lower_bound_bytes=L naive_bytes=N"
  std::string report() const;
};

// Plans the function in its current node order (run `schedule` first). All sizes are
// rounded up to kBufferAlignment; lower_bound_bytes and naive_bytes count arena
// buffers only (after views, reuses and in-place parameter updates are decided).
// Packing tries several buffer orders, each with first-fit and best-fit placement,
// and keeps the smallest arena.
MemoryPlan plan_memory(const ir::Function& fn);

// Independent checker: every value that needs storage has exactly one home; views,
// reuses and in-place updates are legal; no two buffers that are live at the same time
// overlap; every buffer fits in the arena and is aligned; the reported lower bound is
// the one the liveness implies. Throws Error(Internal) naming the values on violation.
void check_memory_plan(const ir::Function& fn, const MemoryPlan& plan);

// The plan-memory pass: plans, checks and annotates (see above). Returns true if an
// annotation changed.
bool annotate_memory_plan(ir::Function& fn);

} // namespace loom::passes
