// The achieved efficiency of the real kernels at representative shapes, against calibrate's own
// measured limits (DRAM read bandwidth, SIMD peaks). Bytes and ops come from analyzer/cost.hpp via
// PackedWeights::shape(), so the efficiency is exactly the factor the analyzer's realistic mode needs.
// Every kernel is timed in pairs with a reference loop (calibrate/paired.hpp): memory-bound kernels
// against calibrate's DRAM read loop over as many bytes, compute-bound ones against the peak loop
// of their dtype over as many ops, so a disturbed moment slows both sides of a pair alike.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "calibrate/attention_probe.hpp"
#include "calibrate/calibrate.hpp"
#include "calibrate/paired.hpp"
#include "calibrate/prefill_probe.hpp"
#include "calibrate/timing.hpp"
#include "kernels/check.hpp"
#include "kernels/huge_buffer.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/gemm.hpp"

namespace llmroof::calibrate {

namespace {

using kernels::PackedWeights;
using kernels::WeightFormat;

PackedWeights random_weights(int64_t k, int64_t n, WeightFormat f, uint64_t seed) {
  std::vector<float> w(static_cast<size_t>(k * n));
  kernels::fill_uniform(w, seed, -0.05f, 0.05f);
  return kernels::pack_weights(w.data(), k, n, f, 128);
}

std::string shape_text(int64_t m, int64_t n, int64_t k) {
  return "m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k);
}

// Bytes a memory-bound sample streams: ~7 ms at 38 GB/s, long against the clock and the pool's
// fork/join, short enough for dozens of pairs in the time budget.
constexpr double kSampleBytes = double(256u << 20);
// Each kernel's copies (weights, KV caches) span >= 1 GiB: an item's previous use lies >= 3/4 GiB
// of traffic back, far beyond any last-level cache here, so every call streams from DRAM.
constexpr double kRotationBytes = double(1ull << 30);

// Which copy a call uses next: `per_sample` consecutive copies per sample, cycling through all.
struct Rotation {
  size_t copies = 1, per_sample = 1, next = 0;
  explicit Rotation(double item_bytes) {
    copies = static_cast<size_t>(std::ceil(kRotationBytes / std::max(1.0, item_bytes)));
    per_sample = std::clamp<size_t>(static_cast<size_t>(std::ceil(kSampleBytes / item_bytes)), 1,
                                    copies);
  }
  template <class F>
  void sample(F&& f) {
    for (size_t i = 0; i < per_sample; ++i, next = (next + 1) % copies) f(next);
  }
};

PairedPlan paired_plan(double t_min, int min_pairs, const TimingPolicy& policy) {
  PairedPlan plan;
  plan.clock = policy.clock;
  plan.min_total_s = t_min;
  plan.min_pairs = min_pairs;
  return plan;
}

// Runs one paired measurement (paired.hpp) and appends its pairs and samples to k. `reference`
// runs the reference loop over about kernel_work and returns the work it did.
void record_pairs(KernelEfficiency& k, const std::function<void()>& kernel, double kernel_work,
                  const std::function<double()>& reference, const PairedPlan& plan) {
  double ref_work = 0;
  const PairedSamples s = sample_paired(kernel, [&] { ref_work = reference(); }, plan);
  const std::vector<Pair> pairs = pairs_of(s, kernel_work, ref_work);
  k.pair_samples.insert(k.pair_samples.end(), pairs.begin(), pairs.end());
  for (double t : s.kernel_s) k.kernel_samples_per_s.push_back(kernel_work / t);
  for (double t : s.reference_s) k.reference_samples_per_s.push_back(ref_work / t);
}

// A memory-bound kernel paired with the DRAM read of as many bytes, sampled (up to 3 x t_min) until
// kWantedUndisturbedPairs of its pairs ran the read at >= 90 % of the sweep's DRAM figure.
// run_calibration settles it (settle_paired) against the DRAM figure pooled over the whole run.
KernelEfficiency paired_memory(std::string name, std::string shape,
                               const std::function<void()>& kernel, double sample_bytes,
                               DramReadReference& dram, double dram_sweep_per_s, double t_min,
                               const TimingPolicy& policy) {
  KernelEfficiency k{std::move(name), std::move(shape), true};
  const double start = clock_s(policy.clock);
  PairedPlan plan = paired_plan(t_min, 5, policy);
  do {
    record_pairs(k, kernel, sample_bytes, [&] { return dram.read(sample_bytes); }, plan);
    plan.min_total_s = t_min / 4;  // further chunks: short, until enough quiet pairs
    plan.warmup = 0;
  } while (undisturbed_pairs(k.pair_samples, dram_sweep_per_s) < kWantedUndisturbedPairs &&
           clock_s(policy.clock) - start < 3 * t_min);
  return k;
}

// A compute-bound kernel with its inputs, measured in rounds spread over the calibration: a
// disturbance that slows the kernel but not the peak loop beside it (another process evicting its
// operands from the shared L3) then hits a minority of its pairs. On the development host the fp32
// GEMM read 75-86 % of the peak in single 0.6 s measurements, while validate measured the same
// shape at 84-85 % in three runs.
struct ComputeCase {
  KernelEfficiency k;
  std::function<void()> run;  // owns its inputs (shared_ptr captures)
  double ops = 0;             // cost-function ops of one call
  DType reference = DType::fp32;
};

// The peak a prefill GEMM's products run at: int8 for W8A8, bf16 for bf16 weights on AMX-BF16
// (x rounded to bf16: tdpbf16ps), fp32 FMA otherwise.
DType gemm_peak_dtype(WeightFormat f, int64_t m) {
  if (f == WeightFormat::w8a8) return DType::int8;
  if (f == WeightFormat::bf16 && kernels::gemm_bf16_uses_amx(m)) return DType::bf16;
  return DType::fp32;
}

// Prefill GEMM: compute-bound, one matrix (its reuse across m rows is the point), paired with the
// peak loop of its arithmetic (gemm_peak_dtype).

ComputeCase gemm_case(kernels::ThreadPool& pool, WeightFormat f, int64_t m, int64_t n, int64_t k,
                      const Calibration& c) {
  const DType ref = gemm_peak_dtype(f, m);
  // Activations in 2 MiB pages, as validate's runner holds them (model_runner.cpp): with 4 KiB
  // pages the 8 MiB input re-read for every column panel costs TLB walks the model never pays.
  auto w = std::make_shared<PackedWeights>(random_weights(k, n, f, 12));
  auto x = std::make_shared<kernels::HugeVector<float>>(static_cast<size_t>(m * k));
  auto y = std::make_shared<kernels::HugeVector<float>>(static_cast<size_t>(m * n));
  kernels::fill_uniform(*x, 4);
  const std::string name = "gemm_" + std::string(kernels::to_string(f));
  return {{name, shape_text(m, n, k), false, 0, c.peak(ref)},
          [w, x, y, m, &pool] { kernels::gemm(x->data(), m, *w, y->data(), pool); },
          gemm_cost(w->shape(m)).ops,
          ref};
}

void measure_round(kernels::ThreadPool& pool, std::vector<ComputeCase>& cases, double t_min,
                   const TimingPolicy& policy) {
  for (ComputeCase& c : cases)
    record_pairs(c.k, c.run, c.ops, [&] { return run_peak_loop(pool, c.reference, c.ops); },
                 paired_plan(t_min, 2, policy));
}

// Decode GEMV with the weights rotated through >= 1 GiB of copies, so every call streams its
// weights from DRAM as in a full model (one matrix would stay in the last-level cache).
KernelEfficiency gemv_efficiency(kernels::ThreadPool& pool, WeightFormat f, int64_t n, int64_t k,
                                 DramReadReference& dram, double dram_sweep_per_s, double t_min,
                                 const TimingPolicy& policy) {
  const PackedWeights w0 = random_weights(k, n, f, 11);
  Rotation rot(w0.bytes());
  std::vector<PackedWeights> ws(rot.copies, w0);
  std::vector<float> x(static_cast<size_t>(k)), y(static_cast<size_t>(n));
  kernels::fill_uniform(x, 3);
  const double bytes = gemm_cost(w0.shape(1)).bytes.total();
  return paired_memory(
      "gemm_" + std::string(kernels::to_string(f)), shape_text(1, n, k),
      [&] { rot.sample([&](size_t i) { kernels::gemm(x.data(), 1, ws[i], y.data(), pool); }); },
      bytes * static_cast<double>(rot.per_sample), dram, dram_sweep_per_s, t_min, policy);
}

DType kv_dtype(kernels::KvFormat f) {
  return f == kernels::KvFormat::fp32 ? DType::fp32
         : f == kernels::KvFormat::bf16 ? DType::bf16
                                        : DType::int8;
}

// Decode attention (Llama-2-7b shape: 32 heads of 128) over a 2048-token cache in `f`, rotated
// through >= 1 GiB of caches like the weights above, costed by the analyzer's fused_attention_cost.
// fp32 becomes efficiency.attention_memory, bf16/int8 efficiency.attention_memory_<dtype>
// (calibrate.cpp); the analyzer applies the one of --kvbits' format to fused_attention.
KernelEfficiency attention_decode_efficiency(kernels::ThreadPool& pool, kernels::KvFormat f,
                                             const Calibration& c, DramReadReference& dram,
                                             double t_min, const TimingPolicy& policy) {
  kernels::AttentionDims d;
  d.q_heads = d.kv_heads = 32;
  d.head_dim = 128;
  d.q_len = 1;
  d.kv_len = 2048;
  AttentionShape a;
  a.q_heads = a.kv_heads = 32;
  a.head_dim = 128;
  a.q_len = 1;
  a.kv_len = d.kv_len;
  a.act_bytes = 4;
  a.kv = kv_dtype(f);
  a.onchip_bytes = c.caches.l2_bytes_per_core;
  const OpCost cost = fused_attention_cost(a);
  Rotation rot(cost.bytes.kv_read);
  // The copies validate's device check rotates too (attention_probe.hpp).
  DecodeAttentionProbe probe(d, f, kRotationBytes, rot.copies);
  const auto run = [&](size_t i) { probe.run(i, pool); };
  const std::string name = f == kernels::KvFormat::fp32
                               ? "attention_decode"
                               : "attention_decode_" + std::string(to_string(a.kv));
  return paired_memory(name, "heads=32 d=128 q=1 kv=2048 " + std::string(to_string(a.kv)) + " KV",
                       [&] { rot.sample(run); },
                       cost.bytes.total() * static_cast<double>(rot.per_sample), dram,
                       c.dram_read_bytes_per_s(), t_min, policy);
}

// Prefill attention: 512 causal tokens of the same shape, fp32, compute-bound (one copy).
// Becomes efficiency.attention_compute.
ComputeCase attention_prefill_case(kernels::ThreadPool& pool, const Calibration& c) {
  auto probe = std::make_shared<PrefillProbe>(512, c.caches.l2_bytes_per_core);
  return {{"attention_prefill", probe->shape(), false, 0, c.peak(DType::fp32)},
          [probe, &pool] { probe->run(pool); },
          probe->ops,
          DType::fp32};
}

}  // namespace

void settle_paired(KernelEfficiency& k, double reference_figure_per_s) {
  const PairedRatio r = paired_ratio(k.pair_samples, reference_figure_per_s);
  k.paired_ratio = r.ratio;
  k.ratio_spread = r.spread;
  k.pairs_used = r.used;
  k.measured_per_s = stats_of(k.kernel_samples_per_s).median_s;  // quantiles of rates
  k.reference_per_s = stats_of(k.reference_samples_per_s).median_s;
  k.achieved_per_s = r.ratio * reference_figure_per_s;
}

// Order: a round of the compute-bound kernels, the decode GEMVs, a second round, the decode
// attention kernels, a third round; so the compute rounds span the kernel phase of the run.
std::vector<KernelEfficiency> measure_kernel_efficiency(kernels::ThreadPool& pool,
                                                        const Calibration& c, bool quick,
                                                        const CalibrateOptions& opt) {
  const double t_min = quick ? 0.05 : 0.6;
  const double t_round = quick ? 0.03 : 0.25;  // per compute kernel and round (>= 2 pairs)
  const auto progress = [&](const std::string& s) {
    if (opt.progress) opt.progress(s);
  };
  // The reference reads' own buffer: 256 MiB (8x the development host's L3) is read whole by one
  // sample, last read one kernel sample (another 256 MiB) earlier: from DRAM, and 3/4 GiB less to
  // allocate and fault in than a 1 GiB buffer (--quick's time budget).
  DramReadReference dram(pool, std::max(kSampleBytes, 8 * c.caches.l3_bytes_total));

  const int64_t m = quick ? 256 : 512;
  std::vector<ComputeCase> compute;
  std::vector<WeightFormat> gemms{WeightFormat::fp32};
  if (!quick) gemms.insert(gemms.end(), {WeightFormat::int4, WeightFormat::w8a8});
  // bf16 weights where they run on AMX tiles (elsewhere the same FMA GEMM as fp32's)
  if (gemm_peak_dtype(WeightFormat::bf16, m) == DType::bf16) gemms.push_back(WeightFormat::bf16);
  for (auto f : gemms)
    if (c.peak(gemm_peak_dtype(f, m)) > 0) compute.push_back(gemm_case(pool, f, m, 4096, 4096, c));
  if (!quick && c.peak(DType::fp32) > 0) compute.push_back(attention_prefill_case(pool, c));
  int round = 0;
  const auto next_round = [&] {
    progress("compute-bound kernels, round " + std::to_string(++round) + ": prefill GEMMs m=" +
             std::to_string(m) + (quick ? "" : " and attention prefill") +
             ", each paired with the peak loop of its arithmetic");
    measure_round(pool, compute, t_round, opt.policy);
  };

  next_round();
  std::vector<KernelEfficiency> out;
  for (auto f : quick ? std::vector<WeightFormat>{WeightFormat::bf16}
                      : std::vector<WeightFormat>{WeightFormat::fp32, WeightFormat::bf16,
                                                  WeightFormat::int8, WeightFormat::int4,
                                                  WeightFormat::w8a8}) {
    progress("decode GEMV " + std::string(kernels::to_string(f)) +
             " m=1 n=4096 k=4096, weights rotated through 1 GiB, paired with DRAM reads");
    out.push_back(
        gemv_efficiency(pool, f, 4096, 4096, dram, c.dram_read_bytes_per_s(), t_min, opt.policy));
  }
  next_round();
  std::vector<KernelEfficiency> attention;
  if (!quick) {
    for (auto f : {kernels::KvFormat::fp32, kernels::KvFormat::bf16, kernels::KvFormat::int8}) {
      progress("attention decode, " + std::string(to_string(kv_dtype(f))) +
               " KV of 2048 tokens rotated through 1 GiB, paired with DRAM reads");
      attention.push_back(attention_decode_efficiency(pool, f, c, dram, t_min, opt.policy));
    }
    next_round();
  }
  // Output order: GEMVs, GEMMs, attention decode, attention prefill.
  for (ComputeCase& cc : compute) {
    settle_paired(cc.k, cc.k.limit_per_s);  // against the peak of its arithmetic
    (cc.k.kernel.rfind("gemm", 0) == 0 ? out : attention).push_back(std::move(cc.k));
  }
  out.insert(out.end(), attention.begin(), attention.end());
  return out;
}

}  // namespace llmroof::calibrate
