#include "runtime/cpu_rt.h"

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ir/error.h"
#include "ir/serialize.h"
#include "runtime/cpu/gemm.h"
#include "runtime/cpu/packed_sgemm.h"
#include "runtime/interp/interpreter.h"
#include "runtime/thread_pool.h"

namespace {

thread_local std::string last_error;

// Walks every batch index of a broadcast batched matmul.
template <typename Fn>
void for_each_batch(int64_t rank, const int64_t* dims, const int64_t* a_strides,
                    const int64_t* b_strides, Fn fn) {
  std::vector<int64_t> idx(rank, 0);
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d)
    count *= dims[d];
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t a_off = 0, b_off = 0;
    for (int64_t d = 0; d < rank; ++d) {
      a_off += idx[d] * a_strides[d];
      b_off += idx[d] * b_strides[d];
    }
    fn(linear, a_off, b_off);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
}

struct CachedFunction {
  std::unique_ptr<loom::ir::Module> module;
  const loom::ir::Function* fn;
};

} // namespace

extern "C" {

void loom_rt_parallel_for(loom_kernel_fn fn, void* const* buffers, int64_t total, int64_t chunks) {
  if (total <= 0) return;
  if (chunks > total) chunks = total;
  if (chunks <= 1) {
    fn(buffers, 0, total);
    return;
  }
  loom::ThreadPool::global().run(chunks, [&](int64_t c) {
    int64_t begin = total * c / chunks, end = total * (c + 1) / chunks;
    fn(buffers, begin, end);
  });
}

void loom_rt_matmul(int32_t dtype, int32_t flags, const void* a, const void* b, void* c, int64_t m,
                    int64_t n, int64_t k, int64_t batch_rank, const int64_t* out_batch_dims,
                    const int64_t* a_strides, const int64_t* b_strides, int64_t lda, int64_t ldb,
                    double alpha, double beta, void* b_cache, int32_t refresh_b_cache,
                    int32_t epilogue, const void* epilogue_bias, const void* epilogue_mask,
                    double epilogue_fill) {
  bool ta = flags & 1, tb = flags & 2;
  auto* cache = dtype == 0 && batch_rank == 0 ? static_cast<loom::cpu::PackedB*>(b_cache) : nullptr;
  loom::cpu::GemmEpilogue e{static_cast<loom::cpu::GemmEpilogue::Kind>(epilogue), epilogue_bias,
                            static_cast<const uint8_t*>(epilogue_mask), n, epilogue_fill};
  // In the GEMM for one f32 matrix; otherwise over all of c afterwards.
  loom::cpu::GemmEpilogue in_gemm = dtype == 0 && batch_rank == 0 ? e : loom::cpu::GemmEpilogue{};
  if (lda == 0) lda = ta ? m : k;
  if (ldb == 0) ldb = tb ? k : n;
  for_each_batch(batch_rank, out_batch_dims, a_strides, b_strides,
                 [&](int64_t batch, int64_t a_off, int64_t b_off) {
                   if (dtype == 0)
                     loom::cpu::sgemm(ta, tb, m, n, k, static_cast<const float*>(a) + a_off, lda,
                                      static_cast<const float*>(b) + b_off, ldb,
                                      static_cast<float*>(c) + batch * m * n, n,
                                      static_cast<float>(alpha), static_cast<float>(beta), cache,
                                      refresh_b_cache != 0, in_gemm);
                   else
                     loom::cpu::dgemm(ta, tb, m, n, k, static_cast<const double*>(a) + a_off, lda,
                                      static_cast<const double*>(b) + b_off, ldb,
                                      static_cast<double*>(c) + batch * m * n, n, alpha, beta);
                 });
  if (e.kind == loom::cpu::GemmEpilogue::kNone || in_gemm.kind != loom::cpu::GemmEpilogue::kNone)
    return;
  int64_t rows = m;
  for (int64_t d = 0; d < batch_rank; ++d)
    rows *= out_batch_dims[d];
  if (dtype == 0)
    loom::cpu::apply_epilogue(e, static_cast<float*>(c), n, 0, rows, 0, n);
  else
    loom::cpu::apply_epilogue(e, static_cast<double*>(c), n, 0, rows, 0, n);
}

int64_t loom_rt_packed_b_cache_bytes(int64_t n, int64_t k) {
  return loom::cpu::packed_b_cache_bytes(n, k);
}

int32_t loom_rt_interp_call(const uint8_t* module_bytes, int64_t nbytes, void* const* buffers) {
  static std::mutex mu;
  // Keyed by contents: JIT memory is reused, so an address may name different modules over time.
  static std::map<std::string, CachedFunction, std::less<>> cache;
  try {
    const loom::ir::Function* fn;
    {
      std::lock_guard<std::mutex> lock(mu);
      std::string_view bytes(reinterpret_cast<const char*>(module_bytes),
                             static_cast<size_t>(nbytes));
      auto it = cache.find(bytes);
      if (it == cache.end()) {
        auto module = loom::ir::deserialize_module(bytes, "<kernel>");
        const loom::ir::Function* f = module->find_function("main");
        if (!f) loom::throw_error(loom::ErrorCode::Internal, "interpreter kernel without @main");
        it = cache.emplace(std::string(bytes), CachedFunction{std::move(module), f}).first;
      }
      fn = it->second.fn;
    }
    std::vector<loom::Tensor> args;
    size_t slot = 0;
    for (const loom::ir::Value* p : fn->params())
      args.push_back(loom::Tensor::wrap(p->type(), buffers[slot++]));
    std::vector<loom::Tensor> results = loom::interp::evaluate(*fn, args);
    for (const loom::Tensor& r : results) {
      if (r.nbytes() > 0) std::memcpy(buffers[slot], r.raw_data(), r.nbytes());
      ++slot;
    }
    return 0;
  } catch (const std::exception& e) {
    last_error = e.what();
    return 1;
  }
}

const char* loom_rt_last_error() { return last_error.c_str(); }

void loom_rt_set_error(const char* message) { last_error = message; }

int32_t loom_rt_scatter_add(int32_t dtype, int32_t index_dtype, const void* x, const void* indices,
                            const void* updates, void* out, int64_t outer, int64_t extent,
                            int64_t inner, int64_t count) {
  auto run = [&]<typename T>() -> int32_t {
    const T* src = static_cast<const T*>(x);
    const T* upd = static_cast<const T*>(updates);
    T* dst = static_cast<T*>(out);
    if (dst != src) std::memcpy(dst, src, sizeof(T) * outer * extent * inner);
    for (int64_t j = 0; j < count; ++j) {
      int64_t index = index_dtype == 0 ? static_cast<const int32_t*>(indices)[j]
                                       : static_cast<const int64_t*>(indices)[j];
      if (index < 0) index += extent;
      if (index < 0 || index >= extent) return 1;
    }
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < count; ++j) {
        int64_t index = index_dtype == 0 ? static_cast<const int32_t*>(indices)[j]
                                         : static_cast<const int64_t*>(indices)[j];
        if (index < 0) index += extent;
        T* row = dst + (o * extent + index) * inner;
        const T* u = upd + (o * count + j) * inner;
        for (int64_t i = 0; i < inner; ++i)
          row[i] += u[i];
      }
    return 0;
  };
  return dtype == 0 ? run.template operator()<float>() : run.template operator()<double>();
}

