#include "calibrate/model_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <tuple>

#include "calibrate/moe_block.hpp"
#include "calibrate/timing.hpp"
#include "io/errors.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/activation.hpp"
#include "kernels/cpu/add.hpp"
#include "kernels/cpu/rmsnorm.hpp"
#include "kernels/cpu/rope.hpp"
#include "kernels/cpu/topk.hpp"
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
  if (m.norm != NormType::rmsnorm) return "layernorm has no CPU kernel (rmsnorm only)";
  if (!m.gated_mlp || m.activation != Activation::silu)
    return "only SiLU-gated MLPs have a CPU kernel";
  if (m.positional_encoding == PositionalEncoding::alibi)
    return "positional_encoding: alibi (the model file's field) has no CPU attention kernel (the "
           "kernels take no per-head linear bias); only rope or none run";
  if (m.positional_encoding != PositionalEncoding::rope && m.positional_encoding != PositionalEncoding::none)
    return "positional_encoding: " + std::string(to_string(m.positional_encoding)) +
           " is not implemented by the kernels (rope or none only)";
  if (m.head_dim % 16 != 0) return "head_dim must be a multiple of 16 for the attention kernels";
  if (m.sliding_window > 0) return "sliding-window attention is not implemented by the kernels";
  return "";
}

namespace {

double kv_elem_bytes(KvFormat f) {
  return f == KvFormat::fp32 ? 4 : f == KvFormat::bf16 ? 2 : 1;
}

struct Block {
  PackedWeights wq, wk, wv, wo, wg, wu, wd;  // wg, wu, wd: dense blocks only
  std::vector<float> bq, bk, bv;              // q/k/v bias (qkv_bias models), else empty
  std::vector<float> attn_gamma, mlp_gamma;
  std::optional<MoeWeights> moe;              // sparse blocks
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
  // Cache-line aligned (large ones in 2 MiB pages): a 64-byte load never splits a line.
  kernels::HugeVector<float> hs, xn, q, k, v, o, tmp, g, u, a;
  MoeShape moe_shape;
  std::unique_ptr<MoeBuffers> moe_buf;
  double distinct_sum = 0;  // distinct experts over the sparse blocks of the current pass
  int64_t sparse_runs = 0;
  // Model level.
  std::vector<float> embed_f32;
  std::vector<uint16_t> embed_bf16;
  PackedWeights lm_head;
  std::vector<float> final_gamma;
  kernels::HugeVector<float> last_rows, logits;
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
  template <class Lap>
  void dense_mlp(Block& b, int64_t rows, const Lap& lap);
  void embed(int64_t q_len, OpTimes* t);
  void head(int64_t q_len, OpTimes* t);
};

double DecoderStack::block_bytes(const ModelSpec& m, const StackConfig& cfg) {
  const int64_t h = m.hidden_size, qd = m.q_dim(), kvd = m.kv_dim(), in = m.intermediate_size;
  const auto wb = [&](int64_t k, int64_t n) {
    return weight_bytes(k, n, kernels::weight_dtype(cfg.weights),
                        cfg.weights == WeightFormat::int4 ? cfg.group_size : 0);
  };
  const double bias = m.qkv_bias ? 4.0 * static_cast<double>(qd + 2 * kvd) : 0.0;
  const double dense = 2 * wb(h, in) + wb(in, h);
  const double mlp =
      !m.is_moe() ? dense
                  : std::max(m.num_sparse_layers() < m.num_layers ? dense : 0.0,
                             moe_weight_bytes(moe_shape(m), cfg.weights,
                                              cfg.head_weights == WeightFormat::bf16,
                                              cfg.group_size));
  const double w = wb(h, qd) + 2 * wb(h, kvd) + wb(qd, h) + bias + mlp;
  const double kv = 2.0 * static_cast<double>(cfg.batch * cfg.max_context * kvd) *
                    kv_elem_bytes(cfg.kv);
  return w + kv;
}

kernels::AttentionDims attention_dims(const ModelSpec& m, int64_t batch, int64_t q_len,
                                      int64_t kv_len) {
  kernels::AttentionDims d;
  d.batch = batch;
  d.q_heads = m.num_attention_heads;
  d.kv_heads = m.num_key_value_heads;
  d.head_dim = m.head_dim;
  d.q_len = q_len;
  d.kv_len = kv_len;
  d.causal = true;
  return d;
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
  if (m.qkv_bias) {
    for (auto [bias, n, seed] :
         {std::tuple{&proto.bq, qd, 21}, {&proto.bk, kvd, 22}, {&proto.bv, kvd, 23}}) {
      bias->resize(static_cast<size_t>(n));
      kernels::fill_uniform(*bias, cfg.seed * 131 + static_cast<uint64_t>(seed), -0.1f, 0.1f);
    }
  }
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
  // Dense and sparse MLPs, built once and copied; the last block takes the prototypes by move
  // (Mixtral's experts are 5.6 GB a block in fp32: no second copy at the peak).
  int64_t dense_n = 0, sparse_n = 0;
  for (int64_t i = 0; i < cfg.layers; ++i) (m.layer_is_sparse(i) ? sparse_n : dense_n) += 1;
  Block dense_mlp;
  if (dense_n > 0) {
    dense_mlp.wg = pack(h, in, 4);
    dense_mlp.wu = dense_mlp.wg;
    dense_mlp.wd = pack(in, h, 5);
  }
  std::optional<MoeWeights> moe;
  if (sparse_n > 0) {
    s.moe_shape = moe_shape(m);
    s.moe_shape.uniform_routing = cfg.uniform_routing;
    moe = make_moe_weights(s.moe_shape, cfg.weights, cfg.head_weights == WeightFormat::bf16,
                           cfg.group_size, cfg.seed);
    s.moe_buf = std::make_unique<MoeBuffers>(s.moe_shape, cfg.batch * cfg.max_tokens);
    s.moe_buf->routing_seed = cfg.seed * 7919 + 1;
  }
  s.blocks.reserve(static_cast<size_t>(cfg.layers));
  for (int64_t i = 0; i < cfg.layers; ++i) {
    Block& b = s.blocks.emplace_back(i + 1 == cfg.layers ? std::move(proto) : proto);
    if (m.layer_is_sparse(i)) {
      b.moe = --sparse_n == 0 ? std::move(*moe) : *moe;
    } else {
      const bool last = --dense_n == 0;
      b.wg = last ? std::move(dense_mlp.wg) : dense_mlp.wg;
      b.wu = last ? std::move(dense_mlp.wu) : dense_mlp.wu;
      b.wd = last ? std::move(dense_mlp.wd) : dense_mlp.wd;
    }
  }
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
      kernels::float_to_bf16_row(table.data(), s.embed_bf16.data(),
                                 static_cast<int64_t>(table.size()));
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
      kernels::float_to_bf16_row(x, reinterpret_cast<uint16_t*>(cache.data()) + row * kvd, kvd);
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
  const int64_t rows = cfg.batch * q_len, h = m.hidden_size;
  const float eps = 1e-5f;
  // Uniform routing's logits are drawn here, before the block's timed ops (moe_block.hpp).
  if (b.moe && moe_shape.uniform_routing) draw_uniform_routing(moe_shape, rows, *moe_buf);
  timer->restart();
  const auto lap = [&](const char* name) { record(t, name); };
  kernels::rmsnorm(hs.data(), b.attn_gamma.data(), xn.data(), rows, h, eps, p);
  lap("attn_norm");
  const auto bias = [](const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); };
  linear(xn.data(), rows, b.wq, bias(b.bq), q.data(), p);
  lap("q_proj");
  linear(xn.data(), rows, b.wk, bias(b.bk), k.data(), p);
  const bool rope_k = m.positional_encoding == PositionalEncoding::rope;
  if (!rope_k) store_kv(b, k.data(), true, q_len, pos0);  // no RoPE: k_proj's row writes the cache
  lap("k_proj");
  linear(xn.data(), rows, b.wv, bias(b.bv), v.data(), p);
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
  kernels::AttentionDims d = attention_dims(m, cfg.batch, q_len, pos0 + q_len);
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
  if (b.moe) {
    moe_forward(moe_shape, *b.moe, xn.data(), rows, tmp.data(), *moe_buf, p, lap);
    distinct_sum += static_cast<double>(moe_buf->distinct_experts);
    ++sparse_runs;
  } else {
    dense_mlp(b, rows, lap);
  }
  kernels::add_inplace(hs.data(), tmp.data(), rows * h, p);
  lap("mlp_add");
}

