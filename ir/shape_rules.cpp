#include "ir/shape_rules.h"

#include <algorithm>
#include <array>
#include <functional>
#include <string>

#include "ir/error.h"

namespace loom {

namespace {

using Types = std::vector<TensorType>;

// Bound on window attributes (kernel, stride, dilation, pads) so products stay in int64.
constexpr int64_t kMaxWindow = int64_t{1} << 30;

// Context handed to every rule: the op, its operand types and attributes, and
// error helpers whose messages start with the op name.
struct Ctx {
  Op op;
  const Types& in;
  const Attrs& attrs;

  std::string name() const { return std::string(op_name(op)); }
  std::string operand_list() const {
    std::string s;
    for (size_t i = 0; i < in.size(); ++i)
      s += (i ? ", " : "") + in[i].str();
    return s;
  }
  [[noreturn]] void shape_error(const std::string& what) const {
    throw_error(ErrorCode::ShapeMismatch,
                name() + ": " + what + " (operands: " + operand_list() + ")");
  }
  [[noreturn]] void dtype_error(const std::string& what) const {
    throw_error(ErrorCode::DTypeMismatch,
                name() + ": " + what + " (operands: " + operand_list() + ")");
  }
  [[noreturn]] void attr_error(const std::string& what) const {
    throw_error(ErrorCode::InvalidAttribute, name() + ": " + what);
  }

  int64_t get_int(const std::string& a) const { return attrs.get_int(name(), a); }
  bool get_bool(const std::string& a) const { return attrs.get_bool(name(), a); }
  double get_float(const std::string& a) const { return attrs.get_float(name(), a); }
  DType get_dtype(const std::string& a) const { return attrs.get_dtype(name(), a); }
  const std::vector<int64_t>& get_ints(const std::string& a) const {
    return attrs.get_ints(name(), a);
  }
  // An int list of fixed length with entries in [min_value, max_value]. The default
  // bound keeps the shape arithmetic below far from int64 overflow.
  const std::vector<int64_t>& get_ints(const std::string& a, size_t len, int64_t min_value,
                                       int64_t max_value = kMaxElements) const {
    const auto& v = get_ints(a);
    if (v.size() != len)
      attr_error("attribute '" + a + "' needs " + std::to_string(len) + " entries, got " +
                 shape_str(v));
    for (int64_t x : v)
      if (x < min_value || x > max_value)
        attr_error("attribute '" + a + "' entries must be in [" + std::to_string(min_value) + ", " +
                   std::to_string(max_value) + "], got " + shape_str(v));
    return v;
  }
  // An axis attribute in [0, rank).
  int64_t get_axis(const std::string& a, int64_t rank) const {
    int64_t axis = get_int(a);
    if (axis < 0 || axis >= rank)
      attr_error("attribute '" + a + "' = " + std::to_string(axis) + " is out of range for rank " +
                 std::to_string(rank));
    return axis;
  }
  // A shape attribute: non-negative dims with a sane element count.
  Shape get_shape(const std::string& a) const {
    Shape s = get_ints(a);
    for (int64_t d : s)
      if (d < 0) attr_error("attribute '" + a + "' has a negative dimension: " + shape_str(s));
    try {
      (void)shape_numel(s);
    } catch (const Error&) {
      attr_error("attribute '" + a + "' = " + shape_str(s) + " has too many elements");
    }
    return s;
  }

