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
// in pairs with the long one, and its efficiency is the long probe's x the ratio of their rates.
#include <algorithm>
#include <string>
#include <vector>

#include "calibrate/calibrate.hpp"
#include "calibrate/prefill_probe.hpp"
#include "calibrate/timing.hpp"

namespace llmroof::calibrate {

KernelEfficiency measure_short_attention_prefill(kernels::ThreadPool& pool, const Calibration& c,
                                                 bool quick, const TimingPolicy& policy) {
  using E = HardwareSpec::Efficiency;
  PrefillProbe lng(E::kAttentionComputeTokens, c.caches.l2_bytes_per_core);
  PrefillProbe shrt(E::kAttentionShortTokens, c.caches.l2_bytes_per_core);
  KernelEfficiency e{"attention_prefill_short", shrt.shape(), false};
  // Relative to the long probe, whose efficiency calibrate has just measured against the peak.
  const auto long_it = std::find_if(c.kernels.begin(), c.kernels.end(), [](const auto& k) {
    return k.kernel == "attention_prefill";
  });
  if (long_it == c.kernels.end() || long_it->efficiency() <= 0) return e;
  // Short and long calls alternate, several short calls a sample (~0.5 ms each on the development
  // host), and the median over pairs of the two rates' ratio is kept: a disturbance that slows
  // both sides of a pair cancels, as in calibrate's paired measurements.
  const int calls = std::max(1, static_cast<int>(lng.ops / shrt.ops / 4));
  const int pairs = quick ? 5 : 15;
  lng.run(pool);
  shrt.run(pool);
  std::vector<double> ratio;
  for (int i = 0; i < pairs; ++i) {
    const double t0 = clock_s(policy.clock);
    lng.run(pool);
    const double t1 = clock_s(policy.clock);
    for (int j = 0; j < calls; ++j) shrt.run(pool);
    const double t2 = clock_s(policy.clock);
    if (t1 > t0 && t2 > t1) ratio.push_back((shrt.ops * calls / (t2 - t1)) / (lng.ops / (t1 - t0)));
  }
  if (ratio.empty()) return e;
  const TimingStats st = stats_of(ratio);  // statistics of ratios, not times: the median
  e.limit_per_s = long_it->limit_per_s;
  e.achieved_per_s = long_it->achieved_per_s * st.median_s;
  e.paired_ratio = st.median_s;
  e.ratio_spread = st.spread();
  return e;
}

}  // namespace llmroof::calibrate
