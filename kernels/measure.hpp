#pragma once
// Timing of registered kernels for `llmroof kernels bench` (and anyone comparing a measured kernel
// with its roofline): medians over repetitions, optionally rotating over several independent copies
// of the problem so a memory-bound kernel streams from DRAM instead of the (very large) caches.
#include <memory>
#include <vector>

#include "kernels/registry.hpp"

namespace llmroof::kernels {

struct Timing {
  double median_s = 0, min_s = 0, max_s = 0;
  int reps = 0;
  // Process CPU time / (wall time x pool threads) over the timed runs: well below 1 means other
  // processes took the cores (or threads sat waiting) and the times are not the kernel's own.
  double cpu_share = 0;
};

// Runs each case once to warm up, then cycles through them until both `min_reps` runs and
// `min_seconds` have passed (capped at max_reps). Each run is timed alone (steady_clock).
Timing time_cases(std::vector<std::unique_ptr<KernelCase>>& cases, ThreadPool& pool, int min_reps = 5,
                  double min_seconds = 0.5, int max_reps = 1000);

// The roofline limit for a cost: max(ops / peak, bytes / bandwidth), and which one binds.
struct Limit {
  double seconds = 0;
  bool memory_bound = false;
};
Limit roofline_limit(const OpCost& c, double peak_ops_per_s, double bandwidth_bytes_per_s);

}  // namespace llmroof::kernels