  void require_dtype(int i, bool ok, const char* what) const {
    if (!ok)
      dtype_error("operand " + std::to_string(i) + " must be " + what + ", got " + in[i].str());
  }
  void require_numeric(int i) const { require_dtype(i, in[i].dtype != DType::Bool, "numeric"); }
  void require_float(int i) const { require_dtype(i, is_float(in[i].dtype), "floating point"); }
  void require_same_dtype(int i, int j) const {
    if (in[i].dtype != in[j].dtype)
      dtype_error("operands " + std::to_string(i) + " and " + std::to_string(j) +
                  " must have the same dtype, got " + in[i].str() + " and " + in[j].str());
  }
  void require_rank(int i, int64_t rank) const {
    if (in[i].rank() != rank)
      shape_error("operand " + std::to_string(i) + " must have rank " + std::to_string(rank) +
                  ", got " + in[i].str());
  }
};

using Rule = std::function<Types(const Ctx&)>;

TensorType same_as(const TensorType& t) { return t; }

// --- generic rules driven by traits -----------------------------------------------

Types unary_rule(const Ctx& c) {
  if (has_trait(c.op, kLogical))
    c.require_dtype(0, c.in[0].dtype == DType::Bool, "bool");
  else if (has_trait(c.op, kFloatOnly))
    c.require_float(0);
  else
    c.require_numeric(0);
  return {same_as(c.in[0])};
}

Shape broadcast_or_fail(const Ctx& c, const Shape& a, const Shape& b) {
  auto s = broadcast_shapes(a, b);
  if (!s)
    c.shape_error("shapes " + shape_str(a) + " and " + shape_str(b) +
                  " are not broadcast-compatible");
  return *s;
}

Types binary_rule(const Ctx& c) {
  c.require_same_dtype(0, 1);
  if (has_trait(c.op, kLogical))
    c.require_dtype(0, c.in[0].dtype == DType::Bool, "bool");
  else if (!has_trait(c.op, kComparison))
    c.require_numeric(0);
  Shape s = broadcast_or_fail(c, c.in[0].shape, c.in[1].shape);
  DType out = has_trait(c.op, kComparison) ? DType::Bool : c.in[0].dtype;
  return {TensorType{out, s}};
}

Types select_rule(const Ctx& c) {
  c.require_dtype(0, c.in[0].dtype == DType::Bool, "bool");
  c.require_same_dtype(1, 2);
  Shape s = broadcast_or_fail(c, broadcast_or_fail(c, c.in[0].shape, c.in[1].shape), c.in[2].shape);
  return {TensorType{c.in[1].dtype, s}};
}

Types cast_rule(const Ctx& c) { return {TensorType{c.get_dtype("dtype"), c.in[0].shape}}; }

// --- sources -------------------------------------------------------------------------

Types constant_rule(const Ctx& c) { return {c.attrs.get_literal(c.name(), "value").type()}; }

Types iota_rule(const Ctx& c) {
  Shape s = c.get_shape("shape");
  DType dt = c.get_dtype("dtype");
  if (dt == DType::Bool) c.attr_error("dtype must be numeric, got bool");
  c.get_axis("axis", static_cast<int64_t>(s.size()));
  return {TensorType{dt, s}};
}

Types random_rule(const Ctx& c) {
  if (c.in[0].dtype != DType::I64 || c.in[0].rank() != 0)
    c.dtype_error("the seed must be an i64 scalar (i64[]), got " + c.in[0].str());
  DType dt = c.get_dtype("dtype");
  if (!is_float(dt))
    c.attr_error("dtype must be floating point, got " + std::string(dtype_name(dt)));
  return {TensorType{dt, c.get_shape("shape")}};
}

// --- reductions ---------------------------------------------------------------------

Shape reduced_shape(const Shape& in, const std::vector<int64_t>& axes, bool keepdims) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced)
      out.push_back(in[d]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

Types reduce_rule(const Ctx& c) {
  c.require_numeric(0);
  const auto& axes = c.get_ints("axes");
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= c.in[0].rank())
      c.attr_error("axes " + shape_str(axes) + " out of range for " + c.in[0].str());
    if (i > 0 && axes[i] <= axes[i - 1])
      c.attr_error("axes " + shape_str(axes) + " must be strictly increasing");
  }
  return {TensorType{c.in[0].dtype, reduced_shape(c.in[0].shape, axes, c.get_bool("keepdims"))}};
}

Types arg_reduce_rule(const Ctx& c) {
  c.require_numeric(0);
  int64_t axis = c.get_axis("axis", c.in[0].rank());
  if (c.in[0].shape[axis] == 0) c.shape_error("cannot take " + c.name() + " over an empty axis");
  return {TensorType{DType::I64, reduced_shape(c.in[0].shape, {axis}, c.get_bool("keepdims"))}};
}

// --- matmul -------------------------------------------------------------------------

