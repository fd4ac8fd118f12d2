// The rows of one decoder block and of the model-level ops, per device, for one forward pass.
// Order follows the data flow; names follow the published LLM-Viewer table.
#include <algorithm>

#include "analyzer/analyzer.hpp"
#include "analyzer/plan.hpp"

namespace llmroof::detail {

namespace {

LayerRow make_row(const char* name, int64_t count, const OpCost& c, DType compute,
                  int64_t kernels = 1, bool per_block = true) {
  LayerRow r;
  r.name = name;
  r.per_block = per_block;
  r.count = count;
  r.cost = c;
  r.compute_dtype = compute;
  r.kernels = kernels;
  return r;
}

// The block activations a row reads and writes (the cache-residency model's data flow).
LayerRow with_uses(LayerRow r, std::initializer_list<TensorUse> uses) {
  r.activations.assign(uses.begin(), uses.end());
  return r;
}

TensorUse reads(Tensor t, double bytes) { return {t, bytes, Access::read}; }
TensorUse writes(Tensor t, double bytes) { return {t, bytes, Access::write}; }
TensorUse updates(Tensor t, double bytes) { return {t, bytes, Access::update}; }

// A GEMM's row reads x from `in` and writes y (when it writes an activation) to `out`.
LayerRow gemm_uses(LayerRow r, Tensor in, Tensor out) {
  const Bytes& b = r.cost.bytes;
  if (b.act_written <= 0) return with_uses(std::move(r), {reads(in, b.act_read)});
  return with_uses(std::move(r), {reads(in, b.act_read), writes(out, b.act_written)});
}

// A row that reads `in` and writes `out` out of place, act_read / act_written bytes.
LayerRow in_out(LayerRow r, Tensor in, Tensor out) {
  const Bytes& b = r.cost.bytes;
  return with_uses(std::move(r), {reads(in, b.act_read), writes(out, b.act_written)});
}

// hidden += proj_out in place: the residual is read and written back, the addend only read.
LayerRow residual_add(const Plan& p, const char* name, int64_t count, int64_t tokens) {
  const OpCost c = add_cost(tokens, p.hidden, p.act_bytes);
  const double bytes = c.bytes.act_written;
  return with_uses(make_row(name, count, c, p.vector_compute),
                   {updates(Tensor::hidden, bytes), reads(Tensor::proj_out, bytes)});
}

// A linear layer's row: it streams the weights in the --wbits format (efficiency.memory_<weights>).
LayerRow linear_row(const char* name, int64_t count, const OpCost& c, DType compute) {
  LayerRow r = make_row(name, count, c, compute);
  r.rates = RateClass::weights;
  return r;
}

// An attention row: its cost grows with the keys visible (the decode average sums it exactly).
LayerRow attention_row(const char* name, int64_t count, const OpCost& c, DType compute,
                       RateClass rates) {
  LayerRow r = make_row(name, count, c, compute);
  r.rates = rates;
  r.grows_with_context = true;
  return r;
}

// K or V of `tokens` tokens written into the cache in its own format (plus the quantization pass
// for int8/int4: abs-max, divide, round ~3 ops per element).
void write_to_cache(const Plan& p, int64_t tokens, OpCost& c) {
  const double t = static_cast<double>(tokens), kvh = static_cast<double>(p.kv_heads);
  c.bytes.kv_written += t * kvh * kv_bytes_per_token_head(p.head_dim, p.kv);
  if (p.kv == DType::int8 || p.kv == DType::int4)
    c.ops += 3 * t * kvh * static_cast<double>(p.head_dim);
}

// RMSNorm from cost.hpp; LayerNorm adds the mean pass and subtraction (~2 OPs/element), the
// shift (1 OP/element) and the beta vector.
OpCost norm_cost(const Plan& p, int64_t tokens) {
  OpCost c = rmsnorm_cost(tokens, p.hidden, p.act_bytes);
  if (p.model->norm == NormType::layernorm) {
    c.ops += 3 * static_cast<double>(tokens) * static_cast<double>(p.hidden);
    c.bytes.weights += static_cast<double>(p.hidden) * p.act_bytes;
  }
  return c;
}

AttentionShape attention_shape(const Plan& p, const PhaseShape& ph) {
  AttentionShape a;
  a.batch = ph.batch;
  a.q_heads = p.q_heads;
  a.kv_heads = p.kv_heads;
  a.head_dim = p.head_dim;
  a.q_len = ph.q_len;
  a.kv_len = ph.kv_len;
  a.causal = true;
  a.sliding_window = p.model->sliding_window;
  a.act_bytes = p.act_bytes;
  a.kv = p.kv;
  a.onchip_bytes = p.onchip_bytes;
  return a;
}

}  // namespace

GemmShape linear_shape(const Plan& p, int64_t m, int64_t k, int64_t n, bool bias) {
  GemmShape g;
  g.m = m;
  g.k = k;
  g.n = n;
  g.weights = p.weights;
  g.activations = p.gemm_act;
  g.group_size = p.group_size;
  g.bias = bias;
  return g;
}

OpCost mlp_activation_cost(const Plan& p, int64_t rows, int64_t inter) {
  OpCost c = activation_cost(rows, inter, p.model->gated_mlp, p.act_bytes);
  // GELU (erf or tanh form) costs ~8 OPs per element against SiLU's ~4.
  const Activation a = p.model->activation;
  if (a == Activation::gelu || a == Activation::gelu_tanh)
    c.ops += 4 * static_cast<double>(rows) * static_cast<double>(inter);
  if (a == Activation::relu) c.ops -= 3 * static_cast<double>(rows) * static_cast<double>(inter);
  return c;
}

namespace {

void append_attention(const Plan& p, const PhaseShape& ph, std::vector<LayerRow>& rows) {
  const ModelSpec& m = *p.model;
  const int64_t t = ph.tokens(), h = p.hidden, qd = p.q_heads * p.head_dim,
                kvd = p.kv_heads * p.head_dim;
  const bool rope = m.positional_encoding == PositionalEncoding::rope;
  const double act = p.act_bytes, td = static_cast<double>(t);
  rows.push_back(in_out(make_row("attn_norm", p.layers, norm_cost(p, t), p.vector_compute),
                        Tensor::hidden, Tensor::normed));
  rows.push_back(gemm_uses(linear_row("q_proj", p.layers,
                                      gemm_cost(linear_shape(p, t, h, qd, m.qkv_bias)),
                                      p.gemm_compute),
                           Tensor::normed, Tensor::q));
  OpCost k = gemm_cost(linear_shape(p, t, h, kvd, m.qkv_bias));
  OpCost v = gemm_cost(linear_shape(p, t, h, kvd, m.qkv_bias));
  // V goes straight into the KV cache; K does too unless RoPE must rotate it first.
  v.bytes.act_written = 0;
  write_to_cache(p, t, v);
  if (!rope) {
    k.bytes.act_written = 0;
    write_to_cache(p, t, k);
  }
  rows.push_back(gemm_uses(linear_row("k_proj", p.layers, k, p.gemm_compute), Tensor::normed,
                           Tensor::k));
  rows.push_back(gemm_uses(linear_row("v_proj", p.layers, v, p.gemm_compute), Tensor::normed,
                           Tensor::v));
  if (rope) {
    // Rotates Q in place and writes the rotated K into the cache (vLLM/TRT-LLM fuse this).
    OpCost r = rope_cost(t, p.q_heads, p.kv_heads, p.head_dim, p.act_bytes);
    r.bytes.act_written -= static_cast<double>(t) * static_cast<double>(kvd) * p.act_bytes;
    write_to_cache(p, t, r);
    // Q rotated in place; K read, and written to the cache (streamed, like the cos/sin rows).
    rows.push_back(with_uses(make_row("rope", p.layers, r, p.vector_compute),
                             {updates(Tensor::q, td * static_cast<double>(qd) * act),
                              reads(Tensor::k, td * static_cast<double>(kvd) * act)}));
  }
  OpCost att[3];
  const int n = attention_costs(p, ph, att);
  if (n == 1) {
    rows.push_back(in_out(attention_row("fused_attention", p.layers, att[0], p.float_compute,
                                        RateClass::attention),
                          Tensor::q, Tensor::attn_out));
  } else {
    // Unfused attention has no measured factors of its own: the general rates.
    rows.push_back(with_uses(
        attention_row("qk_matmul", p.layers, att[0], p.float_compute, RateClass::general),
        {reads(Tensor::q, att[0].bytes.act_read)}));
    rows.push_back(attention_row("softmax", p.layers, att[1], p.vector_compute, RateClass::general));
    rows.push_back(with_uses(
        attention_row("sv_matmul", p.layers, att[2], p.float_compute, RateClass::general),
        {writes(Tensor::attn_out, att[2].bytes.act_written)}));
  }
  rows.push_back(gemm_uses(
      linear_row("o_proj", p.layers, gemm_cost(linear_shape(p, t, qd, h)), p.gemm_compute),
      Tensor::attn_out, Tensor::proj_out));
  rows.push_back(residual_add(p, "attn_add", p.layers, t));
}

void append_dense_mlp(const Plan& p, const PhaseShape& ph, std::vector<LayerRow>& rows) {
  const ModelSpec& m = *p.model;
  const int64_t t = ph.tokens(), h = p.hidden, c = p.dense_layers;
  const OpCost in_proj = gemm_cost(linear_shape(p, t, h, p.inter));
  if (m.gated_mlp)
    rows.push_back(gemm_uses(linear_row("gate_proj", c, in_proj, p.gemm_compute), Tensor::normed,
                             Tensor::gate));
  rows.push_back(gemm_uses(linear_row("up_proj", c, in_proj, p.gemm_compute), Tensor::normed,
                           Tensor::up));
  // The activation runs over intermediate_size (the published tool used hidden_size).
  const OpCost ac = mlp_activation_cost(p, t, p.inter);
  const double elems = static_cast<double>(t) * static_cast<double>(p.inter) * p.act_bytes;
  LayerRow act = make_row("mlp_act", c, ac, p.vector_compute);
  rows.push_back(m.gated_mlp ? with_uses(std::move(act), {reads(Tensor::gate, elems),
                                                          reads(Tensor::up, elems),
                                                          writes(Tensor::act, elems)})
                             : in_out(std::move(act), Tensor::up, Tensor::act));
  rows.push_back(gemm_uses(
      linear_row("down_proj", c, gemm_cost(linear_shape(p, t, p.inter, h)), p.gemm_compute),
      Tensor::act, Tensor::proj_out));
}

}  // namespace

int attention_costs(const Plan& p, const PhaseShape& ph, OpCost* out) {
  const AttentionShape a = attention_shape(p, ph);
  if (p.flash_attention) {
    out[0] = fused_attention_cost(a);
    return 1;
  }
  out[0] = qk_matmul_cost(a);
  out[1] = attention_softmax_cost(a);
  out[2] = sv_matmul_cost(a);
  return 3;
}

void append_block_rows(const Plan& p, const PhaseShape& ph, std::vector<LayerRow>& rows) {
  append_attention(p, ph, rows);
  const int64_t t = ph.tokens(), h = p.hidden;
  rows.push_back(in_out(make_row("mlp_norm", p.layers, norm_cost(p, t), p.vector_compute),
                        Tensor::hidden, Tensor::normed));
  if (p.dense_layers > 0) append_dense_mlp(p, ph, rows);
  if (p.sparse_layers > 0) append_moe_rows(p, ph, rows);
  rows.push_back(residual_add(p, "mlp_add", p.layers, t));
  if (p.tp > 1) {
    // Two per block (after o_proj and after down_proj/experts), each over the block's output.
    const double msg = static_cast<double>(t) * static_cast<double>(h) * p.act_bytes;
    OpCost c;
    c.ops = static_cast<double>(p.tp - 1) / static_cast<double>(p.tp) * static_cast<double>(t) *
            static_cast<double>(h);  // the reduce-scatter's additions
    c.bytes.act_read = msg;
    c.bytes.act_written = msg;
    LayerRow ar = make_row("all_reduce", 2 * p.layers, c, p.vector_compute);
    ar.rates = RateClass::communication;
    rows.push_back(ar);
  }
}

void append_embedding_row(const Plan& p, const PhaseShape& ph, std::vector<LayerRow>& rows) {
  const double t = static_cast<double>(ph.tokens()), h = static_cast<double>(p.hidden);
  // Gather one row of the table per token; token ids are int32.
  OpCost e;
  e.bytes.weights = t * h * dtype_bytes(p.embed);
  if (p.model->positional_encoding == PositionalEncoding::learned) {
    e.ops = t * h;  // add the position row
    e.bytes.weights *= 2;
  }
  e.bytes.act_read = t * 4;
  e.bytes.act_written = t * h * p.act_bytes;
  rows.push_back(with_uses(make_row("embedding", 1, e, p.vector_compute, 1, false),
                           {writes(Tensor::hidden, e.bytes.act_written)}));
}

void append_head_rows(const Plan& p, const PhaseShape& ph, std::vector<LayerRow>& rows) {
  const int64_t t = ph.tokens(), h = p.hidden;
  rows.push_back(in_out(make_row("final_norm", 1, norm_cost(p, t), p.vector_compute, 1, false),
                        Tensor::hidden, Tensor::normed));
  // Logits only for the last position of each sequence: the next token needs nothing else.
  GemmShape g;
  g.m = ph.batch;
  g.k = h;
  g.n = p.vocab;
  g.weights = p.embed;
  g.activations = p.residual;
  // The logits are not a block tensor: they stream.
  LayerRow head = make_row("lm_head", 1, gemm_cost(g), p.float_compute, 1, false);
  head.activations = {reads(Tensor::normed, head.cost.bytes.act_read)};
  rows.push_back(std::move(head));
}

}  // namespace llmroof::detail
