// Row-wise and attention kernels against this machine's limits, in one run:
//   1. STREAM-like read (sum) and copy over 1 GiB with the same thread pool -> the bandwidth limit.
//      Measured in 4 KiB pages (pages4k, the limit of_read/of_copy use: the kernel cases keep
//      their tensors in plain std::vector, i.e. 4 KiB pages on a THP `madvise` host) and in 2 MiB
//      transparent huge pages (pages2m, kernels/huge_buffer.hpp: what a kernel whose buffers are
//      HugeVectors, like the GEMM weights, is compared with). Same page size, like with like;
//   2. each kernel on a DRAM-sized problem (>= 1 GiB moved per call, or rotated copies), reporting
//      the median time, GB/s and GFLOP/s from analyzer/cost.hpp, and the fraction of the limit:
//      of_read / of_copy = achieved GB/s over STREAM read / copy; of_peak = GFLOP/s over the fp32
//      FMA peak (--peak-gflops=, default 2 x 241, the reference host's figure);
//   3. for cases that name the buffers they stream (KernelCase::inputs: decode attention's KV
//      cache; KernelCase::outputs: what the row ops write), a baseline paired with every call:
//      right after the kernel, a plain pass over the same buffers, same pool (from their start:
//      what the kernel left in L3 was read last, and the first 32 MiB of the pass evict it): a sum
//      of the inputs, and for the row ops stores over the outputs (in-place buffers read and
//      written in one pass; baseline_bps). of_read_paired (read only) or of_rw_paired (read +
//      write) = median over calls of the kernel's GB/s over that pass's. On a shared host whose
//      DRAM bandwidth drifts over minutes and where each allocation's pages read at their own
//      speed, this compares like with like; of_read (one STREAM figure for the whole run) does
//      not. Measured on the 2-core Zen 5 host: STREAM read 38-65 GB/s between runs; one run had
//      every decode case at 0.42-0.57 of a 60 GB/s STREAM figure; in another, plain reads of the
//      cases' own KV caches ran at 39-59 GB/s.
// Usage: kernels_bench [--threads=N] [--peak-gflops=X] [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "kernels/check.hpp"
#include "kernels/huge_buffer.hpp"
#include "kernels/registry.hpp"

