// Interpreter kernels for data movement: reshape, transpose, broadcast_to, slice,
// concat, pad, gather, scatter_add, one_hot (docs/ops.md, "Data movement").
//
// Pure data movement copies elements as raw bytes of the dtype's size, so one loop
// serves every dtype; only pad (its fill value), scatter_add (additions) and one_hot
// (its ones) look at element values.
#include <cstring>
#include <string>
#include <type_traits>

#include "runtime/interp/compute_util.h"
#include "runtime/interp/index_util.h"
#include "runtime/interp/kernels.h"

namespace loom::interp {

namespace {

const std::vector<int64_t>& ints_attr(const ir::Node& node, const std::string& name) {
  return node.attrs().get_ints(node.name(), name);
}

int64_t int_attr(const ir::Node& node, const std::string& name) {
  return node.attrs().get_int(node.name(), name);
}

// A zero-filled tensor of the node's (single) result type.
Tensor make_result(const ir::Node& node) {
  const TensorType& type = node.result(0)->type();
  return Tensor(type.dtype, type.shape);
}

// Copies element `src_index` of `src` to element `dst_index` of `dst` (same dtype).
class ElementCopier {
public:
  ElementCopier(Tensor& dst, const Tensor& src)
      : dst_(static_cast<uint8_t*>(dst.raw_data())),
        src_(static_cast<const uint8_t*>(src.raw_data())), size_(dtype_size(src.dtype())) {}

  void copy(int64_t dst_index, int64_t src_index) const { copy_run(dst_index, src_index, 1); }
  // Copies `count` consecutive elements.
  void copy_run(int64_t dst_index, int64_t src_index, int64_t count) const {
    if (count == 0) return;
    std::memcpy(dst_ + dst_index * size_, src_ + src_index * size_, count * size_);
  }

private:
  uint8_t* dst_;
  const uint8_t* src_;
  size_t size_;
};

// Writes every element of the result by reading `x` through `strides` starting at
// element `base`: result[i] = x[base + offset_of(index(i), strides)].
Tensor strided_read(const ir::Node& node, const Tensor& x, int64_t base, Strides strides) {
  Tensor out = make_result(node);
  ElementCopier copier(out, x);
  IndexIterator it(out.shape(), {std::move(strides)});
  for (int64_t i = 0; !it.done(); it.next(), ++i)
    copier.copy(i, base + it.offset(0));
  return out;
}

// Writes every element of `x` into `out` at out[base + offset_of(index, strides)].
void strided_write(Tensor& out, const Tensor& x, int64_t base, Strides strides) {
  ElementCopier copier(out, x);
  IndexIterator it(x.shape(), {std::move(strides)});
  for (int64_t i = 0; !it.done(); it.next(), ++i)
    copier.copy(base + it.offset(0), i);
}

std::vector<Tensor> reshape_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  // A copy, not a view: results never share storage with the caller's arguments.
  Tensor out = make_result(node);
  ElementCopier(out, in[0]).copy_run(0, 0, out.numel());
  return {out};
}

std::vector<Tensor> transpose_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const auto& perm = ints_attr(node, "perm");
  Strides x_strides = row_major_strides(in[0].shape());
  // Result axis d walks operand axis perm[d].
  Strides strides(perm.size());
  for (size_t d = 0; d < perm.size(); ++d)
    strides[d] = x_strides[perm[d]];
  return {strided_read(node, in[0], 0, strides)};
}

std::vector<Tensor> broadcast_to_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Shape& shape = node.result(0)->shape();
  return {strided_read(node, in[0], 0, broadcast_strides(in[0].shape(), shape))};
}

std::vector<Tensor> slice_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const auto& start = ints_attr(node, "start");
  const auto& step = ints_attr(node, "step");
  Strides x_strides = row_major_strides(in[0].shape());
  // out[i] = x[start + i*step] per dimension: a strided view with base `start`. An
  // empty result never reads, so an unchecked start of an empty extent is harmless.
  int64_t base = 0;
  Strides strides(x_strides.size());
  for (size_t d = 0; d < x_strides.size(); ++d) {
    base += start[d] * x_strides[d];
    strides[d] = step[d] * x_strides[d];
  }
  return {strided_read(node, in[0], base, strides)};
}

std::vector<Tensor> concat_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  int64_t axis = int_attr(node, "axis");
  Tensor out = make_result(node);
  Strides out_strides = row_major_strides(out.shape());
  int64_t axis_offset = 0;
  for (const Tensor& x : in) {
    strided_write(out, x, axis_offset * out_strides[axis], out_strides);
    axis_offset += x.shape()[axis];
  }
  return {out};
}

// Fills `t` with `value` converted to its dtype (saturating, as cast does).
void fill_with(Tensor& t, double value) {
  dispatch_dtype(t.dtype(), [&]<typename T>() {
    T converted = convert_scalar<T>(value);
    T* data = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i)
      data[i] = converted;
  });
}

