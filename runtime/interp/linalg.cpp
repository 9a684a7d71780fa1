// Linear algebra kernels: batched matmul with numpy-broadcast batch dimensions.
#include <type_traits>

#include "ir/error.h"
#include "runtime/interp/compute_util.h"
#include "runtime/interp/index_util.h"
#include "runtime/interp/kernels.h"

namespace loom::interp {

namespace {

struct MatmulDims {
  int64_t m, k, n;
};

// Floats accumulate in f64 and integers in int64 (wrapping); each output rounds once.
template <typename T> void matmul_block(const T* a, const T* b, T* out, const MatmulDims& dims) {
  for (int64_t i = 0; i < dims.m; ++i)
    for (int64_t j = 0; j < dims.n; ++j) {
      if constexpr (is_float_storage_v<T>) {
        double acc = 0;
        for (int64_t p = 0; p < dims.k; ++p)
          acc += static_cast<double>(to_compute(a[i * dims.k + p])) *
                 static_cast<double>(to_compute(b[p * dims.n + j]));
        out[i * dims.n + j] = narrow_from_double<T>(acc);
      } else {
        uint64_t acc = 0; // unsigned: wraps instead of overflowing
        for (int64_t p = 0; p < dims.k; ++p)
          acc += static_cast<uint64_t>(static_cast<int64_t>(a[i * dims.k + p])) *
                 static_cast<uint64_t>(static_cast<int64_t>(b[p * dims.n + j]));
        out[i * dims.n + j] = static_cast<T>(static_cast<int64_t>(acc));
      }
    }
}

Shape batch_dims(const Shape& s) { return Shape(s.begin(), s.end() - 2); }

// Strides (in elements) that step through the matrices of `operand` as its batch
// dimensions broadcast to `out_batch`.
Strides matrix_strides(const Shape& operand, const Shape& out_batch) {
  Strides s = broadcast_strides(batch_dims(operand), out_batch);
  int64_t matrix_size = operand[operand.size() - 2] * operand[operand.size() - 1];
  for (int64_t& v : s)
    v *= matrix_size;
  return s;
}

std::vector<Tensor> matmul_kernel(const ir::Node& node, const std::vector<Tensor>& in) {
  const Tensor &a = in[0], &b = in[1];
  Tensor out(node.result()->dtype(), node.result()->shape());
  const Shape& sa = a.shape();
  MatmulDims dims{sa[sa.size() - 2], sa[sa.size() - 1], b.shape().back()};
  Shape out_batch = batch_dims(out.shape());
  dispatch_dtype(a.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      unsupported_dtype(node, a.dtype());
    } else {
      IndexIterator it(out_batch,
                       {matrix_strides(sa, out_batch), matrix_strides(b.shape(), out_batch)});
      T* dst = out.data<T>();
      for (int64_t batch = 0; !it.done(); it.next(), ++batch)
        matmul_block(a.data<T>() + it.offset(0), b.data<T>() + it.offset(1),
                     dst + batch * dims.m * dims.n, dims);
    }
  });
  return {out};
}

} // namespace

void register_linalg_kernels(KernelTable& t) { t.add(Op::MatMul, matmul_kernel); }

} // namespace loom::interp
