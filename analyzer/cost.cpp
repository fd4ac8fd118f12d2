// Per-op OPs and bytes. Every count has its derivation in docs/cost-model.md; the comments here say
// where each term comes from. A multiply-add counts 2 OPs.
#include "analyzer/cost.hpp"

#include <algorithm>

namespace llmroof {

namespace {

constexpr double kScaleBytes = 2;  // fp16 scale (and fp16 zero point for int4 KV)

double ceil_div(int64_t a, int64_t b) { return static_cast<double>((a + b - 1) / b); }

bool is_one_byte_activation(DType a) { return a == DType::int8 || a == DType::fp8; }

// Keys that at least one of the queries sees: the whole cache without a window; with a window, from
// the first query's window start to the end.
double keys_touched(const AttentionShape& s) {
  if (s.sliding_window <= 0) return static_cast<double>(s.kv_len);
  const int64_t first_query = s.kv_len - s.q_len;
  const int64_t lo = s.causal ? std::max<int64_t>(0, first_query - s.sliding_window + 1)
                              : std::max<int64_t>(0, s.kv_len - s.sliding_window);
  return static_cast<double>(s.kv_len - lo);
}

// Keys visible to a block of consecutive query positions [first, last] (inclusive).
int64_t keys_for_query_block(const AttentionShape& s, int64_t first, int64_t last) {
  if (!s.causal) return static_cast<int64_t>(keys_touched(s));
  const int64_t lo = s.sliding_window > 0 ? std::max<int64_t>(0, first - s.sliding_window + 1) : 0;
  return last - lo + 1;
}

// Sum_{j=1..n} min(j, w): the keys seen by the first n causal queries (w = 0: no window).
double causal_prefix_pairs(int64_t n, int64_t w) {
  const double nd = static_cast<double>(n);
  if (w <= 0 || n <= w) return nd * (nd + 1) / 2;
  const double wd = static_cast<double>(w);
  return wd * (wd + 1) / 2 + (nd - wd) * wd;
}

double kv_dequant_ops(DType kv, double elements) {
  // int8/int4 KV: multiply by the scale (and subtract the zero point for int4) before use.
  if (kv == DType::int8) return elements;
  if (kv == DType::int4) return 2 * elements;
  return 0;
}

}  // namespace

bool is_quantized_weight(DType w) { return w == DType::int8 || w == DType::int4 || w == DType::fp8; }

double gemm_output_bytes(DType activations) {
  return is_one_byte_activation(activations) ? 2.0 : dtype_bytes(activations);
}

double weight_bytes(int64_t k, int64_t n, DType weights, int64_t group_size) {
  const double kd = static_cast<double>(k), nd = static_cast<double>(n);
  double bytes = kd * nd * dtype_bytes(weights);
  if (!is_quantized_weight(weights)) return bytes;
  // One fp16 scale per group of `group_size` rows along k, per output column (0 = per column);
  // int4 is asymmetric and adds a 4-bit zero point per group.
  const double groups = group_size > 0 ? ceil_div(k, group_size) : 1.0;
  bytes += nd * groups * kScaleBytes;
  if (weights == DType::int4) bytes += nd * groups * 0.5;
  return bytes;
}

double gemm_dequant_ops(const GemmShape& s) {
  if (!is_quantized_weight(s.weights)) return 0;
  // W8A8 / FP8xFP8: the tensor cores consume the stored weights directly; scales apply to y.
  if (s.weights == s.activations) return 0;
  const double elems = static_cast<double>(s.k) * static_cast<double>(s.n);
  // W4A8: int4 -> int8 per weight element (unpack, subtract the zero point) before the int8 MMA.
  if (s.activations == DType::int8) return 2.0 * elems;
  // Weight-only with float activations (W4A16, W8A16, FP8 weights): one conversion to the
  // activation format per weight element. The scale and zero point apply per group to the partial
  // sums, y += s * (sum_k x q) - s * z * (sum_k x), as Marlin/AWQ-style GPU kernels, llama.cpp and
  // llmroof's CPU kernels do -- about 3 OPs per output per group, 3mnk/g, not counted (<= 1.2 % of
  // 2mnk at g = 128).
  return elems;
}

OpCost gemm_cost(const GemmShape& s) {
  const double m = static_cast<double>(s.m), n = static_cast<double>(s.n),
               k = static_cast<double>(s.k);
  OpCost c;
  c.ops = 2 * m * n * k + gemm_dequant_ops(s);
  if (s.bias) c.ops += m * n;
  if (is_one_byte_activation(s.activations)) {
    // Dynamic per-token quantization of x (abs, max, scale: ~3 ops per element) and the rescale of
    // each output by its row and column scale (2 ops per element).
    c.ops += 3 * m * k + 2 * m * n;
  }
  c.bytes.weights = weight_bytes(s.k, s.n, s.weights, s.group_size);
  if (s.bias) c.bytes.weights += n * (s.activations == DType::fp32 ? 4.0 : 2.0);
  c.bytes.act_read = m * k * dtype_bytes(s.activations);
  c.bytes.act_written = m * n * gemm_output_bytes(s.activations);
  return c;
}

OpCost rmsnorm_cost(int64_t rows, int64_t dim, double act_bytes) {
  const double r = static_cast<double>(rows), d = static_cast<double>(dim);
  OpCost c;
  // Per element: square + accumulate (2), scale by rsqrt (1), multiply by gamma (1); per row: mean
  // and rsqrt (2).
  c.ops = 4 * r * d + 2 * r;
  c.bytes.weights = d * act_bytes;  // gamma
  c.bytes.act_read = r * d * act_bytes;
  c.bytes.act_written = r * d * act_bytes;
  return c;
}

OpCost add_rmsnorm_cost(int64_t rows, int64_t dim, double act_bytes) {
  // res' = x + res (1 op/element), y = rmsnorm(res'); reads x and res, writes res' and y.
  OpCost c = rmsnorm_cost(rows, dim, act_bytes);
  const double elems = static_cast<double>(rows) * static_cast<double>(dim);
  c.ops += elems;
  c.bytes.act_read += elems * act_bytes;
  c.bytes.act_written += elems * act_bytes;
  return c;
}

OpCost add_cost(int64_t rows, int64_t dim, double act_bytes) {
  const double elems = static_cast<double>(rows) * static_cast<double>(dim);
  OpCost c;
  c.ops = elems;
  c.bytes.act_read = 2 * elems * act_bytes;
  c.bytes.act_written = elems * act_bytes;
  return c;
}

OpCost softmax_cost(int64_t rows, int64_t cols, double act_bytes) {
  const double elems = static_cast<double>(rows) * static_cast<double>(cols);
  OpCost c;
  c.ops = 5 * elems;  // max, subtract, exp, sum, normalise
  c.bytes.act_read = elems * act_bytes;
  c.bytes.act_written = elems * act_bytes;
  return c;
}

OpCost activation_cost(int64_t rows, int64_t inter, bool gated, double act_bytes) {
  const double elems = static_cast<double>(rows) * static_cast<double>(inter);
  OpCost c;
  // silu(x) = x / (1 + exp(-x)): exp, add, divide, multiply ~ 4; the gate product adds 1.
  c.ops = (gated ? 5 : 4) * elems;
  c.bytes.act_read = (gated ? 2 : 1) * elems * act_bytes;
  c.bytes.act_written = elems * act_bytes;
  return c;
}

OpCost rope_cost(int64_t tokens, int64_t q_heads, int64_t kv_heads, int64_t head_dim,
                 double act_bytes) {
  const double t = static_cast<double>(tokens), d = static_cast<double>(head_dim);
  const double elems = t * static_cast<double>(q_heads + kv_heads) * d;
  OpCost c;
  // Each pair (x, y) -> (x cos - y sin, x sin + y cos): 4 mul + 2 add per 2 elements.
  c.ops = 3 * elems;
  c.bytes.act_read = elems * act_bytes + t * d * act_bytes;  // Q, K and the cos/sin rows
  c.bytes.act_written = elems * act_bytes;                   // in place
  return c;
}

double score_bytes(double act_bytes) { return std::max(act_bytes, 2.0) >= 4 ? 4.0 : 2.0; }

double kv_bytes_per_token_head(int64_t head_dim, DType kv) {
  double b = static_cast<double>(head_dim) * dtype_bytes(kv);
  if (kv == DType::int8) b += kScaleBytes;                         // symmetric: scale only
  if (kv == DType::int4) b += 2 * kScaleBytes;                     // scale + zero point
  return b;
}

double attention_pairs(const AttentionShape& s) {
  if (!s.causal) return static_cast<double>(s.q_len) * keys_touched(s);
  // Query i (0-based position p = kv_len - q_len + i) sees min(p + 1, window) keys.
  const int64_t w = s.sliding_window;
  return causal_prefix_pairs(s.kv_len, w) - causal_prefix_pairs(s.kv_len - s.q_len, w);
}

OpCost qk_matmul_cost(const AttentionShape& s) {
  const double b = static_cast<double>(s.batch), qh = static_cast<double>(s.q_heads),
               kvh = static_cast<double>(s.kv_heads), d = static_cast<double>(s.head_dim);
  const double pairs = attention_pairs(s);
  const double keys = keys_touched(s);
  OpCost c;
  c.ops = 2 * b * qh * pairs * d + kv_dequant_ops(s.kv, b * kvh * keys * d);
  c.bytes.act_read = b * static_cast<double>(s.q_len) * qh * d * s.act_bytes;  // Q, query heads
  c.bytes.kv_read = b * kvh * keys * kv_bytes_per_token_head(s.head_dim, s.kv);  // K, KV heads
  c.bytes.act_written = b * qh * pairs * score_bytes(s.act_bytes);              // scores
  return c;
}

OpCost attention_softmax_cost(const AttentionShape& s) {
  const double elems = static_cast<double>(s.batch) * static_cast<double>(s.q_heads) *
                       attention_pairs(s);
  OpCost c;
  c.ops = 5 * elems;  // scale+mask folded into the max pass; max, subtract, exp, sum, normalise
  c.bytes.act_read = elems * score_bytes(s.act_bytes);
  c.bytes.act_written = elems * score_bytes(s.act_bytes);
  return c;
}

OpCost sv_matmul_cost(const AttentionShape& s) {
  const double b = static_cast<double>(s.batch), qh = static_cast<double>(s.q_heads),
               kvh = static_cast<double>(s.kv_heads), d = static_cast<double>(s.head_dim);
  const double pairs = attention_pairs(s);
  const double keys = keys_touched(s);
  OpCost c;
  c.ops = 2 * b * qh * pairs * d + kv_dequant_ops(s.kv, b * kvh * keys * d);
  c.bytes.act_read = b * qh * pairs * score_bytes(s.act_bytes);                 // probabilities
  c.bytes.kv_read = b * kvh * keys * kv_bytes_per_token_head(s.head_dim, s.kv);  // V, KV heads
  c.bytes.act_written = b * static_cast<double>(s.q_len) * qh * d * s.act_bytes;  // O
  return c;
}

int64_t flash_q_tile_rows(int64_t head_dim, double act_bytes, double onchip_bytes) {
  if (onchip_bytes <= 0 || head_dim <= 0) return 64;
  const double m_elems = onchip_bytes / act_bytes;
  const auto bc = static_cast<int64_t>(m_elems / (4.0 * static_cast<double>(head_dim)) + 0.999999);
  return std::max<int64_t>(1, std::min(bc, head_dim));
}

OpCost fused_attention_cost(const AttentionShape& s) {
  const double b = static_cast<double>(s.batch), qh = static_cast<double>(s.q_heads),
               kvh = static_cast<double>(s.kv_heads), d = static_cast<double>(s.head_dim);
  // FlashAttention-2 loop order: each Q tile of B_r rows stays on chip while the K/V tiles it can
  // see stream past it, so Q is read once, O written once, and K/V are read once per Q tile. GQA
  // packs the g query heads sharing a KV head into one tile's rows (B_r / g positions per tile).
  const int64_t group = std::max<int64_t>(1, s.q_heads / std::max<int64_t>(1, s.kv_heads));
  const int64_t br = flash_q_tile_rows(s.head_dim, s.act_bytes, s.onchip_bytes);
  const int64_t positions_per_tile = std::max<int64_t>(1, br / group);
  const double head_splits = group > br ? ceil_div(group, br) : 1.0;
  const int64_t first_query = s.kv_len - s.q_len;
  double keys_loaded = 0;  // summed over the Q tiles of one (sequence, KV head)
  for (int64_t start = 0; start < s.q_len; start += positions_per_tile) {
    const int64_t end = std::min(s.q_len, start + positions_per_tile) - 1;
    keys_loaded += static_cast<double>(keys_for_query_block(s, first_query + start,
                                                            first_query + end));
  }
  const double kv_elems_loaded = 2 * b * kvh * head_splits * keys_loaded * d;  // K and V
  const double pairs = attention_pairs(s);
  OpCost c;
  // QK^T and PV (2 * 2d per pair) plus the online softmax (~5 per pair); no s x s in memory.
  c.ops = b * qh * pairs * (4 * d + 5) + kv_dequant_ops(s.kv, kv_elems_loaded);
  c.bytes.act_read = b * static_cast<double>(s.q_len) * qh * d * s.act_bytes;
  c.bytes.kv_read = kv_elems_loaded / d * kv_bytes_per_token_head(s.head_dim, s.kv);
  c.bytes.act_written = b * static_cast<double>(s.q_len) * qh * d * s.act_bytes;
  return c;
}

}  // namespace llmroof
