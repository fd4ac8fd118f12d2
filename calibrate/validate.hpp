#pragma once
// `llmroof validate`: build real decoder blocks of a model with random weights in the requested
// formats, run prefill and decode through the CPU kernels, and put the analyzer's prediction (with
// the given, usually calibrated, hardware) beside the measurement, op by op and end to end.
// Two modes:
//  - layers (default): `layers` blocks (chosen to fit a memory budget), op times measured inside
//    forward passes over all built blocks, totals extrapolated to the model's depth with the
//    analyzer's own row counts, plus embedding / final_norm / lm_head measured once;
//  - full: every block and the model-level ops, a real prefill and gen_len - 1 greedy decode steps
//    over a growing KV cache, timed as a whole (TTFT, TPOT, tokens/s) and per op.
// docs/validate.md explains the choices.
#include <functional>
#include <string>
#include <string_view>

#include "analyzer/analysis.hpp"
#include "analyzer/hardware_spec.hpp"
#include "analyzer/model_spec.hpp"
#include "analyzer/settings.hpp"
#include "calibrate/timing.hpp"
#include "calibrate/validation.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::calibrate {

struct ValidateOptions {
  int64_t layers = 0;      // blocks to build; 0 = as many as fit the budget (at most 8)
  bool full = false;       // the whole model, real generation
  int prefill_reps = 0;    // 0 = automatic
  int decode_reps = 0;     // 0 = automatic
  double memory_budget_bytes = 6.0 * (1ull << 30);
  double mistrust_spread = 0.5;  // (p75 - p25) / median above this marks an op mistrusted
  TimingPolicy policy;  // statistic of each op's repetitions, and the clock
  // Read the DRAM bandwidth just before and after the timed passes (ValidationRun::device):
  // about 0.2 s and a 512 MiB buffer each time.
  bool check_device = true;
  std::string llmroof_version;
  std::function<void(std::string_view)> progress;
};

// The settings the CPU kernels can honour (activations fp32 unless W8A8, attention fused); each
// change is appended to `notes`. Throws InputError for formats the kernels lack (int4 KV, W4A8).
Settings cpu_kernel_settings(const Settings& requested, std::vector<std::string>& notes);

// "batch=1 prompt=512 gen=128 w=int8 a=fp32 kv=fp32 group=128 flash=on": identifies comparable
// runs for the regression gate.
std::string settings_summary(const Settings& s);

// Layers built by default: as many as fit `budget` (and at most 8 and the model's depth).
int64_t default_layer_count(const ModelSpec& m, const Settings& s, double budget_bytes);

ValidationRun run_validation(const ModelSpec& m, const HardwareSpec& hw, const Settings& requested,
                             const ValidateOptions& opt, kernels::ThreadPool& pool);

// Pairs measured op samples with the analyzer's rows (pure; unit-tested). Rows without samples are
// `unsupported`; samples without a row are kept with predicted 0 and `skipped`.
struct PhaseSamples {
  std::string phase;
  const std::vector<LayerRow>* rows = nullptr;
  std::vector<std::pair<std::string, std::vector<double>>> samples;
};
void append_op_results(const PhaseSamples& ps, double mistrust_spread, ValidationRun& run,
                       Statistic stat = Statistic::median);
// The device check's line on the decode attention probe (validate.cpp, attention_probe.hpp): the
// kernel alone between the decode passes (`probe_s`, seconds per call) beside the run's decode
// fused_attention row: measured / kernel alone and kernel alone / predicted, each flagged above
// 1.1. "" without probe samples or a measured row. Pure (unit-tested).
std::string attention_probe_note(const std::vector<double>& probe_s, const OpResult* row);

// Sum over ops of measured time x count (the analyzer's count: blocks for per-block rows).
double measured_phase_time(const ValidationRun& run, std::string_view phase);

}  // namespace llmroof::calibrate
