#include "calibrate/model_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "calibrate/timing.hpp"
#include "io/errors.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/activation.hpp"
#include "kernels/cpu/add.hpp"
#include "kernels/cpu/rmsnorm.hpp"
#include "kernels/cpu/rope.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/huge_buffer.hpp"

namespace llmroof::calibrate {

using kernels::KvFormat;
using kernels::PackedWeights;
using kernels::WeightFormat;

void OpTimes::add(const std::string& name, double seconds) {
  auto [it, inserted] = samples_.try_emplace(name);
  if (inserted) order_.push_back(name);
  it->second.push_back(seconds);
}

void OpTimes::clear() {
  order_.clear();
  samples_.clear();
}

std::string unsupported_reason(const ModelSpec& m) {
  if (m.is_moe()) return "MoE blocks (router, experts) have no CPU kernels yet";
  if (m.norm != NormType::rmsnorm) return "layernorm has no CPU kernel (rmsnorm only)";
  if (!m.gated_mlp || m.activation != Activation::silu)
    return "only SiLU-gated MLPs have a CPU kernel";
  if (m.positional_encoding != PositionalEncoding::rope && m.positional_encoding != PositionalEncoding::none)
    return "only RoPE (or no) positional encoding is implemented";
  if (m.head_dim % 16 != 0) return "head_dim must be a multiple of 16 for the attention kernels";
  if (m.sliding_window > 0) return "sliding-window attention is not implemented by the kernels";
  return "";
}

namespace {

double kv_elem_bytes(KvFormat f) {
  return f == KvFormat::fp32 ? 4 : f == KvFormat::bf16 ? 2 : 1;
}

struct Block {
  PackedWeights wq, wk, wv, wo, wg, wu, wd;
  std::vector<float> attn_gamma, mlp_gamma;
  kernels::HugeVector<uint8_t> k_cache, v_cache;  // [batch, capacity, kv_dim] in the KV format
  kernels::HugeVector<uint16_t> k_scale, v_scale;  // int8: fp16 per (batch, token, kv head)
};

}  // namespace

struct DecoderStack::Impl {
  ModelSpec m;
  StackConfig cfg;
  kernels::ThreadPool* pool = nullptr;
  std::vector<Block> blocks;
  kernels::RopeTable rope;
  // Activations, sized for batch * max_tokens rows.
  std::vector<float> hs, xn, q, k, v, o, tmp, g, u, a;
  // Model level.
  std::vector<float> embed_f32;
  std::vector<uint16_t> embed_bf16;
  PackedWeights lm_head;
  std::vector<float> final_gamma, last_rows, logits;
  std::vector<int32_t> ids;
  // Per-op intervals (timing.hpp: wall clock; with --clock cpu, a switched-out interval takes the
  // thread's CPU time when long, and is dropped when short). Its overhead is subtracted.
  std::unique_ptr<LapTimer> timer;
  // Records the interval since the last record under `name` (a dropped interval adds nothing).
  void record(OpTimes* t, const char* name) {
    const double dt = timer->lap();
    if (t && dt >= 0) t->add(name, dt);
  }

