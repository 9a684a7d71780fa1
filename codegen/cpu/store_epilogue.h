// Contraction-fusion epilogues that loom's GEMM applies in registers as it stores C
// (runtime/cpu/gemm.h, cpu::GemmEpilogue): a bias, a ReLU, both, or the ReLU
// gradient's select. Any other epilogue runs as a loop kernel over C after the GEMM.
#pragma once

#include <cstdint>
#include <optional>

#include "ir/ir.h"

namespace loom::codegen {

struct StoreEpilogue {
  int32_t kind = 0; // a cpu::GemmEpilogue::Kind
  int operand = -1; // the body parameter holding the bias or the mask (-1: none)
  double fill = 0;  // kSelect: the value where the mask is false
};

// body: the epilogue as lower_contraction builds it, the fusion's parameters followed
// by the contraction result (a rank-2 f32 matmul), and one output.
std::optional<StoreEpilogue> match_store_epilogue(const ir::Function& body);

} // namespace loom::codegen
