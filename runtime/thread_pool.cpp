#include "runtime/thread_pool.h"

#include <cstdlib>
#include <memory>

namespace loom {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::work_on_current_job() {
  std::unique_lock<std::mutex> lock(mu_);
  while (body_ && next_chunk_ < chunks_) {
    int64_t chunk = next_chunk_++;
    const auto* body = body_;
    lock.unlock();
    (*body)(chunk);
    lock.lock();
    if (++finished_ == chunks_) done_.notify_all();
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    work_on_current_job();
  }
}

void ThreadPool::run(int64_t chunks, const std::function<void(int64_t)>& body) {
  if (chunks <= 0) return;
  bool run_inline;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Nested calls (from inside a chunk) and single chunks run on the caller.
    run_inline = busy_ || workers_.empty() || chunks == 1;
    if (!run_inline) {
      busy_ = true;
      body_ = &body;
      chunks_ = chunks;
      next_chunk_ = 0;
      finished_ = 0;
      ++generation_;
    }
  }
  if (run_inline) {
    for (int64_t c = 0; c < chunks; ++c) body(c);
    return;
  }
  wake_.notify_all();
  work_on_current_job();
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return finished_ == chunks_; });
  body_ = nullptr;
  busy_ = false;
}

namespace {
std::unique_ptr<ThreadPool>& global_slot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}
std::mutex global_mu;
} // namespace

ThreadPool& ThreadPool::global() {
  std::lock_guard<std::mutex> lock(global_mu);
  auto& pool = global_slot();
  if (!pool) {
    int threads = 0;
    if (const char* env = std::getenv("LOOM_NUM_THREADS")) threads = std::atoi(env);
    pool = std::make_unique<ThreadPool>(threads);
  }
  return *pool;
}

void ThreadPool::set_global_threads(int threads) {
  std::lock_guard<std::mutex> lock(global_mu);
  global_slot() = std::make_unique<ThreadPool>(threads);
}

} // namespace loom
