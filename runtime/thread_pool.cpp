#include "runtime/thread_pool.h"

#include <cstdlib>
#include <memory>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOOM_CPU_RELAX() _mm_pause()
#else
#define LOOM_CPU_RELAX() std::this_thread::yield()
#endif

namespace loom {

namespace {
constexpr int kSpinsBeforeSleep = 1 << 14; // pause instructions: ~370 us on the Zen 5 host
// A share's ticket: job (24 bits) | end (20 bits) | next chunk (20 bits).
constexpr int64_t kMaxChunks = (1 << 20) - 1;
constexpr uint64_t kJobMask = 0xffffff;
uint64_t job_of(uint64_t ticket) { return ticket >> 40; }
int64_t end_of(uint64_t ticket) { return static_cast<int64_t>((ticket >> 20) & kMaxChunks); }
int64_t next_of(uint64_t ticket) { return static_cast<int64_t>(ticket & kMaxChunks); }
// The pool whose chunk this thread is running, if any.
thread_local const ThreadPool* running_pool = nullptr;
uint64_t make_ticket(uint64_t job, int64_t next, int64_t end) {
  return ((job & kJobMask) << 40) | (static_cast<uint64_t>(end) << 20) |
         static_cast<uint64_t>(next);
}
} // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  shares_ = std::vector<Share>(static_cast<size_t>(threads));
  for (int i = 1; i < threads; ++i)
    workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_)
    t.join();
}

// Takes one chunk of `owner`'s share of job `job`: its first, or its last. The body is
// read after a ticket of the job: it is that job's or a later one's, and a later job
// can only have been published once this job's chunks were all taken, in which case
// the compare-and-swap fails.
bool ThreadPool::take(uint64_t job, int owner, bool from_end, int64_t& chunk) {
  std::atomic<uint64_t>& share = shares_[static_cast<size_t>(owner)].ticket;
  uint64_t ticket = share.load(std::memory_order_acquire);
  for (;;) {
    int64_t next = next_of(ticket), end = end_of(ticket);
    if (job_of(ticket) != job || next >= end) return false;
    uint64_t taken = from_end ? make_ticket(job, next, end - 1) : make_ticket(job, next + 1, end);
    if (share.compare_exchange_weak(ticket, taken, std::memory_order_acq_rel)) {
      chunk = from_end ? end - 1 : next;
      return true;
    }
  }
}

// Each thread starts on its own contiguous share, so that loops with the same chunking
// find their data in the cache of the thread that wrote it (on a host whose two cores
// sit on different L3 slices a cache line moves between them in ~370 ns, not ~95);
// a thread that runs out steals from the ends of the others' shares.
void ThreadPool::work_on(uint64_t job, int self) {
  int threads = static_cast<int>(shares_.size());
  int64_t chunk = 0;
  const ThreadPool* outer = std::exchange(running_pool, this);
  for (int i = 0; i < threads; ++i) {
    int owner = (self + i) % threads;
    while (take(job, owner, owner != self, chunk)) {
      (*body_.load(std::memory_order_acquire))(chunk);
      finished_.fetch_add(1, std::memory_order_acq_rel);
    }
  }
  running_pool = outer;
}

int ThreadPool::threads_here() const { return running_pool == this ? 1 : num_threads(); }

// Spins, then sleeps, until a job other than `seen` is published; false on stop.
bool ThreadPool::wait_for_job(uint64_t seen) {
  for (int i = 0; i < kSpinsBeforeSleep; ++i) {
    if (stop_.load(std::memory_order_acquire)) return false;
    if (job_.load(std::memory_order_acquire) != seen) return true;
    LOOM_CPU_RELAX();
  }
  std::unique_lock<std::mutex> lock(mu_);
  sleeping_.fetch_add(1); // seq_cst: pairs with run()'s publish, then load of sleeping_
  wake_.wait(lock, [&] { return stop_.load() || job_.load() != seen; });
  sleeping_.fetch_sub(1);
  return !stop_.load();
}

void ThreadPool::worker_loop(int self) {
  uint64_t seen = 0;
  while (wait_for_job(seen)) {
    seen = job_.load(std::memory_order_acquire);
    work_on(seen, self);
  }
}

void ThreadPool::run(int64_t chunks, const std::function<void(int64_t)>& body) {
  if (chunks <= 0) return;
  // Nested calls (from inside a chunk), single chunks and pools without workers run inline.
  if (workers_.empty() || chunks == 1 || chunks > kMaxChunks || busy_.exchange(true)) {
    for (int64_t c = 0; c < chunks; ++c)
      body(c);
    return;
  }
  body_.store(&body, std::memory_order_release);
  finished_.store(0, std::memory_order_release);
  uint64_t job = (job_.load() + 1) & kJobMask;
  int64_t threads = static_cast<int64_t>(shares_.size());
  for (int64_t t = 0; t < threads; ++t)
    shares_[static_cast<size_t>(t)].ticket.store(
        make_ticket(job, chunks * t / threads, chunks * (t + 1) / threads),
        std::memory_order_release);
  job_.store(job); // seq_cst publish, after the body and the shares
  if (sleeping_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_.notify_all();
  }
  work_on(job, 0);
  for (int spins = 0; finished_.load(std::memory_order_acquire) != chunks; ++spins) {
    if (spins < kSpinsBeforeSleep)
      LOOM_CPU_RELAX();
    else
      std::this_thread::yield();
  }
  busy_.store(false, std::memory_order_release);
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