  void store_kv_row(Block& b, const float* x, bool is_k, int64_t bb, int64_t pos);
  void store_kv(Block& b, const float* src, bool is_k, int64_t q_len, int64_t pos0);
  void run_block(Block& b, int64_t q_len, int64_t pos0, OpTimes* t);
  void embed(int64_t q_len, OpTimes* t);
  void head(int64_t q_len, OpTimes* t);
};

double DecoderStack::block_bytes(const ModelSpec& m, const StackConfig& cfg) {
  const int64_t h = m.hidden_size, qd = m.q_dim(), kvd = m.kv_dim(), in = m.intermediate_size;
  const auto wb = [&](int64_t k, int64_t n) {
    return weight_bytes(k, n, kernels::weight_dtype(cfg.weights),
                        cfg.weights == WeightFormat::int4 ? cfg.group_size : 0);
  };
  const double w = wb(h, qd) + 2 * wb(h, kvd) + wb(qd, h) + 2 * wb(h, in) + wb(in, h);
  const double kv = 2.0 * static_cast<double>(cfg.batch * cfg.max_context * kvd) *
                    kv_elem_bytes(cfg.kv);
  return w + kv;
}

DecoderStack::DecoderStack(const ModelSpec& m, const StackConfig& cfg, kernels::ThreadPool& pool)
    : impl_(std::make_unique<Impl>()) {
  if (const auto why = unsupported_reason(m); !why.empty())
    throw InputError("validate: model '" + m.name + "': " + why);
  Impl& s = *impl_;
  s.m = m;
  s.cfg = cfg;
  s.pool = &pool;
  const int64_t h = m.hidden_size, qd = m.q_dim(), kvd = m.kv_dim(), in = m.intermediate_size;
  // One random matrix per shape, packed once and copied into every block: each block still owns
  // its bytes (what matters for the caches), and building stays fast.
  const auto pack = [&](int64_t k, int64_t n, uint64_t seed) {
    std::vector<float> w(static_cast<size_t>(k * n));
    const float r = 1.0f / std::sqrt(static_cast<float>(k));
    kernels::fill_uniform(w, cfg.seed * 131 + seed, -r, r);
    return kernels::pack_weights(w.data(), k, n, cfg.weights, cfg.group_size);
  };
  Block proto;
  proto.wq = pack(h, qd, 1);
  proto.wk = kvd == qd ? proto.wq : pack(h, kvd, 2);
  proto.wv = proto.wk;
  proto.wo = pack(qd, h, 3);
  proto.wg = pack(h, in, 4);
  proto.wu = proto.wg;
  proto.wd = pack(in, h, 5);
  proto.attn_gamma.assign(static_cast<size_t>(h), 1.0f);
  proto.mlp_gamma.assign(static_cast<size_t>(h), 1.0f);
  const size_t kv_elems = static_cast<size_t>(cfg.batch * cfg.max_context * kvd);
  proto.k_cache.assign(kv_elems * static_cast<size_t>(kv_elem_bytes(cfg.kv)), 0);
  proto.v_cache = proto.k_cache;
  if (cfg.kv == KvFormat::int8) {
    proto.k_scale.assign(static_cast<size_t>(cfg.batch * cfg.max_context * m.num_key_value_heads),
                         0);
    proto.v_scale = proto.k_scale;
  }
  s.blocks.assign(static_cast<size_t>(cfg.layers), proto);
  s.rope = kernels::make_rope_table(m.head_dim, cfg.max_context);
  s.timer = std::make_unique<LapTimer>(cfg.clock);

  const size_t rows = static_cast<size_t>(cfg.batch * cfg.max_tokens);
  for (auto* buf : {&s.hs, &s.xn, &s.tmp}) buf->assign(rows * h, 0.f);
  for (auto* buf : {&s.q, &s.o}) buf->assign(rows * qd, 0.f);
  for (auto* buf : {&s.k, &s.v}) buf->assign(rows * kvd, 0.f);
  for (auto* buf : {&s.g, &s.u, &s.a}) buf->assign(rows * in, 0.f);
  kernels::fill_uniform(s.hs, cfg.seed + 7);

  if (cfg.model_level) {
    const int64_t vocab = m.vocab_size;
    std::vector<float> table(static_cast<size_t>(vocab * h));
    kernels::fill_uniform(table, cfg.seed + 9, -0.05f, 0.05f);
    if (cfg.head_weights == WeightFormat::bf16) {
      s.embed_bf16.resize(table.size());
      for (size_t i = 0; i < table.size(); ++i) s.embed_bf16[i] = kernels::float_to_bf16(table[i]);
    }
    // lm_head [h, vocab]: a separate matrix (tied models share it; the bytes read are the same).
    std::vector<float> head(static_cast<size_t>(vocab * h));
    kernels::fill_uniform(head, cfg.seed + 10, -0.05f, 0.05f);
    s.lm_head = kernels::pack_weights(head.data(), h, vocab, cfg.head_weights, cfg.group_size);
    if (cfg.head_weights != WeightFormat::bf16) s.embed_f32 = std::move(table);
    s.final_gamma.assign(static_cast<size_t>(h), 1.0f);
    s.last_rows.assign(static_cast<size_t>(cfg.batch * h), 0.f);
    s.logits.assign(static_cast<size_t>(cfg.batch * vocab), 0.f);
    s.ids.assign(rows, 1);
  }
}

DecoderStack::~DecoderStack() = default;

// Writes one token's K or V (kv_dim fp32 values) into the cache row of sequence bb at position pos.
// Thread-safe for distinct rows (rope's K sink calls it from the pool's threads).
void DecoderStack::Impl::store_kv_row(Block& b, const float* x, bool is_k, int64_t bb,
                                      int64_t pos) {
  const int64_t kvd = m.kv_dim(), kvh = m.num_key_value_heads;
  auto& cache = is_k ? b.k_cache : b.v_cache;
  const int64_t row = bb * cfg.max_context + pos;
  switch (cfg.kv) {
    case KvFormat::fp32:
      std::memcpy(cache.data() + row * kvd * 4, x, static_cast<size_t>(kvd) * 4);
      break;
    case KvFormat::bf16: {
      auto* d = reinterpret_cast<uint16_t*>(cache.data()) + row * kvd;
      for (int64_t i = 0; i < kvd; ++i) d[i] = kernels::float_to_bf16(x[i]);
      break;
    }
    case KvFormat::int8: {
      auto& scales = is_k ? b.k_scale : b.v_scale;
      auto* d = reinterpret_cast<int8_t*>(cache.data()) + row * kvd;
      float few[64];
      std::vector<float> many;
      float* s = kvh <= 64 ? few : (many.resize(static_cast<size_t>(kvh)), many.data());
      kernels::quantize_int8_rows(x, d, s, kvh, m.head_dim);
      for (int64_t i = 0; i < kvh; ++i)
        scales[static_cast<size_t>(row * kvh + i)] = kernels::float_to_half(s[i]);
      break;
    }
  }
}

// Writes q_len tokens of K or V (fp32 rows [batch, q_len, kv_dim]) into the cache at pos0.
void DecoderStack::Impl::store_kv(Block& b, const float* src, bool is_k, int64_t q_len,
                                  int64_t pos0) {
  for (int64_t bb = 0; bb < cfg.batch; ++bb)
    for (int64_t s = 0; s < q_len; ++s)
      store_kv_row(b, src + (bb * q_len + s) * m.kv_dim(), is_k, bb, pos0 + s);
}

void DecoderStack::Impl::run_block(Block& b, int64_t q_len, int64_t pos0, OpTimes* t) {
  kernels::ThreadPool& p = *pool;
  const int64_t rows = cfg.batch * q_len, h = m.hidden_size, in = m.intermediate_size;
  const float eps = 1e-5f;
  timer->restart();
  const auto lap = [&](const char* name) { record(t, name); };
  kernels::rmsnorm(hs.data(), b.attn_gamma.data(), xn.data(), rows, h, eps, p);
  lap("attn_norm");
  kernels::gemm(xn.data(), rows, b.wq, q.data(), p);
  lap("q_proj");
  kernels::gemm(xn.data(), rows, b.wk, k.data(), p);
  const bool rope_k = m.positional_encoding == PositionalEncoding::rope;
  if (!rope_k) store_kv(b, k.data(), true, q_len, pos0);  // no RoPE: k_proj's row writes the cache
  lap("k_proj");
  kernels::gemm(xn.data(), rows, b.wv, v.data(), p);
  store_kv(b, v.data(), false, q_len, pos0);
  lap("v_proj");
  if (rope_k) {
    // One pass, as the analyzer's rope row: rotate Q in place, and each token's rotated K straight
    // into the cache (the sink runs on the rotating thread while the row is in L1).
    const kernels::RopeKSink to_cache = [&](int64_t tok, const float* k_rot) {
      store_kv_row(b, k_rot, true, tok / q_len, pos0 + tok % q_len);
    };
    kernels::rope(q.data(), k.data(), rope, cfg.batch, q_len, m.num_attention_heads,
                  m.num_key_value_heads, pos0, p, kernels::best_isa(), &to_cache);
    lap("rope");
  }
  kernels::AttentionDims d;
  d.batch = cfg.batch;
  d.q_heads = m.num_attention_heads;
  d.kv_heads = m.num_key_value_heads;
  d.head_dim = m.head_dim;
  d.q_len = q_len;
  d.kv_len = pos0 + q_len;
  d.causal = true;
  if (q_len > 1 && pos0 == 0) {
    // Prefill: the fresh fp32 K/V of the prompt, as an engine computes attention before (or while)
    // it writes the cache.
    kernels::attention_prefill(q.data(), k.data(), v.data(), o.data(), d, p);
  } else {
    d.kv_capacity = cfg.max_context;
    kernels::KvCacheView kv;
    kv.format = cfg.kv;
    kv.k = b.k_cache.data();
    kv.v = b.v_cache.data();
    if (cfg.kv == KvFormat::int8) {
      kv.k_scale = b.k_scale.data();
      kv.v_scale = b.v_scale.data();
      kv.scales_fp16 = true;
    }
    kernels::attention_decode(q.data(), kv, o.data(), d, p);
  }
  lap("fused_attention");
  kernels::gemm(o.data(), rows, b.wo, tmp.data(), p);
  lap("o_proj");
  kernels::add_inplace(hs.data(), tmp.data(), rows * h, p);
  lap("attn_add");
  kernels::rmsnorm(hs.data(), b.mlp_gamma.data(), xn.data(), rows, h, eps, p);
  lap("mlp_norm");
  kernels::gemm(xn.data(), rows, b.wg, g.data(), p);
  lap("gate_proj");
  kernels::gemm(xn.data(), rows, b.wu, u.data(), p);
  lap("up_proj");
  kernels::silu_mul(g.data(), u.data(), a.data(), rows, in, in, p);
  lap("mlp_act");
  kernels::gemm(a.data(), rows, b.wd, tmp.data(), p);
  lap("down_proj");
  kernels::add_inplace(hs.data(), tmp.data(), rows * h, p);
  lap("mlp_add");
}

void DecoderStack::Impl::embed(int64_t q_len, OpTimes* t) {
  timer->restart();
  const int64_t h = m.hidden_size, rows = cfg.batch * q_len;
  pool->parallel_for(rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t id = std::clamp<int64_t>(ids[static_cast<size_t>(r)], 0, m.vocab_size - 1);
      float* dst = hs.data() + r * h;
      if (!embed_bf16.empty()) {
        // bf16 -> fp32 is a 16-bit shift: written so the compiler vectorizes it.
        const uint16_t* src = embed_bf16.data() + id * h;
        for (int64_t i = 0; i < h; ++i) {
          const uint32_t bits = static_cast<uint32_t>(src[i]) << 16;
          std::memcpy(dst + i, &bits, 4);
        }
      } else {
        std::memcpy(dst, embed_f32.data() + id * h, static_cast<size_t>(h) * 4);
      }
    }
  });
  record(t, "embedding");
}

