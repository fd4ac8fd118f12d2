#pragma once
// Parameter counts and sizes of a ModelSpec, split the way a memory budget needs them. Pure: no I/O.
// Counts are exact element counts of the Hugging Face checkpoints (checked in
// tests/analyzer/model_stats_test.cpp against published totals); derivation in docs/model-schema.md.
#include <cstdint>

#include "analyzer/model_spec.hpp"

namespace llmroof {

// Parameters of one decoder block, by tensor group. A block is either dense (dense_mlp > 0) or
// sparse (router / experts); a model may mix both (ModelSpec::layer_is_sparse).
struct BlockParams {
  // Attention projections: q [hidden x q_dim], k and v [hidden x kv_dim], o [q_dim x hidden].
  int64_t attn_q_weight = 0, attn_k_weight = 0, attn_v_weight = 0, attn_o_weight = 0;
  int64_t attn_q_bias = 0, attn_k_bias = 0, attn_v_bias = 0;  // qkv_bias models (qwen2, chatglm)
  int64_t norms = 0;  // the two pre-attention / pre-MLP norms (x2 for layernorm's bias)
  int64_t dense_mlp = 0;           // gate+up+down (or up+down), dense blocks only
  int64_t router = 0;              // hidden x num_experts, sparse blocks only
  int64_t routed_expert = 0;       // ONE routed expert's gate+up+down
  int64_t num_routed_experts = 0;  // experts in this block (0 for dense blocks)
  int64_t shared_expert = 0;       // all shared experts together
  int64_t shared_expert_gate = 0;  // hidden x 1 (qwen2_moe)

  int64_t attention() const {
    return attn_q_weight + attn_k_weight + attn_v_weight + attn_o_weight + attn_q_bias +
           attn_k_bias + attn_v_bias;
  }
  int64_t routed_experts() const { return routed_expert * num_routed_experts; }
  int64_t total() const {
    return attention() + norms + dense_mlp + router + routed_experts() + shared_expert +
           shared_expert_gate;
  }
  // What one token touches: all of the block except the experts it is not routed to.
  int64_t active(int64_t experts_per_token) const {
    return total() - routed_experts() + routed_expert * experts_per_token;
  }
};

struct ParamBreakdown {
  int64_t embedding = 0;           // vocab x hidden
  int64_t position_embedding = 0;  // learned positions only: max_positions x hidden
  int64_t lm_head = 0;             // vocab x hidden; 0 when tied to the embedding
  int64_t final_norm = 0;
  BlockParams dense_block;   // one dense block (all zero when every block is sparse)
  BlockParams sparse_block;  // one sparse block (all zero for dense models)
  int64_t num_dense_blocks = 0;
  int64_t num_sparse_blocks = 0;
  int64_t experts_per_token = 0;

  int64_t non_block() const { return embedding + position_embedding + lm_head + final_norm; }
  int64_t total() const {
    return non_block() + num_dense_blocks * dense_block.total() +
           num_sparse_blocks * sparse_block.total();
  }
  // Parameters used per token (MoE: routed experts counted experts_per_token times). The whole
  // embedding table counts, as in the published "active parameter" figures (Mixtral 12.9 B).
  int64_t active() const {
    return non_block() + num_dense_blocks * dense_block.total() +
           num_sparse_blocks * sparse_block.active(experts_per_token);
  }
};

ParamBreakdown count_params(const ModelSpec& m);

struct ModelStats {
  ParamBreakdown params;
  int64_t total_params = 0;
  int64_t active_params = 0;
  // All weights stored at 16 / 8 / 4 bits, without quantization scales (cost.hpp's weight_bytes
  // adds those for a given group size).
  double weight_bytes_16bit = 0;
  double weight_bytes_8bit = 0;
  double weight_bytes_4bit = 0;
  // K and V of every layer for one token at 16 bits: 2 * layers * kv_heads * head_dim * 2 B.
  double kv_cache_bytes_per_token_16bit = 0;
};

ModelStats model_stats(const ModelSpec& m);

// K and V bytes per token for an element size in bits (scales not included).
double kv_cache_bytes_per_token(const ModelSpec& m, double bits);

}  // namespace llmroof
