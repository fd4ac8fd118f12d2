// GEMM / GEMV speed (docs/gemm.md has the measured numbers). Decode GEMVs rotate over > 1 GiB of
// packed weights so DRAM is what is measured; a STREAM-like read over 1 GiB, measured first in the
// same program, is the limit they are compared with (counter frac_read; shown as "/s" because
// Google Benchmark divides rate counters by time: 0.93/s means 93 % of the read bandwidth).
// Page size: PackedWeights keeps its arrays in 2 MiB transparent huge pages
// (kernels/huge_buffer.hpp) and the read array does too, so kernel and limit pay the same TLB
// cost. Suffix /pages2m is that configuration; /pages4k repeats bf16/int8/int4 GEMVs with weight
// copies AND read array advised MADV_NOHUGEPAGE (what a plain std::vector gets on a THP `madvise`
// host), each against its own read figure, so the TLB effect is measured in one run.
// Prefill GEMMs (m = 512) report FLOP/s and sit beside Eigen's fp32 GEMM in the same run, and,
// where CMake found oneDNN (optional: LLMROOF_HAVE_DNNL), beside oneDNN's fp32 and u8s8 matmuls
// (dnnl_*; oneDNN runs --threads OpenMP threads) plus a oneDNN bf16 GEMV.
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
#include <thread>
#include <vector>

#include "bench/bench_util.hpp"
#include "bench/gemm_bench_eigen.hpp"
#include "bench/gemm_bench_mrows.hpp"
#ifdef LLMROOF_HAVE_DNNL
#include "bench/gemm_bench_dnnl.hpp"
#endif
#include "kernels/check.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/gemm_internal.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/huge_buffer.hpp"
#include "kernels/thread_pool.hpp"

namespace lk = llmroof::kernels;
namespace bench = llmroof::bench;

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
enum class Pages { small4k, huge2m };
const char* suffix(Pages pg) { return pg == Pages::huge2m ? "pages2m" : "pages4k"; }

// Allocates its HugeVectors with huge pages advised, or not (SmallPagesScope) for Pages::small4k.
template <class F>
auto with_pages(Pages pg, F&& make) {
  if (pg == Pages::huge2m) return make();
  lk::SmallPagesScope small;
  return make();
}

struct ReadArray {
  int64_t n = (int64_t{1} << 30) / 4;
  // 2 MiB-aligned (>= 2 MiB HugeVector), so the 64-byte aligned loads below are valid.
  lk::HugeVector<float> v;
  const float* p;
  explicit ReadArray(Pages pg)
      : v(with_pages(pg, [&] { return lk::HugeVector<float>(n, 1.f); })), p(v.data()) {}
  // Seconds to read elements [b0, b0 + len) split over the pool's threads.
  double pass(int64_t b0, int64_t len) {
    const bool avx = lk::cpu_features().avx512f;
    std::vector<float> part(kThreads);
    const double t = bench::timed([&] {
      pool().run([&](int th, int nt) {
        const int64_t b = b0 + len * th / nt / 64 * 64, e = b0 + len * (th + 1) / nt / 64 * 64;
        part[th] = avx ? sum_avx512(p + b, e - b) : sum_portable(p + b, e - b);
      });
    });
    benchmark::DoNotOptimize(part.data());
    return t;
  }
  double pass() { return pass(0, n); }  // the whole array
};

// STREAM-like read measured before the benchmarks: the median of 9 passes over 1 GiB, and (for
// the per-call percentiles below) the 10th percentile of 320 reads of 32 MiB chunks taken in turn
// from the 1 GiB array (so each chunk comes from DRAM), the size of one GEMV's weights.
// Indexed by Pages: each GEMV is compared with the read over the same page size.
double g_read_bytes_per_s[2] = {}, g_read_p10_bytes_per_s[2] = {};

ReadArray& read_array(Pages pg);

