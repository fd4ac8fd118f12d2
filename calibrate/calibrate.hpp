#pragma once
// `llmroof calibrate`: measure this machine and describe it as a HardwareSpec that every command
// accepts. What is measured, and how each number of the spec is derived, is in docs/calibrate.md:
//   memory_bandwidth      = read bandwidth from DRAM (>= 1 GiB working sets), all threads, the
//                           median over every DRAM read sample of the run, or the best decode GEMV
//                           if that streamed faster
//   dense_ops_per_s[t]    = peak of the SIMD instruction the kernels use for dtype t
//   Each kernel's rate is measured in pairs with a reference loop (paired.hpp): its rate = upper
//   quartile over the undisturbed pairs of kernel rate / reference rate beside it, x the
//   reference's figure above.
//   efficiency.memory     = median over decode GEMVs (weights rotated through >= 1 GiB) of
//                           achieved bytes/s / memory_bandwidth
//   efficiency.compute    = prefill GEMM fp32 (m=512) achieved ops/s / fp32 peak
//   efficiency.attention_memory  = attention_decode (kv 2048, rotated) bytes/s / memory_bandwidth
//   efficiency.attention_memory_<bf16|int8> = the same with the KV cache in that format
//   efficiency.attention_compute = attention_prefill (512 causal tokens) ops/s / fp32 peak
//   efficiency.attention_compute_short = the same at 64 tokens (short_ops.cpp)
//   efficiency.attention_compute_short_onchip = at 64 tokens, heads of 64 filling 3/4 of the L2
//   kernel_launch_overhead= fixed cost of a small decode kernel started cold: median over rmsnorm,
//                           add, silu_mul and rope (run between DRAM-streaming GEMVs) of
//                           time - bytes / (memory_bandwidth x efficiency.memory); at least the
//                           thread-pool fork/join of an empty job
//   kernel_launch_overhead_hot = the same ops started with their inputs in the L3: median of
//                           time - bytes / last_level_cache.read_bytes_per_s; at least the fork/join
//   onchip_bytes_per_core = L2 per core (what a tiled kernel keeps on chip per core)
//   last_level_cache      = L2 per core x threads (sysfs; the shared L3 is not counted on) and the
//                           bandwidth of reading back, once, a quarter of it just written after a
//                           flush (a tensor the previous op produced)
//   write_allocate        = a DRAM-sized copy with ordinary stores takes > 1.15 x the same copy
//                           with non-temporal stores (the ordinary stores read their lines first)
//   write_back_cost       = time of an in-place update pass over a DRAM-sized buffer / a read
//                           pass - 1, clamped to [0.01, 1] (0.01: the probe's resolution)
// The efficiencies come only from these measurements, never from a validation run.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/hardware_spec.hpp"
#include "calibrate/microbench.hpp"
#include "calibrate/paired.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::calibrate {

struct CalibrateOptions {
  bool quick = false;  // fewer repetitions and kernels: <= 20 s instead of <= 2 min
  TimingPolicy policy;  // statistic and clock of every measurement
  std::function<void(std::string_view)> progress;  // one line per step (stderr in the CLI)
};

// A real kernel at a representative shape: what it achieved and against which measured limit.
// Measured paired with a reference loop (calibrate/paired.hpp): the DRAM read loop for memory-bound
// kernels, the peak loop of its dtype for compute-bound ones.
struct KernelEfficiency {
  std::string kernel;  // e.g. "gemm_w4a16"
  std::string shape;   // e.g. "m=1 n=4096 k=4096"
  bool memory_bound = true;
  // bytes/s (memory-bound, cost-function bytes) or ops/s: the paired ratio x the reference's own
  // calibrated figure (the pooled DRAM read, the peak), i.e. the rate on an undisturbed machine.
  double achieved_per_s = 0;
  double limit_per_s = 0;     // measured DRAM read bandwidth or the measured dtype peak
  // The pairs (calibrate/paired.hpp), appended by each round of measurement, and what
  // settle_paired made of them.
  std::vector<Pair> pair_samples{};
  std::vector<double> kernel_samples_per_s{}, reference_samples_per_s{};  // each sample's rate
  double paired_ratio = 0;     // upper-quartile ratio of the undisturbed pairs; 0: not paired
  double ratio_spread = 0;     // relative inter-quartile spread of those ratios
  int pairs_used = 0;          // the undisturbed pairs (all, if too few were)
  double measured_per_s = 0;   // the kernel's own median rate, as run (disturbances included)
  double reference_per_s = 0;  // the reference's median rate during the pairs
  double efficiency() const { return limit_per_s > 0 ? achieved_per_s / limit_per_s : 0; }
};

// A small decode op run cold, as in a large model's decode step, or with its inputs resident in the
// last-level cache, as in a small model's (small_ops.cpp).
struct SmallOpTime {
  std::string op;      // "add", "rmsnorm", "silu_mul", "rope" (cold: Llama-2-7b's decode shapes)
  double bytes = 0;    // the analyzer's cost-function bytes for it
  double time_s = 0;   // measured (the policy's statistic), timer overhead removed
  double spread = 0;   // relative inter-quartile spread of the samples
  bool resident = false;  // started with its inputs in the L3 (hot) rather than cold
};

