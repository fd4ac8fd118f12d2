#include "calibrate/microbench.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>

#include "calibrate/peak_amx.hpp"
#include "calibrate/timing.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/huge_buffer.hpp"

namespace llmroof::calibrate {

namespace {

// Bandwidth buffers come from the same allocator as the kernels' weights (2 MiB pages where the
// OS grants them, kernels/huge_buffer.hpp), so "read bandwidth" and a GEMV's bandwidth are measured
// with the same TLB behaviour.
struct HugeDeleter {
  size_t bytes = 0;
  void operator()(float* p) const {
    if (bytes >= kernels::kHugePageBytes)
      kernels::huge_deallocate(p, bytes);
    else
      std::free(p);
  }
};
using Buffer = std::unique_ptr<float, HugeDeleter>;

Buffer alloc_floats(size_t n) {
  const size_t bytes = (n * sizeof(float) + 4095) / 4096 * 4096;
  if (bytes >= kernels::kHugePageBytes)
    return Buffer(static_cast<float*>(kernels::huge_allocate(bytes)), HugeDeleter{bytes});
  return Buffer(static_cast<float*>(std::aligned_alloc(4096, bytes)), HugeDeleter{bytes});
}

// Sum of n floats (n a multiple of 128) with 8 independent accumulators so the loads, not the add
// latency, set the pace.
__attribute__((target("avx512f"))) float read_avx512(const float* p, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i < n; i += 128) {
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
    a4 = _mm512_add_ps(a4, _mm512_load_ps(p + i + 64));
    a5 = _mm512_add_ps(a5, _mm512_load_ps(p + i + 80));
    a6 = _mm512_add_ps(a6, _mm512_load_ps(p + i + 96));
    a7 = _mm512_add_ps(a7, _mm512_load_ps(p + i + 112));
  }
  a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                     _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  // (Not _mm512_reduce_add_ps: GCC 12 warns inside its own header once that is inlined.)
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, a0);
  float s = 0;
  for (float l : lanes) s += l;
  return s;
}

__attribute__((target("avx512f"))) void copy_avx512(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; i += 64) {
    const __m512 x0 = _mm512_load_ps(src + i), x1 = _mm512_load_ps(src + i + 16);
    const __m512 x2 = _mm512_load_ps(src + i + 32), x3 = _mm512_load_ps(src + i + 48);
    _mm512_store_ps(dst + i, x0);
    _mm512_store_ps(dst + i + 16, x1);
    _mm512_store_ps(dst + i + 32, x2);
    _mm512_store_ps(dst + i + 48, x3);
  }
}

// Baseline-ISA twins for CPUs without AVX-512 (the compiler vectorizes them for the target).
float read_portable(const float* p, size_t n) {
  float acc[16] = {};
  for (size_t i = 0; i < n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += p[i + j];
  float s = 0;
  for (float a : acc) s += a;
  return s;
}

float read_floats(const float* p, size_t n) {
  return kernels::cpu_features().avx512f ? read_avx512(p, n) : read_portable(p, n);
}

void copy_floats(float* dst, const float* src, size_t n) {
  if (kernels::cpu_features().avx512f) {
    copy_avx512(dst, src, n);
  } else {
    std::memcpy(dst, src, n * sizeof(float));
  }
}

// Non-temporal twin of copy_avx512: the stores bypass the caches and never read the destination.
__attribute__((target("avx512f"))) void copy_nt_avx512(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; i += 64) {
    const __m512 x0 = _mm512_load_ps(src + i), x1 = _mm512_load_ps(src + i + 16);
    const __m512 x2 = _mm512_load_ps(src + i + 32), x3 = _mm512_load_ps(src + i + 48);
    _mm512_stream_ps(dst + i, x0);
    _mm512_stream_ps(dst + i + 16, x1);
    _mm512_stream_ps(dst + i + 32, x2);
    _mm512_stream_ps(dst + i + 48, x3);
  }
  _mm_sfence();
}

// x *= s in place: every line read, then written back dirty (no read-for-ownership).
__attribute__((target("avx512f"))) void scale_avx512(float* p, size_t n, float s) {
  const __m512 f = _mm512_set1_ps(s);
  for (size_t i = 0; i < n; i += 16) _mm512_store_ps(p + i, _mm512_mul_ps(_mm512_load_ps(p + i), f));
}

