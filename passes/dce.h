#pragma once

#include "ir/ir.h"

namespace loom::passes {

// Removes nodes that do not contribute to any output. Returns true if anything changed.
bool eliminate_dead_code(ir::Function& fn);

} // namespace loom::passes
