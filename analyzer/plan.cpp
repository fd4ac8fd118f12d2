// Settings validation and the per-analysis plan: per-device shapes, formats and effective rates.
#include <string>

#include "analyzer/analyzer.hpp"
#include "analyzer/plan.hpp"

namespace llmroof {

namespace {

std::string str(std::string_view v) { return std::string(v); }

void require_positive(int64_t v, const char* what) {
  if (v <= 0) throw AnalysisError(std::string(what) + " must be positive (got " +
                                  std::to_string(v) + ")");
}

void require_at_most(int64_t v, int64_t limit, const char* what) {
  if (v > limit) throw AnalysisError(std::string(what) + " must be at most " + std::to_string(limit) +
                                     " (got " + std::to_string(v) + ")");
}

bool is_float(DType t) { return t == DType::fp32 || t == DType::fp16 || t == DType::bf16; }

void validate_formats(const QuantSettings& q) {
  if (q.weights == DType::tf32)
    throw AnalysisError("weights format tf32 is a compute format, not a storage format");
  if (!is_float(q.activations) && q.activations != DType::int8 && q.activations != DType::fp8)
    throw AnalysisError("activation format " + str(to_string(q.activations)) +
                        " is not supported (use fp32, fp16, bf16, int8 or fp8)");
  if (q.kv_cache == DType::tf32)
    throw AnalysisError("KV-cache format tf32 is not a storage format");
  // 8-bit activations need weights the same 8-bit math can consume (W8A8, W4A8, FP8).
  if (q.activations == DType::int8 && q.weights != DType::int8 && q.weights != DType::int4)
    throw AnalysisError("int8 activations need int8 or int4 weights (got " +
                        str(to_string(q.weights)) + " weights)");
  if (q.activations == DType::fp8 && q.weights != DType::fp8 && q.weights != DType::int4)
    throw AnalysisError("fp8 activations need fp8 or int4 weights (got " +
                        str(to_string(q.weights)) + " weights)");
  if (q.residual && !is_float(*q.residual))
    throw AnalysisError("residual format " + str(to_string(*q.residual)) +
                        " is not supported (use fp32, fp16 or bf16)");
  if (q.linear_math && !is_float(*q.linear_math))
    throw AnalysisError("linear-layer math format " + str(to_string(*q.linear_math)) +
                        " is not supported (use fp32, fp16 or bf16)");
  if (q.group_size < 0)
    throw AnalysisError("group size must be >= 0 (got " + std::to_string(q.group_size) + ")");
}

}  // namespace

void validate_settings(const ModelSpec& m, const HardwareSpec& hw, const Settings& s) {
  require_positive(s.batch, "batch");
  require_positive(s.prompt_len, "prompt length");
  require_positive(s.gen_len, "generation length");
  require_positive(s.tp, "tensor-parallel degree");
  require_at_most(s.batch, kMaxBatch, "batch");
  require_at_most(s.prompt_len, kMaxSequenceTokens, "prompt length");
  require_at_most(s.prompt_len + s.gen_len, kMaxSequenceTokens, "prompt + generated tokens");
  require_at_most(s.tp, kMaxTensorParallel, "tensor-parallel degree");
  validate_formats(s.quant);
  const std::string where = "model '" + m.name + "': ";
  if (m.hidden_size <= 0 || m.num_layers <= 0 || m.num_attention_heads <= 0 ||
      m.num_key_value_heads <= 0 || m.head_dim <= 0 || m.vocab_size <= 0)
    throw AnalysisError(where + "hidden_size, num_layers, heads, head_dim and vocab_size must be "
                                "positive");
  if (m.num_attention_heads % m.num_key_value_heads != 0)
    throw AnalysisError(where + "num_attention_heads is not a multiple of num_key_value_heads");
  if (m.num_layers > m.num_sparse_layers() && m.intermediate_size <= 0)
    throw AnalysisError(where + "dense layers need a positive intermediate_size");
  if (m.is_moe() && (m.moe->experts_per_token <= 0 || m.moe->experts_per_token > m.moe->num_experts ||
                     m.moe->expert_intermediate_size <= 0))
    throw AnalysisError(where + "moe needs 0 < experts_per_token <= num_experts and a positive "
                                "expert_intermediate_size");
  if (m.num_attention_heads % s.tp != 0)
    throw AnalysisError("--tp " + std::to_string(s.tp) + " does not divide the " +
                        std::to_string(m.num_attention_heads) + " attention heads of " + m.name);
  if (m.num_key_value_heads % s.tp != 0 && s.tp % m.num_key_value_heads != 0)
    throw AnalysisError("--tp " + std::to_string(s.tp) + " neither divides nor is a multiple of the " +
                        std::to_string(m.num_key_value_heads) + " KV heads of " + m.name);
  if (hw.memory_bandwidth_bytes_per_s <= 0)
    throw AnalysisError("hardware '" + hw.name + "' has no memory bandwidth");
  if (s.tp > 1 && hw.interconnect_bandwidth_bytes_per_s <= 0)
    throw AnalysisError("--tp " + std::to_string(s.tp) + ": hardware '" + hw.name +
                        "' has no interconnect bandwidth to cost the all-reduces");
}

namespace detail {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The peak for `want`, or the nearest format the device has, with a warning naming the fallback.
DType resolve_compute(const HardwareSpec& hw, DType want, const char* what,
                      std::vector<std::string>& warnings) {
  if (hw.peak(want)) return want;
  static constexpr DType kChain[] = {DType::fp16, DType::bf16, DType::fp32};
  for (DType alt : kChain) {
    if (alt == want || !hw.peak(alt)) continue;
    warnings.push_back("hardware '" + hw.name + "' has no " + str(to_string(want)) + " peak; " +
                       what + " costed at its " + str(to_string(alt)) + " peak");
    return alt;
  }
  throw AnalysisError("hardware '" + hw.name + "' has no " + str(to_string(want)) +
                      " peak and no fp16/bf16/fp32 peak to fall back to (" + what + ")");
}

void set_formats(Plan& p, const HardwareSpec& hw, const QuantSettings& q,
                 std::vector<std::string>& warnings) {
  p.weights = q.weights;
  p.gemm_act = q.activations;
  p.kv = q.kv_cache;
  p.group_size = q.group_size;
  // 8-bit activations exist only at the linear layers' inputs; the residual stream stays fp16
  // unless the settings name its format (the CPU kernels keep fp32).
  p.residual = q.residual.value_or(is_float(q.activations) ? q.activations : DType::fp16);
  p.act_bytes = dtype_bytes(p.residual);
  // Embeddings, lm_head, router and norms stay in the float format of the weights (GPTQ/AWQ/
  // SmoothQuant keep them 16-bit).
  p.embed = is_float(q.weights) ? q.weights : DType::fp16;
  // The math the kernels do: weight-only formats dequantize to the activation format.
  p.gemm_compute =
      resolve_compute(hw, q.linear_math.value_or(q.activations), "linear layers", warnings);
  p.float_compute = resolve_compute(hw, p.residual, "attention and lm_head", warnings);
  p.vector_compute = hw.peak(DType::fp32) ? DType::fp32 : p.float_compute;
}

void set_rates(Plan& p, const HardwareSpec& hw, const Settings& s) {
  const bool real = s.mode == Mode::realistic;
  const auto& e = hw.efficiency;
  for (int i = 0; i < kNumDTypes; ++i)
    p.peak_ops_per_s[i] = hw.dense_ops_per_s[i].value_or(0) *
                          (real ? e.compute_for(static_cast<DType>(i)) : 1.0);
  p.bandwidth_bytes_per_s = hw.memory_bandwidth_bytes_per_s * (real ? e.memory : 1.0);
  p.weight_bandwidth_bytes_per_s =
      hw.memory_bandwidth_bytes_per_s * (real ? e.memory_for(s.quant.weights, s.quant.activations) : 1.0);
  // The fused attention kernel has its own measured efficiency where calibrate wrote one.
  // At the prompt's length (a short prompt runs the prefill kernel at a lower fraction), and by
  // whether the prefill's Q, K, V and O -- every sequence's, one call's operands, per device --
  // fit in the on-chip memory of the cores that run it (docs/calibrate.md, "Short prompts").
  const double onchip =
      hw.onchip_bytes_total > 0 ? hw.onchip_bytes_total : hw.onchip_bytes_per_core;
  const double qkvo_bytes = static_cast<double>(s.batch * s.prompt_len) *
                            static_cast<double>(2 * (p.q_heads + p.kv_heads) * p.head_dim) *
                            p.act_bytes;
  const bool attn_onchip = onchip > 0 && qkvo_bytes <= onchip;
  const double attn_compute =
      real ? e.attention_compute_at(s.prompt_len).value_or(e.compute) : 1.0;
  const double attn_prefill_compute =
      real ? e.attention_compute_at(s.prompt_len, attn_onchip).value_or(e.compute) : 1.0;
  for (int i = 0; i < kNumDTypes; ++i) {
    p.attn_peak_ops_per_s[i] = hw.dense_ops_per_s[i].value_or(0) * attn_compute;
    p.attn_prefill_peak_ops_per_s[i] = hw.dense_ops_per_s[i].value_or(0) * attn_prefill_compute;
  }
  p.attn_bandwidth_bytes_per_s =
      hw.memory_bandwidth_bytes_per_s * (real ? e.attention_memory_for(s.quant.kv_cache) : 1.0);
  p.link_bytes_per_s = hw.interconnect_bandwidth_bytes_per_s * (real ? e.communication : 1.0);
  p.link_latency_s = hw.interconnect_latency_s;
  p.launch_overhead_s = real ? hw.kernel_launch_overhead_s : 0.0;
  p.launch_overhead_hot_s =
      real ? hw.kernel_launch_overhead_hot_s.value_or(hw.kernel_launch_overhead_s) : 0.0;
  p.onchip_bytes = hw.onchip_bytes_per_core;
  p.flash_attention = s.flash_attention;
  p.split_traffic = real && (hw.last_level_cache || hw.write_allocate);
  if (hw.last_level_cache) {
    p.llc_bytes = hw.last_level_cache->capacity_bytes;
    p.llc_read_bytes_per_s = hw.last_level_cache->read_bytes_per_s;
  }
  p.hot_small_rows = real && hw.kernel_launch_overhead_hot_s && p.llc_bytes > 0 &&
                     p.llc_read_bytes_per_s > 0;
  p.write_allocate = hw.write_allocate;
  p.write_back_cost = hw.write_back_cost;
}

}  // namespace

Plan make_plan(const ModelSpec& m, const HardwareSpec& hw, const Settings& s,
               std::vector<std::string>& warnings) {
  Plan p;
  p.model = &m;
  p.tp = s.tp;
  p.hidden = m.hidden_size;
  p.head_dim = m.head_dim;
  p.q_heads = m.num_attention_heads / s.tp;
  // Fewer KV heads than devices: each device keeps a replica of the one KV head it needs.
  p.kv_heads = std::max<int64_t>(1, m.num_key_value_heads / s.tp);
  p.inter = ceil_div(m.intermediate_size, s.tp);
  p.vocab = ceil_div(m.vocab_size, s.tp);
  if (m.is_moe()) {
    p.expert_inter = ceil_div(m.moe->expert_intermediate_size, s.tp);
    p.shared_inter = ceil_div(m.moe->shared_expert_intermediate_size, s.tp);
  }
  p.layers = m.num_layers;
  p.sparse_layers = m.num_sparse_layers();
  p.dense_layers = p.layers - p.sparse_layers;
  set_formats(p, hw, s.quant, warnings);
  set_rates(p, hw, s);
  if (s.tp > 1 && hw.devices_per_node > 0 && s.tp > hw.devices_per_node)
    warnings.push_back("--tp " + std::to_string(s.tp) + " exceeds the " +
                       std::to_string(hw.devices_per_node) + " devices per node of '" + hw.name +
                       "'; all-reduces are still costed on the intra-node link");
  if (s.tp > 1 && m.intermediate_size % s.tp != 0 && p.dense_layers > 0)
    warnings.push_back("intermediate_size is not divisible by --tp; the largest shard is costed");
  if (m.max_position_embeddings > 0 && s.prompt_len + s.gen_len > m.max_position_embeddings)
    warnings.push_back("prompt + generated tokens (" + std::to_string(s.prompt_len + s.gen_len) +
                       ") exceed the model's max_position_embeddings (" +
                       std::to_string(m.max_position_embeddings) + ")");
  if (s.flash_attention && hw.onchip_bytes_per_core <= 0)
    warnings.push_back("hardware '" + hw.name + "' gives no on-chip bytes per core; FlashAttention "
                       "tiles assumed 64 query rows");
  return p;
}

}  // namespace detail
}  // namespace llmroof