struct CacheSizes {
  double l1d_bytes_per_core = 0, l2_bytes_per_core = 0, l3_bytes_total = 0;
};
CacheSizes host_cache_sizes();      // sysconf / sysfs, 0 where unknown
double host_memory_bytes();         // physical memory

struct Calibration {
  std::string cpu;   // brand string
  std::string date;  // UTC, YYYY-MM-DD
  std::string llmroof_version;
  int threads = 0;
  TimingPolicy policy;
  CacheSizes caches;
  double memory_bytes = 0;
  std::vector<BandwidthPoint> bandwidth;
  CacheProbe cache_probe;
  std::vector<PeakPoint> peaks;
  double dispatch_overhead_s = 0;
  std::vector<KernelEfficiency> kernels;
  std::vector<SmallOpTime> small_ops;

  double dram_read_bytes_per_s() const;  // the sweep's DRAM read figure
  // The DRAM read figure of the whole run: the policy's statistic over every DRAM read sample (the
  // sweep's and those beside the memory-bound kernels), so a disturbed moment is a minority of it.
  double dram_pooled_bytes_per_s = 0;
  // The DRAM bandwidth the spec uses: the larger of the read benchmark and the best streaming
  // kernel (a kernel that out-reads the benchmark proves the device can; other processes' memory
  // traffic only ever lowers a figure). Memory-bound kernels' limits are set to it.
  double dram_bytes_per_s = 0;
  double peak(DType t) const;  // 0 when not measured
};

Calibration run_calibration(kernels::ThreadPool& pool, const CalibrateOptions& opt,
                            std::string llmroof_version);

// After the kernels ran: pools every DRAM read sample into dram_pooled_bytes_per_s, settles each
// paired memory-bound kernel against that figure (achieved = ratio x figure), sets
// dram_bytes_per_s to the larger of it and the best GEMV, and every memory-bound limit to it.
void set_memory_bound_rates(Calibration& c);

// From a kernel's recorded pairs and the reference's calibrated figure (pooled DRAM read, peak):
// paired_ratio over the undisturbed pairs, the as-run medians, and achieved_per_s = ratio x figure.
void settle_paired(KernelEfficiency& k, double reference_figure_per_s);

// Measures the kernels of kernels/ at representative shapes (kernel_efficiency.cpp).
std::vector<KernelEfficiency> measure_kernel_efficiency(kernels::ThreadPool& pool,
                                                        const Calibration& c, bool quick,
                                                        const CalibrateOptions& opt);

// Runs the small decode ops cold between DRAM-streaming GEMVs, then hot (inputs in the L3) between
// L3-resident GEMVs (small_ops.cpp): the cold ones first, then the resident ones.
std::vector<SmallOpTime> measure_small_ops(kernels::ThreadPool& pool, const CacheSizes& caches,
                                           bool quick, const TimingPolicy& policy);

// The fused prefill attention at a short prompt (Efficiency::kAttentionShortTokens), timed in pairs
// with the long prompt's probe: "attention_prefill_short", whose efficiency is attention_prefill's
// x the median ratio of their rates (efficiency 0 without attention_prefill in c.kernels).
// Two entries: "attention_prefill_short" (32 heads, beyond the L2) and
// "attention_prefill_short_onchip" (heads of 64 filling 3/4 of the L2, inside it); none
// without attention_prefill in c.kernels.
std::vector<KernelEfficiency> measure_short_attention_prefill(kernels::ThreadPool& pool,
                                                              const Calibration& c, bool quick,
                                                              const TimingPolicy& policy);

// The fixed cost per kernel the spec carries (kernel_launch_overhead): median over the small ops of
// time - bytes / effective_bytes_per_s, and never below the dispatch overhead.
double small_op_fixed_cost_s(const Calibration& c, double effective_bytes_per_s);
// The same for the small ops started with their inputs in the L3 (kernel_launch_overhead_hot):
// median of time - bytes / cache_read_bytes_per_s, at least the dispatch overhead; nullopt when
// none was measured or without a read-back bandwidth.
std::optional<double> small_op_hot_fixed_cost_s(const Calibration& c,
                                                double cache_read_bytes_per_s);

// Ordinary stores count as write-allocating when a copy with them takes more than this many times
// the non-temporal copy: without write-allocate both move the same bytes (ratio ~1); with it the
// ordinary copy also reads the destination (3 transfers for 2, up to 1.5).
inline constexpr double kWriteAllocateCopyRatio = 1.15;

// The spec written to YAML: kind cpu, every number with its source.
HardwareSpec to_hardware_spec(const Calibration& c, const std::string& name);

// Human-readable summary of everything measured (printed on stderr by the CLI).
std::string format_calibration(const Calibration& c);

}  // namespace llmroof::calibrate
