#pragma once
// `llmroof sweep`: every combination of hardware × weight format × tensor parallelism × prompt
// length × generation length × batch, analyzed in parallel, one row each. Rows come out in a fixed
// order (hardware outermost, batch innermost) whatever the thread count.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "analyzer/analysis.hpp"
#include "analyzer/hardware_spec.hpp"
#include "analyzer/model_spec.hpp"
#include "analyzer/settings.hpp"

namespace llmroof::reports {

class Progress;

// The analyzer as a value, so sweeps and plans can be tested against a hand-made function.
using AnalyzeFn = std::function<Analysis(const ModelSpec&, const HardwareSpec&, const Settings&)>;

struct SweepAxes {
  std::vector<DType> weights{DType::fp16};
  std::vector<int64_t> tp{1};
  std::vector<int64_t> prompt_len{2048};
  std::vector<int64_t> gen_len{128};
  std::vector<int64_t> batch{1};
};

// Weight group size used when the user gave none: 128 for int4 (the common GPTQ/AWQ choice),
// per-channel (0) for int8 and fp8, irrelevant (0) for 16-bit weights.
int64_t default_group_size(DType weights);

// One configuration's headline numbers. SI units; per device where it says so.
struct SweepRow {
  int hardware = 0;  // index into SweepResult::hardware
  Settings settings;
  bool ok = false;    // false: the analyzer refused this configuration (see error)
  std::string error;  // the AnalysisError / InputError message when !ok
  double ttft_s = 0;
  double tpot_s = 0;
  double e2e_latency_s = 0;
  double output_tokens_per_s = 0;             // whole TP group
  double output_tokens_per_s_per_device = 0;  // divided by tp
  double memory_per_device_bytes = 0;
  double capacity_bytes = 0;
  bool fits = false;
  int64_t max_batch = 0;
};

struct SweepResult {
  std::string model_name;
  std::vector<HardwareSpec> hardware;
  Settings base;  // the settings every row starts from (activations, KV format, mode, ...)
  SweepAxes axes;
  std::vector<SweepRow> rows;
};

struct SweepOptions {
  int threads = 0;  // <= 0: all cores
  // Group size for quantized weights; <0: default_group_size() of each format.
  int64_t group_size = -1;
  Progress* progress = nullptr;
};

// Number of rows; throws InputError when the grid is empty or larger than kMaxSweepRows.
inline constexpr int64_t kMaxSweepRows = 10'000'000;
int64_t sweep_size(const SweepAxes& axes, size_t num_hardware);
// The settings of row `index` (mixed-radix decode of the row number) and its hardware index.
Settings sweep_settings(const Settings& base, const SweepAxes& axes, int64_t group_size,
                        size_t num_hardware, int64_t index, int* hardware_index);
// Fills a row from an analysis (shared with the planner).
SweepRow summarize(const Analysis& a, int hardware_index, const Settings& s);

SweepResult run_sweep(const ModelSpec& model, std::vector<HardwareSpec> hardware,
                      const SweepAxes& axes, const Settings& base, const AnalyzeFn& analyze,
                      const SweepOptions& options = {});

}  // namespace llmroof::reports
