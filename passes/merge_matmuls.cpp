#include "passes/merge_matmuls.h"

#include <map>
#include <vector>

#include "ir/builder.h"
#include "passes/dce.h"
#include "passes/rewrite_util.h"

namespace loom::passes {

namespace {

// matmul(reshape(slice(X)), W): X, the slice and the product's row count.
struct RowBlockProduct {
  ir::Node* matmul;
  const ir::Node* slice;
  int64_t rows;
};

// Largest row space whose coverage is checked element by element.
constexpr int64_t kMaxRows = 1 << 22;

// The slice node if `a` (a matmul's left operand, [m, K]) is reshape(slice(X)) taking
// whole rows of X: unit steps, in range, the last axis entire.
const ir::Node* row_block_slice(const ir::Value* a) {
  const ir::Node* reshape = a->def();
  if (reshape->op() != Op::Reshape) return nullptr;
  const ir::Node* slice = reshape->operand(0)->def();
  if (slice->op() != Op::Slice) return nullptr;
  const Shape& x = slice->operand(0)->shape();
  const auto& start = slice->attrs().get_ints("slice", "start");
  const auto& stop = slice->attrs().get_ints("slice", "stop");
  const auto& step = slice->attrs().get_ints("slice", "step");
  if (x.size() < 2 || x.back() != a->shape()[1]) return nullptr;
  for (size_t d = 0; d < x.size(); ++d)
    if (step[d] != 1 || start[d] < 0 || stop[d] > x[d] || start[d] >= stop[d]) return nullptr;
  if (start.back() != 0 || stop.back() != x.back()) return nullptr;
  return slice;
}

// Whether the slices' row boxes cover every row of X exactly once.
bool partitions_rows(const Shape& x, const std::vector<RowBlockProduct>& group) {
  int64_t rows = shape_numel(x) / x.back(), covered = 0;
  for (const RowBlockProduct& p : group)
    covered += p.rows;
  if (covered != rows || rows > kMaxRows) return false;
  std::vector<char> seen(static_cast<size_t>(rows), 0);
  Shape outer(x.begin(), x.end() - 1);
  for (const RowBlockProduct& p : group) {
    const auto& start = p.slice->attrs().get_ints("slice", "start");
    const auto& stop = p.slice->attrs().get_ints("slice", "stop");
    std::vector<int64_t> idx(start.begin(), start.end() - 1);
    for (int64_t n = 0; n < p.rows; ++n) {
      int64_t linear = 0;
      for (size_t d = 0; d < outer.size(); ++d)
        linear = linear * outer[d] + idx[d];
      if (seen[linear]++) return false;
      for (int64_t d = static_cast<int64_t>(outer.size()) - 1; d >= 0; --d) { // next row of the box
        if (++idx[d] < stop[d]) break;
        idx[d] = start[d];
      }
    }
  }
  return true;
}

void merge(ir::Function& fn, const std::vector<RowBlockProduct>& group) {
  ir::Node* first = group.front().matmul;
  for (const RowBlockProduct& p : group)
    if (fn.index_of(p.matmul) < fn.index_of(first)) first = p.matmul;
  ir::Builder b(fn, first);
  b.set_loc(first->loc());
  ir::Value* x = group.front().slice->operand(0);
  ir::Value* w = first->operand(1);
  const Shape& xs = x->shape();
  int64_t k = xs.back(), n = w->shape()[1];
  ir::Value* flat =
      b.op(Op::Reshape, {x}, {{"shape", std::vector<int64_t>{shape_numel(xs) / k, k}}});
  Shape product_shape(xs.begin(), xs.end() - 1);
  product_shape.push_back(n);
  ir::Value* product = b.op(Op::Reshape, {b.op(Op::MatMul, {flat, w})}, {{"shape", product_shape}});
  for (const RowBlockProduct& p : group) {
    ir::Builder at(fn, p.matmul);
    at.set_loc(p.matmul->loc());
    auto start = p.slice->attrs().get_ints("slice", "start");
    auto stop = p.slice->attrs().get_ints("slice", "stop");
    stop.back() = n;
    ir::Value* rows =
        at.op(Op::Slice, {product},
              {{"start", start}, {"stop", stop}, {"step", std::vector<int64_t>(start.size(), 1)}});
    replace_value(p.matmul->result(),
                  at.op(Op::Reshape, {rows}, {{"shape", p.matmul->result()->shape()}}));
  }
}

} // namespace

bool merge_matmuls(ir::Function& fn) {
  // (X, W) -> the products of row blocks of X by W.
  std::map<std::pair<const ir::Value*, const ir::Value*>, std::vector<RowBlockProduct>> groups;
  for (const auto& node : fn.nodes()) {
    if (node->op() != Op::MatMul || node->operand(0)->rank() != 2 || node->operand(1)->rank() != 2)
      continue;
    const ir::Node* slice = row_block_slice(node->operand(0));
    if (!slice) continue;
    groups[{slice->operand(0), node->operand(1)}].push_back(
        {node.get(), slice, node->operand(0)->shape()[0]});
  }
  bool changed = false;
  for (const auto& [key, group] : groups) {
    if (group.size() < 2 || !partitions_rows(key.first->shape(), group)) continue;
    merge(fn, group);
    changed = true;
  }
  if (changed) eliminate_dead_code(fn);
  return changed;
}

} // namespace loom::passes