void loom_rt_set_num_threads(int32_t threads) {
  // BLAS runs single-threaded inside loom's own split (runtime/cpu/gemm.h).
  loom::ThreadPool::set_global_threads(threads);
}

} // extern "C"

namespace loom {

const RuntimeSymbol* runtime_symbols(int* count) {
  static const RuntimeSymbol symbols[] = {
      {"loom_rt_parallel_for", reinterpret_cast<void*>(&loom_rt_parallel_for)},
      {"loom_rt_matmul", reinterpret_cast<void*>(&loom_rt_matmul)},
      {"loom_rt_interp_call", reinterpret_cast<void*>(&loom_rt_interp_call)},
      {"loom_rt_set_error", reinterpret_cast<void*>(&loom_rt_set_error)},
      {"loom_rt_scatter_add", reinterpret_cast<void*>(&loom_rt_scatter_add)},
      {"loom_rt_conv2d_f32", reinterpret_cast<void*>(&loom_rt_conv2d_f32)},
      {"loom_rt_conv2d_backprop_input_f32",
       reinterpret_cast<void*>(&loom_rt_conv2d_backprop_input_f32)},
      {"loom_rt_conv2d_backprop_filter_f32",
       reinterpret_cast<void*>(&loom_rt_conv2d_backprop_filter_f32)},
      {"loom_rt_max_pool2d_f32", reinterpret_cast<void*>(&loom_rt_max_pool2d_f32)},
      {"loom_rt_max_pool2d_grad_f32", reinterpret_cast<void*>(&loom_rt_max_pool2d_grad_f32)},
      {"loom_rt_avg_pool2d_f32", reinterpret_cast<void*>(&loom_rt_avg_pool2d_f32)},
      {"loom_rt_avg_pool2d_grad_f32", reinterpret_cast<void*>(&loom_rt_avg_pool2d_grad_f32)},
  };
  *count = sizeof(symbols) / sizeof(symbols[0]);
  return symbols;
}

} // namespace loom
