#pragma once
// What the user asks the analyzer: workload and deployment choices. Validated by validate_settings().
#include <cstdint>
#include <optional>
#include <string>

#include "analyzer/dtype.hpp"

namespace llmroof {

enum class Mode { roofline, realistic };

struct QuantSettings {
  // Weights of the linear layers: fp16/bf16 (16-bit), int8, int4, fp8.
  DType weights = DType::fp16;
  // Activations entering the linear layers: fp16/bf16, int8 (dynamic per-token), fp8.
  DType activations = DType::fp16;
  // KV cache: fp16, int8, int4 (per-token-per-head scales).
  DType kv_cache = DType::fp16;
  // Group size for group-wise weight quantization (int4 default 128; int8 per-channel = 0).
  int64_t group_size = 128;
  // Format of the residual stream between the linear layers (norms, adds, rope, attention Q/O and
  // its math). Absent: the activation format when that is a float format, else fp16 (8-bit
  // activations exist only at the linear layers' inputs). The CPU kernels keep it fp32 with W8A8.
  std::optional<DType> residual;
  // The format the linear layers' products are in, where it is not the activations' (the peak they
  // are costed at). Absent: the activations'. The CPU kernels set bf16 where fp32 activations meet
  // bf16 weights on AMX-BF16 tiles (x rounded to bf16 per call: validate).
  std::optional<DType> linear_math;
};

// Upper bounds validate_settings() enforces so that token counts and their products with model
// dimensions (batch x tokens x heads x keys) stay far inside int64 and double's exact range; both
// are far beyond any deployment (a million concurrent sequences, 16M-token contexts).
inline constexpr int64_t kMaxBatch = int64_t{1} << 20;
inline constexpr int64_t kMaxSequenceTokens = int64_t{1} << 24;  // prompt + generated
inline constexpr int64_t kMaxTensorParallel = 1024;

struct Settings {
  int64_t batch = 1;
  int64_t prompt_len = 2048;
  int64_t gen_len = 128;
  QuantSettings quant;
  bool flash_attention = false;
  int64_t tp = 1;  // tensor-parallel degree
  Mode mode = Mode::realistic;
};

std::string_view to_string(Mode m);

}  // namespace llmroof