Types matmul_rule(const Ctx& c) {
  c.require_same_dtype(0, 1);
  c.require_numeric(0);
  const Shape &a = c.in[0].shape, &b = c.in[1].shape;
  if (a.size() < 2 || b.size() < 2) c.shape_error("operands must have rank >= 2");
  int64_t k_a = a[a.size() - 1], k_b = b[b.size() - 2];
  if (k_a != k_b)
    c.shape_error("contracting dimensions differ: " + shape_str(a) + " x " + shape_str(b) + " (" +
                  std::to_string(k_a) + " vs " + std::to_string(k_b) + ")");
  Shape batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2);
  Shape out = broadcast_or_fail(c, batch_a, batch_b);
  out.push_back(a[a.size() - 2]);
  out.push_back(b[b.size() - 1]);
  return {TensorType{c.in[0].dtype, out}};
}

// --- data movement ------------------------------------------------------------------

Types reshape_rule(const Ctx& c) {
  Shape s = c.get_shape("shape");
  if (shape_numel(s) != c.in[0].numel())
    c.shape_error("cannot reshape " + c.in[0].str() + " to " + shape_str(s) +
                  " (element counts differ)");
  return {TensorType{c.in[0].dtype, s}};
}

Types transpose_rule(const Ctx& c) {
  const auto& perm = c.get_ints("perm");
  int64_t r = c.in[0].rank();
  std::vector<bool> seen(r, false);
  bool ok = static_cast<int64_t>(perm.size()) == r;
  for (int64_t p : perm) {
    if (!ok || p < 0 || p >= r || seen[p])
      ok = false;
    else
      seen[p] = true;
  }
  if (!ok)
    c.attr_error("perm " + shape_str(perm) + " is not a permutation of the axes of " +
                 c.in[0].str());
  Shape out;
  for (int64_t p : perm)
    out.push_back(c.in[0].shape[p]);
  return {TensorType{c.in[0].dtype, out}};
}

Types broadcast_to_rule(const Ctx& c) {
  Shape target = c.get_shape("shape");
  auto s = broadcast_shapes(c.in[0].shape, target);
  if (!s || *s != target)
    c.shape_error("cannot broadcast " + c.in[0].str() + " to " + shape_str(target));
  return {TensorType{c.in[0].dtype, target}};
}

Types slice_rule(const Ctx& c) {
  int64_t r = c.in[0].rank();
  const auto& start = c.get_ints("start", r, -kMaxElements);
  const auto& stop = c.get_ints("stop", r, -kMaxElements);
  const auto& step = c.get_ints("step", r, -kMaxElements);
  Shape out;
  for (int64_t d = 0; d < r; ++d) {
    int64_t dim = c.in[0].shape[d], b = start[d], e = stop[d], s = step[d];
    std::string where = " on axis " + std::to_string(d) + " of " + c.in[0].str();
    if (s == 0) c.attr_error("step is 0" + where);
    int64_t len;
    if (s > 0) {
      if (b < 0 || b > e || e > dim)
        c.attr_error("start/stop " + std::to_string(b) + ":" + std::to_string(e) +
                     " need 0 <= start <= stop <= dim" + where);
      len = (e - b + s - 1) / s;
    } else {
      if (e < -1 || e > b || b > dim - 1)
        c.attr_error("start/stop " + std::to_string(b) + ":" + std::to_string(e) +
                     " need -1 <= stop <= start <= dim-1 for a negative step" + where);
      len = b > e ? (b - e + (-s) - 1) / (-s) : 0;
    }
    out.push_back(len);
  }
  return {TensorType{c.in[0].dtype, out}};
}

Types concat_rule(const Ctx& c) {
  if (c.in.empty()) c.shape_error("needs at least one operand");
  int64_t r = c.in[0].rank();
  if (r == 0) c.shape_error("cannot concatenate scalars");
  int64_t axis = c.get_axis("axis", r);
  Shape out = c.in[0].shape;
  out[axis] = 0;
  for (size_t i = 0; i < c.in.size(); ++i) {
    c.require_same_dtype(0, static_cast<int>(i));
    const Shape& s = c.in[i].shape;
    bool ok = static_cast<int64_t>(s.size()) == r;
    for (int64_t d = 0; ok && d < r; ++d)
      ok = d == axis || s[d] == c.in[0].shape[d];
    if (!ok)
      c.shape_error("operand " + std::to_string(i) + " " + c.in[i].str() + " does not match " +
                    c.in[0].str() + " outside axis " + std::to_string(axis));
    out[axis] += s[axis];
  }
  return {TensorType{c.in[0].dtype, out}};
}