void DecoderStack::Impl::head(int64_t q_len, OpTimes* t) {
  const int64_t h = m.hidden_size, rows = cfg.batch * q_len;
  timer->restart();
  kernels::rmsnorm(hs.data(), final_gamma.data(), xn.data(), rows, h, 1e-5f, *pool);
  record(t, "final_norm");
  // Logits only for the last position of each sequence (as the analyzer's lm_head row).
  for (int64_t b = 0; b < cfg.batch; ++b)
    std::memcpy(last_rows.data() + b * h, xn.data() + (b * q_len + q_len - 1) * h,
                static_cast<size_t>(h) * 4);
  kernels::gemm(last_rows.data(), cfg.batch, lm_head, logits.data(), *pool);
  record(t, "lm_head");
}

void DecoderStack::forward(int64_t q_len, int64_t pos0, OpTimes* times) {
  Impl& s = *impl_;
  if (q_len < 1 || q_len > s.cfg.max_tokens || pos0 + q_len > s.cfg.max_context)
    throw std::invalid_argument("DecoderStack::forward: q_len/pos0 outside the built capacity");
  if (s.cfg.model_level) s.embed(q_len, times);
  for (auto& b : s.blocks) s.run_block(b, q_len, pos0, times);
  if (s.cfg.model_level) s.head(q_len, times);
}

