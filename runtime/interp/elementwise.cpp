// Elementwise kernels: unary ops, binary ops with numpy broadcasting, select, cast.
//
// Each op is a small function on compute values (float for f16/bf16) plus the set of
// dtypes it accepts; generic drivers do the dtype dispatch, broadcasting and storage.
#include <cmath>
#include <limits>
#include <type_traits>

#include "ir/error.h"
#include "runtime/interp/compute_util.h"
#include "runtime/interp/index_util.h"
#include "runtime/interp/kernels.h"

namespace loom::interp {

namespace {

// Which compute types an op accepts (the shape rules enforce the same sets).
enum class Domain { Numeric, Float, Bool, Any };

template <Domain D, typename C> constexpr bool in_domain() {
  if constexpr (D == Domain::Numeric)
    return !std::is_same_v<C, bool>;
  else if constexpr (D == Domain::Float)
    return std::is_floating_point_v<C>;
  else if constexpr (D == Domain::Bool)
    return std::is_same_v<C, bool>;
  else
    return true;
}

[[noreturn]] void runtime_error(const std::string& message) {
  throw_error(ErrorCode::RuntimeError, message);
}

// --- integer arithmetic that wraps (two's complement) instead of overflowing ----------

template <typename C> C wrapping_add(C a, C b) {
  using U = std::make_unsigned_t<C>;
  return static_cast<C>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}
template <typename C> C wrapping_sub(C a, C b) {
  using U = std::make_unsigned_t<C>;
  return static_cast<C>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
}
template <typename C> C wrapping_mul(C a, C b) {
  // uint8 * uint8 promotes to int, which cannot overflow; wider types multiply unsigned.
  using U = std::conditional_t<sizeof(C) < sizeof(unsigned), unsigned, std::make_unsigned_t<C>>;
  return static_cast<C>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
}
template <typename C> C wrapping_neg(C a) { return wrapping_sub(C{0}, a); }

// --- unary ops -------------------------------------------------------------------------

template <typename C> C neg_op(C x) {
  if constexpr (std::is_integral_v<C>)
    return wrapping_neg(x);
  else
    return -x;
}
template <typename C> C abs_op(C x) {
  if constexpr (std::is_integral_v<C>)
    return x < 0 ? wrapping_neg(x) : x; // |INT_MIN| wraps
  else
    return std::fabs(x);
}
template <typename C> C sign_op(C x) {
  if constexpr (std::is_floating_point_v<C>)
    if (std::isnan(x)) return x;
  return static_cast<C>((x > 0) - (x < 0));
}
template <typename C> C relu_op(C x) {
  if constexpr (std::is_floating_point_v<C>)
    if (std::isnan(x)) return x;
  return x > 0 ? x : C{0};
}
// Never evaluates exp of a large positive number, so it cannot overflow.
template <typename C> C sigmoid_op(C x) {
  if (x >= 0) return C{1} / (C{1} + std::exp(-x));
  C e = std::exp(x);
  return e / (C{1} + e);
}

template <Domain D, typename Fn> Kernel unary_kernel(Fn fn) {
  return [fn](const ir::Node& node, const std::vector<Tensor>& in) -> std::vector<Tensor> {
    const Tensor& x = in[0];
    Tensor out(node.result()->dtype(), node.result()->shape());
    dispatch_dtype(x.dtype(), [&]<typename T>() {
      using C = compute_t<T>;
      if constexpr (in_domain<D, C>()) {
        const T* src = x.data<T>();
        T* dst = out.data<T>();
        for (int64_t i = 0; i < x.numel(); ++i)
          dst[i] = from_compute<T>(fn(to_compute(src[i])));
      } else {
        unsupported_dtype(node, x.dtype());
      }
    });
    return {out};
  };
}

void register_unary(KernelTable& t) {
  t.add(Op::Neg, unary_kernel<Domain::Numeric>([](auto x) { return neg_op(x); }));
  t.add(Op::Abs, unary_kernel<Domain::Numeric>([](auto x) { return abs_op(x); }));
  t.add(Op::Sign, unary_kernel<Domain::Numeric>([](auto x) { return sign_op(x); }));
  t.add(Op::Relu, unary_kernel<Domain::Numeric>([](auto x) { return relu_op(x); }));
  t.add(Op::Exp, unary_kernel<Domain::Float>([](auto x) { return std::exp(x); }));
  t.add(Op::Log, unary_kernel<Domain::Float>([](auto x) { return std::log(x); }));
  t.add(Op::Sqrt, unary_kernel<Domain::Float>([](auto x) { return std::sqrt(x); }));
  t.add(Op::Rsqrt, unary_kernel<Domain::Float>([](auto x) { return 1 / std::sqrt(x); }));
  t.add(Op::Tanh, unary_kernel<Domain::Float>([](auto x) { return std::tanh(x); }));
  t.add(Op::Sigmoid, unary_kernel<Domain::Float>([](auto x) { return sigmoid_op(x); }));
  t.add(Op::Sin, unary_kernel<Domain::Float>([](auto x) { return std::sin(x); }));
  t.add(Op::Cos, unary_kernel<Domain::Float>([](auto x) { return std::cos(x); }));
  t.add(Op::Erf, unary_kernel<Domain::Float>([](auto x) { return std::erf(x); }));
  t.add(Op::Floor, unary_kernel<Domain::Float>([](auto x) { return std::floor(x); }));
  t.add(Op::Ceil, unary_kernel<Domain::Float>([](auto x) { return std::ceil(x); }));
  t.add(Op::LogicalNot, unary_kernel<Domain::Bool>([](bool x) { return !x; }));
}

// --- binary ops ------------------------------------------------------------------------

template <typename C> C add_op(C a, C b) {
  if constexpr (std::is_integral_v<C>)
    return wrapping_add(a, b);
  else
    return a + b;
}
template <typename C> C sub_op(C a, C b) {
  if constexpr (std::is_integral_v<C>)
    return wrapping_sub(a, b);
  else
    return a - b;
}
template <typename C> C mul_op(C a, C b) {
  if constexpr (std::is_integral_v<C>)
    return wrapping_mul(a, b);
  else
    return a * b;
}
template <typename C> C div_op(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    if (b == 0) runtime_error("div: integer division by zero");
    if (b == -1) return wrapping_neg(a); // INT_MIN / -1 wraps to INT_MIN
    return static_cast<C>(a / b);
  } else {
    return a / b;
  }
}
// Integer power by squaring: equal (mod 2^bits) to repeated multiplication.
template <typename C> C integer_pow(C base, C exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exponent % 2 == 0) ? 1 : -1;
    runtime_error("pow: negative integer exponent " + std::to_string(exponent) + " of base " +
                  std::to_string(base) + " (only bases 1 and -1 allow it)");
  }
  C result = 1;
  while (exponent > 0) {
    if (exponent & 1) result = wrapping_mul(result, base);
    base = wrapping_mul(base, base);
    exponent = static_cast<C>(exponent >> 1);
  }
  return result;
}
template <typename C> C pow_op(C a, C b) {
  if constexpr (std::is_integral_v<C>)
    return integer_pow(a, b);
  else
    return std::pow(a, b);
}
template <typename C> C maximum_op(C a, C b) {
  if constexpr (std::is_floating_point_v<C>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<C>::quiet_NaN();
  return a > b ? a : b;
}
template <typename C> C minimum_op(C a, C b) {
  if constexpr (std::is_floating_point_v<C>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<C>::quiet_NaN();
  return a < b ? a : b;
}

// Calls body(out_index, a_offset, b_offset) for every result element, following numpy
// broadcasting. Operands already of the result's shape are read linearly.
template <typename Body>
void for_each_broadcast(const Shape& out_shape, const std::vector<const Tensor*>& operands,
                        Body body) {
  bool all_same = true;
  for (const Tensor* t : operands)
    all_same = all_same && t->shape() == out_shape;
  std::vector<int64_t> offsets(operands.size());
  if (all_same) {
    int64_t n = shape_numel(out_shape);
    for (int64_t i = 0; i < n; ++i) {
      std::fill(offsets.begin(), offsets.end(), i);
      body(i, offsets);
    }
    return;
  }
  std::vector<Strides> strides;
  for (const Tensor* t : operands)
    strides.push_back(broadcast_strides(t->shape(), out_shape));
  IndexIterator it(out_shape, strides);
  for (int64_t i = 0; !it.done(); it.next(), ++i) {
    for (size_t k = 0; k < operands.size(); ++k)
      offsets[k] = it.offset(k);
    body(i, offsets);
  }
}

// fn maps two compute values to a compute value (arithmetic) or to bool (comparisons).
template <Domain D, typename Fn> Kernel binary_kernel(Fn fn) {
  return [fn](const ir::Node& node, const std::vector<Tensor>& in) -> std::vector<Tensor> {
    const Tensor &a = in[0], &b = in[1];
    Tensor out(node.result()->dtype(), node.result()->shape());
    dispatch_dtype(a.dtype(), [&]<typename T>() {
      using C = compute_t<T>;
      if constexpr (in_domain<D, C>()) {
        using R = decltype(fn(C{}, C{}));
        using Stored = std::conditional_t<std::is_same_v<R, bool>, bool, T>;
        const T *pa = a.data<T>(), *pb = b.data<T>();
        Stored* dst = out.data<Stored>();
        for_each_broadcast(out.shape(), {&a, &b}, [&](int64_t i, const std::vector<int64_t>& o) {
          R r = fn(to_compute(pa[o[0]]), to_compute(pb[o[1]]));
          if constexpr (std::is_same_v<Stored, bool>)
            dst[i] = r;
          else
            dst[i] = from_compute<T>(r);
        });
      } else {
        unsupported_dtype(node, a.dtype());
      }
    });
    return {out};
  };
}

void register_binary(KernelTable& t) {
  using D = Domain;
  t.add(Op::Add, binary_kernel<D::Numeric>([](auto a, auto b) { return add_op(a, b); }));
  t.add(Op::Sub, binary_kernel<D::Numeric>([](auto a, auto b) { return sub_op(a, b); }));
  t.add(Op::Mul, binary_kernel<D::Numeric>([](auto a, auto b) { return mul_op(a, b); }));
  t.add(Op::Div, binary_kernel<D::Numeric>([](auto a, auto b) { return div_op(a, b); }));
  t.add(Op::Pow, binary_kernel<D::Numeric>([](auto a, auto b) { return pow_op(a, b); }));
  t.add(Op::Maximum, binary_kernel<D::Numeric>([](auto a, auto b) { return maximum_op(a, b); }));
  t.add(Op::Minimum, binary_kernel<D::Numeric>([](auto a, auto b) { return minimum_op(a, b); }));
  t.add(Op::Eq, binary_kernel<D::Any>([](auto a, auto b) -> bool { return a == b; }));
  t.add(Op::Ne, binary_kernel<D::Any>([](auto a, auto b) -> bool { return a != b; }));
  t.add(Op::Lt, binary_kernel<D::Any>([](auto a, auto b) -> bool { return a < b; }));
  t.add(Op::Le, binary_kernel<D::Any>([](auto a, auto b) -> bool { return a <= b; }));
  t.add(Op::Gt, binary_kernel<D::Any>([](auto a, auto b) -> bool { return a > b; }));
  t.add(Op::Ge, binary_kernel<D::Any>([](auto a, auto b) -> bool { return a >= b; }));
  t.add(Op::LogicalAnd, binary_kernel<D::Bool>([](bool a, bool b) { return a && b; }));
  t.add(Op::LogicalOr, binary_kernel<D::Bool>([](bool a, bool b) { return a || b; }));
}

// --- select and cast -------------------------------------------------------------------

std::vector<Tensor> select_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Tensor &cond = in[0], &a = in[1], &b = in[2];
  Tensor out(node.result()->dtype(), node.result()->shape());
  dispatch_dtype(a.dtype(), [&]<typename T>() {
    const bool* pc = cond.data<bool>();
    const T *pa = a.data<T>(), *pb = b.data<T>();
    T* dst = out.data<T>();
    for_each_broadcast(out.shape(), {&cond, &a, &b}, [&](int64_t i, const std::vector<int64_t>& o) {
      dst[i] = pc[o[0]] ? pa[o[1]] : pb[o[2]];
    });
  });
  return {out};
}

// f64 sources round once to f16/bf16 (narrow_from_double); everything else follows
// convert_scalar: float -> int truncates and saturates, NaN -> 0, -> bool is x != 0.
template <typename To, typename From> To cast_value(From v) {
  if constexpr (std::is_same_v<From, double>)
    return narrow_from_double<To>(v);
  else
    return convert_scalar<To>(v);
}

std::vector<Tensor> cast_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  Tensor out(node.result()->dtype(), node.result()->shape());
  dispatch_dtype(x.dtype(), [&]<typename From>() {
    dispatch_dtype(out.dtype(), [&]<typename To>() {
      const From* src = x.data<From>();
      To* dst = out.data<To>();
      for (int64_t i = 0; i < x.numel(); ++i)
        dst[i] = cast_value<To>(src[i]);
    });
  });
  return {out};
}

} // namespace

void register_elementwise_kernels(KernelTable& t) {
  register_unary(t);
  register_binary(t);
  t.add(Op::Select, select_kernel);
  t.add(Op::Cast, cast_kernel);
}

} // namespace loom::interp
