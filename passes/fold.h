#pragma once

#include <cstdint>

#include "ir/ir.h"

namespace loom::passes {

// Constant folding: a node whose operands are all constants is evaluated with the
// reference interpreter's kernel for its op (runtime/interp/kernels.h) and replaced
// by a constant holding the result. Limits:
//  - nodes without operands (iota) are not folded: they are cheaper to compute than
//    to store, and fusion inlines them;
//  - no operand or result may exceed kMaxFoldElements elements, so folding never
//    materializes a huge tensor (broadcast_to(scalar, [4096, 4096]) stays as it is)
//    nor spends long at compile time;
//  - a fold may not store more elements than its operands hold: broadcasts, pads and
//    broadcasting arithmetic on constants stay computed (fusion makes them free), so
//    folding never grows the constant data;
//  - random ops with a constant seed ARE folded (within the size cap, the one exception to the
//  growth rule): they are pure
//    functions of the seed (counter-based Philox), so the constant is what every run
//    would compute;
//  - a kernel that fails (integer division by zero) leaves the node alone, so the error
//    still surfaces at run time, where the user expects it.
// Returns true if anything changed.
inline constexpr int64_t kMaxFoldElements = int64_t{1} << 16;
bool fold_constants(ir::Function& fn);

} // namespace loom::passes
