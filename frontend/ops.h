// Typed builders for every op of ir/ops.def (semantics: docs/ops.md).
//
// Each builder checks its operands and attributes at once and records the caller's
// source location on the node; the last parameter `loc` is filled in by the compiler
// and is never passed by hand. Builders normalize what the IR keeps canonical:
// negative axes count from the end, reduction axes are sorted, slice bounds are
// clamped like Python's, a reshape may leave one dimension as -1.
//
// Math names such as exp, log, abs or floor live in namespace loom: code inside
// namespace loom that includes this header must call the C library versions as std::exp.
#pragma once

#include <optional>
#include <source_location>
#include <vector>

#include "frontend/graph.h"

namespace loom {

// An operand of an elementwise op: a Value, or a C++ number that becomes a scalar
// constant of the other operand's dtype (`x + 1.0`, `2.0 * x`, `maximum(x, 0.0)`).
// It also records where the user wrote it: operators cannot take a defaulted
// source_location parameter, but the default argument of this converting constructor
// is evaluated at the user's expression.
class Operand {
public:
  Operand(Value value, std::source_location loc = std::source_location::current())
      : value_(value), loc_(loc) {}
  Operand(double number, std::source_location loc = std::source_location::current())
      : number_(number), loc_(loc) {}

  bool is_number() const { return number_.has_value(); }
  const Value& value() const { return value_; }
  double number() const { return *number_; }
  const std::source_location& loc() const { return loc_; }

private:
  Value value_;
  std::optional<double> number_;
  std::source_location loc_;
};

// The source location of a builder call, filled in by the compiler.
using CallSite = std::source_location;

// --- Sources -------------------------------------------------------------------------

// out[idx] = idx[axis] (axis may be negative).
Value iota(Graph& graph, Shape shape, DType dtype, int64_t axis,
           CallSite loc = CallSite::current());
// Counter-based random numbers from an i64[] seed: uniform in [0, 1), or standard normal.
Value random_uniform(Value seed, Shape shape, DType dtype = DType::F32,
                     CallSite loc = CallSite::current());
Value random_normal(Value seed, Shape shape, DType dtype = DType::F32,
                    CallSite loc = CallSite::current());

// --- Elementwise unary ---------------------------------------------------------------

// One builder per UNARY_OP of ir/ops.def: Value neg(Value x), exp, tanh, ...
#define UNARY_OP(id, name, traits) Value name(Value x, CallSite loc = CallSite::current());
#include "ir/ops.def"
Value cast(Value x, DType dtype, CallSite loc = CallSite::current());

// --- Elementwise binary (numpy broadcasting; operands share a dtype) -----------------

// One builder per BINARY_OP of ir/ops.def: add, sub, mul, div, pow, maximum, minimum,
// the comparisons eq, ne, lt, le, gt, ge (bool results), logical_and, logical_or.
#define BINARY_OP(id, name, traits)                                                                \
  Value name(Operand a, Operand b, CallSite loc = CallSite::current());
#include "ir/ops.def"

// cond ? a : b with broadcasting of all three; a number takes the other branch's dtype.
Value select(Value cond, Operand a, Operand b, CallSite loc = CallSite::current());

// Operators record the location of the expression they appear in. `==` and `!=` are
// not elementwise (see Value); use eq/ne.
Value operator+(Operand a, Operand b);
Value operator-(Operand a, Operand b);
Value operator*(Operand a, Operand b);
Value operator/(Operand a, Operand b);
Value operator-(Operand x);
Value operator<(Operand a, Operand b);
Value operator<=(Operand a, Operand b);
Value operator>(Operand a, Operand b);
Value operator>=(Operand a, Operand b);

// --- Reductions ----------------------------------------------------------------------
// `axes` may be negative and in any order; they are normalized and sorted. Reducing
// all axes has its own overload; an empty list reduces nothing (write it as
// std::vector<int64_t>{}: a bare {} would also match the overload).

Value reduce_sum(Value x, std::vector<int64_t> axes, bool keepdims = false,
                 CallSite loc = CallSite::current());
Value reduce_max(Value x, std::vector<int64_t> axes, bool keepdims = false,
                 CallSite loc = CallSite::current());
Value reduce_min(Value x, std::vector<int64_t> axes, bool keepdims = false,
                 CallSite loc = CallSite::current());
Value reduce_prod(Value x, std::vector<int64_t> axes, bool keepdims = false,
                  CallSite loc = CallSite::current());
Value reduce_sum(Value x, CallSite loc = CallSite::current());
Value reduce_max(Value x, CallSite loc = CallSite::current());
Value reduce_min(Value x, CallSite loc = CallSite::current());
Value reduce_prod(Value x, CallSite loc = CallSite::current());
// Index (i64) of the first extreme element along `axis`.
Value argmax(Value x, int64_t axis, bool keepdims = false, CallSite loc = CallSite::current());
Value argmin(Value x, int64_t axis, bool keepdims = false, CallSite loc = CallSite::current());

// --- Linear algebra ------------------------------------------------------------------

// a[..., m, k] @ b[..., k, n] -> [..., m, n], batch dimensions broadcast.
Value matmul(Value a, Value b, CallSite loc = CallSite::current());

// --- Data movement -------------------------------------------------------------------

// One dimension of `shape` may be -1: it is inferred from the element count.
Value reshape(Value x, Shape shape, CallSite loc = CallSite::current());
// out.shape[i] = x.shape[perm[i]]; entries may be negative.
Value transpose(Value x, std::vector<int64_t> perm, CallSite loc = CallSite::current());
// Reverses the dimensions.
Value transpose(Value x, CallSite loc = CallSite::current());
Value broadcast_to(Value x, Shape shape, CallSite loc = CallSite::current());
// x[start:stop:step] per dimension with Python's rules: negative bounds count from the
// end, out-of-range bounds clamp (INT64_MAX / INT64_MIN mean "to the end" / "to the
// beginning"). `starts` and `stops` cover the leading dimensions (the rest are taken
// whole); `steps` is empty (all 1) or as long as `starts`.
Value slice(Value x, std::vector<int64_t> starts, std::vector<int64_t> stops,
            std::vector<int64_t> steps = {}, CallSite loc = CallSite::current());
Value concat(const std::vector<Value>& values, int64_t axis, CallSite loc = CallSite::current());
// Constant padding: `lo[i]` / `hi[i]` elements before / after dimension i.
Value pad(Value x, std::vector<int64_t> lo, std::vector<int64_t> hi, double value = 0.0,
          CallSite loc = CallSite::current());
// x.shape[:axis] + indices.shape + x.shape[axis+1:], indices i32 or i64.
Value gather(Value x, Value indices, int64_t axis = 0, CallSite loc = CallSite::current());
// x with `updates` added at the positions gather(x, indices, axis) reads.
Value scatter_add(Value x, Value indices, Value updates, int64_t axis = 0,
                  CallSite loc = CallSite::current());
// indices.shape + [depth]: 1 where the index matches, else 0.
Value one_hot(Value indices, int64_t depth, DType dtype = DType::F32,
              CallSite loc = CallSite::current());

// --- Convolution and pooling (NCHW activations, OIHW filters) ------------------------
// `pads` is [top, left, bottom, right], or [pad_h, pad_w] for the same padding on both sides.

Value conv2d(Value x, Value w, std::vector<int64_t> strides = {1, 1},
             std::vector<int64_t> pads = {0, 0}, std::vector<int64_t> dilations = {1, 1},
             int64_t groups = 1, CallSite loc = CallSite::current());
// Gradient of conv2d with respect to its input of shape `input_shape`.
Value conv2d_backprop_input(Value dy, Value w, Shape input_shape,
                            std::vector<int64_t> strides = {1, 1},
                            std::vector<int64_t> pads = {0, 0},
                            std::vector<int64_t> dilations = {1, 1}, int64_t groups = 1,
                            CallSite loc = CallSite::current());
// Gradient of conv2d with respect to its filter of shape `filter_shape`.
Value conv2d_backprop_filter(Value x, Value dy, Shape filter_shape,
                             std::vector<int64_t> strides = {1, 1},
                             std::vector<int64_t> pads = {0, 0},
                             std::vector<int64_t> dilations = {1, 1}, int64_t groups = 1,
                             CallSite loc = CallSite::current());

// Pooling windows of `kernel` = [KH, KW]; empty `strides` means strides equal to the kernel.
Value max_pool2d(Value x, std::vector<int64_t> kernel, std::vector<int64_t> strides = {},
                 std::vector<int64_t> pads = {0, 0}, bool ceil_mode = false,
                 CallSite loc = CallSite::current());
Value max_pool2d_grad(Value x, Value dy, std::vector<int64_t> kernel,
                      std::vector<int64_t> strides = {}, std::vector<int64_t> pads = {0, 0},
                      bool ceil_mode = false, CallSite loc = CallSite::current());
// The divisor counts window positions inside the input, or inside the padded input
// with `count_include_pad`.
Value avg_pool2d(Value x, std::vector<int64_t> kernel, std::vector<int64_t> strides = {},
                 std::vector<int64_t> pads = {0, 0}, bool ceil_mode = false,
                 bool count_include_pad = false, CallSite loc = CallSite::current());
Value avg_pool2d_grad(Value dy, Shape input_shape, std::vector<int64_t> kernel,
                      std::vector<int64_t> strides = {}, std::vector<int64_t> pads = {0, 0},
                      bool ceil_mode = false, bool count_include_pad = false,
                      CallSite loc = CallSite::current());

} // namespace loom
