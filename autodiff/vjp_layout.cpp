// VJP rules of the data-movement ops. Each cotangent is the adjoint data movement:
// reshape back, inverse transpose, sum over broadcast axes, slice <-> pad,
// concat -> slices, gather <-> scatter_add.
#include "autodiff/emit.h"
#include "autodiff/vjp_table.h"

namespace loom::autodiff {

namespace {

using namespace emit;
using ir::Node;
using Cotangents = std::vector<Value*>;

const std::vector<int64_t>& ints(const Node& n, const std::string& name) {
  return n.attrs().get_ints(n.name(), name);
}
int64_t axis_of(const Node& n) { return n.attrs().get_int(n.name(), "axis"); }

Cotangents reshape_vjp(Builder& b, const Node& n, Value* g) {
  return {reshape(b, g, n.operand(0)->shape())};
}

Cotangents transpose_vjp(Builder& b, const Node& n, Value* g) {
  const auto& perm = ints(n, "perm");
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[perm[i]] = static_cast<int64_t>(i);
  return {transpose(b, g, inverse)};
}

Cotangents broadcast_to_vjp(Builder& b, const Node& n, Value* g) {
  return {sum_to_shape(b, g, n.operand(0)->shape())};
}

// --- slice and its adjoint ---------------------------------------------------------------

// g reversed along `axis`.
Value* reverse_axis(Builder& b, Value* g, int64_t axis) {
  size_t rank = g->shape().size();
  std::vector<int64_t> start(rank, 0), stop = g->shape(), step(rank, 1);
  start[axis] = g->shape()[axis] - 1;
  stop[axis] = -1;
  step[axis] = -1;
  return slice(b, g, start, stop, step);
}

// g with step - 1 zeros after each element along `axis` (an extent of len * step),
// built as reshape -> pad a new unit axis -> reshape.
Value* interleave_zeros(Builder& b, Value* g, int64_t axis, int64_t step) {
  Shape with_unit_axis = g->shape();
  with_unit_axis.insert(with_unit_axis.begin() + axis + 1, 1);
  std::vector<int64_t> lo(with_unit_axis.size(), 0), hi(with_unit_axis.size(), 0);
  hi[axis + 1] = step - 1;
  Value* padded = pad(b, reshape(b, g, with_unit_axis), lo, hi);
  Shape spread = g->shape();
  spread[axis] *= step;
  return reshape(b, padded, spread);
}

// The adjoint of slicing one axis of extent `dim` at start, start + step, ...: puts
// g's elements (a non-empty extent along `axis`) back at those positions, zeros elsewhere.
Value* unslice_axis(Builder& b, Value* g, int64_t axis, int64_t dim, int64_t start, int64_t step) {
  int64_t len = g->shape()[axis];
  if (step < 0) {
    // A backward read visits the positions a forward read from its last one visits.
    g = reverse_axis(b, g, axis);
    start += (len - 1) * step;
    step = -step;
  }
  int64_t span = (len - 1) * step + 1; // from the first to the last position read
  if (step > 1) g = slice_axis(b, interleave_zeros(b, g, axis, step), axis, 0, span);
  std::vector<int64_t> lo(g->shape().size(), 0), hi(g->shape().size(), 0);
  lo[axis] = start;
  hi[axis] = dim - start - span;
  return pad(b, g, lo, hi);
}

Cotangents slice_vjp(Builder& b, const Node& n, Value* g) {
  Value* x = n.operand(0);
  if (g->type().numel() == 0) return {zeros_like(b, x)};
  const auto& start = ints(n, "start");
  const auto& step = ints(n, "step");
  for (size_t d = 0; d < start.size(); ++d) {
    int64_t dim = x->shape()[d];
    bool whole_axis = start[d] == 0 && step[d] == 1 && g->shape()[d] == dim;
    if (!whole_axis) g = unslice_axis(b, g, static_cast<int64_t>(d), dim, start[d], step[d]);
  }
  return {g};
}

Cotangents pad_vjp(Builder& b, const Node& n, Value* g) {
  const Shape& x_shape = n.operand(0)->shape();
  const auto& lo = ints(n, "pads_lo");
  std::vector<int64_t> stop(x_shape.size()), step(x_shape.size(), 1);
  for (size_t d = 0; d < x_shape.size(); ++d)
    stop[d] = lo[d] + x_shape[d];
  return {slice(b, g, lo, stop, step)};
}

Cotangents concat_vjp(Builder& b, const Node& n, Value* g) {
  int64_t axis = axis_of(n);
  Cotangents pieces;
  int64_t offset = 0;
  for (Value* x : n.operands()) {
    int64_t extent = x->shape()[axis];
    pieces.push_back(slice_axis(b, g, axis, offset, offset + extent));
    offset += extent;
  }
  return pieces;
}

// --- gather and scatter_add: each other's adjoint -------------------------------------------

Cotangents gather_vjp(Builder& b, const Node& n, Value* g) {
  Value* x = n.operand(0);
  Value* indices = n.operand(1);
  Value* dx = b.op(Op::ScatterAdd, {zeros_like(b, x), indices, g}, {{"axis", axis_of(n)}});
  return {dx, nullptr};
}

Cotangents scatter_add_vjp(Builder& b, const Node& n, Value* g) {
  Value* indices = n.operand(1);
  Value* dupdates = b.op(Op::Gather, {g, indices}, {{"axis", axis_of(n)}});
  return {g, nullptr, dupdates};
}

} // namespace

void register_layout_vjps(VjpTable& t) {
  t.define(Op::Reshape, reshape_vjp);
  t.define(Op::Transpose, transpose_vjp);
  t.define(Op::BroadcastTo, broadcast_to_vjp);
  t.define(Op::Slice, slice_vjp);
  t.define(Op::Concat, concat_vjp);
  t.define(Op::Pad, pad_vjp);
  t.define(Op::Gather, gather_vjp);
  t.define(Op::ScatterAdd, scatter_add_vjp);
}

} // namespace loom::autodiff
