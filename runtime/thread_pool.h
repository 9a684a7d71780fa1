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
  // The threads a run() from the calling thread would use: 1 from inside a chunk of
  // this pool (nested runs are inline), else num_threads().
  int threads_here() const;

  // Runs body(chunk) for chunk in [0, chunks), the caller thread taking part.
  // Returns when all chunks are done. Not reentrant (nested calls run inline).
  void run(int64_t chunks, const std::function<void(int64_t)>& body);

  // The process-wide pool used by generated code; its size comes from
  // LOOM_NUM_THREADS or the core count, or set_global_threads().
  static ThreadPool& global();
  static void set_global_threads(int threads);

private:
  void worker_loop(int self);
  // Runs chunks of job `job`: first this thread's own share, then the rest of the
  // others' shares, taken from their ends.
  void work_on(uint64_t job, int self);
  bool take(uint64_t job, int owner, bool from_end, int64_t& chunk);
  bool wait_for_job(uint64_t seen);

  std::vector<std::thread> workers_;
  // Each thread's share of the current job's chunks, one cache line each: job number
  // (24 bits) | end (20 bits) | next (20 bits). A chunk is taken by a compare-and-swap
  // that also checks the job, so a late worker never takes a chunk of the next job
  // with the previous job's body.
  struct alignas(64) Share {
    std::atomic<uint64_t> ticket{0};
  };
  std::vector<Share> shares_;
  alignas(64) std::atomic<uint64_t> job_{0}; // the newest job's number: wakes workers
  std::atomic<const std::function<void(int64_t)>*> body_{nullptr};
  alignas(64) std::atomic<int64_t> finished_{0};
  std::atomic<bool> busy_{false};
  std::atomic<int> sleeping_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
};

} // namespace loom
