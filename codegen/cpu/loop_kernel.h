// Loop kernels: a group of elementwise, data-movement and reduction ops (a fusion
// body, or one op wrapped as a body) becomes one LLVM function
//
//   void kernel(ptr buffers, i64 begin, i64 end)
//
// that computes rows [begin, end) of the group's output index space. buffers[i] is
// the i-th body parameter, then the outputs in order. The body is target-neutral: it
// is a function of the output index, and the loops around it are the CPU's; a GPU
// target would take the index from its grid coordinates instead.
#pragma once

#include <llvm/IR/Module.h>

#include <string>

#include "ir/ir.h"

namespace loom::codegen {

struct LoopKernel {
  llvm::Function* function = nullptr;
  int64_t rows = 0;   // size of the parallel row space
  int64_t chunks = 1; // fixed split of the rows over threads
  // The kernel may set the module's i32 "loom.error_flag" (an index out of range).
  bool can_fail = false;
};

// Whether every node of the body can be lowered by emit_loop_kernel (op, dtypes,
// all outputs sharing one shape). Otherwise the group runs on the interpreter.
bool can_lower_loop_body(const ir::Function& body);

// Whether loop kernels compute this elementwise op natively.
bool has_scalar_lowering(Op op);

// Whether a loop kernel body can hold this op (for dtypes it lowers).
bool loop_kernel_computes(Op op);

// Convolutions with at most this many filter taps per output (input channels per group
// x kernel height x kernel width) are computed inside loop kernels, unrolled and fused
// with their epilogue; larger ones call the runtime's im2col + GEMM (docs/cpu.md).
constexpr int64_t kDirectConvTaps = 32;

// Whether a node is a conv2d (f32/f64) with at most kDirectConvTaps taps.
bool is_small_conv(const ir::Node& n);

// Whether loop kernels compute this node as a direct convolution: a small conv2d
// without padding (prepare_for_cpu gives padded small ones a zero-padded input).
bool is_direct_conv(const ir::Node& n);

LoopKernel emit_loop_kernel(llvm::Module& module, const std::string& name,
                            const ir::Function& body);

} // namespace loom::codegen