template <class Lap>
void DecoderStack::Impl::dense_mlp(Block& b, int64_t rows, const Lap& lap) {
  kernels::ThreadPool& p = *pool;
  const int64_t in = m.intermediate_size;
  kernels::gemm(xn.data(), rows, b.wg, g.data(), p);
  lap("gate_proj");
  kernels::gemm(xn.data(), rows, b.wu, u.data(), p);
  lap("up_proj");
  kernels::silu_mul(g.data(), u.data(), a.data(), rows, in, in, p);
  lap("mlp_act");
  kernels::gemm(a.data(), rows, b.wd, tmp.data(), p);
  lap("down_proj");
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
  s.distinct_sum = 0;
  s.sparse_runs = 0;
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

double DecoderStack::distinct_experts_last_pass() const {
  const Impl& s = *impl_;
  return s.sparse_runs > 0 ? s.distinct_sum / static_cast<double>(s.sparse_runs) : 0.0;
}

void linear(const float* x, int64_t rows, const kernels::PackedWeights& w, const float* bias,
            float* y, kernels::ThreadPool& pool) {
  kernels::gemm(x, rows, w, y, pool);
  if (!bias) return;
  pool.parallel_for(rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) kernels::axpy(1.0f, bias, y + r * w.n, w.n);
  });
}

bool DecoderStack::output_ok() const {
  const Impl& s = *impl_;
  const auto ok = [](const auto& x) {
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
