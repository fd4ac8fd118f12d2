#pragma once
// The CI regression gate: compare a validation run with a saved baseline. What is compared is the
// model's error, measured/predicted, not raw time: a faster or slower machine moves both sides, while
// a regression in a kernel (or in the analyzer) moves the ratio. An op trips the gate when
//   |ratio_now / ratio_baseline - 1| > tolerance,
// and so does end-to-end output tokens/s (and TTFT, TPOT) under the same rule. Pure logic: tests drive
// it with injected numbers, never with timings.
#include <string>
#include <vector>

#include "calibrate/validation.hpp"

namespace llmroof::calibrate {

struct GateEntry {
  std::string phase;  // "prefill", "decode", or "end_to_end"
  std::string name;   // op name, or ttft / tpot / output_tokens_per_s
  double baseline_ratio = 0;
  double current_ratio = 0;
  double drift = 0;  // current_ratio / baseline_ratio - 1 (for times > 0 means slower than the
                     // baseline relative to the prediction; for tokens/s < 0 means slower)
  Disposition disposition = Disposition::passed;
  std::string detail;
};

struct GateReport {
  double tolerance = 0;
  std::vector<GateEntry> entries;
  // The DRAM read bandwidth measured during this run / during the baseline's run - 1 (0 when
  // either run lacks the check). Not gated: printed so a trip on a busy machine can be told from a
  // regression (memory-bound ratios move with it).
  double device_bandwidth_change = 0;
  bool tripped() const;
  int failures() const;
};

// Throws InputError unless a run of `model` with `settings` (settings_summary) can be compared with
// `base`; the CLI calls it before measuring so a wrong baseline fails fast.
void check_comparable(const std::string& model, const std::string& settings,
                      const ValidationRun& base);

// Throws InputError when the two runs are not comparable (different model or settings).
// Ops whose measured time is below `min_time_s` in both runs are skipped: at a few microseconds the
// ratio is timer and scheduling noise, not the kernel.
GateReport compare_with_baseline(const ValidationRun& current, const ValidationRun& baseline,
                                 double tolerance, double min_time_s = 0);

// One line per failed entry ("FAILED decode/q_proj: ratio 1.32 vs baseline 1.05 (+25.7 %, tolerance
// 15.0 %)") and a summary line.
std::string format_gate_report(const GateReport& r);

}  // namespace llmroof::calibrate
