// The thread pool behind generated code: every chunk of every job runs exactly once,
// jobs issued back to back never mix, nested calls run inline (and threads_here says
// so), and each thread starts on its own contiguous share of the chunks.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "runtime/thread_pool.h"

using loom::ThreadPool;

TEST_CASE("every chunk of every job runs exactly once", "[runtime][threads]") {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    INFO("threads " << threads);
    std::vector<std::atomic<int>> runs(64);
    bool all_once = true;
    for (int job = 0; job < 20000; ++job) {
      int64_t chunks = 1 + job % 37;
      for (int64_t c = 0; c < chunks; ++c)
        runs[c] = 0;
      pool.run(chunks, [&](int64_t c) { runs[c].fetch_add(1); });
      for (int64_t c = 0; c < chunks; ++c)
        all_once = all_once && runs[c].load() == 1;
    }
    CHECK(all_once);
  }
}

TEST_CASE("jobs see their own body and wait for all chunks", "[runtime][threads]") {
  ThreadPool pool(2);
  std::vector<int64_t> out(16, 0);
  for (int64_t job = 1; job <= 5000; ++job) {
    pool.run(
        16, [&, job](int64_t c) { out[c] = job * 100 + c; }); // a stale body would write an old job
    bool ok = true;
    for (int64_t c = 0; c < 16; ++c)
      ok = ok && out[c] == job * 100 + c;
    REQUIRE(ok);
  }
}

TEST_CASE("a nested parallel loop runs inline on the calling chunk", "[runtime][threads]") {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> inner(8 * 8);
  pool.run(8, [&](int64_t outer) {
    pool.run(8, [&](int64_t c) { inner[outer * 8 + c].fetch_add(1); });
  });
  bool all_once = true;
  for (auto& v : inner)
    all_once = all_once && v.load() == 1;
  CHECK(all_once);
}

TEST_CASE("threads_here is 1 inside a chunk and the pool's size outside", "[runtime][threads]") {
  ThreadPool pool(3), other(2);
  CHECK(pool.threads_here() == 3);
  std::atomic<int> inside_ones{0}, other_sizes{0};
  pool.run(6, [&](int64_t) {
    inside_ones += pool.threads_here() == 1;
    other_sizes += other.threads_here() == 2; // another pool's loops would still be parallel
  });
  CHECK(inside_ones.load() == 6);
  CHECK(other_sizes.load() == 6);
  CHECK(pool.threads_here() == 3);
}

TEST_CASE("each thread starts on its own contiguous share of the chunks", "[runtime][threads]") {
  for (int threads : {2, 3}) {
    INFO("threads " << threads);
    ThreadPool pool(threads);
    const int64_t chunks = 12;
    std::mutex mu;
    std::set<std::thread::id> started;
    std::set<int64_t> first_chunks;
    std::atomic<int> arrived{0};
    pool.run(chunks, [&](int64_t c) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (started.insert(std::this_thread::get_id()).second) {
          first_chunks.insert(c);
          arrived.fetch_add(1);
        }
      }
      // Hold every thread in its first chunk until all have one (or 10 s have passed),
      // so that no thread can finish another's share before that one starts.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (arrived.load() < threads && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    });
    std::set<int64_t> share_starts;
    for (int t = 0; t < threads; ++t)
      share_starts.insert(chunks * t / threads);
    CHECK(first_chunks == share_starts);
  }
}
