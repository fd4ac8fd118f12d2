// GEMM / GEMV speed (docs/gemm.md has the measured numbers). Decode GEMVs rotate over > 1 GiB of
// packed weights so DRAM is what is measured; a STREAM-like read over 1 GiB, measured first in the
// same program, is the limit they are compared with (counter frac_read; shown as "/s" because
// Google Benchmark divides rate counters by time: 0.93/s means 93 % of the read bandwidth).
// Prefill GEMMs (m = 512) report FLOP/s and sit beside Eigen's fp32 GEMM in the same run.
// The machine is shared, so each case also reports the 10th percentile of its per-call times
// (p10_GBps, p10_frac_read, p10_GFLOPs): what the kernel does when it gets both cores; and
// paired_frac_read alternates GEMV calls with equal-sized DRAM reads (see paired_fraction).
//   build/<dir>/bench/gemm_bench [--threads=N] --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/gemm_bench_eigen.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/thread_pool.hpp"

namespace lk = llmroof::kernels;

namespace {

int kThreads = 2;  // --threads=N (default 2: the machine's cores); set before the pool is made
lk::ThreadPool& pool() {
  static lk::ThreadPool p(kThreads);
  return p;
}

// ---- STREAM-like read: sum of a 1 GiB array over the pool, 4 independent AVX-512 sums ----------
float sum_portable(const float* p, int64_t n) {
  float a[8] = {};
  for (int64_t i = 0; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) a[j] += p[i + j];
  return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

__attribute__((target("avx512f"))) float sum_avx512(const float* p, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 64 <= n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
  }
  alignas(64) float v[16];
  _mm512_store_ps(v, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  return sum_portable(v, 16);
}
struct ReadArray {
  int64_t n = (int64_t{1} << 30) / 4;
  std::unique_ptr<float[], void (*)(void*)> p{static_cast<float*>(std::aligned_alloc(64, n * 4)),
                                              std::free};
  ReadArray() {
    pool().parallel_for(
        n, [&](int64_t b, int64_t e) { std::fill(p.get() + b, p.get() + e, 1.f); }, 1 << 16);
  }
  // Seconds to read elements [b0, b0 + len) split over the pool's threads.
  double pass(int64_t b0, int64_t len) {
    const bool avx = lk::cpu_features().avx512f;
    std::vector<float> part(kThreads);
    const auto t0 = std::chrono::steady_clock::now();
    pool().run([&](int t, int nt) {
      const int64_t b = b0 + len * t / nt / 64 * 64, e = b0 + len * (t + 1) / nt / 64 * 64;
      part[t] = avx ? sum_avx512(p.get() + b, e - b) : sum_portable(p.get() + b, e - b);
    });
    benchmark::DoNotOptimize(part.data());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  double pass() { return pass(0, n); }  // the whole array
};

// STREAM-like read measured before the benchmarks: the median of 9 passes over 1 GiB, and (for
// the per-call percentiles below) the 10th percentile of 320 reads of 32 MiB chunks taken in turn
// from the 1 GiB array (so each chunk comes from DRAM), the size of one GEMV's weights.
double g_read_bytes_per_s = 0, g_read_p10_bytes_per_s = 0;

ReadArray& read_array();

void measure_read_bandwidth() {
  ReadArray& a = read_array();
  std::vector<double> t;
  for (int i = 0; i < 9; ++i) t.push_back(a.pass());
  std::sort(t.begin(), t.end());
  g_read_bytes_per_s = static_cast<double>(a.n) * 4 / t[t.size() / 2];
  const int64_t chunk = (int64_t{32} << 20) / 4, chunks = a.n / chunk;
  std::vector<double> c;
  for (int64_t i = 0; i < 10 * chunks; ++i) c.push_back(a.pass((i % chunks) * chunk, chunk));
  std::sort(c.begin(), c.end());
  g_read_p10_bytes_per_s = static_cast<double>(chunk) * 4 / c[c.size() / 10];
}

// The machine is shared: besides Google Benchmark's mean time per iteration, keep every call's
// time and report the 10th percentile (what the kernel does when it has both cores).
struct CallTimes {
  std::vector<double> s;
  template <class F>
  void time(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  double p10() {
    std::sort(s.begin(), s.end());
    return s.empty() ? 0 : s[s.size() / 10];
  }
};

ReadArray& read_array() {
  static ReadArray a;
  return a;
}

// Load on this shared machine changes by the second, so a fraction of bandwidth measured minutes
// apart means little. Paired measurement: alternate one GEMV call and one read of the same number
// of bytes (the next chunk of the 1 GiB array, so it comes from DRAM), and take the median over
// pairs of (GEMV bytes/s) / (read bytes/s): both halves of a pair see nearly the same load.
template <class F>
double paired_fraction(double bytes, F&& call) {
  ReadArray& a = read_array();
  const int64_t chunk = std::max<int64_t>(64, static_cast<int64_t>(bytes / 4) / 64 * 64);
  const int64_t chunks = a.n / chunk;
  std::vector<double> frac;
  for (int i = 0; i < 41; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    call();
    const double t_call =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double t_read = a.pass((i % chunks) * chunk, chunk);
    frac.push_back((bytes / t_call) / (static_cast<double>(chunk) * 4 / t_read));
  }
  std::sort(frac.begin(), frac.end());
  return frac[frac.size() / 2];
}

void BM_read(benchmark::State& state) {
  ReadArray& a = read_array();
  for (auto _ : state) {
    const double s = a.pass();
    state.SetIterationTime(s);
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(a.n) * 4 * state.iterations(),
                                              benchmark::Counter::kIsRate);
}

// ---- decode GEMV with weights rotated over > 1 GiB ----------------------------------------
lk::PackedWeights make_weights(lk::WeightFormat f, int64_t k, int64_t n) {
  std::vector<float> w(k * n);
  lk::fill_uniform(w, 17, -0.05f, 0.05f);
  return lk::pack_weights(w.data(), k, n, f, 128, lk::WeightLayout::nk);
}

void BM_gemv(benchmark::State& state, lk::WeightFormat f, int64_t k, int64_t n) {
  const lk::PackedWeights one = make_weights(f, k, n);
  const int64_t copies =
      std::max<int64_t>(2, static_cast<int64_t>(1.1 * (1 << 30) / one.bytes()) + 1);
  std::vector<lk::PackedWeights> rot(copies, one);
  std::vector<float> x(k), y(n);
  lk::fill_uniform(x, 5);
  int64_t i = 0;
  CallTimes ct;
  for (auto _ : state) {
    ct.time([&] { lk::gemm(x.data(), 1, rot[i], y.data(), pool()); });
    i = (i + 1) % copies;
  }
  benchmark::DoNotOptimize(y.data());
  const double bytes = one.bytes() * static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsRate);
  state.counters["frac_read"] =
      benchmark::Counter(bytes / g_read_bytes_per_s, benchmark::Counter::kIsRate);
  // per-call 10th percentile against the read's chunk 10th percentile (plain numbers, not rates)
  const double p10_bps = one.bytes() / ct.p10();
  state.counters["p10_GBps"] = p10_bps / 1e9;
  state.counters["p10_frac_read"] = p10_bps / g_read_p10_bytes_per_s;
  state.counters["paired_frac_read"] = paired_fraction(one.bytes(), [&] {
    lk::gemm(x.data(), 1, rot[i], y.data(), pool());
    i = (i + 1) % copies;
  });
  state.SetLabel(std::string(lk::gemm_isa(f)) + ", " + std::to_string(copies) + " copies");
}

// ---- prefill GEMM (compute-bound: no rotation needed) ---------------------------------------
void BM_gemm(benchmark::State& state, lk::WeightFormat f, int64_t m, int64_t k, int64_t n) {
  const lk::PackedWeights w = make_weights(f, k, n);
  std::vector<float> x(m * k), y(m * n);
  lk::fill_uniform(x, 5);
  CallTimes ct;
  for (auto _ : state) ct.time([&] { lk::gemm(x.data(), m, w, y.data(), pool()); });
  benchmark::DoNotOptimize(y.data());
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * m * n * k * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["p10_GFLOPs"] = 2.0 * m * n * k / ct.p10() / 1e9;
  state.SetLabel(std::string(lk::gemm_isa(f)));
}

// Eigen's fp32 GEMM (bench/gemm_bench_eigen.cpp, compiled with AVX-512 flags so Eigen is at its
// best): `threads` single-threaded Eigen products on column blocks of W, one per pool thread.
void BM_eigen(benchmark::State& state, int64_t m, int64_t k, int64_t n, int threads) {
  EigenGemm g(m, k, n);
  CallTimes ct;
  for (auto _ : state) ct.time([&] { g.run(pool(), threads); });
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * m * n * k * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["p10_GFLOPs"] = 2.0 * m * n * k / ct.p10() / 1e9;
  state.SetLabel(g.describe(threads));
}

void register_all() {
  using lk::WeightFormat;
  benchmark::RegisterBenchmark("read_1GiB", BM_read)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  const WeightFormat all[] = {WeightFormat::fp32, WeightFormat::bf16, WeightFormat::int8,
                              WeightFormat::int4, WeightFormat::fp8,  WeightFormat::w8a8};
  for (auto [k, n] : {std::pair<int64_t, int64_t>{4096, 4096}, {4096, 11008}})
    for (WeightFormat f : all) {
      const std::string name =
          "gemv_" + std::string(to_string(f)) + "/k" + std::to_string(k) + "/n" + std::to_string(n);
      benchmark::RegisterBenchmark(name.c_str(), BM_gemv, f, k, n)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  for (int64_t n : {4096, 11008}) {
    const std::string shape = "/m512/k4096/n" + std::to_string(n);
    for (WeightFormat f : all)
      benchmark::RegisterBenchmark(("gemm_" + std::string(to_string(f)) + shape).c_str(), BM_gemm,
                                   f, 512, 4096, n)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    for (int threads : {1, 2})
      benchmark::RegisterBenchmark(("eigen_fp32_t" + std::to_string(threads) + shape).c_str(),
                                   BM_eigen, 512, 4096, n, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int kept = 1;  // take --threads=N out before Google Benchmark parses the rest
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0)
      kThreads = std::max(1, std::atoi(argv[i] + 10));
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  measure_read_bandwidth();
  std::printf(
      "STREAM-like read, %d threads: median of 9 passes over 1 GiB %.1f GB/s; "
      "10th percentile of 320 reads of 32 MiB chunks %.1f GB/s\n",
      kThreads, g_read_bytes_per_s / 1e9, g_read_p10_bytes_per_s / 1e9);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
