#include "analyzer/model_stats.hpp"

namespace llmroof {
namespace {

// An MLP of width `inter`: gated (SwiGLU: gate, up [hidden x inter], down [inter x hidden]) has three
// matrices, plain (up, down) two. No MLP biases in any supported family.
int64_t mlp_params(const ModelSpec& m, int64_t inter) {
  return (m.gated_mlp ? 3 : 2) * m.hidden_size * inter;
}

BlockParams common_block(const ModelSpec& m) {
  BlockParams b;
  b.attn_q_weight = m.hidden_size * m.q_dim();
  b.attn_k_weight = m.hidden_size * m.kv_dim();
  b.attn_v_weight = m.hidden_size * m.kv_dim();
  b.attn_o_weight = m.q_dim() * m.hidden_size;
  if (m.qkv_bias) {
    b.attn_q_bias = m.q_dim();
    b.attn_k_bias = m.kv_dim();
    b.attn_v_bias = m.kv_dim();
  }
  // RMSNorm has a scale per channel; LayerNorm a scale and a shift.
  const int64_t per_norm = (m.norm == NormType::layernorm ? 2 : 1) * m.hidden_size;
  b.norms = 2 * per_norm;
  return b;
}

}  // namespace

ParamBreakdown count_params(const ModelSpec& m) {
  ParamBreakdown p;
  p.embedding = m.vocab_size * m.hidden_size;
  if (m.positional_encoding == PositionalEncoding::learned)
    p.position_embedding = m.max_position_embeddings * m.hidden_size;
  p.lm_head = m.tied_embeddings ? 0 : m.vocab_size * m.hidden_size;
  p.final_norm = (m.norm == NormType::layernorm ? 2 : 1) * m.hidden_size;

  p.num_sparse_blocks = m.num_sparse_layers();
  p.num_dense_blocks = m.num_layers - p.num_sparse_blocks;
  if (p.num_dense_blocks > 0) {
    p.dense_block = common_block(m);
    p.dense_block.dense_mlp = mlp_params(m, m.intermediate_size);
  }
  if (p.num_sparse_blocks > 0) {
    const MoeSpec& e = *m.moe;
    BlockParams& b = p.sparse_block;
    b = common_block(m);
    b.router = m.hidden_size * e.num_experts;
    b.routed_expert = mlp_params(m, e.expert_intermediate_size);
    b.num_routed_experts = e.num_experts;
    if (e.num_shared_experts > 0) b.shared_expert = mlp_params(m, e.shared_expert_intermediate_size);
    if (e.shared_expert_gate) b.shared_expert_gate = m.hidden_size;
    p.experts_per_token = e.experts_per_token;
  }
  return p;
}

double kv_cache_bytes_per_token(const ModelSpec& m, double bits) {
  return 2.0 * static_cast<double>(m.num_layers) * static_cast<double>(m.kv_dim()) * bits / 8.0;
}

ModelStats model_stats(const ModelSpec& m) {
  ModelStats s;
  s.params = count_params(m);
  s.total_params = s.params.total();
  s.active_params = s.params.active();
  const double n = static_cast<double>(s.total_params);
  s.weight_bytes_16bit = n * 2.0;
  s.weight_bytes_8bit = n * 1.0;
  s.weight_bytes_4bit = n * 0.5;
  s.kv_cache_bytes_per_token_16bit = kv_cache_bytes_per_token(m, 16);
  return s;
}

}  // namespace llmroof
