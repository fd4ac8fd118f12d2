#pragma once
// Helpers the benchmark programs (kernels_bench, kv_pattern_bench, gemm_bench) share: medians and
// percentiles, wall-clock timing, a load-bound sum over memory, and the --threads=N flag.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace llmroof::bench {

// Median (the mean of the middle two for an even count); v non-empty.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// The element at fraction f of the sorted v (0.1: the 10th percentile, by the lower rank
// floor(f · size)); 0 for an empty v. On this shared machine the 10th percentile of per-call times
// is what a kernel does when it has the cores.
inline double at_fraction(std::vector<double> v, double f) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(f * static_cast<double>(v.size()))];
}

// Wall-clock seconds of fn().
template <typename Fn>
double timed(Fn&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Sum of the bytes / 8 whole 64-bit words at p, with 8 independent accumulators: the loads, not
// the adds, are the limit (a read baseline).
inline uint64_t sum_words(const void* p, size_t bytes) {
  const auto* w = static_cast<const uint64_t*>(p);
  const size_t n = bytes / 8, full = n / 8 * 8;
  uint64_t acc[8] = {};
  for (size_t i = 0; i < full; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += w[i + k];
  for (size_t i = full; i < n; ++i) acc[0] += w[i];
  uint64_t s = 0;
  for (uint64_t a : acc) s += a;
  return s;
}

// Takes `--threads=N` (N >= 1) out of argv into *threads and the other arguments into `rest`, for
// Google Benchmark; false, with the error printed, on a value that is not a positive integer.
inline bool take_threads_flag(int argc, char** argv, int* threads, std::vector<char*>& rest) {
  for (int i = 0; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strncmp(a, "--threads=", 10) != 0) {
      rest.push_back(argv[i]);
      continue;
    }
    char* end = nullptr;
    const long n = std::strtol(a + 10, &end, 10);
    if (end == a + 10 || *end != '\0' || n < 1 || n > 4096) {
      std::fprintf(stderr, "%s: --threads takes a positive integer, got '%s'\n", argv[0], a + 10);
      return false;
    }
    *threads = static_cast<int>(n);
  }
  return true;
}

}  // namespace llmroof::bench
