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
  DType activations = DType::fp16;  // format of x as read by the kernel (and of y as written)
  int64_t group_size = 0;
  bool bias = false;
};
OpCost gemm_cost(const GemmShape& s);
// Bytes of one weight matrix including scales/zero points (shared with memory totals).
double weight_bytes(int64_t k, int64_t n, DType weights, int64_t group_size);

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
// Number of (query, key) pairs actually scored, honouring causality and the sliding window.
double attention_pairs(const AttentionShape& s);

}  // namespace llmroof
