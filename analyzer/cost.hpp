#pragma once
// One cost function per op: OPs (a multiply-add counts 2) and bytes moved for a shape. The analyzer
// builds its per-layer table from these, and every kernel in kernels/ reports its OPs and bytes
// through the same functions, so predicted and measured compare like with like.
// Derivations: docs/cost-model.md. Bytes are split the way the tables report them.
#include <cstdint>

#include "analyzer/dtype.hpp"

namespace llmroof {

struct Bytes {
  double weights = 0;      // parameters incl. quantization scales / zero points
  double act_read = 0;     // activations read
  double act_written = 0;  // activations written
  double kv_read = 0;      // KV cache read
  double kv_written = 0;   // KV cache written
  double total() const { return weights + act_read + act_written + kv_read + kv_written; }
  Bytes& operator+=(const Bytes& o) {
    weights += o.weights; act_read += o.act_read; act_written += o.act_written;
    kv_read += o.kv_read; kv_written += o.kv_written;
    return *this;
  }
};

struct OpCost {
  double ops = 0;
  Bytes bytes;
  double arithmetic_intensity() const { return bytes.total() > 0 ? ops / bytes.total() : 0; }
};

// y[m,n] = x[m,k] · W[k,n] (+ bias). Weights stored in `weights` format; int4/int8/fp8 weights carry
// one fp16 scale per (group of `group_size` along k) x output column (group_size 0 = per column),
// int4 also a zero point (4 bits) per group. Dequantization costs 2 ops per weight element
// (subtract zero / multiply by scale) for weight-only formats; W8A8 instead quantizes the
// activations per token (a max-finding pass: ~3 ops per input element) and rescales the output.
struct GemmShape {
  int64_t m = 1, n = 1, k = 1;
  DType weights = DType::fp16;
  // Format of x as read by the kernel, and of y as written -- except int8/fp8 activations, whose
  // integer/fp8 accumulators are rescaled to an fp16 y (SmoothQuant / TensorRT-LLM W8A8 style).
  DType activations = DType::fp16;
  int64_t group_size = 0;
  bool bias = false;
};
OpCost gemm_cost(const GemmShape& s);
// Bytes of one weight matrix including scales/zero points (shared with memory totals).
double weight_bytes(int64_t k, int64_t n, DType weights, int64_t group_size);
// The parts of gemm_cost that scale with the weights touched, not with m: the dequantization work
// (0 for float weights) -- used by the MoE expert rows, which touch several experts' weights.
double gemm_dequant_ops(const GemmShape& s);
// True when the weights are stored in a quantized format (int8, int4, fp8) that carries scales.
bool is_quantized_weight(DType weights);
// Element size of the output y of a GEMM whose inputs are in `activations`.
double gemm_output_bytes(DType activations);

// Row-wise ops over `rows` rows of `dim` elements with element size `act_bytes`.
OpCost rmsnorm_cost(int64_t rows, int64_t dim, double act_bytes);      // reads x, gamma; writes y
OpCost add_rmsnorm_cost(int64_t rows, int64_t dim, double act_bytes);  // reads x,res,gamma; writes res',y
OpCost add_cost(int64_t rows, int64_t dim, double act_bytes);
OpCost softmax_cost(int64_t rows, int64_t cols, double act_bytes);
// silu(gate) * up over rows x inter (gated); plain act when gated == false.
OpCost activation_cost(int64_t rows, int64_t inter, bool gated, double act_bytes);
// Rotary embedding applied in place to Q (q_heads) and K (kv_heads) for `tokens` tokens.
OpCost rope_cost(int64_t tokens, int64_t q_heads, int64_t kv_heads, int64_t head_dim,
                 double act_bytes);

struct AttentionShape {
  int64_t batch = 1;
  int64_t q_heads = 32, kv_heads = 32, head_dim = 128;
  int64_t q_len = 1;    // new tokens (prompt length in prefill, 1 in decode)
  int64_t kv_len = 1;   // keys visible to the last query (context incl. the new tokens)
  bool causal = true;
  int64_t sliding_window = 0;  // 0 = none
  double act_bytes = 2;        // Q and O element size
  DType kv = DType::fp16;      // KV cache format (int8/int4 carry per-token-per-head fp16 scales)
  double onchip_bytes = 0;     // SRAM per SM/core, for FlashAttention tiling
};
// Unfused attention (scores materialised): the three pieces the tables list.
OpCost qk_matmul_cost(const AttentionShape& s);
OpCost attention_softmax_cost(const AttentionShape& s);
OpCost sv_matmul_cost(const AttentionShape& s);
// FlashAttention: one fused kernel, IO as in Dao et al. 2022 §3.2 with the tile size the on-chip
// memory allows; no s×s matrix touches memory.
OpCost fused_attention_cost(const AttentionShape& s);
// Number of (query, key) pairs actually scored for ONE sequence and ONE query head, honouring
// causality and the sliding window. The queries are the last q_len positions of kv_len.
double attention_pairs(const AttentionShape& s);
// Bytes of one token's K (or V) for one KV head, incl. the per-token-per-head scale of int8/int4.
double kv_bytes_per_token_head(int64_t head_dim, DType kv);
// Element size of materialised scores / probabilities (fp32 for fp32 activations, else fp16).
double score_bytes(double act_bytes);
// FlashAttention query-tile rows B_r = min(ceil(M / 4d), d), M = on-chip elements (Dao et al. 2022,
// Algorithm 1); 64 when the on-chip size is unknown (0).
int64_t flash_q_tile_rows(int64_t head_dim, double act_bytes, double onchip_bytes);

}  // namespace llmroof
