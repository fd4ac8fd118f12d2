#pragma once
// A closed-form stand-in for analyze() so sweep and planner tests have hand-derivable numbers, and
// small hand-made Analysis / HardwareSpec values for the printers.
#include <cmath>

#include "analyzer/analyzer.hpp"
#include "tests/analyzer/fixtures.hpp"

namespace llmroof::testing {

// ttft(batch 1) = prompt * 1e-4 s / tp, scaled by batch
// tpot          = (0.02 s * wbits/16 + 0.001 s * batch) / tp
// memory        = (20e9 B * wbits/16 + 1e9 B * batch) / tp, capacity from the hardware
// tp == 3 is refused (AnalysisError), as a real analyzer refuses tp not dividing the heads.
inline Analysis fake_analyze(const ModelSpec& m, const HardwareSpec& hw, const Settings& s) {
  if (s.tp == 3) throw AnalysisError("tp 3 does not divide 32 attention heads");
  const double bits = dtype_bits(s.quant.weights);
  const double tp = static_cast<double>(s.tp);
  Analysis a;
  a.model_name = m.name;
  a.hardware_name = hw.name;
  a.settings = s;
  a.totals.ttft_s = s.prompt_len * 1e-4 * s.batch / tp;
  a.totals.tpot_s = (0.02 * bits / 16 + 0.001 * s.batch) / tp;
  a.totals.e2e_latency_s = a.totals.ttft_s + (s.gen_len - 1) * a.totals.tpot_s;
  a.totals.output_tokens_per_s = s.batch / a.totals.tpot_s;
  a.memory.weights_bytes = 20e9 * bits / 16 / tp;
  a.memory.kv_cache_bytes = 1e9 * s.batch / tp;
  a.memory.total_bytes = a.memory.weights_bytes + a.memory.kv_cache_bytes;
  a.memory.capacity_bytes = hw.memory_bytes;
  a.memory.fits = a.memory.total_bytes <= hw.memory_bytes;
  a.memory.max_batch =
      static_cast<int64_t>(std::floor((hw.memory_bytes - a.memory.weights_bytes) / (1e9 / tp)));
  return a;
}

inline HardwareSpec fake_hardware(std::string name, double memory_bytes, int devices_per_node) {
  HardwareSpec hw;
  hw.name = std::move(name);
  hw.vendor = "Test";
  hw.memory_bytes = memory_bytes;
  hw.memory_bandwidth_bytes_per_s = 768e9;
  hw.dense_ops_per_s[static_cast<int>(DType::fp16)] = 154.8e12;
  hw.dense_ops_per_s[static_cast<int>(DType::int8)] = 309.7e12;
  hw.dense_ops_per_s[static_cast<int>(DType::int4)] = 619e12;
  hw.devices_per_node = devices_per_node;
  hw.interconnect_bandwidth_bytes_per_s = 56e9;
  return hw;
}

// Llama-2-7b's shape under another name (the printers' expected outputs say "toy-7b").
inline ModelSpec fake_model() {
  ModelSpec m = test::llama2_7b();
  m.name = "toy-7b";
  m.max_position_embeddings = 0;
  return m;
}

// A hand-made analysis: two prefill rows and two decode rows with round numbers.
inline Analysis sample_analysis() {
  Analysis a;
  a.model_name = "toy-7b";
  a.hardware_name = "gpu-a";
  a.settings.batch = 1;
  a.settings.prompt_len = 2048;
  auto row = [](std::string name, double ops, double weights, double act, double time_s, Bound b,
                int64_t count) {
    LayerRow r;
    r.name = std::move(name);
    r.count = count;
    r.cost.ops = ops;
    r.cost.bytes.weights = weights;
    r.cost.bytes.act_read = act;
    r.arithmetic_intensity = ops / (weights + act);
    r.attainable_ops_per_s = ops / time_s;
    r.bound = b;
    r.time_s = time_s;
    return r;
  };
  a.prefill.phase = Phase::prefill;
  a.prefill.rows = {row("q_proj", 68.7e9, 33.5e6, 33.5e6, 600e-6, Bound::compute, 32),
                    row("softmax", 336e6, 0, 269e6, 440e-6, Bound::memory, 32)};
  a.prefill.time_s = 0.282;
  a.decode.phase = Phase::decode;
  a.decode.context_len = 2112;
  a.decode.rows = {row("q_proj", 33.6e6, 33.5e6, 8e3, 60e-6, Bound::memory, 32),
                   row("all_reduce", 8e3, 0, 16e3, 10e-6, Bound::communication, 64)};
  a.decode.time_s = 0.0259;
  a.totals = {.ttft_s = 0.282,
              .tpot_s = 0.0259,
              .e2e_latency_s = 3.58,
              .output_tokens_per_s = 35.8,
              .total_tokens_per_s = 608.5};
  a.memory = {.weights_bytes = 13.5e9,
              .kv_cache_bytes = 1.14e9,
              .activation_peak_bytes = 0.554e9,
              .total_bytes = 15.194e9,
              .capacity_bytes = 48e9,
              .fits = true,
              .max_batch = 20};
  return a;
}

}  // namespace llmroof::testing
