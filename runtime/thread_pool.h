// A small fixed-size thread pool for data-parallel loops. The split of work into
// chunks is decided by the caller (at compile time for generated code), never by
// the number of threads, so results do not depend on the thread count.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace loom {

class ThreadPool {
public:
  // threads <= 0: one per hardware core.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs body(chunk) for chunk in [0, chunks), the caller thread taking part.
  // Returns when all chunks are done. Not reentrant (nested calls run inline).
  void run(int64_t chunks, const std::function<void(int64_t)>& body);

  // The process-wide pool used by generated code; its size comes from
  // LOOM_NUM_THREADS or the core count, or set_global_threads().
  static ThreadPool& global();
  static void set_global_threads(int threads);

private:
  void worker_loop();
  void work_on_current_job();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* body_ = nullptr;
  int64_t chunks_ = 0, next_chunk_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  bool busy_ = false;
};

} // namespace loom
