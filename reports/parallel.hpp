#pragma once
// Parallel evaluation of independent items for sweeps and plans. Each item writes only its own
// output slot, so the result order is the item order whatever the thread count (deterministic
// rows).
#include <cstdint>
#include <functional>

namespace llmroof::reports {

class Progress;

// Runs fn(i) for every i in [0, n) on `threads` std::threads (<= 0: hardware concurrency, capped at
// n). Items are handed out in chunks from an atomic counter, so slow items do not stall a thread's
// fixed share. The calling thread only waits and draws `progress` (may be null). The first
// exception thrown by fn is rethrown here after every thread has stopped; the remaining items are
// skipped.
void parallel_for_index(int64_t n, int threads, const std::function<void(int64_t)>& fn,
                        Progress* progress = nullptr);

}  // namespace llmroof::reports
