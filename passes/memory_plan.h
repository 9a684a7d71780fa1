// Memory planning: every intermediate of a scheduled function gets a byte offset in
// one arena. Parameters live in the caller's input buffers, constants in the
// executable's constant pool; outputs are intermediates the executable copies out,
// except outputs that alias (update) a parameter, which are written into that
// parameter's buffer when that is safe.
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
  // non-parameter, non-constant nodes).
  std::unordered_map<const ir::Value*, int64_t> offsets;
  // Values written directly into a parameter's buffer (in-place update): value -> param index.
  std::unordered_map<const ir::Value*, int> in_place_params;

  // "arena_bytes=A lower_bound_bytes=L naive_bytes=N"
  std::string report() const;
};

// Plans the function in its current node order (run `schedule` first).
MemoryPlan plan_memory(const ir::Function& fn);

// Independent checker: no two buffers that are live at the same time overlap, every
// buffer fits in the arena and is aligned. Throws Error(Internal) naming the two
// values on violation.
void check_memory_plan(const ir::Function& fn, const MemoryPlan& plan);

} // namespace loom::passes
