// Single-precision and double-precision GEMM for compiled code. On AVX-512 hosts sgemm
// from 2 MFLOP up is loom's own (runtime/cpu/packed_sgemm.h); otherwise, and for dgemm,
// OpenBLAS kernels run single-threaded on blocks of C fixed by the shape alone, spread
// over loom's thread pool. (OpenBLAS's own threading changes results with the thread
// count.)
// Either way the result does not depend on the number of threads.
#pragma once

#include <cstdint>

namespace loom::cpu {

// C[m x n] = alpha op(A) op(B) + beta C, row-major, op = transpose when trans_*.
// With beta = 0, C is only written (it may hold anything, NaN included).
// b_cache (runtime/cpu/packed_sgemm.h): B's packed panels kept for later GEMMs that read
// the same B; refresh_b_cache packs them anew (or empties the cache when this GEMM does
// not pack).
struct PackedB;
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, float alpha = 1.0f,
           float beta = 0.0f, PackedB* b_cache = nullptr, bool refresh_b_cache = false);
void dgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double* a,
           int64_t lda, const double* b, int64_t ldb, double* c, int64_t ldc, double alpha = 1.0,
           double beta = 0.0);

} // namespace loom::cpu