Types pad_rule(const Ctx& c) {
  size_t r = c.in[0].shape.size();
  const auto& lo = c.get_ints("pads_lo", r, 0);
  const auto& hi = c.get_ints("pads_hi", r, 0);
  c.get_float("value");
  Shape out = c.in[0].shape;
  for (size_t d = 0; d < r; ++d)
    out[d] += lo[d] + hi[d];
  return {TensorType{c.in[0].dtype, out}};
}

Shape gather_shape(const Ctx& c, int64_t axis) {
  const Shape& x = c.in[0].shape;
  Shape out(x.begin(), x.begin() + axis);
  out.insert(out.end(), c.in[1].shape.begin(), c.in[1].shape.end());
  out.insert(out.end(), x.begin() + axis + 1, x.end());
  return out;
}

void require_index_dtype(const Ctx& c, int i) {
  c.require_dtype(i, c.in[i].dtype == DType::I32 || c.in[i].dtype == DType::I64, "i32 or i64");
}

Types gather_rule(const Ctx& c) {
  require_index_dtype(c, 1);
  int64_t axis = c.get_axis("axis", c.in[0].rank());
  return {TensorType{c.in[0].dtype, gather_shape(c, axis)}};
}

Types scatter_add_rule(const Ctx& c) {
  require_index_dtype(c, 1);
  c.require_numeric(0);
  c.require_same_dtype(0, 2);
  int64_t axis = c.get_axis("axis", c.in[0].rank());
  Shape expected = gather_shape(c, axis);
  if (c.in[2].shape != expected)
    c.shape_error("updates must have shape " + shape_str(expected) + ", got " + c.in[2].str());
  return {same_as(c.in[0])};
}

Types one_hot_rule(const Ctx& c) {
  c.require_dtype(0, is_integer(c.in[0].dtype), "an integer type");
  int64_t depth = c.get_int("depth");
  if (depth < 0) c.attr_error("depth must be >= 0, got " + std::to_string(depth));
  Shape out = c.in[0].shape;
  out.push_back(depth);
  try {
    (void)shape_numel(out);
  } catch (const Error&) {
    c.attr_error("result shape " + shape_str(out) + " has too many elements");
  }
  return {TensorType{c.get_dtype("dtype"), out}};
}

// --- convolution and pooling ----------------------------------------------------------

struct Window {
  std::vector<int64_t> strides, pads, dilations;
};

Window conv_window(const Ctx& c) {
  return {c.get_ints("strides", 2, 1, kMaxWindow), c.get_ints("pads", 4, 0, kMaxWindow),
          c.get_ints("dilations", 2, 1, kMaxWindow)};
}

// Output shape of conv2d for input x and filter w (both NCHW/OIHW); validates them.
Shape conv_output_shape(const Ctx& c, const Shape& x, const Shape& w) {
  Window win = conv_window(c);
  int64_t groups = c.get_int("groups");
  if (groups < 1) c.attr_error("groups must be >= 1, got " + std::to_string(groups));
  if (x.size() != 4 || w.size() != 4)
    c.shape_error("input " + shape_str(x) + " and filter " + shape_str(w) +
                  " must both have rank 4 (NCHW, OIHW)");
  if (x[1] % groups != 0 || w[0] % groups != 0)
    c.shape_error("input channels " + std::to_string(x[1]) + " and output channels " +
                  std::to_string(w[0]) +
                  " must be divisible by groups = " + std::to_string(groups));
  if (w[1] != x[1] / groups)
    c.shape_error("filter " + shape_str(w) + " expects " + std::to_string(w[1] * groups) +
                  " input channels, input " + shape_str(x) + " has " + std::to_string(x[1]));
  Shape out = {x[0], w[0], 0, 0};
  for (int d = 0; d < 2; ++d) {
    out[2 + d] = window_output_size(x[2 + d], win.pads[d], win.pads[2 + d], w[2 + d],
                                    win.strides[d], win.dilations[d], false);
    if (out[2 + d] < 1 || w[2 + d] < 1)
      c.shape_error("the filter " + shape_str(w) + " does not fit the padded input " +
                    shape_str(x));
  }
  return out;
}

