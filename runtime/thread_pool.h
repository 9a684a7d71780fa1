// A small fixed-size thread pool for data-parallel loops. The split of work into
// chunks is decided by the caller (at compile time for generated code), never by
// the number of threads, so results do not depend on the thread count.
//
// A training step issues hundreds of short parallel loops back to back, so waking a
// sleeping thread for each (a futex round trip, tens of microseconds) would cost more
// than the loops: idle workers spin briefly on the job counter before they sleep.
#pragma once

#include <atomic>
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
  // Takes and runs chunks of job `job` until none is left.
  void work_on(uint64_t job);
  bool wait_for_job(uint64_t seen);

  std::vector<std::thread> workers_;
  // The current job. `ticket_` holds the job number, its chunk count and the next
  // chunk: a chunk is taken by a compare-and-swap that also checks the job, so a late
  // worker never takes a chunk of the next job with the previous job's body.
  std::atomic<uint64_t> ticket_{0};
  std::atomic<const std::function<void(int64_t)>*> body_{nullptr};
  std::atomic<int64_t> finished_{0};
  std::atomic<bool> busy_{false};
  std::atomic<int> sleeping_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
};

} // namespace loom
