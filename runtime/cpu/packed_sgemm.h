// loom's own single-precision GEMM for AVX-512 hosts (runtime/cpu/packed_sgemm.cpp).
// The operands are packed once per call (where packing pays) into panels shared by all
// threads, and every element of C is one register tile's sum over k (over blocks of k
// in a fixed order for long k), so the result does not depend on how C is split over
// threads.
#pragma once

#include <cstdint>

#include "runtime/cpu/gemm.h"

namespace loom::cpu {

// Whether loom::cpu::sgemm uses packed_sgemm: the CPU has AVX-512F and tests have not
// switched it off (allow_packed_sgemm(false) falls back to OpenBLAS, so that tests
// compare both on AVX-512 machines).
bool use_packed_sgemm();
void allow_packed_sgemm(bool allowed);

// A packed copy of a B operand that several GEMMs read unchanged (an RNN's recurrent
// weight, read transposed by the input gradient of every time step): the first GEMM
// packs B into it (refresh), the later ones skip packing when it holds their B with
// their blocking of k. Caller-owned, 64-byte aligned memory of packed_b_cache_bytes(n, k)
// bytes that starts with this header. It needs no initialization: a refresh writes the
// header (b = null when that GEMM does not pack B), and only a refresh may come first.
struct PackedB {
  const float* b; // the B it holds (null: nothing)
  int64_t ldb, n, k, block;
  bool tb;
};
int64_t packed_b_cache_bytes(int64_t n, int64_t k);

// C[m x n] = alpha op(A) op(B) + beta C, row-major, as loom::cpu::sgemm. Requires
// AVX-512F. With beta = 0, C is only written. Returns false, C untouched, when the memory
// for the packed panels cannot be allocated. With a cache, B is packed into it (refresh)
// or read from it (when it holds this B); the result is the same either way. The
// epilogue is applied in registers as the last block of k stores each tile.
bool packed_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                  int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, float alpha,
                  float beta, PackedB* cache = nullptr, bool refresh = false,
                  const GemmEpilogue& epilogue = {});

} // namespace loom::cpu
