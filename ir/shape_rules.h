// Type and shape inference: one rule per op, keyed by the op table.
#pragma once

#include <optional>
#include <vector>

#include "ir/attr.h"
#include "ir/dtype.h"
#include "ir/op.h"

namespace loom {

// Result types of `op` applied to operands of the given types with `attrs`.
// Throws Error (ShapeMismatch, DTypeMismatch, InvalidAttribute, InvalidArgument) whose
// message starts with the op's name and names the operand types involved. The
// caller (builder, parser, verifier) appends where the node came from.
// `parameter` has no rule (its type is declared); asking is an InvalidArgument error.
std::vector<TensorType> infer_types(Op op, const std::vector<TensorType>& operands,
                                    const Attrs& attrs);

// numpy broadcasting of two shapes; nullopt if incompatible.
std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b);

// Output extent of a convolution/pooling window along one dimension.
int64_t window_output_size(int64_t in, int64_t pad_lo, int64_t pad_hi, int64_t kernel,
                           int64_t stride, int64_t dilation, bool ceil_mode);

} // namespace loom
