#include "calibrate/timing.hpp"

#include <algorithm>

namespace llmroof::calibrate {

namespace {
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < sorted.size() ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}
}  // namespace

std::string_view to_string(Statistic s) { return s == Statistic::p10 ? "p10" : "median"; }

std::optional<Statistic> statistic_from_string(std::string_view s) {
  if (s == "median") return Statistic::median;
  if (s == "p10") return Statistic::p10;
  return std::nullopt;
}

TimingStats stats_of(std::vector<double> s) {
  std::sort(s.begin(), s.end());
  TimingStats t;
  t.samples = static_cast<int>(s.size());
  t.median_s = quantile(s, 0.5);
  t.p10_s = quantile(s, 0.1);
  t.p25_s = quantile(s, 0.25);
  t.p75_s = quantile(s, 0.75);
  return t;
}

TimingStats time_it(const std::function<void()>& fn, const TimingPlan& plan) {
  for (int i = 0; i < plan.warmup; ++i) fn();
  std::vector<double> samples;
  const double start = now_s();
  const int inner = std::max(1, plan.inner);
  while (static_cast<int>(samples.size()) < plan.max_samples) {
    const double t0 = now_s();
    for (int i = 0; i < inner; ++i) fn();
    samples.push_back((now_s() - t0) / inner);
    if (static_cast<int>(samples.size()) >= plan.min_samples && now_s() - start >= plan.min_total_s)
      break;
  }
  return stats_of(std::move(samples));
}

}  // namespace llmroof::calibrate
