#pragma once
// Robust timing for calibrate and validate: repeat, take the median, and keep the quartiles so the
// noise is visible. Samples are wall-clock (steady_clock) because every kernel here is multi-threaded.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace llmroof::calibrate {

// Which statistic of the samples stands for "the time". The median is the default. On a machine
// shared with other work, other processes only ever slow a sample down, so the fast tail (the 10th
// percentile) is what the device itself does: `--stat p10` (docs/calibrate.md, "Noise").
enum class Statistic { median, p10 };
std::string_view to_string(Statistic s);
std::optional<Statistic> statistic_from_string(std::string_view s);

// Which clock times a sample. Wall clock by default (the kernels are multi-threaded). With one
// thread, `thread_cpu` counts only the time this thread was on a core: on a machine shared with
// other work, time spent descheduled no longer counts (memory stalls still do).
enum class Clock { wall, thread_cpu };
std::string_view to_string(Clock c);
std::optional<Clock> clock_from_string(std::string_view s);
double clock_s(Clock c);

// Times back-to-back intervals, one op each (validate's per-op times, calibrate's small-op probe).
// By the wall clock (vDSO: ~25 ns, no kernel entry), minus the clock's own median overhead. With
// Clock::thread_cpu it also counts this thread's context switches and reads its CPU time, both
// OUTSIDE the wall-timed interval, and an interval during which the thread was switched out takes
// its thread CPU time instead when it is long (> 1 ms), and is dropped when it is short:
// descheduled time still does not count, as the CPU-time clock intends, without that clock's flaw
// at the microsecond scale. Reading thread CPU time is a system
// call whose kernel path is cold after an op that streamed the caches full of weights; inside the
// interval it added ~3 us to the op after each GEMV on the development host (attn_add 6.4 us by
// thread CPU time, 3.3 us by the wall clock, 1 thread). (Dropping switched intervals instead lost
// every sample of 220 ms prefill GEMMs, which nearly always see one.)
class LapTimer {
 public:
  explicit LapTimer(Clock clock);
  void restart();  // begin an interval now (discarding any open one)
  // Ends the open interval and begins the next; the interval's time in seconds, or a negative
  // value for a short interval that was switched out (thread_cpu only): drop it.
  double lap();
  static constexpr double kCpuTimeMinInterval_s = 1e-3;

 private:
  bool cpu_fallback_;
  double overhead_s_ = 0;
  double t0_ = 0, cpu0_ = 0;
  long switches0_ = 0;
};

struct TimingPolicy {
  Statistic stat = Statistic::median;
  Clock clock = Clock::wall;
  std::string describe() const;  // "median, wall clock"
};

struct TimingStats {
  double median_s = 0;
  double p10_s = 0;
  double p25_s = 0;
  double p75_s = 0;
  int samples = 0;
  std::vector<double> sorted_s;  // the samples themselves, ascending (pooled by calibrate)
  // (p75 - p25) / median: a relative spread; validate marks an op mistrusted when it is large.
  double spread() const { return median_s > 0 ? (p75_s - p25_s) / median_s : 0; }
  double value(Statistic s) const { return s == Statistic::p10 ? p10_s : median_s; }
};

inline double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

TimingStats stats_of(std::vector<double> samples_s);

// Calls fn() `warmup` times, then takes samples until both `min_samples` samples and `min_total_s`
// seconds are reached (or `max_samples`). Each sample times `inner` back-to-back calls and divides,
// so sub-microsecond ops are timed over a measurable interval.
struct TimingPlan {
  int warmup = 1;
  int min_samples = 5;
  int max_samples = 200;
  double min_total_s = 0.05;
  int inner = 1;
  Clock clock = Clock::wall;
};
TimingStats time_it(const std::function<void()>& fn, const TimingPlan& plan);

}  // namespace llmroof::calibrate
