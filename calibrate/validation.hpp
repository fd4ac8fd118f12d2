#pragma once
// The result of `llmroof validate`: per op, the analyzer's predicted time beside the time measured by
// running the same op with the CPU kernels, and end-to-end TTFT / TPOT / tokens/s. Plain values, SI
// units. JSON (de)serialisation with a schema_version lives in validation_json.hpp, printers in
// validation_report.hpp, the regression gate in gate.hpp. Documented in docs/validate.md.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmroof::calibrate {

// Why a validation case ended as it did (failure and "why" are data, STYLE.md §3).
//  passed      measured and, when gated, within tolerance of the baseline
//  failed      gated and drifted beyond tolerance (or missing from the run)
//  skipped     not measured in this run (e.g. absent from the baseline, or not asked for)
//  unsupported the CPU lacks what the kernel needs, or no kernel implements the op
//  mistrusted  measured, but the number is not trustworthy (non-finite output, too noisy)
enum class Disposition { passed, failed, skipped, unsupported, mistrusted };
std::string_view to_string(Disposition d);
std::optional<Disposition> disposition_from_string(std::string_view s);

struct OpResult {
  std::string phase;  // "prefill" or "decode" (analyzer's to_string(Phase))
  std::string name;   // the analyzer's LayerRow name: q_proj, qk_matmul, attn_norm, ...
  int64_t count = 1;  // occurrences per model (number of blocks for per-block rows)
  double predicted_s = 0;  // per occurrence
  double measured_s = 0;   // per occurrence, median of repetitions
  double spread = 0;       // (p75 - p25) / median of the repetitions: the noise seen
  Disposition disposition = Disposition::passed;
  std::string detail;  // why skipped / unsupported / mistrusted / failed
  // measured / predicted; 0 when either side is missing.
  double ratio() const { return predicted_s > 0 && measured_s > 0 ? measured_s / predicted_s : 0; }
};

struct EndToEnd {
  double ttft_s = 0;
  double tpot_s = 0;
  double output_tokens_per_s = 0;
};

// The device's DRAM read bandwidth while the run measured, beside the figure the prediction used.
// On a machine shared with other work it drifts by more than the model's error, and every
// memory-bound ratio drifts with it: validate reports it so a reader (and the gate) can tell the
// machine's state from the model's error. Read with calibrate's loop (microbench.hpp).
struct DeviceState {
  double spec_bandwidth_bytes_per_s = 0;  // the hardware file's memory bandwidth
  double read_before_bytes_per_s = 0;     // measured just before the timed passes
  double read_after_bytes_per_s = 0;      // and just after them
  bool measured() const { return read_before_bytes_per_s > 0 && read_after_bytes_per_s > 0; }
  double read_mean_bytes_per_s() const {
    return 0.5 * (read_before_bytes_per_s + read_after_bytes_per_s);
  }
  // mean(before, after) / spec - 1; 0 when either side is missing.
  double drift() const {
    return measured() && spec_bandwidth_bytes_per_s > 0
               ? read_mean_bytes_per_s() / spec_bandwidth_bytes_per_s - 1
               : 0;
  }
};

struct ValidationRun {
  std::string llmroof_version;
  std::string model;
  std::string hardware;  // name of the hardware spec the prediction used
  std::string cpu;       // CPU brand string of the machine that measured
  std::string settings;  // one-line summary ("batch=1 prompt=512 gen=128 w=int8 a=fp32 kv=fp32")
  int64_t layers_run = 0;     // decoder blocks actually built and timed
  int64_t layers_total = 0;   // the model's depth; extrapolated when layers_run < layers_total
  int64_t decode_context = 0; // KV length the decode ops were run at
  bool full_model = false;    // --full: embedding, all blocks, lm_head, real generation
  std::vector<OpResult> ops;
  std::vector<std::string> notes;  // what was assumed or overridden (printed, saved, not gated)
  EndToEnd predicted;
  EndToEnd measured;
  DeviceState device;

  bool extrapolated() const { return !full_model && layers_run < layers_total; }
  const OpResult* find(std::string_view phase, std::string_view name) const;
};

// Median of |measured/predicted - 1| over the ops that were measured (passed or failed).
double median_abs_error(const ValidationRun& run);

}  // namespace llmroof::calibrate