void measure_read_bandwidth(Pages pg) {
  ReadArray& a = read_array(pg);
  std::vector<double> t;
  for (int i = 0; i < 9; ++i) t.push_back(a.pass());
  g_read_bytes_per_s[int(pg)] = static_cast<double>(a.n) * 4 / bench::median(t);
  const int64_t chunk = (int64_t{32} << 20) / 4, chunks = a.n / chunk;
  std::vector<double> c;
  for (int64_t i = 0; i < 10 * chunks; ++i) c.push_back(a.pass((i % chunks) * chunk, chunk));
  g_read_p10_bytes_per_s[int(pg)] = static_cast<double>(chunk) * 4 / bench::at_fraction(c, 0.1);
}

// The machine is shared: besides Google Benchmark's mean time per iteration, keep every call's
// time and report the 10th percentile (what the kernel does when it has both cores).
struct CallTimes {
  std::vector<double> s;
  template <class F>
  void time(F&& f) {
    s.push_back(bench::timed(f));
  }
  double p10() const { return bench::at_fraction(s, 0.1); }
};

ReadArray& read_array(Pages pg) {
  static ReadArray small(Pages::small4k), huge(Pages::huge2m);
  return pg == Pages::huge2m ? huge : small;
}

// Load on this shared machine changes by the second, so a fraction of bandwidth measured minutes
// apart means little. Paired measurement: alternate one GEMV call and one read of the same number
// of bytes (the next chunk of the 1 GiB array, so it comes from DRAM), and take the median over
// pairs of (GEMV bytes/s) / (read bytes/s): both halves of a pair see nearly the same load.
template <class F>
double paired_fraction(Pages pg, double bytes, F&& call) {
  ReadArray& a = read_array(pg);
  const int64_t chunk = std::max<int64_t>(64, static_cast<int64_t>(bytes / 4) / 64 * 64);
  const int64_t chunks = a.n / chunk;
  std::vector<double> frac;
  for (int i = 0; i < 41; ++i) {
    const double t_call = bench::timed(call);
    const double t_read = a.pass((i % chunks) * chunk, chunk);
    frac.push_back((bytes / t_call) / (static_cast<double>(chunk) * 4 / t_read));
  }
  return bench::median(frac);
}

void BM_read(benchmark::State& state, Pages pg) {
  ReadArray& a = read_array(pg);
  for (auto _ : state) {
    const double s = a.pass();
    state.SetIterationTime(s);
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(a.n) * 4 * state.iterations(),
                                              benchmark::Counter::kIsRate);
}

// ---- decode GEMV with weights rotated over > 1 GiB ----------------------------------------
// Copies of `bytes` of weights that together exceed 1.1 GiB (at least 2): rotating through them,
// every call reads its weights from DRAM, not from the (480 MiB) L3.
int64_t dram_copies(double bytes) {
  return std::max<int64_t>(2, static_cast<int64_t>(1.1 * (1 << 30) / bytes) + 1);
}

lk::PackedWeights make_weights(lk::WeightFormat f, int64_t k, int64_t n) {
  std::vector<float> w(k * n);
  lk::fill_uniform(w, 17, -0.05f, 0.05f);
  return lk::pack_weights(w.data(), k, n, f, 128, lk::WeightLayout::nk);
}

