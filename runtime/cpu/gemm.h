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
// epilogue: an elementwise function the GEMM applies to C's values as it stores them
// for the last time, C = f(alpha op(A) op(B) + beta C), so that a matmul's bias and
// activation cost no pass over C.
struct PackedB;
struct GemmEpilogue {
  enum Kind : int32_t { kNone = 0, kBias = 1, kBiasRelu = 2, kRelu = 3, kSelect = 4 };
  Kind kind = kNone;
  // kBias, kBiasRelu: x + bias[j] (n values of C's type). kBiasRelu, kRelu: then
  // x < 0 ? 0 : x (loom's relu: NaN and -0 pass). kSelect: mask[i * mask_ld + j] ? x :
  // fill (the mask one byte per bool).
  const void* bias = nullptr;
  const uint8_t* mask = nullptr;
  int64_t mask_ld = 0;
  double fill = 0;
};
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, float alpha = 1.0f,
           float beta = 0.0f, PackedB* b_cache = nullptr, bool refresh_b_cache = false,
           const GemmEpilogue& epilogue = {});
void dgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const double* a,
           int64_t lda, const double* b, int64_t ldb, double* c, int64_t ldc, double alpha = 1.0,
           double beta = 0.0, const GemmEpilogue& epilogue = {});

// The epilogue on rows [i0, i1) x columns [j0, j1) of a stored C, element by element
// (the GEMM paths that do not apply it in registers; the same results bit for bit).
// One loop per kind, so that each vectorizes.
template <typename T>
void apply_epilogue(const GemmEpilogue& e, T* c, int64_t ldc, int64_t i0, int64_t i1, int64_t j0,
                    int64_t j1) {
  const T* bias = static_cast<const T*>(e.bias);
  const T fill = static_cast<T>(e.fill);
  auto relu = [](T x) { return x < 0 ? T(0) : x; };
  for (int64_t i = i0; i < i1; ++i) {
    T* row = c + i * ldc;
    switch (e.kind) {
    case GemmEpilogue::kNone:
      return;
    case GemmEpilogue::kBias:
      for (int64_t j = j0; j < j1; ++j)
        row[j] = row[j] + bias[j];
      break;
    case GemmEpilogue::kBiasRelu:
      for (int64_t j = j0; j < j1; ++j)
        row[j] = relu(row[j] + bias[j]);
      break;
    case GemmEpilogue::kRelu:
      for (int64_t j = j0; j < j1; ++j)
        row[j] = relu(row[j]);
      break;
    case GemmEpilogue::kSelect:
      for (int64_t j = j0; j < j1; ++j)
        row[j] = e.mask[i * e.mask_ld + j] ? row[j] : fill;
      break;
    }
  }
}

} // namespace loom::cpu
