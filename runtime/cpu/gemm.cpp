#include "runtime/cpu/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "runtime/cpu/packed_sgemm.h"
#include "runtime/thread_pool.h"

extern "C" void openblas_set_num_threads(int);

namespace loom::cpu {

namespace {

// Blocks of C: the larger dimension split into pieces (see split_for). The split
// depends on (m, n, k) only, never on the thread count.
struct Split {
  bool by_rows;
  int64_t pieces;
};

Split split_for(int64_t m, int64_t n, int64_t k) {
  double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (flops < 4e6) return {true, 1};
  bool by_rows = m >= n;
  int64_t extent = by_rows ? m : n;
  // Each block re-packs the shared operand: large GEMMs use few large blocks; small ones
  // use more blocks to balance the threads.
  if (flops >= 2e8) return {by_rows, std::clamp<int64_t>(extent / 256, 1, 4)};
  return {by_rows, std::clamp<int64_t>(extent / 128, 1, 8)}; // measured on the LSTM's 64x1024 GEMMs
}

void single_threaded_blas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

template <typename T, typename Gemm>
void blocked(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
             int64_t ldb, T* c, int64_t ldc, Gemm gemm, const GemmEpilogue& epilogue) {
  if (m == 0 || n == 0) return;
  single_threaded_blas();
  Split s = split_for(m, n, k);
  auto run_piece = [&](int64_t piece) {
    int64_t extent = s.by_rows ? m : n;
    int64_t lo = extent * piece / s.pieces, hi = extent * (piece + 1) / s.pieces;
    if (s.by_rows) {
      const T* a_rows = ta ? a + lo : a + lo * lda; // rows of op(A)
      gemm(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, hi - lo, n, k, a_rows,
           lda, b, ldb, c + lo * ldc, ldc);
      apply_epilogue(epilogue, c, ldc, lo, hi, 0, n);
    } else {
      const T* b_cols = tb ? b + lo * ldb : b + lo; // columns of op(B)
      gemm(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, hi - lo, k, a, lda,
           b_cols, ldb, c + lo, ldc);
      apply_epilogue(epilogue, c, ldc, 0, m, lo, hi);
    }
  };
  if (s.pieces == 1)
    run_piece(0);
  else
    ThreadPool::global().run(s.pieces, run_piece);
}

// k = 0: C = beta C (an empty sum), done here because BLAS may skip the call.
template <typename T> void scale_only(int64_t m, int64_t n, T* c, int64_t ldc, T beta) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
}

void blas_gemm(CBLAS_TRANSPOSE x, CBLAS_TRANSPOSE y, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc) {
  cblas_sgemm(CblasRowMajor, x, y, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void blas_gemm(CBLAS_TRANSPOSE x, CBLAS_TRANSPOSE y, int64_t m, int64_t n, int64_t k, double alpha,
               const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
               int64_t ldc) {
  cblas_dgemm(CblasRowMajor, x, y, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <typename T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
          int64_t ldb, T* c, int64_t ldc, T alpha, T beta, const GemmEpilogue& epilogue) {
  if (k == 0) {
    scale_only(m, n, c, ldc, beta);
    return apply_epilogue(epilogue, c, ldc, 0, m, 0, n);
  }
  blocked(
      ta, tb, m, n, k, a, lda, b, ldb, c, ldc,
      [alpha, beta](CBLAS_TRANSPOSE x, CBLAS_TRANSPOSE y, int64_t mm, int64_t nn, int64_t kk,
                    const T* aa, int64_t la, const T* bb, int64_t lb, T* cc, int64_t lc) {
        blas_gemm(x, y, mm, nn, kk, alpha, aa, la, bb, lb, beta, cc, lc);
      },
      epilogue);
}

} // namespace

void sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, float alpha, float beta,
           PackedB* b_cache, bool refresh_b_cache, const GemmEpilogue& epilogue) {
  // Below 2 MFLOP OpenBLAS's unpacked small-matrix kernels win (LeNet's GEMMs).
  constexpr double kSmallFlops = 2e6;
  if (b_cache && refresh_b_cache) b_cache->b = nullptr; // until packed_sgemm fills it
  if (k > 0 && use_packed_sgemm() && 2.0 * static_cast<double>(m) * n * k >= kSmallFlops &&
      packed_sgemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, alpha, beta, b_cache, refresh_b_cache,
                   epilogue))
    return;
  gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, alpha, beta, epilogue);
}

void dgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
           const double* b, int64_t ldb, double* c, int64_t ldc, double alpha, double beta,
           const GemmEpilogue& epilogue) {
  gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, alpha, beta, epilogue);
}

} // namespace loom::cpu
