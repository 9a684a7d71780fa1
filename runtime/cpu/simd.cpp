#include "runtime/cpu/simd.h"

namespace loom::cpu {

bool Avx512Path::enabled() const {
  static const bool supported = __builtin_cpu_supports("avx512f");
  return supported && allowed_.load(std::memory_order_relaxed);
}

namespace {
Avx512Path row_kernels;
} // namespace

bool use_avx512_kernels() { return row_kernels.enabled(); }
void allow_avx512_kernels(bool allowed) { row_kernels.allow(allowed); }

} // namespace loom::cpu
