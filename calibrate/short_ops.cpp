// The fused prefill attention at a short prompt (docs/calibrate.md, "Short prompts").
//
// efficiency.attention_compute is measured at 512 causal tokens. At 64 the same kernel ran at a
// third of that rate in validate (Qwen1.5-MoE, 64-token prefill: 3x the prediction): its work per
// (query, head) is not all proportional to the causal pairs. The kernel computes whole 64 x 64
// tiles up to the causal frontier (a diagonal tile computes 64 x 64 pairs of which 64 x 65 / 2 are
// kept), packs Q^T and normalises O once per query tile. Both cost time in proportion to the
// query rows, s, while the useful work grows as s^2 / 2, so 1 / efficiency is affine in 1 / s.
// Measured at a second, short length, the two points fix that line; the analyzer interpolates on
// it by prompt length (HardwareSpec::Efficiency::attention_compute_at). The short probe is timed
// in pairs with the long one (paired.hpp), and its efficiency is the long probe's x the ratio of
// their rates. It is measured twice: with Q, K, V and O beyond the L2 (32 heads) and inside it (4).
#include <algorithm>
#include <string>
#include <vector>

#include "calibrate/calibrate.hpp"
#include "calibrate/paired.hpp"
#include "calibrate/prefill_probe.hpp"
#include "calibrate/timing.hpp"

namespace llmroof::calibrate {

namespace {

// `shrt` timed in pairs with the long probe (paired.hpp): the long call is the reference, a kernel
// sample is as many short calls as make a quarter of its work (~0.5 ms on the development host):
// long, shorts, long, ..., long. Its efficiency is the long probe's x the ratio of their rates.
KernelEfficiency paired_with_long(const std::string& name, PrefillProbe& shrt, PrefillProbe& lng,
                                  const KernelEfficiency& long_k, kernels::ThreadPool& pool,
                                  bool quick, const TimingPolicy& policy) {
  KernelEfficiency e{name, shrt.shape(), false};
  const int calls = std::max(1, static_cast<int>(lng.ops / shrt.ops / 4));
  PairedPlan plan;
  plan.min_pairs = plan.max_pairs = quick ? 5 : 15;
  plan.min_total_s = 0;
  plan.clock = policy.clock;
  const PairedSamples s = sample_paired(
      [&] {
        for (int j = 0; j < calls; ++j) shrt.run(pool);
      },
      [&] { lng.run(pool); }, plan);
  const std::vector<Pair> pairs = pairs_of(s, shrt.ops * calls, lng.ops);
  // The long probe's calibrated rate is the detector's figure: a pair whose long call ran 10 %
  // below it saw a disturbed machine. The median, not the upper quartile, of the ratios: both
  // sides are the same kernel, which a neighbour evicting its tiles slows alike (paired.hpp).
  const PairedRatio r =
      paired_ratio(pairs, long_k.achieved_per_s, kUndisturbedTolerance, RatioQuantile::median);
  if (r.used == 0) return e;
  e.limit_per_s = long_k.limit_per_s;
  e.achieved_per_s = long_k.achieved_per_s * r.ratio;
  e.paired_ratio = r.ratio;
  e.ratio_spread = r.spread;
  e.pairs_used = r.used;
  return e;
}

}  // namespace

std::vector<KernelEfficiency> measure_short_attention_prefill(kernels::ThreadPool& pool,
                                                              const Calibration& c, bool quick,
                                                              const TimingPolicy& policy) {
  using E = HardwareSpec::Efficiency;
  // Relative to the long probe, whose efficiency calibrate has just measured against the peak.
  const auto long_it = std::find_if(c.kernels.begin(), c.kernels.end(), [](const auto& k) {
    return k.kernel == "attention_prefill";
  });
  if (long_it == c.kernels.end() || long_it->efficiency() <= 0) return {};
  const double l2 = c.caches.l2_bytes_per_core;
  PrefillProbe lng(E::kAttentionComputeTokens, l2);
  // 32 heads of 128 (Q, K, V, O: 4 MiB, beyond the L2) and as many heads of 64 as fill 3/4 of it
  // (12 of 1 MiB): at a short prompt where the operands are sets the rate (HardwareSpec::
  // Efficiency). Many heads, not few: each call also pays a fixed part (dispatch, scratch), which
  // 4 heads of 128 (512 KiB) did not amortize (53-55 GFLOP/s against 66-69 for 14 heads of 64,
  // kernels bench, 1 thread); head_dim itself does not change the rate (38-40 GFLOP/s at 32
  // heads of 64 or 128).
  const int64_t e = E::kAttentionShortTokens;
  const auto onchip_heads = static_cast<int64_t>(
      std::max(1.0, 0.75 * (l2 > 0 ? l2 : 1 << 20) / (4.0 * double(e) * 64 * 4)));
  PrefillProbe shrt(e, l2);
  PrefillProbe onchip(e, l2, onchip_heads, 64);
  return {paired_with_long("attention_prefill_short", shrt, lng, *long_it, pool, quick, policy),
          paired_with_long("attention_prefill_short_onchip", onchip, lng, *long_it, pool, quick,
                           policy)};
}

}  // namespace llmroof::calibrate