void BM_gemv(benchmark::State& state, lk::WeightFormat f, int64_t k, int64_t n, Pages pg) {
  const lk::PackedWeights one = make_weights(f, k, n);
  const int64_t copies = dram_copies(one.bytes());
  // The copies' HugeVectors are allocated (and first touched) under the page-size advice.
  const auto rot = with_pages(pg, [&] { return std::vector<lk::PackedWeights>(copies, one); });
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
      benchmark::Counter(bytes / g_read_bytes_per_s[int(pg)], benchmark::Counter::kIsRate);
  // per-call 10th percentile against the read's chunk 10th percentile (plain numbers, not rates)
  const double p10_bps = one.bytes() / ct.p10();
  state.counters["p10_GBps"] = p10_bps / 1e9;
  state.counters["p10_frac_read"] = p10_bps / g_read_p10_bytes_per_s[int(pg)];
  state.counters["paired_frac_read"] = paired_fraction(pg, one.bytes(), [&] {
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

#ifdef LLMROOF_HAVE_DNNL
// oneDNN (optional, bench/gemm_bench_dnnl.cpp): the same shapes, its OpenMP threads set to the
// pool's size in main(). GEMMs report FLOP/s like BM_gemm; the bf16 GEMV rotates weight copies
// (in 2 MiB pages, like ours) over > 1 GiB and reports GB/s of its weights against the read.
void BM_dnnl_gemm(benchmark::State& state, DnnlMatmul::Kind kind, int64_t m, int64_t k, int64_t n) {
  DnnlMatmul g(kind, m, k, n);
  g.run();  // first call: JIT and page faults
  CallTimes ct;
  for (auto _ : state) ct.time([&] { g.run(); });
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * m * n * k * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["p10_GFLOPs"] = 2.0 * m * n * k / ct.p10() / 1e9;
  state.SetLabel(g.describe());
}

void BM_dnnl_gemv(benchmark::State& state, int64_t k, int64_t n) {
  const double one = 2.0 * k * n;  // bf16 weights
  const int64_t copies = dram_copies(one);
  DnnlMatmul g(DnnlMatmul::Kind::bf16, 1, k, n, copies);
  for (int64_t c = 0; c < copies; ++c) g.run();
  CallTimes ct;
  for (auto _ : state) ct.time([&] { g.run(); });
  const double bytes = g.weight_bytes() * static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsRate);
  const int huge = int(Pages::huge2m);
  state.counters["frac_read"] =
      benchmark::Counter(bytes / g_read_bytes_per_s[huge], benchmark::Counter::kIsRate);
  state.counters["p10_GBps"] = g.weight_bytes() / ct.p10() / 1e9;
  state.counters["p10_frac_read"] = g.weight_bytes() / ct.p10() / g_read_p10_bytes_per_s[huge];
  state.counters["paired_frac_read"] =
      paired_fraction(Pages::huge2m, g.weight_bytes(), [&] { g.run(); });
  state.SetLabel(g.describe() + ", " + std::to_string(copies) + " copies");
}

void register_dnnl_gemv(int64_t k, int64_t n) {
  benchmark::RegisterBenchmark(
      ("dnnl_gemv_bf16/k" + std::to_string(k) + "/n" + std::to_string(n) + "/pages2m").c_str(),
      BM_dnnl_gemv, k, n)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

// fp32 beside gemm_fp32; u8s8 (kernel only: activations quantized once, outside the timing) and
// u8s8_quant (per-call per-token quantization pass + zero point + row scale: what gemm_w8a8 does)
// beside gemm_w8a8.
void register_dnnl_gemm(const std::string& shape, int64_t m, int64_t k, int64_t n) {
  using Kind = DnnlMatmul::Kind;
  for (auto [kind, name] : {std::pair{Kind::f32, "dnnl_f32"}, {Kind::u8s8, "dnnl_u8s8_noquant"},
                            {Kind::u8s8_quant, "dnnl_u8s8_quant"}})
    benchmark::RegisterBenchmark((name + shape).c_str(), BM_dnnl_gemm, kind, m, k, n)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
}

// Ours and oneDNN alternated, one call each per iteration (the GEMV on rotated copies, both in
// 2 MiB pages): medians of each one's rate and of the per-pair time ratio oneDNN/ours (> 1: ours is
// faster). Both halves of a pair see nearly the same load, so on this shared machine the ratio is
// the trustworthy number; filter with --benchmark_filter=ours_vs_dnnl.
void BM_ours_vs_dnnl(benchmark::State& state, lk::WeightFormat f, DnnlMatmul::Kind kind, int64_t m,
                     int64_t k, int64_t n) {
  const lk::PackedWeights one = make_weights(f, k, n);
  const int64_t copies = m == 1 ? dram_copies(one.bytes()) : 1;
  const std::vector<lk::PackedWeights> rot(copies, one);
  DnnlMatmul g(kind, m, k, n, copies);
  std::vector<float> x(m * k), y(m * n);
  lk::fill_uniform(x, 5);
  std::vector<double> ours, theirs, ratio;
  int64_t i = 0;
  // Each side's idle threads spin after a call (libgomp's default ~300,000 pauses, ~8 ms here;
  // our pool ~0.5 ms) and would steal the other's cores: an untimed settle after every call, and
  // the order alternates so neither always goes first.
  const auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(12)); };
  bool ours_first = true;
  for (auto _ : state) {
    const auto run_ours = [&] {
      ours.push_back(bench::timed([&] { lk::gemm(x.data(), m, rot[i], y.data(), pool()); }));
      i = (i + 1) % copies;
      settle();
    };
    const auto run_theirs = [&] {
      theirs.push_back(bench::timed([&] { g.run(); }));
      settle();
    };
    if (ours_first) {
      run_ours();
      run_theirs();
    } else {
      run_theirs();
      run_ours();
    }
    ours_first = !ours_first;
    ratio.push_back(theirs.back() / ours.back());
  }
  benchmark::DoNotOptimize(y.data());
  // GEMV: bytes of each one's own weights (oneDNN's blocked bf16 is the same size); GEMM: FLOP.
  const bool gemv = m == 1;
  const char* unit = gemv ? "_GBps" : "_GFLOPs";
  const double work = gemv ? one.bytes() : 2.0 * m * n * k;
  state.counters[std::string("ours") + unit] = work / bench::median(ours) / 1e9;
  state.counters[std::string("dnnl") + unit] =
      (gemv ? g.weight_bytes() : work) / bench::median(theirs) / 1e9;
  state.counters["ours_speed_vs_dnnl"] = bench::median(ratio);
  state.SetLabel(std::string(lk::gemm_isa(f)) + " vs " + g.describe());
}

void register_ours_vs_dnnl() {
  using Kind = DnnlMatmul::Kind;
  using lk::WeightFormat;
  struct Pair {
    WeightFormat f;
    Kind kind;
    const char* name;
    int64_t m;
  };
  for (int64_t n : {4096, 11008})
    for (const Pair& p :
         {Pair{WeightFormat::bf16, Kind::bf16, "bf16_vs_dnnl_bf16", 1},
          Pair{WeightFormat::bf16, Kind::bf16, "bf16_vs_dnnl_bf16", 512},
          Pair{WeightFormat::fp32, Kind::f32, "fp32_vs_dnnl_f32", 512},
          Pair{WeightFormat::w8a8, Kind::u8s8_quant, "w8a8_vs_dnnl_u8s8_quant", 512},
          Pair{WeightFormat::w8a8, Kind::u8s8, "w8a8_vs_dnnl_u8s8_noquant", 512}})
      benchmark::RegisterBenchmark(("ours_vs_dnnl/" + std::string(p.name) + "/m" +
                                    std::to_string(p.m) + "/k4096/n" + std::to_string(n))
                                       .c_str(),
                                   BM_ours_vs_dnnl, p.f, p.kind, p.m, 4096, n)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
}
#else
void register_dnnl_gemv(int64_t, int64_t) {}
void register_dnnl_gemm(const std::string&, int64_t, int64_t, int64_t) {}
void register_ours_vs_dnnl() {}
#endif

void register_all() {
  using lk::WeightFormat;
  for (Pages pg : {Pages::huge2m, Pages::small4k})
    benchmark::RegisterBenchmark(("read_1GiB/" + std::string(suffix(pg))).c_str(), BM_read, pg)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  const WeightFormat all[] = {WeightFormat::fp32, WeightFormat::bf16, WeightFormat::int8,
                              WeightFormat::int4, WeightFormat::fp8,  WeightFormat::w8a8};
  // 4 KiB pages only for the formats issue 4's GEMV goal names: page size is the one variable.
  const auto small_too = [](WeightFormat f) {
    return f == WeightFormat::bf16 || f == WeightFormat::int8 || f == WeightFormat::int4;
  };
  for (auto [k, n] : {std::pair<int64_t, int64_t>{4096, 4096}, {4096, 11008}})
    for (WeightFormat f : all)
      for (Pages pg : {Pages::huge2m, Pages::small4k}) {
        if (pg == Pages::small4k && !small_too(f)) continue;
        const std::string name = "gemv_" + std::string(to_string(f)) + "/k" + std::to_string(k) +
                                 "/n" + std::to_string(n) + "/" + suffix(pg);
        benchmark::RegisterBenchmark(name.c_str(), BM_gemv, f, k, n, pg)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      }
  for (auto [k, n] : {std::pair<int64_t, int64_t>{4096, 4096}, {4096, 11008}})
    register_dnnl_gemv(k, n);
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
    register_dnnl_gemm(shape, 512, 4096, n);
  }
  register_ours_vs_dnnl();
  register_gemv_mrows(&pool, &g_read_bytes_per_s[int(Pages::huge2m)]);
}

}  // namespace

