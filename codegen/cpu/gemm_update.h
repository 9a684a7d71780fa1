// GEMM updates: an elementwise node computing out = beta P + alpha (A B), whose product
// comes from a matmul (or a contraction fusion that only scales its matmul) read
// nowhere else, runs as one GEMM accumulating into out (BLAS alpha and beta) instead of
// a GEMM into a temporary plus a loop kernel. The SGD step W - lr (X^T dY) becomes a
// GEMM into W, in place when W is donated.
#pragma once

#include <optional>

#include "ir/ir.h"

namespace loom::codegen {

struct GemmUpdate {
  const ir::Node* product = nullptr;     // matmul node or contraction fusion computing s (A B)
  const ir::Node* matmul = nullptr;      // the matmul itself (inside the fusion's body, or product)
  const ir::Value* accumulator = nullptr; // P: an operand of the update node
  double alpha = 1.0, beta = 1.0;
  // The outer function's values the matmul reads (A, B).
  const ir::Value* a = nullptr;
  const ir::Value* b = nullptr;
};

// `update` is a node of the outer function (a loop fusion or a plain add/sub).
std::optional<GemmUpdate> match_gemm_update(const ir::Node& update);

} // namespace loom::codegen
