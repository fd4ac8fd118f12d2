// Sample statistics used by calibrate and validate (hand-derived quantiles, linear interpolation).
#include <doctest/doctest.h>

#include "calibrate/timing.hpp"

using namespace llmroof::calibrate;

TEST_CASE("quantiles interpolate between sorted samples") {
  // Samples 1..10 in shuffled order: position q*(n-1) in the sorted list.
  const auto t = stats_of({7, 3, 10, 1, 5, 9, 2, 8, 4, 6});
  CHECK(t.samples == 10);
  CHECK(t.median_s == doctest::Approx(5.5));   // 0.5*9 = 4.5 -> between 5 and 6
  CHECK(t.p10_s == doctest::Approx(1.9));      // 0.1*9 = 0.9 -> 1 + 0.9
  CHECK(t.p25_s == doctest::Approx(3.25));     // 0.25*9 = 2.25 -> 3 + 0.25
  CHECK(t.p75_s == doctest::Approx(7.75));     // 0.75*9 = 6.75 -> 7 + 0.75
  CHECK(t.spread() == doctest::Approx(4.5 / 5.5));
  CHECK(t.value(Statistic::p10) == doctest::Approx(1.9));
  CHECK(t.value(Statistic::median) == doctest::Approx(5.5));
  CHECK(stats_of({}).median_s == 0);
  CHECK(stats_of({2.5}).p10_s == 2.5);
}

TEST_CASE("statistic and clock names round trip") {
  for (auto s : {Statistic::median, Statistic::p10}) CHECK(statistic_from_string(to_string(s)) == s);
  for (auto c : {Clock::wall, Clock::thread_cpu}) CHECK(clock_from_string(to_string(c)) == c);
  CHECK_FALSE(statistic_from_string("mean").has_value());
  CHECK_FALSE(clock_from_string("tsc").has_value());
  CHECK(TimingPolicy{Statistic::p10, Clock::thread_cpu}.describe() ==
        "p10 of repetitions, thread CPU time");
}

TEST_CASE("time_it takes at least the planned samples and calls warm-up first") {
  int calls = 0;
  TimingPlan plan;
  plan.warmup = 2;
  plan.min_samples = 4;
  plan.min_total_s = 0;
  plan.inner = 3;
  const auto t = time_it([&] { ++calls; }, plan);
  CHECK(t.samples == 4);
  CHECK(calls == 2 + 4 * 3);
}

TEST_CASE("LapTimer: each lap times the interval since the previous one, on both policies") {
  for (Clock c : {Clock::wall, Clock::thread_cpu}) {
    LapTimer timer(c);
    volatile double sink = 0;
    for (int i = 0; i < 2000000; ++i) sink = sink + 1.0;  // some work (~ms), then a lap
    const double busy = timer.lap();
    const double empty = timer.lap();  // nothing between the two laps
    // A short interval that was switched out reads negative (dropped); a long one takes its CPU
    // time, so a busy lap longer than 1 ms always has a value.
    if (busy > LapTimer::kCpuTimeMinInterval_s) CHECK(busy < 10.0);
    if (busy >= 0 && empty >= 0) CHECK(busy > empty);
    CHECK(empty < 1e-3);
  }
}