int main(int argc, char** argv) {
  // --threads=N comes out before Google Benchmark parses the rest.
  std::vector<char*> args;
  if (!bench::take_threads_flag(argc, argv, &kThreads, args)) return 2;
  argc = static_cast<int>(args.size());
  argv = args.data();
  benchmark::Initialize(&argc, argv);
#ifdef LLMROOF_HAVE_DNNL
  DnnlMatmul::set_threads(kThreads);  // oneDNN's OpenMP threads = the pool's threads
#endif
  std::printf("transparent huge pages: %s\n", lk::transparent_huge_page_mode().c_str());
  for (Pages pg : {Pages::huge2m, Pages::small4k}) {
    measure_read_bandwidth(pg);
    std::printf(
        "STREAM-like read (%s), %d threads: median of 9 passes over 1 GiB %.1f GB/s; "
        "10th percentile of 320 reads of 32 MiB chunks %.1f GB/s\n",
        suffix(pg), kThreads, g_read_bytes_per_s[int(pg)] / 1e9,
        g_read_p10_bytes_per_s[int(pg)] / 1e9);
  }
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// ---- AVX2 path vs AVX-512 path, measured in one run (docs/gemm.md, "AVX2 path") ---------------
// Self-contained: registered by its own static initializer (the program runs every registered
// benchmark), filter with --benchmark_filter=avx2_vs_avx512. Each iteration is one pair of calls,
// AVX2 then AVX-512, each on its own copy of the weights (m = 1 rotates over > 1 GiB, so both read
// DRAM); the counters are the medians of the per-call rates and of the per-pair ratio
// avx2/avx512 (both halves of a pair see nearly the same load on this shared machine).
namespace {

void BM_avx2_vs_avx512(benchmark::State& state, lk::WeightFormat f, int64_t m, int64_t k,
                       int64_t n) {
  std::vector<float> wsrc(k * n);
  lk::fill_uniform(wsrc, 17, -0.05f, 0.05f);
  const lk::PackedWeights one = lk::pack_weights(wsrc.data(), k, n, f, 128, lk::WeightLayout::nk);
  const int64_t copies = m == 1 ? dram_copies(one.bytes()) : 1;
  std::vector<lk::PackedWeights> rot(copies, one);
  std::vector<float> x(m * k), y(m * n);
  lk::fill_uniform(x, 5);
  const auto timed = [&](lk::Isa isa, const lk::PackedWeights& w) {
    return bench::timed([&] { lk::gemm(x.data(), m, w, y.data(), pool(), isa); });
  };
  std::vector<double> t2, t5, ratio;
  int64_t i = 0;
  for (auto _ : state) {
    t2.push_back(timed(lk::Isa::avx2, rot[i]));
    i = (i + 1) % copies;
    t5.push_back(timed(lk::Isa::avx512, rot[i]));
    i = (i + 1) % copies;
    ratio.push_back(t5.back() / t2.back());  // > 1: AVX2 faster
  }
  benchmark::DoNotOptimize(y.data());
  const double work = m == 1 ? one.bytes() : 2.0 * m * n * k;  // bytes (GEMV) or FLOP (GEMM)
  const char* unit = m == 1 ? "GBps" : "GFLOPs";
  state.counters[std::string("avx2_") + unit] = work / bench::median(t2) / 1e9;
  state.counters[std::string("avx512_") + unit] = work / bench::median(t5) / 1e9;
  state.counters["avx2_speed_vs_avx512"] = bench::median(ratio);
  state.SetLabel(std::string(lk::gemm_isa(f, lk::Isa::avx2)) + " vs " +
                 std::string(lk::gemm_isa(f, lk::Isa::avx512)));
}

const bool kAvx2Registered = [] {
  using lk::WeightFormat;
  struct Case {
    WeightFormat f;
    int64_t m;
  };
  for (const Case c : {Case{WeightFormat::bf16, 1}, Case{WeightFormat::int4, 1},
                       Case{WeightFormat::fp32, 1}, Case{WeightFormat::int8, 1},
                       Case{WeightFormat::fp8, 1}, Case{WeightFormat::w8a8, 1},
                       Case{WeightFormat::fp32, 512}, Case{WeightFormat::int4, 512},
                       Case{WeightFormat::w8a8, 512}}) {
    const std::string name = "avx2_vs_avx512/" + std::string(to_string(c.f)) + "/m" +
                             std::to_string(c.m) + "/k4096/n4096";
    benchmark::RegisterBenchmark(name.c_str(), BM_avx2_vs_avx512, c.f, c.m, 4096, 4096)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace

// ---- AMX tiles vs the AVX-512 paths, measured in one run (docs/gemm.md, "AMX") --------------
// Filter with --benchmark_filter=amx_vs. amx_vs_vnni/w8a8: each iteration is one pair of calls, the
// AMX tile then the AVX-512 VNNI path (detail::w8a8_amx_allowed() off: the multi-row VNNI GEMV at
// m <= 64, the VNNI tile above); amx_vs_fma/bf16 the same for bf16 weights (AMX-BF16 with x
// rounded to bf16, against the FMA paths with detail::bf16_amx_allowed() off: the multi-row GEMV
// at m <= 64, the blocked GEMM above). m = 2..64 (batched decode: memory-bound) rotates the weights
// over > 1 GiB of copies, each call on the next copy, m = 128 and 512 (prefill: compute-bound)
// reuse one matrix. Counters: the medians of each side's GOP/s and of the per-pair ratio
// other/amx time (> 1: AMX faster). Skipped where the CPU or the OS offers no AMX.
namespace {

void BM_amx_vs_avx512(benchmark::State& state, lk::WeightFormat f, int64_t m, int64_t k,
                      int64_t n) {
  const bool w8a8 = f == lk::WeightFormat::w8a8;
  if (!(w8a8 ? lk::detail::w8a8_uses_amx() : lk::detail::bf16_uses_amx())) {
    state.SkipWithError(w8a8 ? "no AMX-INT8 on this CPU (or the OS refused its tile state)"
                             : "no AMX-BF16 on this CPU (or the OS refused its tile state)");
    return;
  }
  const lk::PackedWeights one = make_weights(f, k, n);
  const int64_t copies = m > lk::detail::kGemvRowsCrossover ? 1 : dram_copies(one.bytes());
  const std::vector<lk::PackedWeights> rot(copies, one);
  std::vector<float> x(m * k), y(m * n);
  lk::fill_uniform(x, 5);
  bool& amx = w8a8 ? lk::detail::w8a8_amx_allowed() : lk::detail::bf16_amx_allowed();
  int64_t i = 0;
  const auto timed = [&](bool use_amx) {
    amx = use_amx;
    const double t = bench::timed([&] { lk::gemm(x.data(), m, rot[i], y.data(), pool()); });
    amx = true;
    i = (i + 1) % copies;
    return t;
  };
  std::vector<double> ta, tv, ratio;
  for (auto _ : state) {
    ta.push_back(timed(true));
    tv.push_back(timed(false));
    ratio.push_back(tv.back() / ta.back());
  }
  benchmark::DoNotOptimize(y.data());
  const double ops = 2.0 * m * n * k;
  const std::string other = w8a8 ? "vnni" : "fma";
  state.counters["amx_GOPs"] = ops / bench::median(ta) / 1e9;
  state.counters[other + "_GOPs"] = ops / bench::median(tv) / 1e9;
  state.counters["amx_speed_vs_" + other] = bench::median(ratio);
  state.SetLabel(std::to_string(copies) + (copies > 1 ? " copies" : " copy"));
}

const bool kAmxRegistered = [] {
  for (auto f : {lk::WeightFormat::w8a8, lk::WeightFormat::bf16})
    for (int64_t m : {2, 8, 12, 16, 24, 32, 64, 128, 512})
      for (int64_t n : {4096, 11008})
        benchmark::RegisterBenchmark(
            (std::string(f == lk::WeightFormat::w8a8 ? "amx_vs_vnni/" : "amx_vs_fma/") +
             std::string(lk::to_string(f)) + "/m" + std::to_string(m) + "/k4096/n" +
             std::to_string(n))
                .c_str(),
            BM_amx_vs_avx512, f, m, 4096, n)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace

// ---- prefill GEMM with its weights cold (from DRAM) against the same call hot --------------
// In a model every layer's weights come from DRAM once per prefill (a 7B model's are 7-28 GB),
// while BM_gemm's one matrix stays in the L3. Filter with --benchmark_filter=gemm_cold. Each
// iteration: one call on the next of > 1 GiB of rotated copies (cold), then the same call again
// (hot: the copy just read sits in the caches). Counters: the medians of both sides' GOP/s and of
// the per-pair ratio hot time / cold time (1: fetching the weights is hidden behind the math).
namespace {

void BM_gemm_cold(benchmark::State& state, lk::WeightFormat f, int64_t m, int64_t k, int64_t n) {
  const lk::PackedWeights one = make_weights(f, k, n);
  const int64_t copies = dram_copies(one.bytes());
  const std::vector<lk::PackedWeights> rot(copies, one);
  std::vector<float> x(m * k), y(m * n);
  lk::fill_uniform(x, 5);
  std::vector<double> tc, th, ratio;
  int64_t i = 0;
  for (auto _ : state) {
    tc.push_back(bench::timed([&] { lk::gemm(x.data(), m, rot[i], y.data(), pool()); }));
    th.push_back(bench::timed([&] { lk::gemm(x.data(), m, rot[i], y.data(), pool()); }));
    ratio.push_back(th.back() / tc.back());
    i = (i + 1) % copies;
  }
  benchmark::DoNotOptimize(y.data());
  const double ops = 2.0 * m * n * k;
  state.counters["cold_GOPs"] = ops / bench::median(tc) / 1e9;
  state.counters["hot_GOPs"] = ops / bench::median(th) / 1e9;
  state.counters["cold_speed_vs_hot"] = bench::median(ratio);
  state.SetLabel(std::string(lk::gemm_isa(f)) + ", " + std::to_string(copies) + " copies");
}

const bool kColdRegistered = [] {
  for (auto f : {lk::WeightFormat::fp32, lk::WeightFormat::bf16, lk::WeightFormat::int4,
                 lk::WeightFormat::w8a8})
    for (int64_t n : {4096, 11008})
      benchmark::RegisterBenchmark(
          ("gemm_cold/" + std::string(lk::to_string(f)) + "/m512/k4096/n" + std::to_string(n))
              .c_str(),
          BM_gemm_cold, f, 512, 4096, n)
          ->MinTime(2.0)  // >= 3 pairs of the slowest (fp32, n = 11008: 0.7 s a pair)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
