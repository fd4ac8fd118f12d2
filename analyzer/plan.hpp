#pragma once
// Internal to the analyzer: everything derived once from (model, hardware, settings) -- per-device
// shapes under tensor parallelism, the storage and compute formats, and the effective rates -- and
// the row builders that turn it into LayerRows. Not part of the public API.
#include <array>
#include <string>
#include <vector>

#include "analyzer/analysis.hpp"
#include "analyzer/hardware_spec.hpp"
#include "analyzer/model_spec.hpp"
#include "analyzer/settings.hpp"

namespace llmroof::detail {

struct Plan {
  const ModelSpec* model = nullptr;
  int64_t tp = 1;
  // Per-device sizes (Megatron split: heads, intermediate and vocabulary divided by tp).
  int64_t hidden = 0, q_heads = 0, kv_heads = 0, head_dim = 0;
  int64_t inter = 0, expert_inter = 0, shared_inter = 0, vocab = 0;
  int64_t layers = 0, sparse_layers = 0, dense_layers = 0;
  // Storage formats.
  DType weights = DType::fp16;   // linear layers
  DType gemm_act = DType::fp16;  // x as the linear layers read it
  DType residual = DType::fp16;  // residual stream, norms, attention Q/O, elementwise ops
  DType kv = DType::fp16;
  DType embed = DType::fp16;  // embedding, lm_head, router, norm gammas (never quantized)
  int64_t group_size = 0;
  double act_bytes = 2;  // residual element size
  // Compute formats (after any fallback) whose peak applies.
  DType gemm_compute = DType::fp16, float_compute = DType::fp16, vector_compute = DType::fp32;
  // Effective rates (efficiency applied in realistic mode).
  std::array<double, kNumDTypes> peak_ops_per_s{};
  double bandwidth_bytes_per_s = 0;
  // The fused attention row's rates: efficiency.attention_* where the hardware gives them, else
  // the same as peak_ops_per_s / bandwidth_bytes_per_s.
  std::array<double, kNumDTypes> attn_peak_ops_per_s{};
  // The prefill's fused attention: the same, but with the short-prompt factor for operands that
  // fit on chip where they do (efficiency.attention_compute_short_onchip). The decode kernel is
  // another kernel and keeps attn_peak_ops_per_s (analyze() swaps this in for the prefill phase).
  std::array<double, kNumDTypes> attn_prefill_peak_ops_per_s{};
  double attn_bandwidth_bytes_per_s = 0;
  // Bandwidth of the rows that stream the linear layers' weights (efficiency.memory_<weights>).
  double weight_bandwidth_bytes_per_s = 0;
  double link_bytes_per_s = 0;
  double link_latency_s = 0;
  double launch_overhead_s = 0;
  // Per kernel whose bytes are resident in the last-level cache (kernel_launch_overhead_hot where
  // the hardware gives it, else launch_overhead_s); rows weight the two by LayerRow::hot_fraction.
  double launch_overhead_hot_s = 0;
  // The hardware gives kernel_launch_overhead_hot (realistic mode, with a last-level cache): a
  // small decode row is then costed by the share of its bytes resident there (residency.cpp).
  bool hot_small_rows = false;
  double onchip_bytes = 0;
  bool flash_attention = false;
  // The cache-residency model (residency.cpp), in realistic mode where the hardware describes a
  // last-level cache or write-allocate: capacity 0 = nothing stays resident.
  bool split_traffic = false;
  double llc_bytes = 0;
  double llc_read_bytes_per_s = 0;
  bool write_allocate = false;
  double write_back_cost = 1.0;
};

Plan make_plan(const ModelSpec& m, const HardwareSpec& hw, const Settings& s,
               std::vector<std::string>& warnings);

// One forward pass over `q_len` new tokens per sequence with `kv_len` keys visible at the end.
struct PhaseShape {
  int64_t batch = 1, q_len = 1, kv_len = 1;
  int64_t tokens() const { return batch * q_len; }
};

// Rows of one decoder block (attention, dense MLP or MoE, all_reduce) and the model-level rows.
void append_block_rows(const Plan& p, const PhaseShape& ph, std::vector<LayerRow>& rows);
void append_embedding_row(const Plan& p, const PhaseShape& ph, std::vector<LayerRow>& rows);
void append_head_rows(const Plan& p, const PhaseShape& ph, std::vector<LayerRow>& rows);  // norm, lm_head
// The attention rows' costs alone (qk_matmul, softmax, sv_matmul or fused_attention); returns how
// many it wrote into `out` (at most 3). The decode average re-evaluates these at other lengths.
int attention_costs(const Plan& p, const PhaseShape& ph, OpCost* out);
// A linear layer y[m x n] = x[m x k] W[k x n] in the plan's weight / activation formats.
GemmShape linear_shape(const Plan& p, int64_t m, int64_t k, int64_t n, bool bias = false);
// The MLP activation over `rows` x `inter` for the model's activation function.
OpCost mlp_activation_cost(const Plan& p, int64_t rows, int64_t inter);
// MoE rows of one sparse block (router, experts, shared_expert).
void append_moe_rows(const Plan& p, const PhaseShape& ph, std::vector<LayerRow>& rows);
// Each row's DRAM and last-level-cache bytes from the block's data flow (docs/cost-model.md).
// `one_token_per_sequence` (decode): rows whose activations fit on chip keep all bytes at DRAM
// bandwidth; otherwise (prefill) every row but attention and the all-reduce is split.
void split_traffic(const Plan& p, std::vector<LayerRow>& rows, bool one_token_per_sequence);
// Fill peak, bandwidth, attainable, bound and time of a costed row.
void time_row(const Plan& p, LayerRow& r);
// Row time of a compute/memory row from its cost (no row object).
double row_time_s(const Plan& p, const OpCost& c, DType compute, int64_t kernels);

MemoryResult memory_footprint(const Plan& p, const Settings& s, double capacity_bytes);

}  // namespace llmroof::detail
