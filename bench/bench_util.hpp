#pragma once
// Helpers the benchmark programs (kernels_bench, kv_pattern_bench, gemm_bench) share: medians and
// percentiles, wall-clock timing, a load-bound sum over memory, and the --threads=N flag.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
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

// Stores `pattern` over the bytes / 8 whole 64-bit words at p with plain stores: a write baseline
// that, like the kernels' stores, reads each line for ownership first (memset is not one: glibc's
// uses non-temporal stores for large sizes). A pattern that is not one byte repeated keeps the
// compiler from turning the loop into a memset call.
inline void fill_words(void* p, size_t bytes, uint64_t pattern) {
  auto* w = static_cast<uint64_t*>(p);
  const size_t n = bytes / 8;
  for (size_t i = 0; i < n; ++i) w[i] = pattern;
}

// Both in one pass, for a buffer read and written in place: sums each word, then stores `pattern`
// over it while the line is in cache (one read and one write-back per line, as an in-place kernel).
inline uint64_t sum_and_fill_words(void* p, size_t bytes, uint64_t pattern) {
  auto* w = static_cast<uint64_t*>(p);
  const size_t n = bytes / 8;
  uint64_t s = 0;
  for (size_t i = 0; i < n; ++i) {
    s += w[i];
    w[i] = pattern;
  }
  return s;
}

// Calls fn(words, bytes) on thread i's share (of n) of the whole 64-bit words of `bufs` (each with
// `data` and `bytes`) taken as one concatenated array: a contiguous share, which crosses from one
// buffer into the next. `words` is const where `data` is.
template <typename Buf, typename Fn>
void for_share(const std::vector<Buf>& bufs, int i, int n, Fn&& fn) {
  using Word = std::conditional_t<std::is_const_v<std::remove_pointer_t<decltype(Buf::data)>>, const uint64_t, uint64_t>;
  size_t total = 0;
  for (const Buf& x : bufs) total += x.bytes / 8;
  size_t b = total * i / n, e = total * (i + 1) / n;  // words
  for (const Buf& x : bufs) {
    const size_t words = x.bytes / 8;
    if (b < words && e > 0) fn(static_cast<Word*>(x.data) + b, ((e < words ? e : words) - b) * 8);
    b = b > words ? b - words : 0;
    e = e > words ? e - words : 0;
  }
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