void fill_floats(float* p, size_t n, float v) {
  for (size_t i = 0; i < n; ++i) p[i] = v;
}

std::atomic<float> g_sink{0};  // keeps the reads from being optimised away

}  // namespace

namespace {

// Per-thread first-touched source (and optionally destination) arrays of n floats each; values in
// the normal range (no denormals).
struct ThreadArrays {
  std::vector<Buffer> src, dst;
  size_t n = 0;
  ThreadArrays(kernels::ThreadPool& pool, size_t bytes_per_thread, bool with_dst)
      : src(pool.size()), dst(pool.size()),
        n(std::max<size_t>(128, bytes_per_thread / sizeof(float) / 128 * 128)) {
    pool.run([&](int t, int) {
      src[t] = alloc_floats(n);
      for (size_t i = 0; i < n; ++i) src[t].get()[i] = 1.0f + static_cast<float>(i & 7);
      if (with_dst) {
        dst[t] = alloc_floats(n);
        std::memset(dst[t].get(), 0, n * sizeof(float));
      }
    });
  }
  // Small working sets are swept many times per sample so that each sample moves >= 64 MiB per
  // thread (>= ~0.2 ms even from L1): the fork/join and timer costs vanish in it.
  int sweeps() const { return static_cast<int>(std::max<size_t>(1, (size_t{64} << 20) / (n * 4))); }
  double bytes_per_sample(int threads) const {
    return static_cast<double>(n) * sizeof(float) * sweeps() * threads;
  }
};

TimingStats time_reads(kernels::ThreadPool& pool, const ThreadArrays& a, const TimingPlan& plan) {
  const int sweeps = a.sweeps();
  return time_it(
      [&] {
        pool.run([&](int t, int) {
          float s = 0;
          for (int r = 0; r < sweeps; ++r) {
            s += read_floats(a.src[t].get(), a.n);
            asm volatile("" : : : "memory");  // each sweep must really read (no hoisting)
          }
          g_sink.store(s, std::memory_order_relaxed);
        });
      },
      plan);
}

TimingPlan bandwidth_plan(double min_time_s, const TimingPolicy& policy) {
  TimingPlan plan;
  plan.clock = policy.clock;
  plan.min_total_s = min_time_s;
  plan.min_samples = 15;
  plan.warmup = 2;
  return plan;
}

}  // namespace

BandwidthPoint measure_bandwidth(kernels::ThreadPool& pool, std::string level,
                                 size_t bytes_per_thread, double min_time_s, const TimingPolicy& policy) {
  const ThreadArrays a(pool, bytes_per_thread, true);
  const TimingPlan plan = bandwidth_plan(min_time_s, policy);
  const auto read = time_reads(pool, a, plan);
  const int sweeps = a.sweeps();
  const auto copy = time_it(
      [&] {
        pool.run([&](int t, int) {
          for (int r = 0; r < sweeps; ++r) {
            copy_floats(a.dst[t].get(), a.src[t].get(), a.n);
            asm volatile("" : : : "memory");
          }
        });
      },
      plan);
  const double bytes = a.bytes_per_sample(pool.size());
  BandwidthPoint p;
  p.level = std::move(level);
  p.bytes_per_thread = static_cast<double>(a.n) * sizeof(float);
  p.read_bytes_per_s = bytes / read.value(policy.stat);
  p.copy_bytes_per_s = 2 * bytes / copy.value(policy.stat);
  p.read_spread = read.spread();
  for (double t : read.sorted_s) p.read_samples_bytes_per_s.push_back(bytes / t);
  return p;
}

double measure_read_bandwidth(kernels::ThreadPool& pool, size_t bytes_per_thread,
                              double min_time_s, const TimingPolicy& policy) {
  const ThreadArrays a(pool, bytes_per_thread, false);
  const auto read = time_reads(pool, a, bandwidth_plan(min_time_s, policy));
  return a.bytes_per_sample(pool.size()) / read.value(policy.stat);
}

struct DramReadReference::Impl {
  ThreadArrays a;
  size_t cursor = 0;  // floats into each thread's slice
};

