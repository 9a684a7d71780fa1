// Single-precision and double-precision GEMM for compiled code: OpenBLAS kernels run
// single-threaded on blocks of C fixed by the shape alone, spread over loom's thread
// pool. (OpenBLAS's own threading changes results with the thread count.)
#pragma once

#include <cstdint>

namespace loom::cpu {

// C[m x n] = op(A) op(B), row-major, op = transpose when trans_*.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc);
void dgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
           const double* b, int64_t ldb, double* c, int64_t ldc);

} // namespace loom::cpu
