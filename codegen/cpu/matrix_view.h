// Matrix views: a matmul operand that is only a re-indexing of another value's buffer
// (a transpose, a slice of whole rows, a reshape dropping unit axes, or a fusion of
// those) is read in place through the GEMM's transpose flag, leading dimension and a
// pointer offset instead of being copied into a buffer of its own. An unrolled RNN's
// weight gradient reads each step's input x[:, t, :]ᵀ straight from x this way.
#pragma once

#include <cstdint>
#include <optional>

#include "ir/ir.h"

namespace loom::codegen {

// Element (i, j) of the viewed matrix is source[offset + i * ld + j], or
// source[offset + j * ld + i] when transposed. For a batched transpose (rank > 2, the
// last two axes swapped) offset is 0 and ld is 0 (dense).
struct MatrixView {
  const ir::Value* source = nullptr;
  int64_t offset = 0;
  int64_t ld = 0; // 0: dense
  bool transposed = false;
};

// The view result `v` is, if its node only re-indexes one operand (f32/f64).
std::optional<MatrixView> matrix_view(const ir::Value* v);

} // namespace loom::codegen