DramReadReference::DramReadReference(kernels::ThreadPool& pool, double total_bytes)
    : pool_(pool),
      impl_(std::make_unique<Impl>(Impl{
          ThreadArrays(pool, static_cast<size_t>(total_bytes / pool.size()), false), 0})) {}

DramReadReference::~DramReadReference() = default;

double DramReadReference::read(double bytes) {
  ThreadArrays& a = impl_->a;
  const size_t per_thread = std::clamp<size_t>(
      static_cast<size_t>(bytes / pool_.size() / sizeof(float)) / 128 * 128, 128, a.n);
  if (impl_->cursor + per_thread > a.n) impl_->cursor = 0;
  const size_t at = impl_->cursor;
  impl_->cursor += per_thread;
  pool_.run([&](int t, int) {
    g_sink.store(read_floats(a.src[t].get() + at, per_thread), std::memory_order_relaxed);
  });
  return static_cast<double>(per_thread) * sizeof(float) * pool_.size();
}

namespace {

// One thread times itself by the policy's clock (thread CPU time ignores other processes);
// several threads by the wall clock.
double probe_clock(const kernels::ThreadPool& pool, const TimingPolicy& policy) {
  return clock_s(pool.size() == 1 ? policy.clock : Clock::wall);
}

double reread_bandwidth(kernels::ThreadPool& pool, double tensor_bytes, double llc_bytes,
                        int samples, const TimingPolicy& policy, double& spread) {
  const int threads = pool.size();
  const ThreadArrays tensor(pool, static_cast<size_t>(tensor_bytes / threads), false);
  const ThreadArrays junk(pool, static_cast<size_t>(2 * llc_bytes / threads), false);
  std::vector<double> times;
  for (int s = 0; s < samples; ++s) {
    pool.run([&](int t, int) {
      g_sink.store(read_floats(junk.src[t].get(), junk.n), std::memory_order_relaxed);
      fill_floats(tensor.src[t].get(), tensor.n, 1.0f + static_cast<float>(s & 3));
    });
    const double t0 = probe_clock(pool, policy);
    pool.run([&](int t, int) {
      g_sink.store(read_floats(tensor.src[t].get(), tensor.n), std::memory_order_relaxed);
    });
    times.push_back(probe_clock(pool, policy) - t0);
  }
  const TimingStats st = stats_of(std::move(times));
  spread = st.spread();
  return static_cast<double>(tensor.n) * sizeof(float) * threads / st.value(policy.stat);
}

// Over DRAM-sized buffers, alternated so that all see the same machine: a copy with ordinary
// stores, the same copy with non-temporal stores, a read pass and an in-place update pass.
// Returns {ordinary / non-temporal copy, update / read} (medians).
std::pair<double, double> store_ratios(kernels::ThreadPool& pool, double llc_bytes, int samples,
                                       const TimingPolicy& policy) {
  const double total = std::max(4 * llc_bytes, double(256u << 20));
  const ThreadArrays a(pool, static_cast<size_t>(total / pool.size()), true);
  std::vector<double> times[4];  // ordinary copy, non-temporal copy, read, update
  for (int s = 0; s < samples; ++s)
    for (int kind = 0; kind < 4; ++kind) {
      const double t0 = probe_clock(pool, policy);
      pool.run([&](int t, int) {
        float* src = a.src[t].get();
        if (kind == 0) copy_avx512(a.dst[t].get(), src, a.n);
        if (kind == 1) copy_nt_avx512(a.dst[t].get(), src, a.n);
        if (kind == 2) g_sink.store(read_floats(src, a.n), std::memory_order_relaxed);
        if (kind == 3) scale_avx512(src, a.n, s % 2 ? 0.5f : 2.0f);  // values stay normal
      });
      times[kind].push_back(probe_clock(pool, policy) - t0);
    }
  const auto t = [&](int k) { return stats_of(std::move(times[k])).value(policy.stat); };
  const double copy = t(0) / t(1);
  return {copy, t(3) / t(2)};
}

}  // namespace

