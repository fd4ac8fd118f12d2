#pragma once
// Real decoder blocks with random weights, run through the CPU kernels op by op, each op timed and
// recorded under the analyzer's LayerRow name (attn_norm, q_proj, k_proj, v_proj, rope,
// fused_attention, o_proj, attn_add, mlp_norm, gate_proj, up_proj, mlp_act, down_proj, mlp_add; and
// embedding, final_norm, lm_head for the model-level ops; router, experts, shared_expert in sparse
// blocks, calibrate/moe_block.hpp). Fusion follows the analyzer (rows.cpp): V is stored into the KV
// cache by v_proj, the rotated K by rope; attention is one fused kernel; a q/k/v bias (qwen2) is
// added by its projection, right after the GEMM while the rows are in cache.
//
// Every block owns its own copy of the weights, and a forward pass walks the blocks in order as a real
// model does, so when the blocks' weights together exceed the last-level cache an op on block i finds
// its weights in DRAM -- what the analyzer assumes -- while activations stay cache-resident.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analyzer/model_spec.hpp"
#include "calibrate/timing.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::calibrate {

struct StackConfig {
  kernels::WeightFormat weights = kernels::WeightFormat::fp32;
  kernels::WeightFormat head_weights = kernels::WeightFormat::fp32;  // embedding / lm_head
  kernels::KvFormat kv = kernels::KvFormat::fp32;
  int64_t group_size = 128;
  int64_t batch = 1;
  int64_t max_tokens = 1;   // largest q_len per sequence a forward pass will see
  int64_t max_context = 1;  // KV capacity per sequence
  int64_t layers = 1;       // blocks built
  bool model_level = false; // also embedding, final_norm, lm_head
  Clock clock = Clock::wall;  // how each op is timed
  uint64_t seed = 1;
  // MoE: top-k over seeded uniform logits after the real router GEMV (the analyzer's routing
  // assumption), instead of over the real logits (moe_block.hpp).
  bool uniform_routing = true;
};

// Samples per op name, in the order ops first ran.
class OpTimes {
 public:
  void add(const std::string& name, double seconds);
  const std::vector<std::string>& names() const { return order_; }
  const std::vector<double>& samples(const std::string& name) const { return samples_.at(name); }
  bool has(const std::string& name) const { return samples_.count(name) > 0; }
  void clear();

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::vector<double>> samples_;
};

// The model's attention over q_len new tokens per sequence and kv_len keys (causal): what the
// runner's fused_attention runs, and what validate's decode-attention probe times alone.
kernels::AttentionDims attention_dims(const ModelSpec& m, int64_t batch, int64_t q_len,
                                      int64_t kv_len);

class DecoderStack {
 public:
  // Throws InputError when the model needs an op the kernels lack (layernorm, non-gated MLP, ALiBi).
  DecoderStack(const ModelSpec& m, const StackConfig& cfg, kernels::ThreadPool& pool);
  ~DecoderStack();
  DecoderStack(const DecoderStack&) = delete;
  DecoderStack& operator=(const DecoderStack&) = delete;

  // Bytes of one block's weights (packed, incl. scales; a sparse block counts every expert, the
  // router and the shared expert) and KV cache, for choosing a layer count. With both dense and
  // sparse layers, the larger of the two.
  static double block_bytes(const ModelSpec& m, const StackConfig& cfg);

  // One forward pass of q_len new tokens per sequence at positions [pos0, pos0 + q_len): the KV
  // cache rows written and attention over pos0 + q_len keys. Times every op into `times` (may be
  // null). With model_level, starts from token ids and ends with logits of the last positions.
  void forward(int64_t q_len, int64_t pos0, OpTimes* times);

  // Greedy next token per sequence from the last logits (model_level only).
  std::vector<int32_t> argmax_tokens() const;
  void set_tokens(const std::vector<int32_t>& ids);  // ids for the next forward's positions

  // The last hidden state (and logits) are finite and not mostly zero.
  bool output_ok() const;

  // Distinct routed experts per sparse block in the last forward pass (mean over its sparse
  // blocks); 0 when it ran none. Compare with the analyzer's expected_distinct_experts.
  double distinct_experts_last_pass() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// y[rows, n] = x[rows, k] . W (+ bias[n] on every row when bias is non-null): the GEMM, then the
// bias added row by row while y is still in cache (the kernels' GEMM has no epilogue hook). Reads
// the bias's n floats once per call and does rows x n adds: the analyzer's bias cost (cost.cpp).
void linear(const float* x, int64_t rows, const kernels::PackedWeights& w, const float* bias,
            float* y, kernels::ThreadPool& pool);


// Model checks shared with the CLI: "" when the kernels can run the model, else the reason.
std::string unsupported_reason(const ModelSpec& m);

}  // namespace llmroof::calibrate
