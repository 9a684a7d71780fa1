// The C ABI that generated CPU code calls into. Everything here is part of the
// runtime library (no LLVM), so ahead-of-time objects link against it alone.
#pragma once

#include <cstdint>

extern "C" {

// A generated kernel processes rows [begin, end) of its output space.
typedef void (*loom_kernel_fn)(void* const* buffers, int64_t begin, int64_t end);

// Splits [0, total) into `chunks` fixed, contiguous ranges and runs them on the
// global thread pool. The split depends only on (total, chunks).
void loom_rt_parallel_for(loom_kernel_fn fn, void* const* buffers, int64_t total, int64_t chunks);

// Batched matmul c[b] = op(a[b]) @ op(b[b]) (row-major, m x k times k x n). Batch index b
// runs over out_batch_dims (rank batch_rank); a_strides/b_strides give each operand's
// element stride per batch dim (0 where it broadcasts). dtype: 0 = f32, 1 = f64.
// flags: bit 0 = a is stored transposed (k x m), bit 1 = b is stored transposed (n x k).
// lda, ldb: leading dimensions of a and b as stored (0: dense). c = alpha a b + beta c
// (beta = 0: c is only written). b_cache: null, or (f32, batch_rank 0) memory of
// loom_rt_packed_b_cache_bytes(n, k) bytes, 64-byte aligned, shared by the
// matmuls that read one b unchanged: the first in program order passes
// refresh_b_cache = 1 and packs b into it, the later ones reuse it (cpu::PackedB).
// epilogue: a cpu::GemmEpilogue::Kind applied to c as it is stored (0: none), with its
// bias (n values of c's type), or its mask (bools, dense like c) and fill.
void loom_rt_matmul(int32_t dtype, int32_t flags, const void* a, const void* b, void* c, int64_t m,
                    int64_t n, int64_t k, int64_t batch_rank, const int64_t* out_batch_dims,
                    const int64_t* a_strides, const int64_t* b_strides, int64_t lda, int64_t ldb,
                    double alpha, double beta, void* b_cache, int32_t refresh_b_cache,
                    int32_t epilogue, const void* epilogue_bias, const void* epilogue_mask,
                    double epilogue_fill);
int64_t loom_rt_packed_b_cache_bytes(int64_t n, int64_t k);

// Convolution and pooling on f32 NCHW tensors. `params` of convolutions:
// [N, C, H, W, O, KH, KW, OH, OW, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, groups];
// of pooling: [N, C, H, W, OH, OW, KH, KW, stride_h, stride_w, pad_t, pad_l, pad_b, pad_r,
// count_include_pad]. Semantics as docs/ops.md.
void loom_rt_conv2d_f32(const float* x, const float* w, float* y, const int64_t* params);
void loom_rt_conv2d_backprop_input_f32(const float* dy, const float* w, float* dx,
                                       const int64_t* params);
void loom_rt_conv2d_backprop_filter_f32(const float* x, const float* dy, float* dw,
                                        const int64_t* params);
void loom_rt_max_pool2d_f32(const float* x, float* y, const int64_t* params);
void loom_rt_max_pool2d_grad_f32(const float* x, const float* dy, float* dx, const int64_t* params);
void loom_rt_avg_pool2d_f32(const float* x, float* y, const int64_t* params);
void loom_rt_avg_pool2d_grad_f32(const float* dy, float* dx, const int64_t* params);

// out = x with updates added at indices along an axis (x viewed as [outer, extent, inner],
// updates as [outer, count, inner]); duplicates accumulate in index order. dtype 0 = f32,
// 1 = f64; index_dtype 0 = i32, 1 = i64. Returns 1 if an index is out of range.
int32_t loom_rt_scatter_add(int32_t dtype, int32_t index_dtype, const void* x, const void* indices,
                            const void* updates, void* out, int64_t outer, int64_t extent,
                            int64_t inner, int64_t count);

// Records the message that loom_rt_last_error() returns (generated code's errors).
void loom_rt_set_error(const char* message);

// Runs one IR function (a serialized .loompb module whose function "main" is the
// group) on the reference interpreter: buffers are its parameters in order, then its
// outputs in order. Used for ops and dtypes the code generator does not lower.
// Returns 0, or 1 after storing the error message for loom_rt_last_error().
int32_t loom_rt_interp_call(const uint8_t* module_bytes, int64_t nbytes, void* const* buffers);
const char* loom_rt_last_error();

// Sets the thread count of the global pool (and of the BLAS library).
void loom_rt_set_num_threads(int32_t threads);
}

namespace loom {
// Name -> address of every loom_rt_* symbol, for JIT symbol resolution.
struct RuntimeSymbol {
  const char* name;
  void* address;
};
const RuntimeSymbol* runtime_symbols(int* count);
} // namespace loom