CacheProbe measure_cache_probe(kernels::ThreadPool& pool, double capacity_bytes, double llc_bytes,
                               bool quick, const TimingPolicy& policy) {
  CacheProbe c;
  c.reread_bytes = capacity_bytes / 4;
  c.reread_bytes_per_s =
      reread_bandwidth(pool, c.reread_bytes, llc_bytes, quick ? 7 : 25, policy, c.reread_spread);
  if (kernels::cpu_features().avx512f) {
    c.nt_copy_measured = true;
    std::tie(c.copy_over_nt_copy, c.update_over_read) =
        store_ratios(pool, llc_bytes, quick ? 3 : 9, policy);
  }
  return c;
}

namespace {

// Each peak loop: 16 independent accumulators (enough to cover latency x pipes on current cores)
// in hand-written assembly: GCC 12 inserts register copies around vpdpbusd intrinsics that cost a
// third of the throughput. Inputs are zero, so no denormals; the results are never used.
#define LLMROOF_X16(op)                                                                   \
  op " %%zmm16, %%zmm17, %%zmm0\n\t" op " %%zmm16, %%zmm17, %%zmm1\n\t"                 \
  op " %%zmm16, %%zmm17, %%zmm2\n\t" op " %%zmm16, %%zmm17, %%zmm3\n\t"                 \
  op " %%zmm16, %%zmm17, %%zmm4\n\t" op " %%zmm16, %%zmm17, %%zmm5\n\t"                 \
  op " %%zmm16, %%zmm17, %%zmm6\n\t" op " %%zmm16, %%zmm17, %%zmm7\n\t"                 \
  op " %%zmm16, %%zmm17, %%zmm8\n\t" op " %%zmm16, %%zmm17, %%zmm9\n\t"                 \
  op " %%zmm16, %%zmm17, %%zmm10\n\t" op " %%zmm16, %%zmm17, %%zmm11\n\t"               \
  op " %%zmm16, %%zmm17, %%zmm12\n\t" op " %%zmm16, %%zmm17, %%zmm13\n\t"               \
  op " %%zmm16, %%zmm17, %%zmm14\n\t" op " %%zmm16, %%zmm17, %%zmm15\n\t"
#define LLMROOF_PEAK_LOOP(name, isa, op)                                                   \
  __attribute__((target(isa))) void name(int64_t iters) {                                  \
    int64_t n = iters;                                                                     \
    asm volatile(                                                                        \
        "vpxord %%zmm16, %%zmm16, %%zmm16\n\t"                                            \
        "vpxord %%zmm17, %%zmm17, %%zmm17\n\t"                                            \
        "1:\n\t" LLMROOF_X16(op) "dec %0\n\t"                                             \
        "jnz 1b\n\t"                                                                      \
        : "+r"(n)                                                                        \
        :                                                                                \
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",  \
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "cc"); \
  }

LLMROOF_PEAK_LOOP(fma_loop, "avx512f", "vfmadd231ps")
LLMROOF_PEAK_LOOP(bf16_loop, "avx512f,avx512bf16", "vdpbf16ps")
LLMROOF_PEAK_LOOP(vnni_loop, "avx512f,avx512vnni", "vpdpbusd")

// One peak loop: loop(iters) issues iters x instr_per_iter instructions of ops_per_instr ops each.
struct PeakLoop {
  void (*loop)(int64_t);
  double instr_per_iter;
  double ops_per_instr;
  const char* instruction;
  int64_t iters_per_sample;  // ~0.2-0.5 ms per thread: many short samples
};

// Instructions' work: 16 lanes x 2 (FMA); 16 lanes x 2 bf16 pairs x 2; 16 lanes x 4 bytes x 2.
constexpr PeakLoop kFma{fma_loop, 16, 32, "vfmadd231ps zmm", 1 << 16};
constexpr PeakLoop kBf16{bf16_loop, 16, 64, "vdpbf16ps zmm", 1 << 16};
constexpr PeakLoop kVnni{vnni_loop, 16, 128, "vpdpbusd zmm", 1 << 16};
// 16 cycles per tdpbusd: 1 << 10 iterations = 256 Ki cycles.
constexpr PeakLoop kTdpbusd{tdpbusd_peak_loop, kTdpbusdPerIteration, kTdpbusdOps,
                            "tdpbusd tmm (AMX)", 1 << 10};
constexpr PeakLoop kTdpbf16ps{tdpbf16ps_peak_loop, kTdpbf16psPerIteration, kTdpbf16psOps,
                              "tdpbf16ps tmm (AMX)", 1 << 10};

double peak_of(kernels::ThreadPool& pool, const PeakLoop& p, double min_time_s,
               const TimingPolicy& policy) {
  TimingPlan plan;
  plan.clock = policy.clock;
  plan.min_total_s = min_time_s;
  plan.warmup = 20;        // ~3 ms: lets the clock and the 512-bit units settle
  plan.min_samples = 40;   // short samples, many of them: some run with both cores to themselves
  plan.max_samples = 2000;
  const auto t = time_it([&] { pool.run([&](int, int) { p.loop(p.iters_per_sample); }); }, plan);
  // A peak is what the cores do when undisturbed, so it takes the 10th percentile of the sample
  // times whatever the policy: a median would put other processes' time slices into the "peak" and
  // make every kernel look more efficient than the machine allows.
  (void)policy.stat;
  return static_cast<double>(p.iters_per_sample) * p.instr_per_iter * p.ops_per_instr *
         pool.size() / t.p10_s;
}

// The loop of the instruction the kernels' compute-bound work uses for dtype: int8 is the W8A8
// GEMM's, tdpbusd where it runs on AMX tiles (m >= 2), else vpdpbusd; bf16 the bf16-weight GEMM's,
// tdpbf16ps where it runs on AMX tiles (m >= kBf16AmxMinRows), else vdpbf16ps.
std::optional<PeakLoop> peak_loop(DType dtype) {
  const auto& f = kernels::cpu_features();
  if (dtype == DType::fp32 && f.avx512f) return kFma;
  if (dtype == DType::bf16 && kernels::gemm_bf16_uses_amx()) return kTdpbf16ps;
  if (dtype == DType::bf16 && f.avx512_bf16) return kBf16;
  if (dtype == DType::int8 && kernels::gemm_w8a8_uses_amx()) return kTdpbusd;
  if (dtype == DType::int8 && f.avx512_vnni) return kVnni;
  return std::nullopt;
}

}  // namespace

double run_peak_loop(kernels::ThreadPool& pool, DType dtype, double ops) {
  const auto p = peak_loop(dtype);
  if (!p) return 0;
  const double per_iter = p->instr_per_iter * p->ops_per_instr * pool.size();
  const auto iters = std::max<int64_t>(1, static_cast<int64_t>(ops / per_iter));
  pool.run([&](int, int) { p->loop(iters); });
  return static_cast<double>(iters) * per_iter;
}

std::vector<PeakPoint> measure_peaks(kernels::ThreadPool& pool, double min_time_s,
                                     const TimingPolicy& policy) {
  std::vector<PeakPoint> out;
  for (DType t : {DType::fp32, DType::bf16, DType::int8})
    if (const auto p = peak_loop(t))
      out.push_back({t, p->instruction, peak_of(pool, *p, min_time_s, policy)});
  // On AMX CPUs the vector peaks too (vpdpbusd: the one-row W8A8 GEMV's; vdpbf16ps: the bf16
  // attention decode's dot products; both bandwidth-bound): reported, not in the spec.
  if (kernels::gemm_w8a8_uses_amx() && kernels::cpu_features().avx512_vnni)
    out.push_back(
        {DType::int8, kVnni.instruction, peak_of(pool, kVnni, min_time_s, policy), false});
  if (kernels::gemm_bf16_uses_amx() && kernels::cpu_features().avx512_bf16)
    out.push_back(
        {DType::bf16, kBf16.instruction, peak_of(pool, kBf16, min_time_s, policy), false});
  return out;
}

double measure_dispatch_overhead(kernels::ThreadPool& pool, double min_time_s, const TimingPolicy& policy) {
  TimingPlan plan;
  plan.clock = policy.clock;
  plan.min_total_s = min_time_s;
  plan.inner = 200;
  plan.warmup = 100;
  plan.min_samples = 11;
  return time_it([&] { pool.run([](int, int) {}); }, plan).value(policy.stat);
}

}  // namespace llmroof::calibrate
