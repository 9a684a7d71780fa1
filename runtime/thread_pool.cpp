#include "runtime/thread_pool.h"

#include <cstdlib>
#include <memory>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOOM_CPU_RELAX() _mm_pause()
#else
#define LOOM_CPU_RELAX() std::this_thread::yield()
#endif

namespace loom {

namespace {
constexpr int kSpinsBeforeSleep = 1 << 14; // pause instructions: ~370 us on the Zen 5 host
// A ticket: job (24 bits) | chunk count (20 bits) | next chunk (20 bits).
constexpr int64_t kMaxChunks = (1 << 20) - 1;
uint64_t job_of(uint64_t ticket) { return ticket >> 40; }
int64_t chunks_of(uint64_t ticket) { return static_cast<int64_t>((ticket >> 20) & kMaxChunks); }
int64_t next_of(uint64_t ticket) { return static_cast<int64_t>(ticket & kMaxChunks); }
uint64_t make_ticket(uint64_t job, int64_t chunks) {
  return ((job & 0xffffff) << 40) | (static_cast<uint64_t>(chunks) << 20);
}
} // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i)
    workers_.emplace_back([this] { worker_loop(); });
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

// The body is read after a ticket of the job: it is that job's or a later one's, and a
// later job can only have been published if this job's chunks are all taken, in which
// case the compare-and-swap fails.
void ThreadPool::work_on(uint64_t job) {
  uint64_t ticket = ticket_.load(std::memory_order_acquire);
  for (;;) {
    if (job_of(ticket) != job || next_of(ticket) >= chunks_of(ticket)) return;
    const auto* body = body_.load(std::memory_order_acquire);
    if (!ticket_.compare_exchange_weak(ticket, ticket + 1, std::memory_order_acq_rel)) continue;
    (*body)(next_of(ticket));
    finished_.fetch_add(1, std::memory_order_acq_rel);
    ticket = ticket_.load(std::memory_order_acquire);
  }
}

// Spins, then sleeps, until a job other than `seen` is published; false on stop.
bool ThreadPool::wait_for_job(uint64_t seen) {
  for (int i = 0; i < kSpinsBeforeSleep; ++i) {
    if (stop_.load(std::memory_order_acquire)) return false;
    if (job_of(ticket_.load(std::memory_order_acquire)) != seen) return true;
    LOOM_CPU_RELAX();
  }
  std::unique_lock<std::mutex> lock(mu_);
  sleeping_.fetch_add(1); // seq_cst: pairs with run()'s publish, then load of sleeping_
  wake_.wait(lock, [&] { return stop_.load() || job_of(ticket_.load()) != seen; });
  sleeping_.fetch_sub(1);
  return !stop_.load();
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  while (wait_for_job(seen)) {
    seen = job_of(ticket_.load(std::memory_order_acquire));
    work_on(seen);
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
  uint64_t job = (job_of(ticket_.load()) + 1) & 0xffffff;
  ticket_.store(make_ticket(job, chunks)); // seq_cst publish, after the body
  if (sleeping_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_.notify_all();
  }
  work_on(job);
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
