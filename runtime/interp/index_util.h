// Index arithmetic shared by the interpreter kernels: row-major multi-index walking,
// numpy broadcasting strides, and conversions between linear and multi-indices.
//
// Typical use (an operand read with broadcasting while writing a result):
//
//   IndexIterator it(out.shape(), {broadcast_strides(x.shape(), out.shape())});
//   for (int64_t i = 0; !it.done(); it.next(), ++i) out_data[i] = x_data[it.offset(0)];
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ir/dtype.h"
#include "ir/error.h"

namespace loom::interp {

using Strides = std::vector<int64_t>;

// Strides (in elements) that read a row-major tensor of shape `operand` as if it were
// broadcast to `result` (numpy rules, aligned from the right): one stride per result
// dimension, 0 for dimensions the operand lacks or stretches from 1.
inline Strides broadcast_strides(const Shape& operand, const Shape& result) {
  if (operand.size() > result.size())
    throw_error(ErrorCode::Internal, "broadcast_strides: cannot broadcast " + shape_str(operand) +
                                         " to " + shape_str(result));
  Strides own = row_major_strides(operand);
  Strides strides(result.size(), 0);
  size_t lead = result.size() - operand.size();
  for (size_t d = 0; d < operand.size(); ++d) {
    if (operand[d] == result[lead + d]) {
      strides[lead + d] = own[d];
    } else if (operand[d] != 1) {
      throw_error(ErrorCode::Internal, "broadcast_strides: cannot broadcast " + shape_str(operand) +
                                           " to " + shape_str(result));
    }
  }
  return strides;
}

// Sum of index[d] * strides[d].
inline int64_t offset_of(const std::vector<int64_t>& index, const Strides& strides) {
  int64_t offset = 0;
  for (size_t d = 0; d < index.size(); ++d)
    offset += index[d] * strides[d];
  return offset;
}

// The multi-index of row-major position `linear` in `shape`.
inline std::vector<int64_t> unravel_index(int64_t linear, const Shape& shape) {
  std::vector<int64_t> index(shape.size(), 0);
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 0) return index;
    index[d] = linear % shape[d];
    linear /= shape[d];
  }
  return index;
}

// Walks every multi-index of `shape` in row-major order, and for each set of strides
// given keeps the matching offset up to date incrementally (no multiplication per step).
// An empty shape ([]) has exactly one index; a shape with a zero dimension has none.
class IndexIterator {
public:
  explicit IndexIterator(Shape shape, std::vector<Strides> strides = {})
      : shape_(std::move(shape)), strides_(std::move(strides)), index_(shape_.size(), 0),
        offsets_(strides_.size(), 0), done_(shape_numel(shape_) == 0) {
    for (const Strides& s : strides_)
      if (s.size() != shape_.size())
        throw_error(ErrorCode::Internal, "IndexIterator: strides rank differs from shape rank");
  }

  bool done() const { return done_; }
  const std::vector<int64_t>& index() const { return index_; }
  // Offset for the k-th set of strides at the current index.
  int64_t offset(size_t k) const { return offsets_[k]; }

  void next() {
    for (size_t d = shape_.size(); d-- > 0;) {
      if (++index_[d] < shape_[d]) {
        for (size_t k = 0; k < strides_.size(); ++k)
          offsets_[k] += strides_[k][d];
        return;
      }
      // Carry: rewind this dimension to 0 and step the next outer one.
      for (size_t k = 0; k < strides_.size(); ++k)
        offsets_[k] -= strides_[k][d] * (shape_[d] - 1);
      index_[d] = 0;
    }
    done_ = true; // wrapped past the last index (rank 0 ends after its single index)
  }

private:
  Shape shape_;
  std::vector<Strides> strides_;
  std::vector<int64_t> index_;
  std::vector<int64_t> offsets_;
  bool done_;
};

} // namespace loom::interp
