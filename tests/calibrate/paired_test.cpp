// Paired efficiency measurements (calibrate/paired.hpp) driven by injected sample times: no timing.
#include "calibrate/paired.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "calibrate/calibrate.hpp"

using namespace llmroof::calibrate;

namespace {

// n pairs of an undisturbed machine: reference 1 s for 10 units (10 /s), kernel 2 s for 10 units
// (5 /s): the kernel runs at half the reference's rate.
PairedSamples steady(int n) {
  PairedSamples s;
  s.reference_s.assign(static_cast<size_t>(n + 1), 1.0);
  s.kernel_s.assign(static_cast<size_t>(n), 2.0);
  return s;
}

}  // namespace

// The pairs' ratio over all of them (no figure to judge disturbance by).
double ratio_all(const PairedSamples& s, double kernel_work = 10, double reference_work = 10) {
  return paired_ratio(pairs_of(s, kernel_work, reference_work), 0).ratio;
}

TEST_CASE("pairs of an undisturbed run: kernel rate / reference rate") {
  const std::vector<Pair> p = pairs_of(steady(5), 10, 10);
  REQUIRE(p.size() == 5);
  CHECK(p[0].ratio == doctest::Approx(0.5));
  CHECK(p[0].reference_per_s == doctest::Approx(10.0));
  const PairedRatio r = paired_ratio(p, 10.0);
  CHECK(r.ratio == doctest::Approx(0.5));
  CHECK(r.spread == doctest::Approx(0.0));
  CHECK(r.used == 5);
  CHECK(r.pairs == 5);
  // Different work per side: kernel 20 units in 2 s (10 /s) against 10 units in 1 s (10 /s).
  CHECK(ratio_all(steady(5), 20, 10) == doctest::Approx(1.0));
}

TEST_CASE("a disturbance over the whole kernel measurement cancels in the pairs") {
  // Another process halves the memory bandwidth while the kernel is measured: both sides of every
  // pair take twice as long. Dividing the kernel's rate (2.5 /s) by a reference measured earlier,
  // on the quiet machine (10 /s), would read 0.25; the pairs still read 0.5. No pair is
  // undisturbed (reference 5 /s against its figure 10 /s), so all of them count.
  PairedSamples s = steady(7);
  for (double& t : s.reference_s) t *= 2;
  for (double& t : s.kernel_s) t *= 2;
  const PairedRatio r = paired_ratio(pairs_of(s, 10, 10), 10.0);
  CHECK(r.ratio == doctest::Approx(0.5));
  CHECK(r.used == 7);
}

TEST_CASE("a short disturbance is a minority of the pairs and the quantile drops it") {
  // 12 pairs; pairs 3..5 run at half speed on both sides (references 3..6 slowed), so pairs 2 and
  // 6 see one slow and one fast reference (ratio 0.75), and one kernel sample alone (pair 8) is
  // slowed 3x by something the reference did not see (ratio 1/6).
  PairedSamples s = steady(12);
  for (int i = 3; i <= 6; ++i) s.reference_s[static_cast<size_t>(i)] = 2.0;
  for (int i = 3; i <= 5; ++i) s.kernel_s[static_cast<size_t>(i)] = 4.0;
  s.kernel_s[8] = 6.0;
  // All pairs: 1/6, 0.5 x 9, 0.75 x 2: quartiles at positions 2.75, 5.5 and 8.25 of 0..11: 0.5.
  const PairedRatio all = paired_ratio(pairs_of(s, 10, 10), 0);
  CHECK(all.ratio == doctest::Approx(0.5));
  CHECK(all.used == 12);
  CHECK(all.spread == doctest::Approx(0.0));
  // Judged against the reference's figure (10 /s): pairs 2..6 ran their reference at 5-6.7 /s and
  // are set aside; pair 8's disturbance the reference did not see, so it stays: 1/6, 0.5 x 6.
  const std::vector<Pair> p = pairs_of(s, 10, 10);
  CHECK(undisturbed_pairs(p, 10.0) == 7);
  CHECK(undisturbed_pairs(p, 10.0, 0.5) == 12);  // 5 /s is within 50 %
  const PairedRatio quiet = paired_ratio(p, 10.0);
  CHECK(quiet.used == 7);
  CHECK(quiet.pairs == 12);
  CHECK(quiet.ratio == doctest::Approx(0.5));
}

