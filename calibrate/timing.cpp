#include "calibrate/timing.hpp"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <string>

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

std::string_view to_string(Clock c) { return c == Clock::thread_cpu ? "cpu" : "wall"; }

std::optional<Clock> clock_from_string(std::string_view s) {
  if (s == "wall") return Clock::wall;
  if (s == "cpu") return Clock::thread_cpu;
  return std::nullopt;
}

double clock_s(Clock c) {
  if (c == Clock::wall) return now_s();
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

namespace {
long context_switches() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_nvcsw + u.ru_nivcsw;
}
}  // namespace

LapTimer::LapTimer(Clock clock) : cpu_fallback_(clock == Clock::thread_cpu) {
  std::vector<double> empty(201);
  for (auto& e : empty) {
    const double t0 = now_s();
    e = now_s() - t0;
  }
  overhead_s_ = stats_of(empty).median_s;
  restart();
}

void LapTimer::restart() {
  if (cpu_fallback_) {
    cpu0_ = clock_s(Clock::thread_cpu);
    switches0_ = context_switches();
  }
  t0_ = now_s();  // last: the system calls above are not in the interval
}

double LapTimer::lap() {
  const double t1 = now_s();
  double dt = std::max(0.0, t1 - t0_ - overhead_s_);
  if (cpu_fallback_ && context_switches() != switches0_) {
    // Switched out: a long interval takes its CPU time (the clock reads' own ~µs vanish in it);
    // a short one is dropped, since its CPU time would be mostly those cold system calls.
    dt = dt > kCpuTimeMinInterval_s ? std::max(0.0, clock_s(Clock::thread_cpu) - cpu0_) : -1.0;
  }
  restart();
  return dt;
}

std::string TimingPolicy::describe() const {
  return std::string(to_string(stat)) + " of repetitions, " +
         (clock == Clock::wall ? "wall clock" : "thread CPU time");
}

TimingStats stats_of(std::vector<double> s) {
  std::sort(s.begin(), s.end());
  TimingStats t;
  t.samples = static_cast<int>(s.size());
  t.median_s = quantile(s, 0.5);
  t.p10_s = quantile(s, 0.1);
  t.p25_s = quantile(s, 0.25);
  t.p75_s = quantile(s, 0.75);
  t.sorted_s = std::move(s);
  return t;
}

TimingStats time_it(const std::function<void()>& fn, const TimingPlan& plan) {
  for (int i = 0; i < plan.warmup; ++i) fn();
  std::vector<double> samples;
  const double start = clock_s(plan.clock);
  const int inner = std::max(1, plan.inner);
  while (static_cast<int>(samples.size()) < plan.max_samples) {
    const double t0 = clock_s(plan.clock);
    for (int i = 0; i < inner; ++i) fn();
    const double t1 = clock_s(plan.clock);
    samples.push_back((t1 - t0) / inner);
    if (static_cast<int>(samples.size()) >= plan.min_samples && t1 - start >= plan.min_total_s)
      break;
  }
  return stats_of(std::move(samples));
}

}  // namespace llmroof::calibrate
