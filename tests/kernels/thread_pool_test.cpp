#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include "kernels/thread_pool.hpp"

using llmroof::kernels::ThreadPool;

TEST_CASE("parallel_for covers every index exactly once") {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 7, 64, 1001}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
      }, 4);
      for (int64_t i = 0; i < n; ++i) CHECK(hits[i].load() == 1);
    }
  }
}

TEST_CASE("run gives each thread its index, repeatedly") {
  ThreadPool pool(2);
  for (int rep = 0; rep < 1000; ++rep) {
    std::atomic<int> mask{0};
    pool.run([&](int t, int nt) {
      CHECK(nt == 2);
      mask.fetch_or(1 << t);
    });
    REQUIRE(mask.load() == 3);
  }
}
