#pragma once
// `llmroof plan`: capacity planning under latency SLOs with a continuous-batching serving model.
// For each hardware it searches weight format × tensor parallelism × concurrency (batch), keeps the
// configurations that fit memory and meet both the TTFT and the TPOT SLO, ranks them by output
// tokens/s per device (or by devices needed for a request rate) and marks the Pareto set of
// throughput per device against TPOT. The serving model is documented in docs/planner.md:
//
//   B = concurrent requests (the steady-state decode batch), P = prompt, G = generated tokens.
//   t_pre  = prefill of ONE prompt of P tokens on an idle replica  (analysis at batch 1: TTFT)
//   t_dec  = one decode step of the whole batch, mean over the growing context
//            (analysis at batch B: TPOT; with requests at staggered positions the batch's KV
//            length averages the same as one request's over its generation)
//   a      = B / G new requests arrive per decode step (each request lives G steps)
//   Prefills run as separate iterations between decode steps (no chunked prefill):
//   TPOT   = t_dec + a · t_pre                 (every step also pays its share of prefills)
//   TTFT   = t_dec + ceil(a) · t_pre           (wait for the in-flight step, then the prefills
//                                               that arrived with it, run back to back)
//   output tokens/s per replica = B / TPOT;  requests/s per replica = B / (G · TPOT)
//   devices for rate R = ceil(R / requests/s per replica) · tp
//   memory: weights + KV cache of all B requests at P + G tokens + activations (the analyzer's
//   fit at batch B, conservative since staggered requests hold on average half the growth)
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reports/sweep.hpp"

namespace llmroof::reports {

struct PlanRequest {
  int64_t prompt_len = 2048;
  int64_t gen_len = 128;
  double ttft_slo_s = 0.5;
  double tpot_slo_s = 0.05;
  std::optional<double> rate_requests_per_s;
  std::vector<DType> weights{DType::fp16, DType::int8, DType::int4};
  std::vector<int64_t> tp{1, 2, 4, 8};
  std::vector<int64_t> batch;  // concurrency grid; empty: 1, 2, 4, ..., 1024
  bool refine = true;          // bisect between the largest feasible grid batch and the next one
  int64_t group_size = -1;     // <0: default_group_size() of each format
  Settings
      base;  // activations, KV format, flash attention, mode (batch/lengths/tp/weights set here)
};

// What limits a configuration that is not feasible. Checked in this order: tp_exceeds_node,
// refused, no_fit, ttft_slo, tpot_slo.
enum class PlanVerdict { feasible, refused, no_fit, ttft_slo, tpot_slo, tp_exceeds_node };
std::string_view to_string(PlanVerdict v);

struct PlanCandidate {
  int hardware = 0;
  Settings settings;  // settings.batch = concurrency B
  PlanVerdict verdict = PlanVerdict::refused;
  std::string error;                          // analyzer message when refused
  double prefill_s = 0;                       // t_pre: one prompt, idle replica
  double decode_step_s = 0;                   // t_dec: one step of the batch
  double ttft_s = 0;                          // under continuous batching (formula above)
  double tpot_s = 0;                          // under continuous batching
  double output_tokens_per_s = 0;             // per replica (tp devices)
  double output_tokens_per_s_per_device = 0;  // ranking key
  double requests_per_s = 0;                  // per replica
  int64_t devices_for_rate = 0;               // 0 when no rate was given
  double memory_per_device_bytes = 0;
  double capacity_bytes = 0;
  bool pareto = false;  // on the throughput-per-device vs TPOT frontier of its hardware
  int rank = 0;         // 1 = best feasible of its hardware; 0 = not feasible
};

struct PlanResult {
  std::string model_name;
  std::vector<HardwareSpec> hardware;
  PlanRequest request;
  std::vector<PlanCandidate> candidates;  // every evaluated configuration, fixed order
  // Per hardware: indices into candidates of the Pareto set, best rank first.
  std::vector<std::vector<size_t>> pareto;
};

// The continuous-batching formulas on their own (tested by hand-derived numbers).
struct ServingEstimate {
  double ttft_s, tpot_s, output_tokens_per_s, requests_per_s;
};
ServingEstimate continuous_batching(double prefill_s, double decode_step_s, int64_t batch,
                                    int64_t gen_len);

PlanResult plan(const ModelSpec& model, std::vector<HardwareSpec> hardware,
                const PlanRequest& request, const AnalyzeFn& analyze,
                const SweepOptions& options = {});

// Marks `pareto` and `rank` on the candidates and fills result.pareto (exposed for tests).
void rank_candidates(PlanResult& result);

}  // namespace llmroof::reports
