#pragma once

#include <cstdint>
#include <vector>

#include "ir/ir.h"

namespace loom::passes {

// Scheduling: reorders the top-level nodes into a deterministic topological order that
// keeps the peak of live buffer bytes low (storage model: passes/storage.h). Candidates
// are the current order, a greedy list schedule (among ready nodes, the one freeing
// the most bytes net of what it allocates; ties in program order) and a depth-first
// post-order from the outputs; the one with the lowest peak wins (ties: that order).
// Every candidate runs each parameter update (an output aliasing a parameter) after
// the parameter's other readers where possible, so memory planning can write the update
// into the parameter's buffer. Returns true if the order changed.
bool schedule(ir::Function& fn);

// Peak live bytes of the function in its current order, under the same model (what
// the scheduler minimizes; memory planning's lower bound refines it).
int64_t estimate_peak_bytes(const ir::Function& fn);

} // namespace loom::passes
