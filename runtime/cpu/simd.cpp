#include "runtime/cpu/simd.h"

#include <atomic>

namespace loom::cpu {

namespace {
std::atomic<bool> avx512_allowed{true};
} // namespace

bool use_avx512_kernels() {
  static const bool supported = __builtin_cpu_supports("avx512f");
  return supported && avx512_allowed.load(std::memory_order_relaxed);
}

void allow_avx512_kernels(bool allowed) {
  avx512_allowed.store(allowed, std::memory_order_relaxed);
}

} // namespace loom::cpu
