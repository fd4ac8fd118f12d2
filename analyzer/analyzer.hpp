#pragma once
// The analyzer: a pure function. No I/O, no globals, no environment. Throws AnalysisError for
// settings it cannot honour (e.g. a dtype the hardware lacks, tp not dividing the heads).
#include <stdexcept>

#include "analyzer/analysis.hpp"
#include "analyzer/hardware_spec.hpp"
#include "analyzer/model_spec.hpp"
#include "analyzer/settings.hpp"

namespace llmroof {

struct AnalysisError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Analysis analyze(const ModelSpec& model, const HardwareSpec& hw, const Settings& settings);

// The checks analyze() runs first; throws AnalysisError naming the setting or model field at fault.
void validate_settings(const ModelSpec& model, const HardwareSpec& hw, const Settings& settings);

// Expected number of distinct experts that `tokens` tokens touch when each picks `top_k` of
// `experts` uniformly at random: E * (1 - (1 - k/E)^T). Derivation: docs/cost-model.md.
double expected_distinct_experts(int64_t experts, int64_t top_k, double tokens);

// Ring all-reduce of `bytes` over p devices: 2(p-1)/p * bytes / link bandwidth + latency (once).
double ring_all_reduce_time_s(double bytes, int64_t p, double link_bytes_per_s, double latency_s);

}  // namespace llmroof
