// The reference interpreter's per-op kernel table. Each op family registers its
// kernels from one file (runtime/interp/<family>.cpp); interpreter.cpp assembles the
// table and fails loudly if an op has no kernel.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "ir/ir.h"
#include "runtime/tensor.h"

namespace loom::interp {

// Computes the node's results from its operand values. Result tensors must have the
// node's result types exactly. Run-time data errors throw Error(RuntimeError).
using Kernel = std::function<std::vector<Tensor>(const ir::Node&, const std::vector<Tensor>&)>;

class KernelTable {
public:
  void add(Op op, Kernel k) { kernels_[static_cast<int>(op)] = std::move(k); }
  const Kernel* find(Op op) const {
    const Kernel& k = kernels_[static_cast<int>(op)];
    return k ? &k : nullptr;
  }

private:
  std::array<Kernel, kNumOps> kernels_;
};

// One registration function per op family.
void register_source_kernels(KernelTable& t);      // constant, iota, random_*
void register_elementwise_kernels(KernelTable& t); // unary, binary, select, cast
void register_reduction_kernels(KernelTable& t);   // reduce_*, argmax, argmin
void register_linalg_kernels(KernelTable& t);      // matmul
void register_layout_kernels(KernelTable& t);      // reshape ... one_hot
void register_conv_kernels(KernelTable& t);        // conv2d*, pooling

const KernelTable& kernel_table();
bool has_interp_kernel(Op op);

} // namespace loom::interp
