#pragma once
// Paired measurement of a kernel against a reference loop (docs/calibrate.md, "Paired ratios").
//
// A kernel's efficiency is its rate over the device's limit. Measured at different moments (the
// limit first, the kernel a few seconds later), the two see different machines whenever other work
// comes and goes: on the shared development host a GEMV efficiency read 0.73 in one calibration
// and 0.92-1.00 in others, only because the GEMV ran while another process streamed memory. Here
// reference and kernel samples alternate -- r0 k1 r1 k2 r2 ... kn rn -- and each kernel sample is
// divided by the reference around it, so a disturbance that slows both sides cancels in the ratio,
// and a quantile over pairs drops the pairs a change of state fell between. A disturbance does not
// slow every kernel as much as it slows the reference, though (a 60 %-of-bandwidth attention kernel
// lost a third less than the read loop beside it did, and read 0.78 instead of 0.60), so the
// reference also serves as a detector: pairs whose reference ran well below its calibrated figure
// are set aside while enough others remain.
#include <functional>
#include <vector>

#include "calibrate/timing.hpp"

namespace llmroof::calibrate {

struct PairedSamples {
  std::vector<double> kernel_s;  // n kernel sample times
  // n + 1 reference times: [i] just before kernel_s[i], [i + 1] just after it.
  std::vector<double> reference_s;
};

// One pair: the kernel's rate over the reference's, and the reference's rate around it (the mean
// of the two reference times around the kernel sample: a drift linear in time cancels).
struct Pair {
  double ratio = 0;
  double reference_per_s = 0;
};

// Pure arithmetic over recorded samples (unit-tested with injected times). Empty when malformed
// (reference_s.size() != kernel_s.size() + 1, or a non-positive time or work).
std::vector<Pair> pairs_of(const PairedSamples& s, double kernel_work, double reference_work);

// A pair is undisturbed when its reference ran at >= (1 - tolerance) x the reference's calibrated
// figure (the pooled DRAM read, the peak): the reference doubles as a detector of the machine's
// state. Quiet, the reference varies by 2-5 % on the development host; disturbed, by 10-45 %.
inline constexpr double kUndisturbedTolerance = 0.10;
// Fewer undisturbed pairs than this: the machine was disturbed throughout, and every pair counts
// (the pairing still cancels what slowed both sides).
inline constexpr int kMinUndisturbedPairs = 5;
// A memory-bound kernel is sampled, up to 3x its planned time, until this many of its pairs are
// undisturbed: in one calibration a bf16 GEMV measured in a busy minute had 4 quiet pairs of 19,
// and their upper quartile read 0.74 (0.93-1.00 in quiet runs).
inline constexpr int kWantedUndisturbedPairs = 12;

// How many pairs ran their reference at >= (1 - tolerance) x reference_figure_per_s.
int undisturbed_pairs(const std::vector<Pair>& pairs, double reference_figure_per_s,
                      double tolerance = kUndisturbedTolerance);

// Among those pairs, the efficiency is the upper quartile of the ratios, not the median: other work
// only ever slows a kernel down, and some of it the reference does not see (a neighbour evicting
// the kernel's tiles from a shared cache slows an attention kernel or a GEMM, not the FMA loop,
// which keeps its operands in registers, nor the read loop, which streams). On the development host
// a stretch of such pairs read 0.39-0.45 among 0.55-0.61 (fp32 decode attention, reference within
// 5 % of its figure) and 0.42-0.45 among 0.47-0.49 (prefill attention). Quiet, the ratios scatter
// by 2-4 % (inter-quartile), so the upper quartile reads ~1 % above their median.
inline constexpr double kRatioQuantile = 0.75;

struct PairedRatio {
  double ratio = 0;   // upper quartile (kRatioQuantile), or median, of the chosen pairs' ratios
  double spread = 0;  // (p75 - p25) / median of those ratios
  int used = 0;       // pairs chosen (the undisturbed ones, or all)
  int pairs = 0;      // pairs recorded
};

// Which quantile of the chosen pairs' ratios is kept: the upper quartile (above) for a kernel
// against a reference loop that a disturbance slows differently; the median where kernel and
// reference are the same kernel at two shapes (short_ops.cpp), which a neighbour's cache
// eviction slows alike, so the ratios scatter symmetrically about the undisturbed one.
enum class RatioQuantile { upper_quartile, median };

// The kernel's efficiency against its reference: the upper quartile (or median) of the ratios of
// the undisturbed pairs (every pair when reference_figure_per_s <= 0 or too few are undisturbed).
PairedRatio paired_ratio(const std::vector<Pair>& pairs, double reference_figure_per_s,
                         double tolerance = kUndisturbedTolerance,
                         RatioQuantile quantile = RatioQuantile::upper_quartile);

// The statistic of a set of rates (work / time, not all with the same work) that stands for the
// device: the median, or with Statistic::p10 the 90th percentile -- the fast tail, as p10 of times.
double rate_statistic(std::vector<double> rates_per_s, Statistic stat);

struct PairedPlan {
  int warmup = 1;  // calls of each side before sampling
  int min_pairs = 5;
  int max_pairs = 200;
  double min_total_s = 0.5;  // both sides together, by `clock`
  Clock clock = Clock::wall;
};

// Runs warm-ups, then reference, kernel, reference, kernel, ..., reference, each timed by the
// plan's clock, until min_pairs and min_total_s (or max_pairs) are reached.
PairedSamples sample_paired(const std::function<void()>& kernel,
                            const std::function<void()>& reference, const PairedPlan& plan);

}  // namespace llmroof::calibrate