TEST_CASE("a kernel that a disturbance slows less than the reference: disturbed pairs set aside") {
  // The reference loses half its rate for pairs 0..5 (references 0..5 at 2 s; pair 5 straddles),
  // the kernel only a quarter (2 s -> 2.67 s, pairs 0..4): those six pairs read 0.75 instead of
  // 0.5. Against the figure 10 /s (tolerance 10 %) pairs 6..11 are undisturbed.
  PairedSamples s = steady(12);
  for (int i = 0; i <= 5; ++i) s.reference_s[static_cast<size_t>(i)] = 2.0;
  for (int i = 0; i <= 4; ++i) s.kernel_s[static_cast<size_t>(i)] = 2.0 * 4 / 3;
  CHECK(ratio_all(s) == doctest::Approx(0.75));  // what pairing alone would give
  const PairedRatio r = paired_ratio(pairs_of(s, 10, 10), 10.0);
  CHECK(r.used == 6);
  CHECK(r.ratio == doctest::Approx(0.5));
  // With four quiet pairs (fewer than kMinUndisturbedPairs = 5), every pair counts again.
  for (int i = 0; i < 2; ++i) {
    s.kernel_s.pop_back();
    s.reference_s.pop_back();
  }
  CHECK(paired_ratio(pairs_of(s, 10, 10), 10.0).used == 10);
}

TEST_CASE("slowdowns the reference does not see: the upper quartile of the ratios") {
  // 8 quiet pairs, references all at their figure; pairs 1, 3 and 6 slowed 25 % by something
  // the reference loop did not feel (a neighbour in the kernel's cache). Ratios 0.5 x 5 and
  // 0.4 x 3: the median reads 0.5 only while fewer than half are slowed, the upper quartile
  // while fewer than three quarters are.
  PairedSamples s = steady(8);
  for (int i : {1, 3, 6}) s.kernel_s[static_cast<size_t>(i)] = 2.5;
  CHECK(paired_ratio(pairs_of(s, 10, 10), 10.0).ratio == doctest::Approx(0.5));
  for (int i : {0, 2}) s.kernel_s[static_cast<size_t>(i)] = 2.5;  // 5 of 8 slowed
  const PairedRatio r = paired_ratio(pairs_of(s, 10, 10), 10.0);
  CHECK(r.ratio == doctest::Approx(0.5));  // sorted 0.4 x 5, 0.5 x 3: position 5.25 -> 0.5
  CHECK(r.used == 8);
  // Quiet scatter: ratios 0.48, 0.49, 0.50, 0.51, 0.52 -> upper quartile 0.51 (position 3).
  PairedSamples q;
  q.reference_s.assign(6, 1.0);
  for (double k : {0.48, 0.49, 0.50, 0.51, 0.52}) q.kernel_s.push_back(1.0 / k);
  CHECK(paired_ratio(pairs_of(q, 1, 1), 1.0).ratio == doctest::Approx(0.51));
}

TEST_CASE("same kernel both sides (short_ops.cpp): the median ratio, disturbed pairs set aside") {
  // 9 pairs, a kernel sample doing 1 unit and a reference 10 (10 /s quiet): ratios 0.030 x 4 and
  // 0.032 x 3, then two pairs whose references ran 30 % slow (below 0.9 x the figure 10 /s: set
  // aside). Median of the 7 kept (0.030 x 4, 0.032 x 3): 0.030; upper quartile (position 4.5):
  // 0.032.
  PairedSamples s;
  s.reference_s.assign(10, 1.0);
  for (double k : {0.30, 0.32, 0.30, 0.32, 0.30, 0.32, 0.30}) s.kernel_s.push_back(1.0 / k);
  for (int i = 0; i < 2; ++i) s.kernel_s.push_back(1.0 / (0.5 * 0.7));
  s.reference_s[8] = s.reference_s[9] = 1.0 / 0.7;  // both references around the last 2 kernels
  const std::vector<Pair> pairs = pairs_of(s, 1, 10);
  const PairedRatio r = paired_ratio(pairs, 10.0, kUndisturbedTolerance, RatioQuantile::median);
  CHECK(r.used == 7);
  CHECK(r.ratio == doctest::Approx(0.030));
  CHECK(paired_ratio(pairs, 10.0).ratio == doctest::Approx(0.032));
}

TEST_CASE("a drift linear in time cancels: each kernel sample sits between two references") {
  // The machine slows steadily: reference i takes 1 + 0.1 i s, the kernel sample between
  // references i and i+1 takes 2 (1 + 0.1 (i + 0.5)) s: ratio exactly 0.5 in every pair.
  PairedSamples s;
  for (int i = 0; i <= 6; ++i) s.reference_s.push_back(1 + 0.1 * i);
  for (int i = 0; i < 6; ++i) s.kernel_s.push_back(2 * (1 + 0.1 * (i + 0.5)));
  const PairedRatio r = paired_ratio(pairs_of(s, 10, 10), 0);
  CHECK(r.ratio == doctest::Approx(0.5));
  CHECK(r.spread == doctest::Approx(0.0).epsilon(1e-12));
}