namespace {
using namespace llmroof::kernels;
using llmroof::bench::median;
using llmroof::bench::timed;

int g_threads = 0;
double g_peak_flops = 2 * 241e9;
double g_read_bps = 0, g_copy_bps = 0;  // measured by the STREAM benchmarks, which run first

ThreadPool& pool() {
  static ThreadPool p(g_threads);
  return p;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

constexpr int64_t kStreamFloats = int64_t{1} << 28;  // 1 GiB of fp32

// Sum with 8 independent accumulators per thread (the loads, not the adds, must be the limit).
float stream_sum(const float* x, int64_t n) {
  float acc[8] = {};
  for (int64_t i = 0; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += x[i + j];
  float s = 0;
  for (float a : acc) s += a;
  return s;
}

// The buffers of the STREAM benchmarks, in 2 MiB pages or (SmallPagesScope) 4 KiB pages.
HugeVector<float> stream_buffer(int64_t n, float value, bool huge) {
  if (huge) return HugeVector<float>(n, value);
  SmallPagesScope small;
  return HugeVector<float>(n, value);
}

void BM_stream_read(benchmark::State& state, bool huge) {
  const HugeVector<float> x = stream_buffer(kStreamFloats, 1.f, huge);
  std::vector<double> t;
  for (auto _ : state) {
    float sums[64] = {};
    t.push_back(timed([&] {
      pool().run([&](int i, int n) {
        const int64_t b = kStreamFloats * i / n, e = kStreamFloats * (i + 1) / n;
        sums[i] = stream_sum(x.data() + b, e - b);
      });
    }));
    benchmark::DoNotOptimize(sums);
  }
  const double bps = static_cast<double>(kStreamFloats) * 4 / median(t);
  if (!huge) g_read_bps = bps;
  state.counters["GB/s"] = bps / 1e9;
}

void BM_stream_copy(benchmark::State& state, bool huge) {
  const int64_t n = kStreamFloats / 2;  // 512 MiB each way: 1 GiB per call
  HugeVector<float> a = stream_buffer(n, 1.f, huge), b = stream_buffer(n, 0.f, huge);
  std::vector<double> t;
  for (auto _ : state) {
    t.push_back(timed([&] {
      pool().parallel_for(n, [&](int64_t i0, int64_t i1) {
        std::memcpy(b.data() + i0, a.data() + i0, (i1 - i0) * sizeof(float));
      }, 1 << 16);
    }));
    benchmark::ClobberMemory();
  }
  const double bps = static_cast<double>(n) * 8 / median(t);
  if (!huge) g_copy_bps = bps;
  state.counters["GB/s"] = bps / 1e9;
}

// Bytes per second of one pool-wide pass over the case's buffers, each thread over its share of
// each kind: inputs only read are summed (bench::sum_words), outputs only written are stored over
// (bench::fill_words), and a buffer in both (add_rmsnorm's residual, rope's q and k) is summed and
// stored in one pass, as an in-place kernel reads and writes it (two passes would read it from
// DRAM twice). The stores write two 1.0f per word: a finite input for the in-place buffers.
double baseline_bps(const std::vector<KernelCase::Input>& in, const std::vector<KernelCase::Output>& out) {
  std::vector<KernelCase::Input> read_only;
  std::vector<KernelCase::Output> write_only, in_place;
  for (const auto& x : in) {
    const bool written = std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.data == x.data; });
    if (!written) read_only.push_back(x);
  }
  for (const auto& o : out) {
    const bool read = std::any_of(in.begin(), in.end(), [&](const auto& x) { return x.data == o.data; });
    (read ? in_place : write_only).push_back(o);
  }
  size_t bytes = 0;  // the bytes the pass moves, an in-place buffer counted read and written
  for (const auto& x : in) bytes += x.bytes / 8 * 8;
  for (const auto& x : out) bytes += x.bytes / 8 * 8;
  constexpr uint64_t kOnes = 0x3f8000003f800000ull;  // two 1.0f
  uint64_t sums[64] = {};
  const double t = timed([&] {
    pool().run([&](int i, int n) {
      using namespace llmroof::bench;
      for_share(read_only, i, n, [&](const uint64_t* p, size_t b) { sums[i] += sum_words(p, b); });
      for_share(in_place, i, n, [&](uint64_t* p, size_t b) { sums[i] += sum_and_fill_words(p, b, kOnes); });
      for_share(write_only, i, n, [&](uint64_t* p, size_t b) { fill_words(p, b, kOnes); });
    });
  });
  benchmark::DoNotOptimize(sums);
  benchmark::ClobberMemory();
  return static_cast<double>(bytes) / t;
}

// One registered kernel on `p`.
void run_kernel(benchmark::State& state, const std::string& name, const Problem& p) {
  KernelRegistry r;
  register_cpu_kernels(r);
  const KernelEntry* e = r.find(name);
  if (!e || !e->supported()) {
    state.SkipWithError("kernel not registered or not supported on this CPU");
    return;
  }
  std::vector<std::unique_ptr<KernelCase>> cases;
  cases.push_back(e->make(p));
  const size_t ws = cases[0]->working_set_bytes();
  // Memory-bound cases rotate over copies until >= 1 GiB; compute-bound ones need no DRAM traffic.
  const bool memory_bound = cases[0]->cost().arithmetic_intensity() < 20;
  while (memory_bound && cases.size() * ws < (size_t{1} << 30) && cases.size() < 64) {
    Problem q = p;
    q.seed += cases.size();
    cases.push_back(e->make(q));
  }
  for (auto& c : cases) c->run(pool());  // warm-up: page faults, pool threads
  const bool paired = memory_bound && !cases[0]->inputs().empty();
  const double kernel_bytes = cases[0]->cost().bytes.total();  // the same for every copy
  std::vector<double> t, read_rates, ratio;
  size_t i = 0;
  const double cpu0 = process_cpu_seconds();
  double paused = 0;
  for (auto _ : state) {
    KernelCase& c = *cases[i % cases.size()];
    t.push_back(timed([&] { c.run(pool()); }));
    if (paired) {
      state.PauseTiming();
      const double p0 = process_cpu_seconds();
      read_rates.push_back(baseline_bps(c.inputs(), c.outputs()));
      ratio.push_back(kernel_bytes / t.back() / read_rates.back());
      paused += process_cpu_seconds() - p0;
      state.ResumeTiming();
    }
    ++i;
  }
  double wall = 0;
  for (double x : t) wall += x;
  // Well below 1: other processes had the cores, and the times are not the kernel's own.
  state.counters["cpu_share"] = (process_cpu_seconds() - cpu0 - paused) / (wall * pool().size());
  const double s = median(t);
  const llmroof::OpCost cost = cases[0]->cost();
  const double bps = cost.bytes.total() / s, flops = cost.ops / s;
  state.counters["median_ms"] = s * 1e3;
  state.counters["GB/s"] = bps / 1e9;
  state.counters["GFLOP/s"] = flops / 1e9;
  if (g_read_bps > 0) state.counters["of_read"] = bps / g_read_bps;
  if (g_copy_bps > 0) state.counters["of_copy"] = bps / g_copy_bps;
  state.counters["of_peak"] = flops / g_peak_flops;
  state.counters["copies"] = static_cast<double>(cases.size());
  if (paired) {  // a read for read-only cases (decode, GEMV), read + write for the row ops
    const bool writes = !cases[0]->outputs().empty();
    state.counters[writes ? "rw_GB/s" : "read_GB/s"] = median(read_rates) / 1e9;
    state.counters[writes ? "of_rw_paired" : "of_read_paired"] = median(ratio);
  }
}

Problem rows(int64_t m, int64_t n) {
  Problem p;
  p.m = m;
  p.n = n;
  return p;
}
Problem attn(int64_t batch, int64_t qh, int64_t kvh, int64_t q_len, int64_t kv_len) {
  Problem p;
  p.batch = batch;
  p.q_heads = qh;
  p.kv_heads = kvh;
  p.head_dim = 128;
  p.q_len = q_len;
  p.kv_len = kv_len;
  return p;
}

void register_all() {
  const auto reg = [](const std::string& name, const std::string& label, const Problem& p) {
    benchmark::RegisterBenchmark((name + "/" + label).c_str(),
                                 [name, p](benchmark::State& s) { run_kernel(s, name, p); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
  };
  for (bool huge : {false, true}) {
    const std::string pages = huge ? "/pages2m" : "/pages4k";
    benchmark::RegisterBenchmark(("stream_read/1GiB" + pages).c_str(), BM_stream_read, huge)
        ->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(1.0);
    benchmark::RegisterBenchmark(("stream_copy/1GiB" + pages).c_str(), BM_stream_copy, huge)
        ->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(1.0);
  }
  reg("rmsnorm", "m32768_n4096", rows(32768, 4096));
  reg("add_rmsnorm", "m32768_n4096", rows(32768, 4096));
  reg("rope", "b16_s4096_h32_kv8", attn(16, 32, 8, 4096, 4096));
  reg("silu_mul", "m8192_n11008", rows(8192, 11008));
  reg("softmax", "m32768_n4096", rows(32768, 4096));
  reg("attention_prefill", "s2048_h32_d128_causal", attn(1, 32, 32, 2048, 2048));
  reg("attention_prefill", "s2048_h32_kv8_d128_causal", attn(1, 32, 8, 2048, 2048));
  // Decode: GQA 1, 4 and 8 (32 q heads) per KV format; every KV cache >= 0.5 GiB, rotated to >= 1 GiB.
  for (const char* f : {"fp32", "bf16", "int8"}) {
    const std::string name = std::string("attention_decode_") + f;
    reg(name, "b1_h32_kv32_ctx32768", attn(1, 32, 32, 1, 32768));
    reg(name, "b8_h32_kv8_ctx32768", attn(8, 32, 8, 1, 32768));
    reg(name, "b4_h32_kv4_ctx65536", attn(4, 32, 4, 1, 65536));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args, rest;
  if (!llmroof::bench::take_threads_flag(argc, argv, &g_threads, args)) return 2;
  for (char* a : args) {
    if (std::strncmp(a, "--peak-gflops=", 14) == 0) g_peak_flops = std::atof(a + 14) * 1e9;
    else rest.push_back(a);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// ---- AVX2 vs AVX-512 attention, paired in one run (docs/kernels.md, "AVX2 attention") --------
// Self-contained: registered by its own static initializer; filter with
// --benchmark_filter=avx2_vs_avx512. Each iteration runs the registry's NAME_avx2 case, then NAME
// (the AVX-512 path on an AVX-512 CPU), on the same inputs; counters are the medians of each
// side's GFLOP/s and of the per-pair speed ratio avx2/avx512 (both halves see nearly the same
// load on a shared machine).
namespace {

void BM_attention_avx2_vs_avx512(benchmark::State& state, const std::string& name,
                                 const Problem& p) {
  KernelRegistry r;
  register_cpu_kernels(r);
  const KernelEntry* e2 = r.find(name + "_avx2");
  const KernelEntry* e5 = r.find(name);
  if (!e2 || !e5 || !e2->supported()) {
    state.SkipWithError("no AVX2 variant on this CPU");
    return;
  }
  auto c2 = e2->make(p), c5 = e5->make(p);
  const auto timed = [](KernelCase& c) {
    const auto t0 = std::chrono::steady_clock::now();
    c.run(pool());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<double> t2, t5, ratio;
  for (auto _ : state) {
    t2.push_back(timed(*c2));
    t5.push_back(timed(*c5));
    ratio.push_back(t5.back() / t2.back());  // > 1: AVX2 faster
  }
  const double ops = c2->cost().ops;
  state.counters["avx2_GFLOPs"] = ops / median(t2) / 1e9;
  state.counters["avx512_GFLOPs"] = ops / median(t5) / 1e9;
  state.counters["avx2_speed_vs_avx512"] = median(ratio);
  state.SetLabel(e2->isa + " vs " + e5->isa);
}

const bool kAvx2AttentionRegistered = [] {
  Problem prefill;
  prefill.q_heads = 32;
  prefill.kv_heads = 8;
  prefill.head_dim = 128;
  prefill.q_len = prefill.kv_len = 1024;
  Problem decode = prefill;  // 4 sequences x 8192 tokens: 256 MiB of fp32 KV, > L3
  decode.batch = 4;
  decode.q_len = 1;
  decode.kv_len = 8192;
  const std::pair<std::string, Problem> cases[] = {
      {"attention_prefill", prefill},
      {"attention_decode_fp32", decode},
      {"attention_decode_bf16", decode},
      {"attention_decode_int8", decode}};
  for (const auto& [name, p] : cases)
    benchmark::RegisterBenchmark(("avx2_vs_avx512/" + name).c_str(), BM_attention_avx2_vs_avx512,
                                 name, p)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
