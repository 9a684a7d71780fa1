#pragma once

#include "ir/ir.h"

namespace loom::passes {

// Matmuls that multiply row blocks of one tensor by the same matrix become one matmul
// over the whole tensor, each former result a slice of it:
//
//   matmul(reshape(slice(X, rows_i)), W)  ->  slice(matmul(reshape(X, [R, K]), W), rows_i)
//
// when the slices (unit steps, the last axis whole) partition X's rows exactly: the
// merged product does the same arithmetic in one large GEMM instead of many small ones
// (an unrolled RNN's input projections, one per time step). Returns true if anything
// changed.
bool merge_matmuls(ir::Function& fn);

} // namespace loom::passes
