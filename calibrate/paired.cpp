#include "calibrate/paired.hpp"

#include <algorithm>

namespace llmroof::calibrate {

std::vector<Pair> pairs_of(const PairedSamples& s, double kernel_work, double reference_work) {
  const size_t n = s.kernel_s.size();
  if (n == 0 || s.reference_s.size() != n + 1 || !(kernel_work > 0) || !(reference_work > 0))
    return {};
  for (double t : s.kernel_s)
    if (!(t > 0)) return {};
  for (double t : s.reference_s)
    if (!(t > 0)) return {};
  std::vector<Pair> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double ref_s = 0.5 * (s.reference_s[i] + s.reference_s[i + 1]);
    out[i].reference_per_s = reference_work / ref_s;
    out[i].ratio = (kernel_work / s.kernel_s[i]) / out[i].reference_per_s;
  }
  return out;
}

int undisturbed_pairs(const std::vector<Pair>& pairs, double reference_figure_per_s,
                      double tolerance) {
  int n = 0;
  for (const Pair& p : pairs) n += p.reference_per_s >= (1 - tolerance) * reference_figure_per_s;
  return n;
}

PairedRatio paired_ratio(const std::vector<Pair>& pairs, double reference_figure_per_s,
                         double tolerance, RatioQuantile quantile) {
  PairedRatio r;
  r.pairs = static_cast<int>(pairs.size());
  std::vector<double> kept, all;
  for (const Pair& p : pairs) {
    all.push_back(p.ratio);
    if (p.reference_per_s >= (1 - tolerance) * reference_figure_per_s) kept.push_back(p.ratio);
  }
  if (static_cast<int>(kept.size()) < kMinUndisturbedPairs || reference_figure_per_s <= 0)
    kept = std::move(all);
  if (kept.empty()) return r;
  r.used = static_cast<int>(kept.size());
  const TimingStats q = stats_of(std::move(kept));  // quantiles of the ratios (not of times)
  static_assert(kRatioQuantile == 0.75, "stats_of gives the quartiles");
  r.ratio = quantile == RatioQuantile::median ? q.median_s : q.p75_s;
  r.spread = q.spread();
  return r;
}

double rate_statistic(std::vector<double> rates_per_s, Statistic stat) {
  if (rates_per_s.empty()) return 0;
  // stats_of's quantiles (linear interpolation) serve for rates as for times.
  if (stat == Statistic::median) return stats_of(std::move(rates_per_s)).median_s;
  // 90th percentile of the rates = 10th percentile of the negated rates.
  for (double& r : rates_per_s) r = -r;
  return -stats_of(std::move(rates_per_s)).p10_s;
}

PairedSamples sample_paired(const std::function<void()>& kernel,
                            const std::function<void()>& reference, const PairedPlan& plan) {
  for (int i = 0; i < plan.warmup; ++i) {
    reference();
    kernel();
  }
  PairedSamples s;
  const auto timed = [&](const std::function<void()>& fn) {
    const double t0 = clock_s(plan.clock);
    fn();
    return clock_s(plan.clock) - t0;
  };
  const double start = clock_s(plan.clock);
  s.reference_s.push_back(timed(reference));
  while (static_cast<int>(s.kernel_s.size()) < std::max(1, plan.max_pairs)) {
    s.kernel_s.push_back(timed(kernel));
    s.reference_s.push_back(timed(reference));
    if (static_cast<int>(s.kernel_s.size()) >= plan.min_pairs &&
        clock_s(plan.clock) - start >= plan.min_total_s)
      break;
  }
  return s;
}

}  // namespace llmroof::calibrate
