#include "codegen/cpu/matrix_view.h"

#include <vector>

#include "passes/fuse.h"

namespace loom::codegen {

namespace {

// A strided layout over a source buffer: element idx sits at offset + sum idx[d] * strides[d].
struct Layout {
  int64_t offset = 0;
  Shape shape;
  std::vector<int64_t> strides;
};

Layout dense(const Shape& shape) {
  Layout l{0, shape, std::vector<int64_t>(shape.size())};
  int64_t stride = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    l.strides[d] = stride;
    stride *= shape[d];
  }
  return l;
}

bool apply(const ir::Node& n, Layout& l) {
  switch (n.op()) {
  case Op::Slice: {
    const auto& start = n.attrs().get_ints("slice", "start");
    const auto& step = n.attrs().get_ints("slice", "step");
    for (size_t d = 0; d < l.shape.size(); ++d) {
      if (start[d] < 0 || step[d] < 1) return false;
      l.offset += start[d] * l.strides[d];
      l.strides[d] *= step[d];
    }
    l.shape = n.result()->shape();
    return true;
  }
  case Op::Transpose: {
    const auto& perm = n.attrs().get_ints("transpose", "perm");
    std::vector<int64_t> strides(perm.size());
    for (size_t d = 0; d < perm.size(); ++d)
      strides[d] = l.strides[perm[d]];
    l.strides = strides;
    l.shape = n.result()->shape();
    return true;
  }
  case Op::Reshape: { // only adding or dropping unit axes
    std::vector<int64_t> kept_strides;
    Shape kept;
    for (size_t d = 0; d < l.shape.size(); ++d)
      if (l.shape[d] != 1) {
        kept.push_back(l.shape[d]);
        kept_strides.push_back(l.strides[d]);
      }
    const Shape& out = n.result()->shape();
    Layout r{l.offset, out, std::vector<int64_t>(out.size(), 0)};
    size_t next = 0;
    for (size_t d = 0; d < out.size(); ++d) {
      if (out[d] == 1) continue;
      if (next >= kept.size() || kept[next] != out[d]) return false;
      r.strides[d] = kept_strides[next++];
    }
    if (next != kept.size()) return false;
    l = r;
    return true;
  }
  default:
    return false;
  }
}

// A rank-2 layout with one unit stride, as a view.
std::optional<MatrixView> as_view(const ir::Value* source, const Layout& l) {
  int64_t rows = l.shape[0], cols = l.shape[1];
  if ((cols == 1 || l.strides[1] == 1) && (rows == 1 || l.strides[0] >= cols))
    return MatrixView{source, l.offset, rows == 1 ? cols : l.strides[0], false};
  if ((rows == 1 || l.strides[0] == 1) && (cols == 1 || l.strides[1] >= rows))
    return MatrixView{source, l.offset, cols == 1 ? rows : l.strides[1], true};
  return std::nullopt;
}

// A transpose of the last two axes (any rank), or a loop fusion whose body is one.
std::optional<MatrixView> batched_transpose(const ir::Node& node) {
  const ir::Node* t = &node;
  if (node.op() == Op::Fusion) {
    t = nullptr;
    for (const auto& inner : node.body()->nodes()) {
      if (inner->op() == Op::Parameter) continue;
      if (t) return std::nullopt;
      t = inner.get();
    }
    if (!t || node.num_operands() != 1) return std::nullopt;
  }
  if (t->op() != Op::Transpose) return std::nullopt;
  const auto& perm = t->attrs().get_ints("transpose", "perm");
  int64_t r = static_cast<int64_t>(perm.size());
  bool swaps_last_two = r >= 2 && perm[r - 1] == r - 2 && perm[r - 2] == r - 1;
  for (int64_t d = 0; d + 2 < r; ++d)
    swaps_last_two = swaps_last_two && perm[d] == d;
  if (!swaps_last_two) return std::nullopt;
  return MatrixView{node.operand(0), 0, 0, true};
}

} // namespace

std::optional<MatrixView> matrix_view(const ir::Value* v) {
  DType dt = v->dtype();
  if (dt != DType::F32 && dt != DType::F64) return std::nullopt;
  const ir::Node& node = *v->def();
  if (node.num_results() == 1)
    if (std::optional<MatrixView> t = batched_transpose(node)) return t;
  if (v->rank() != 2) return std::nullopt;
  // The chain of re-indexing ops from v back to the value they read: outer nodes and
  // the bodies of loop fusions (a body parameter stands for the fusion's operand).
  std::vector<const ir::Node*> chain;
  const ir::Value* at = v;
  for (;;) {
    const ir::Node& n = *at->def();
    if (passes::is_fusion_of_kind(n, "loop")) {
      const ir::Value* inner = n.body()->outputs()[at->result_index()].value;
      while (inner->def()->op() != Op::Parameter) {
        const ir::Node& b = *inner->def();
        if (b.num_operands() != 1 ||
            (b.op() != Op::Slice && b.op() != Op::Reshape && b.op() != Op::Transpose))
          return std::nullopt;
        chain.push_back(&b);
        inner = b.operand(0);
      }
      const auto& params = n.body()->params();
      size_t i = 0;
      while (params[i] != inner)
        ++i;
      at = n.operand(static_cast<int>(i));
    } else if (n.num_operands() == 1 &&
               (n.op() == Op::Slice || n.op() == Op::Reshape || n.op() == Op::Transpose)) {
      chain.push_back(&n);
      at = n.operand(0);
    } else {
      break;
    }
  }
  if (chain.empty() || at->dtype() != dt) return std::nullopt;
  Layout l = dense(at->shape());
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    if (!apply(**it, l)) return std::nullopt;
  return as_view(at, l);
}

} // namespace loom::codegen