TEST_CASE("malformed samples give no pairs and no ratio") {
  PairedSamples s = steady(3);
  s.reference_s.pop_back();  // n references for n kernel samples
  CHECK(pairs_of(s, 10, 10).empty());
  CHECK(pairs_of(PairedSamples{}, 10, 10).empty());
  PairedSamples z = steady(3);
  z.kernel_s[1] = 0;
  CHECK(pairs_of(z, 10, 10).empty());
  CHECK(pairs_of(steady(3), 0, 10).empty());
  CHECK(pairs_of(steady(3), 10, 0).empty());
  const PairedRatio none = paired_ratio({}, 10.0);
  CHECK(none.ratio == 0);
  CHECK(none.used == 0);
}

TEST_CASE("rate statistic: the median, or the fast tail for p10") {
  CHECK(rate_statistic({5, 1, 3, 2, 4}, Statistic::median) == doctest::Approx(3));
  // Rates 1..10: the 90th percentile by linear interpolation at 0.9 x 9 = 8.1 -> 9 + 0.1.
  CHECK(rate_statistic({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Statistic::p10) == doctest::Approx(9.1));
  CHECK(rate_statistic({}, Statistic::median) == 0);
}

TEST_CASE("sample_paired alternates reference and kernel, references on both ends") {
  std::string calls;
  PairedPlan plan;
  plan.warmup = 1;
  plan.min_pairs = 3;
  plan.min_total_s = 0;
  const PairedSamples s = sample_paired([&] { calls += 'k'; }, [&] { calls += 'r'; }, plan);
  CHECK(calls == "rkrkrkrkr");  // warm-up pair "rk", then r k r k r k r
  CHECK(s.kernel_s.size() == 3);
  CHECK(s.reference_s.size() == 4);
  plan.max_pairs = 2;  // the cap wins over min_pairs
  CHECK(sample_paired([] {}, [] {}, plan).kernel_s.size() == 2);
}

TEST_CASE("memory-bound rates: pooled DRAM reads x each kernel's paired ratio") {
  Calibration c;
  BandwidthPoint dram;
  dram.level = "DRAM";
  dram.read_bytes_per_s = 30e9;  // the sweep alone (disturbed): its samples go into the pool
  dram.read_samples_bytes_per_s = {30e9, 30e9, 30e9};
  c.bandwidth.push_back(dram);
  // Three pairs each, references at 40 GB/s (undisturbed against the pooled 40 GB/s).
  const auto gemv = [](const char* name, double ratio) {
    KernelEfficiency k{name, "m=1", true};
    k.pair_samples.assign(3, Pair{ratio, 40e9});
    k.reference_samples_per_s.assign(4, 40e9);
    k.kernel_samples_per_s.assign(3, ratio * 40e9);
    return k;
  };
  KernelEfficiency gemm{"gemm_fp32", "m=512", false, 80e9, 100e9};  // compute-bound: untouched
  c.kernels = {gemv("gemm_fp32", 0.9), gemv("gemm_int8", 0.95), gemm};
  set_memory_bound_rates(c);
  // Pool of 11 samples, 8 of them at 40 GB/s: median 40 GB/s, not the sweep's 30.
  CHECK(c.dram_pooled_bytes_per_s == doctest::Approx(40e9));
  CHECK(c.dram_bytes_per_s == doctest::Approx(40e9));
  CHECK(c.kernels[0].achieved_per_s == doctest::Approx(36e9));
  CHECK(c.kernels[0].efficiency() == doctest::Approx(0.9));
  CHECK(c.kernels[0].pairs_used == 3);
  CHECK(c.kernels[0].measured_per_s == doctest::Approx(36e9));
  CHECK(c.kernels[1].efficiency() == doctest::Approx(0.95));
  CHECK(c.kernels[2].efficiency() == doctest::Approx(0.8));
  // A GEMV that out-reads the read loop (ratio 1.1) raises the spec's bandwidth to its rate, and
  // every memory-bound efficiency is then relative to that.
  c.kernels[1].pair_samples.assign(3, Pair{1.1, 40e9});
  set_memory_bound_rates(c);
  CHECK(c.dram_bytes_per_s == doctest::Approx(44e9));
  CHECK(c.kernels[1].efficiency() == doctest::Approx(1.0));
  CHECK(c.kernels[0].efficiency() == doctest::Approx(0.9 / 1.1));
}