std::vector<int32_t> DecoderStack::argmax_tokens() const {
  const Impl& s = *impl_;
  std::vector<int32_t> out(static_cast<size_t>(s.cfg.batch), 0);
  if (!s.cfg.model_level) return out;
  const int64_t vocab = s.m.vocab_size;
  for (int64_t b = 0; b < s.cfg.batch; ++b) {
    const float* l = s.logits.data() + b * vocab;
    out[static_cast<size_t>(b)] = static_cast<int32_t>(std::max_element(l, l + vocab) - l);
  }
  return out;
}

void DecoderStack::set_tokens(const std::vector<int32_t>& ids) {
  Impl& s = *impl_;
  if (!s.cfg.model_level) return;
  std::copy_n(ids.begin(), std::min(ids.size(), s.ids.size()), s.ids.begin());
}

bool DecoderStack::output_ok() const {
  const Impl& s = *impl_;
  const auto ok = [](const std::vector<float>& x) {
    size_t zeros = 0;
    for (float f : x) {
      if (!std::isfinite(f)) return false;
      zeros += f == 0.f ? 1 : 0;
    }
    return zeros * 2 < x.size();
  };
  return ok(s.hs) && (!s.cfg.model_level || ok(s.logits));
}

}  // namespace llmroof::calibrate
