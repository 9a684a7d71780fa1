// GEMM accumulations: a sum of matrix products, optionally scaled and added to an
// accumulator, computed by GEMMs that accumulate into one output (BLAS alpha and
// beta) instead of materializing every product and adding them in a loop kernel:
//
//   out = beta P + alpha (A0 B0 + A1 B1 + ...)
//
// Two shapes are recognized:
//  - an update: a loop fusion (or add/sub) of P and a product read nowhere else, e.g.
//    the SGD step W - lr (X^T dY): one GEMM into W, in place when W is donated;
//  - a contraction fusion whose body only sums its matmul and other matmuls' results
//    (read nowhere else), e.g. an unrolled RNN's weight gradient summed over steps.
#pragma once

#include <optional>
#include <vector>

#include "ir/ir.h"

namespace loom::codegen {

struct GemmTerm {
  const ir::Node* matmul = nullptr; // a plain 2-D matmul node
  const ir::Node* fusion = nullptr; // the contraction fusion whose body holds it, or null
  const ir::Value* a = nullptr;     // the outer function's values it reads
  const ir::Value* b = nullptr;
};

struct GemmAccumulation {
  std::vector<GemmTerm> terms;            // accumulated in this order
  double alpha = 1.0;                     // factor of every term
  const ir::Value* accumulator = nullptr; // P, or null (the sum starts from zero)
  double beta = 0.0;                      // factor of P
  std::vector<const ir::Node*> fused;     // outer nodes computed here instead
};

// `node` is a node of the outer function; terms read outer values only.
std::optional<GemmAccumulation> match_gemm_accumulation(const ir::Node& node);

} // namespace loom::codegen
