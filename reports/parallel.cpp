#include "reports/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "reports/progress.hpp"

namespace llmroof::reports {

void parallel_for_index(int64_t n, int threads, const std::function<void(int64_t)>& fn,
                        Progress* progress) {
  if (n <= 0) return;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<int64_t>(threads, n));
  // Chunks small enough to balance (about 16 per thread) and large enough that the shared
  // counter is not contended when one item takes a few microseconds.
  const int64_t chunk = std::clamp<int64_t>(n / (16 * threads), 1, 256);

  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mu;
  std::condition_variable cv;
  int running = threads;

  auto worker = [&] {
    try {
      while (!failed.load(std::memory_order_relaxed)) {
        const int64_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
        if (begin >= n) break;
        const int64_t end = std::min(n, begin + chunk);
        for (int64_t i = begin; i < end; ++i) fn(i);
        if (progress) progress->advance(end - begin);
      }
    } catch (...) {
      std::lock_guard lock(mu);
      if (!error) error = std::current_exception();
      failed = true;
    }
    std::lock_guard lock(mu);
    if (--running == 0) cv.notify_all();
  };

  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  {
    std::unique_lock lock(mu);
    while (running > 0) {
      if (progress) {
        lock.unlock();
        progress->draw();
        lock.lock();
      }
      cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return running == 0; });
    }
  }
  for (auto& t : pool) t.join();
  if (progress) progress->finish();
  if (error) std::rethrow_exception(error);
}

}  // namespace llmroof::reports