Types conv2d_rule(const Ctx& c) {
  c.require_float(0);
  c.require_same_dtype(0, 1);
  return {TensorType{c.in[0].dtype, conv_output_shape(c, c.in[0].shape, c.in[1].shape)}};
}

Types conv2d_backprop_input_rule(const Ctx& c) { // (dy, w)
  c.require_float(0);
  c.require_same_dtype(0, 1);
  Shape x = c.get_ints("input_shape", 4, 0);
  Shape dy = conv_output_shape(c, x, c.in[1].shape);
  if (dy != c.in[0].shape)
    c.shape_error("gradient " + c.in[0].str() + " does not match the convolution output " +
                  shape_str(dy) + " of input_shape " + shape_str(x));
  return {TensorType{c.in[0].dtype, x}};
}

Types conv2d_backprop_filter_rule(const Ctx& c) { // (x, dy)
  c.require_float(0);
  c.require_same_dtype(0, 1);
  Shape w = c.get_ints("filter_shape", 4, 0);
  Shape dy = conv_output_shape(c, c.in[0].shape, w);
  if (dy != c.in[1].shape)
    c.shape_error("gradient " + c.in[1].str() + " does not match the convolution output " +
                  shape_str(dy) + " of filter_shape " + shape_str(w));
  return {TensorType{c.in[0].dtype, w}};
}

Shape pool_output_shape(const Ctx& c, const Shape& x) {
  const auto& kernel = c.get_ints("kernel", 2, 1, kMaxWindow);
  const auto& strides = c.get_ints("strides", 2, 1, kMaxWindow);
  const auto& pads = c.get_ints("pads", 4, 0, kMaxWindow);
  bool ceil_mode = c.get_bool("ceil_mode");
  if (x.size() != 4) c.shape_error("input " + shape_str(x) + " must have rank 4 (NCHW)");
  Shape out = {x[0], x[1], 0, 0};
  for (int d = 0; d < 2; ++d) {
    if (pads[d] >= kernel[d] || pads[2 + d] >= kernel[d])
      c.attr_error("pads " + shape_str(pads) + " must be smaller than the kernel " +
                   shape_str(kernel));
    out[2 + d] =
        window_output_size(x[2 + d], pads[d], pads[2 + d], kernel[d], strides[d], 1, ceil_mode);
    if (out[2 + d] < 1)
      c.shape_error("the kernel " + shape_str(kernel) + " does not fit the padded input " +
                    shape_str(x));
  }
  return out;
}

Types max_pool_rule(const Ctx& c) {
  c.require_numeric(0);
  return {TensorType{c.in[0].dtype, pool_output_shape(c, c.in[0].shape)}};
}

Types max_pool_grad_rule(const Ctx& c) { // (x, dy)
  c.require_numeric(0);
  c.require_same_dtype(0, 1);
  Shape dy = pool_output_shape(c, c.in[0].shape);
  if (dy != c.in[1].shape)
    c.shape_error("gradient " + c.in[1].str() + " does not match the pooling output " +
                  shape_str(dy));
  return {same_as(c.in[0])};
}

Types avg_pool_rule(const Ctx& c) {
  c.require_float(0);
  c.get_bool("count_include_pad");
  return {TensorType{c.in[0].dtype, pool_output_shape(c, c.in[0].shape)}};
}

Types avg_pool_grad_rule(const Ctx& c) { // (dy)
  c.require_float(0);
  c.get_bool("count_include_pad");
  Shape x = c.get_ints("input_shape", 4, 0);
  Shape dy = pool_output_shape(c, x);
  if (dy != c.in[0].shape)
    c.shape_error("gradient " + c.in[0].str() + " does not match the pooling output " +
                  shape_str(dy) + " of input_shape " + shape_str(x));
  return {TensorType{c.in[0].dtype, x}};
}

