// The VJP table: one entry per op of ir/ops.def (internal to autodiff).
//
// The table is assembled in one place (vjp_table.cpp), which also declares the
// non-differentiable ops; the rules themselves live in one file per op family.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/ir.h"

namespace loom::autodiff {

// Builds, with `b`, the cotangent of each operand of `node` from `cotangent`, the
// cotangent of the node's (single) result. Returns one entry per operand, nullptr
// where no gradient flows (integer operands, piecewise-constant dependence). A
// returned cotangent has exactly the operand's type. Rules use only differentiable
// ops on paths from the node's float operands and cotangent to the results, so that
// their output can be differentiated again.
using VjpRule = std::vector<ir::Value*> (*)(ir::Builder& b, const ir::Node& node,
                                            ir::Value* cotangent);

class VjpTable {
public:
  struct Entry {
    VjpRule rule = nullptr;                // differentiable ops
    std::string non_differentiable_reason; // ops through which no gradient flows (zero)
    std::string unsupported_reason;        // ops autodiff refuses to cross (an error)
  };

  // Each op is declared once, in one of the three ways (a second declaration is a bug).
  void define(Op op, VjpRule rule);
  void declare_non_differentiable(Op op, const std::string& reason);
  void declare_unsupported(Op op, const std::string& reason);

  const Entry& operator[](Op op) const { return entries_[static_cast<int>(op)]; }

private:
  Entry& fresh_entry(Op op);
  std::array<Entry, kNumOps> entries_;
};

// The table, built on first use.
const VjpTable& vjp_table();

// Rule registration, one function per op family.
void register_elementwise_vjps(VjpTable& t); // unary, binary, select, cast
void register_reduction_vjps(VjpTable& t);   // reduce_*, matmul
void register_layout_vjps(VjpTable& t);      // reshape ... scatter_add
void register_conv_vjps(VjpTable& t);        // conv2d*, pooling

} // namespace loom::autodiff
