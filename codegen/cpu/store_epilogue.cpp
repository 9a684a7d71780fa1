#include "codegen/cpu/store_epilogue.h"

#include <algorithm>

#include "passes/rewrite_util.h"
#include "runtime/cpu/gemm.h"

namespace loom::codegen {

namespace {

using Kind = cpu::GemmEpilogue::Kind;

// The index of v among the body's parameters other than the contraction result, or -1.
int operand_index(const ir::Function& body, const ir::Value* v) {
  const auto& params = body.params();
  auto it = std::find(params.begin(), params.end() - 1, v);
  return it == params.end() - 1 ? -1 : static_cast<int>(it - params.begin());
}

// add(acc, bias) or add(bias, acc) with bias an f32 parameter of n values ([n] or
// [1, n]), broadcast over C's rows: the bias's parameter index, or -1.
int bias_of(const ir::Function& body, const ir::Value* v, const ir::Value* acc) {
  const ir::Node& add = *v->def();
  if (add.op() != Op::Add) return -1;
  const ir::Value* other = add.operand(0) == acc   ? add.operand(1)
                           : add.operand(1) == acc ? add.operand(0)
                                                   : nullptr;
  if (!other || other->dtype() != DType::F32) return -1;
  int64_t n = acc->shape()[1];
  if (other->shape() != Shape{n} && other->shape() != Shape{1, n}) return -1;
  return operand_index(body, other);
}

} // namespace

std::optional<StoreEpilogue> match_store_epilogue(const ir::Function& body) {
  if (body.params().empty() || body.outputs().size() != 1) return std::nullopt;
  const ir::Value* acc = body.params().back();
  const ir::Value* out = body.outputs()[0].value;
  if (acc->dtype() != DType::F32 || acc->rank() != 2 || out->type() != acc->type())
    return std::nullopt;
  const ir::Node& last = *out->def();
  if (last.op() == Op::Relu) {
    const ir::Value* x = last.operand(0);
    if (x == acc) return StoreEpilogue{Kind::kRelu};
    if (int bias = bias_of(body, x, acc); bias >= 0) return StoreEpilogue{Kind::kBiasRelu, bias};
    return std::nullopt;
  }
  if (int bias = bias_of(body, out, acc); bias >= 0) return StoreEpilogue{Kind::kBias, bias};
  if (last.op() == Op::Select && last.operand(1) == acc) {
    const ir::Value* mask = last.operand(0);
    std::optional<double> fill = passes::splat_value(last.operand(2));
    int index = operand_index(body, mask);
    if (index >= 0 && fill && mask->dtype() == DType::Bool && mask->shape() == acc->shape())
      return StoreEpilogue{Kind::kSelect, index, *fill};
  }
  return std::nullopt;
}

} // namespace loom::codegen