// Parameter types are declared; fusion result types are its body's output types.
Types declared_rule(const Ctx& c) {
  throw_error(ErrorCode::InvalidArgument, c.name() + ": result types are declared, not inferred");
}

// The rule table, keyed by op. Elementwise unary/binary ops use the generic rules.
std::array<Rule, kNumOps> make_rules() {
  std::array<Rule, kNumOps> r;
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    if (has_trait(op, kElementwise) && has_trait(op, kUnary)) r[i] = unary_rule;
    if (has_trait(op, kElementwise) && has_trait(op, kBinary)) r[i] = binary_rule;
  }
  auto set = [&](Op op, Rule rule) { r[static_cast<int>(op)] = std::move(rule); };
  set(Op::Constant, constant_rule);
  set(Op::Parameter, declared_rule);
  set(Op::Fusion, declared_rule);
  set(Op::Iota, iota_rule);
  set(Op::RandomUniform, random_rule);
  set(Op::RandomNormal, random_rule);
  set(Op::Cast, cast_rule);
  set(Op::Select, select_rule);
  for (Op op : {Op::ReduceSum, Op::ReduceMax, Op::ReduceMin, Op::ReduceProd})
    set(op, reduce_rule);
  set(Op::ArgMax, arg_reduce_rule);
  set(Op::ArgMin, arg_reduce_rule);
  set(Op::MatMul, matmul_rule);
  set(Op::Reshape, reshape_rule);
  set(Op::Transpose, transpose_rule);
  set(Op::BroadcastTo, broadcast_to_rule);
  set(Op::Slice, slice_rule);
  set(Op::Concat, concat_rule);
  set(Op::Pad, pad_rule);
  set(Op::Gather, gather_rule);
  set(Op::ScatterAdd, scatter_add_rule);
  set(Op::OneHot, one_hot_rule);
  set(Op::Conv2D, conv2d_rule);
  set(Op::Conv2DBackpropInput, conv2d_backprop_input_rule);
  set(Op::Conv2DBackpropFilter, conv2d_backprop_filter_rule);
  set(Op::MaxPool2D, max_pool_rule);
  set(Op::MaxPool2DGrad, max_pool_grad_rule);
  set(Op::AvgPool2D, avg_pool_rule);
  set(Op::AvgPool2DGrad, avg_pool_grad_rule);
  return r;
}

const std::array<Rule, kNumOps>& rules() {
  static const std::array<Rule, kNumOps> table = make_rules();
  return table;
}

} // namespace

std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t window_output_size(int64_t in, int64_t pad_lo, int64_t pad_hi, int64_t kernel,
                           int64_t stride, int64_t dilation, bool ceil_mode) {
  // 128-bit arithmetic: attribute values come from files and must not overflow.
  using Wide = __int128;
  Wide span = Wide(dilation) * (Wide(kernel) - 1) + 1;
  Wide room = Wide(in) + pad_lo + pad_hi - span;
  if (room < 0 || stride < 1) return 0;
  Wide out = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
  // A last window starting in the trailing padding is dropped (PyTorch, ONNX).
  if (ceil_mode && (out - 1) * stride >= Wide(in) + pad_lo) --out;
  return out > kMaxElements ? kMaxElements + 1 : static_cast<int64_t>(out);
}

std::vector<TensorType> infer_types(Op op, const std::vector<TensorType>& operands,
                                    const Attrs& attrs) {
  const OpInfo& info = op_info(op);
  std::string name(info.mnemonic);
  if (!operand_count_ok(info, static_cast<int>(operands.size())))
    throw_error(ErrorCode::InvalidArgument, name + ": expects " + operand_count_str(info) +
                                                " operands, got " +
                                                std::to_string(operands.size()));
  const Rule& rule = rules()[static_cast<int>(op)];
  if (!rule) throw_error(ErrorCode::Internal, name + ": no shape rule");
  Ctx ctx{op, operands, attrs};
  Types out = rule(ctx);
  for (const TensorType& t : out)
    (void)shape_numel(t.shape); // result sizes stay sane
  return out;
}

} // namespace loom