std::vector<Tensor> pad_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const auto& pads_lo = ints_attr(node, "pads_lo");
  Tensor out = make_result(node);
  fill_with(out, node.attrs().get_float(node.name(), "value"));
  Strides out_strides = row_major_strides(out.shape());
  int64_t base = 0;
  for (size_t d = 0; d < pads_lo.size(); ++d)
    base += pads_lo[d] * out_strides[d];
  strided_write(out, in[0], base, out_strides);
  return {out};
}

// x viewed as [outer, axis_size, inner] around the gather/scatter axis.
struct AxisSplit {
  int64_t outer = 1;
  int64_t axis_size = 0;
  int64_t inner = 1;
};

AxisSplit split_at_axis(const Shape& shape, int64_t axis) {
  AxisSplit split;
  for (int64_t d = 0; d < axis; ++d)
    split.outer *= shape[d];
  split.axis_size = shape[axis];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    split.inner *= shape[d];
  return split;
}

// The indices as non-negative positions along an axis of `axis_size` (negative ones
// count from the end). Throws Error(RuntimeError) naming the first bad index.
std::vector<int64_t> normalized_indices(const ir::Node& node, const Tensor& indices, int64_t axis,
                                        int64_t axis_size) {
  std::vector<int64_t> positions(indices.numel());
  for (int64_t k = 0; k < indices.numel(); ++k) {
    int64_t index = load_as_int(indices.dtype(), indices.raw_data(), k);
    int64_t position = index < 0 ? index + axis_size : index;
    if (position < 0 || position >= axis_size)
      throw_error(ErrorCode::RuntimeError,
                  std::string(node.name()) + ": index " + std::to_string(index) + " at position " +
                      shape_str(unravel_index(k, indices.shape())) +
                      " of the indices is out of range [" + std::to_string(-axis_size) + ", " +
                      std::to_string(axis_size) + ") for axis " + std::to_string(axis) +
                      " of size " + std::to_string(axis_size));
    positions[k] = position;
  }
  return positions;
}

std::vector<Tensor> gather_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  int64_t axis = int_attr(node, "axis");
  AxisSplit split = split_at_axis(x.shape(), axis);
  std::vector<int64_t> positions = normalized_indices(node, in[1], axis, split.axis_size);
  // out[o, k, :] = x[o, positions[k], :]
  Tensor out = make_result(node);
  ElementCopier copier(out, x);
  int64_t count = static_cast<int64_t>(positions.size());
  for (int64_t o = 0; o < split.outer; ++o)
    for (int64_t k = 0; k < count; ++k)
      copier.copy_run((o * count + k) * split.inner,
                      (o * split.axis_size + positions[k]) * split.inner, split.inner);
  return {out};
}

// a + b in the dtype's arithmetic: integers wrap, f16/bf16 add in f32 and round.
template <typename T> T add_values(T a, T b) {
  if constexpr (is_integer_storage_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return from_compute<T>(to_compute(a) + to_compute(b));
  }
}

std::vector<Tensor> scatter_add_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  const Tensor& updates = in[2];
  int64_t axis = int_attr(node, "axis");
  AxisSplit split = split_at_axis(x.shape(), axis);
  std::vector<int64_t> positions = normalized_indices(node, in[1], axis, split.axis_size);
  Tensor out = x.clone();
  dispatch_dtype(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      unsupported_dtype(node, x.dtype());
    } else {
      T* dst = out.data<T>();
      const T* src = updates.data<T>();
      int64_t count = static_cast<int64_t>(positions.size());
      // Row-major over updates: duplicates of one index add up in index-tensor order.
      for (int64_t o = 0; o < split.outer; ++o)
        for (int64_t k = 0; k < count; ++k)
          for (int64_t i = 0; i < split.inner; ++i) {
            T& target = dst[(o * split.axis_size + positions[k]) * split.inner + i];
            target = add_values(target, src[(o * count + k) * split.inner + i]);
          }
    }
  });
  return {out};
}

std::vector<Tensor> one_hot_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Tensor& indices = in[0];
  int64_t depth = int_attr(node, "depth");
  Tensor out = make_result(node); // zero-filled: zero bits are 0 (or false) in every dtype
  for (int64_t k = 0; k < indices.numel(); ++k) {
    int64_t index = load_as_int(indices.dtype(), indices.raw_data(), k);
    int64_t position = index < 0 ? index + depth : index;
    // Indices outside [-depth, depth) leave their row all zero.
    if (position >= 0 && position < depth)
      store_from_double(out.dtype(), out.raw_data(), k * depth + position, 1.0);
  }
  return {out};
}

} // namespace

void register_layout_kernels(KernelTable& t) {
  t.add(Op::Reshape, reshape_kernel);
  t.add(Op::Transpose, transpose_kernel);
  t.add(Op::BroadcastTo, broadcast_to_kernel);
  t.add(Op::Slice, slice_kernel);
  t.add(Op::Concat, concat_kernel);
  t.add(Op::Pad, pad_kernel);
  t.add(Op::Gather, gather_kernel);
  t.add(Op::ScatterAdd, scatter_add_kernel);
  t.add(Op::OneHot, one_hot_kernel);
}

} // namespace loom::interp
