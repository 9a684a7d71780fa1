// Small convolutions run inside loop kernels (see is_direct_conv in loop_kernel.h). A
// padded one reads a zero-padded copy of its input instead of testing every tap
// against the border: the copy is a cheap loop kernel of its own, and the convolution's
// loop kernel becomes plain vector loads and multiply-adds.
#pragma once

#include "ir/ir.h"

namespace loom::codegen {

// conv2d(x, w, pads) -> conv2d(pad(x, pads), w, no pads), for direct convolutions.
// Runs before loom's pass pipeline, so that the pad is fused with x's producer.
void pad_direct_convolutions(ir::Function& fn);

} // namespace loom::codegen
