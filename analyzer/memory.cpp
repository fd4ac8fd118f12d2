// Memory per device: weights (incl. embeddings, lm_head, quantization scales), the KV cache at the
// final length, and the activation peak by liveness within one block. Derivation: docs/cost-model.md.
#include <algorithm>
#include <cmath>

#include "analyzer/model_stats.hpp"
#include "analyzer/plan.hpp"

namespace llmroof::detail {

namespace {

double linear_bytes(const Plan& p, int64_t k, int64_t n, bool bias = false) {
  double b = weight_bytes(k, n, p.weights, p.group_size);
  if (bias) b += static_cast<double>(n) * (p.gemm_act == DType::fp32 ? 4.0 : 2.0);
  return b;
}

double mlp_bytes(const Plan& p, int64_t inter) {
  const int mats_in = p.model->gated_mlp ? 2 : 1;
  return mats_in * linear_bytes(p, p.hidden, inter) + linear_bytes(p, inter, p.hidden);
}

// Linear layers are sized here with their per-device (TP) shapes and quantized format; everything
// else (norms, router, gates, position table) comes from model_stats' counts, kept in the float
// format and replicated on every device.
double weights_per_device(const Plan& p) {
  const ModelSpec& m = *p.model;
  const ParamBreakdown c = count_params(m);
  const double eb = dtype_bytes(p.embed), h = static_cast<double>(p.hidden);
  const int64_t qd = p.q_heads * p.head_dim, kvd = p.kv_heads * p.head_dim;
  const double attention = linear_bytes(p, p.hidden, qd, m.qkv_bias) +
                           2 * linear_bytes(p, p.hidden, kvd, m.qkv_bias) +
                           linear_bytes(p, qd, p.hidden);
  const double norms = 2.0 * static_cast<double>(c.final_norm) * eb;  // two per block
  double total = static_cast<double>(p.layers) * (attention + norms);
  total += static_cast<double>(p.dense_layers) * mlp_bytes(p, p.inter);
  if (p.sparse_layers > 0) {
    const MoeSpec& moe = *m.moe;
    double sparse = static_cast<double>(c.sparse_block.router + c.sparse_block.shared_expert_gate) * eb;
    sparse += static_cast<double>(moe.num_experts) * mlp_bytes(p, p.expert_inter);
    if (c.sparse_block.shared_expert > 0) sparse += mlp_bytes(p, p.shared_inter);
    total += static_cast<double>(p.sparse_layers) * sparse;
  }
  const double table = static_cast<double>(p.vocab) * h * eb;  // vocab-parallel under TP
  total += table * (m.tied_embeddings ? 1 : 2);
  total += static_cast<double>(c.final_norm + c.position_embedding) * eb;
  return total;
}

double kv_cache_bytes(const Plan& p, const Settings& s) {
  int64_t tokens = s.prompt_len + s.gen_len;
  if (p.model->sliding_window > 0) tokens = std::min(tokens, p.model->sliding_window);  // ring buffer
  return static_cast<double>(s.batch) * static_cast<double>(tokens) *
         static_cast<double>(p.layers) * 2 * static_cast<double>(p.kv_heads) *
         kv_bytes_per_token_head(p.head_dim, p.kv);
}

// The largest set of tensors alive at once in one block for a pass over `q_len` new tokens per
// sequence with `kv_len` keys. K/V live in the cache and are counted there.
double block_activation_peak(const Plan& p, int64_t batch, int64_t q_len, int64_t kv_len) {
  const double ab = p.act_bytes, t = static_cast<double>(batch * q_len);
  const double x = t * static_cast<double>(p.hidden) * ab;  // residual stream
  const double q = t * static_cast<double>(p.q_heads * p.head_dim) * ab;  // also O
  const double k_tmp = t * static_cast<double>(p.kv_heads * p.head_dim) * ab;  // K before RoPE
  double peak = x + x + q + k_tmp;  // normed input, Q and K being projected
  if (p.flash_attention) {
    peak = std::max(peak, x + q + q);  // Q in, O out
  } else {
    // The score matrix is allocated dense (b x heads x q_len x kv_len) even when causal.
    const double sc = static_cast<double>(batch) * static_cast<double>(p.q_heads) *
                      static_cast<double>(q_len) * static_cast<double>(kv_len) *
                      score_bytes(ab);
    peak = std::max({peak, x + q + sc, x + 2 * sc, x + sc + q});
  }
  peak = std::max(peak, x + q + x);  // o_proj
  const double in_mats = p.model->gated_mlp ? 2 : 1;
  if (p.dense_layers > 0) {
    const double i = t * static_cast<double>(p.inter) * ab;
    peak = std::max({peak, x + x + in_mats * i, x + (in_mats + 1) * i, x + i + x});
  }
  if (p.sparse_layers > 0) {
    const MoeSpec& moe = *p.model->moe;
    const double routed = t * static_cast<double>(moe.experts_per_token);
    const double ie = routed * static_cast<double>(p.expert_inter) * ab;
    const double gathered = routed * static_cast<double>(p.hidden) * ab;
    peak = std::max(peak, x + x + gathered + (in_mats + 1) * ie);
    if (moe.num_shared_experts > 0) {
      const double si = t * static_cast<double>(p.shared_inter) * ab;
      peak = std::max(peak, x + x + (in_mats + 1) * si);
    }
  }
  return peak;
}

double activation_peak(const Plan& p, const Settings& s) {
  const int64_t final_len = s.prompt_len + s.gen_len;
  const int64_t kv_decode = p.model->sliding_window > 0
                                ? std::min(final_len, p.model->sliding_window) : final_len;
  const double prefill = block_activation_peak(p, s.batch, s.prompt_len, s.prompt_len);
  const double decode = block_activation_peak(p, s.batch, 1, kv_decode);
  // fp32 logits of the last position per sequence, next to the residual stream.
  const double b = static_cast<double>(s.batch);
  const double logits = b * static_cast<double>(p.vocab) * 4 +
                        b * static_cast<double>(p.hidden) * p.act_bytes;
  return std::max({prefill, decode, logits});
}

}  // namespace

MemoryResult memory_footprint(const Plan& p, const Settings& s, double capacity_bytes) {
  MemoryResult r;
  r.weights_bytes = weights_per_device(p);
  r.kv_cache_bytes = kv_cache_bytes(p, s);
  r.activation_peak_bytes = activation_peak(p, s);
  r.total_bytes = r.weights_bytes + r.kv_cache_bytes + r.activation_peak_bytes;
  r.capacity_bytes = capacity_bytes;
  r.fits = capacity_bytes > 0 && r.total_bytes <= capacity_bytes;
  // KV and activations are proportional to the batch, so one sequence's share sets the slope.
  Settings one = s;
  one.batch = 1;
  const double per_seq = kv_cache_bytes(p, one) + activation_peak(p, one);
  const double room = capacity_bytes - r.weights_bytes;
  r.max_batch = (room <= 0 || per_seq <= 0) ? 0 : static_cast<int64_t>(std::floor(room / per_seq));
  return r;
}

}  // namespace llmroof::detail
