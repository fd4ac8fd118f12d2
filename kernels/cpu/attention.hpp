#pragma once
// Attention kernels (fp32 activations). Layouts (row-major, dense unless a stride says otherwise):
//   Q, O     [batch, q_len, q_heads, head_dim]          (the projection output, after RoPE)
//   K, V     [batch, kv_capacity, kv_heads, head_dim]   (token-major: the prefill projections and
//             the decode KV cache share one layout; the first kv_len tokens of each batch row are
//             valid, kv_capacity >= kv_len is the per-batch row stride in tokens)
// GQA: q head h reads kv head h / (q_heads / kv_heads). Causal: query i (0-based among the q_len
// new tokens) sees keys j <= i + (kv_len - q_len), i.e. the new tokens are the last q_len of the
// context. scale 0 means 1/sqrt(head_dim).
//
// attention_prefill: flash attention (online softmax over key tiles of 64, query tiles of 64, never
//   materialising q_len × kv_len scores); parallel over batch × q_heads × query tiles. q_len 1
//   is handed to attention_decode (one query per tile would leave 63 of 64 lanes idle).
// attention_decode:  flash-decoding for q_len == 1: each thread takes a contiguous range of KV
//   tokens (all heads, so memory is read sequentially), keeps per-head partial (max, sum, output),
//   and the partials are merged. The KV cache may be fp32, bf16 or int8 with one scale per
//   (batch, token, kv head) — fp32 or fp16 — and symmetric quantization: value = int8 · scale.
//   With an int8 cache q is rounded to int8 too (per q head, quantize_int8_rows: scale =
//   max|q_h| / 127), as llama.cpp's q8 paths do, so q·k is an integer dot product (vpdpbusd).
//   With a bf16 cache q is rounded to bf16 (float_to_bf16, round to nearest even), as production
//   bf16 attention does (FlashAttention's q is bf16), so q·k can be a bf16 dot product (vdpbf16ps;
//   a product of two bf16 is exact in fp32). The added error is of the cache's own order.
//   Every path, the reference included, uses that rounded q.
//   With a bf16 cache at GQA >= 8 on AVX512_BF16 CPUs (head_dim % 32 == 0;
//   decode_bf16_dot_products) q·k and P·V are both bf16 dot products (vdpbf16ps), so the
//   probabilities 2^(s - m) are rounded to bf16 (round to nearest even) before P·V, as
//   FlashAttention rounds P to the input type before its P·V matmul; the running sum keeps them
//   unrounded. Each weight moves by at most 2^-8 of itself (bf16 keeps 8 significant bits), so
//   |Δo| <= 2^-8 · Σ w|v| / Σ w, the order of the bf16 rounding of V itself. The reference does not
//   model it (the kernel's scores, fp32 sums in vdpbf16ps order, decide which way a weight rounds):
//   decode_tolerance (attention_tolerance.hpp) states what the checks allow instead. With an int8
//   cache at GQA >= 8 on AVX-512 VNNI CPUs (head_dim % 64 == 0; decode_quantizes_p) the
//   probabilities are rounded too, so P·V is a u8 × s8 dot product (vpdpbusd, 4 tokens per
//   instruction; on AMX-INT8 CPUs tdpbusd, with q·k on tdpbssd: decode_int8_amx). Per q head and
//   absolute 32-token block [32j, 32j + 32) of the context (kDecodeU8Block), all in fp32 in this
//   order: scores s_t = float(Σ q8·k8) · (((scale · log2 e) · kscale_t) · q8_scale) (log2 units),
//   the block max mb, e_t = exp2_ps(s_t - mb) <= 1 (the kernels' vector exp2, whose scalar twin the
//   reference runs), vmax = max_t vscale_t (scales >= 0), w8_t = round to nearest even (e_t ·
//   (vscale_t · (255 / vmax))) in 0..255. The block adds 2^(mb - M) · (vmax / 255) · Σ_t w8_t v8_t
//   to the numerator and 2^(mb - M) · Σ_t e_t (unrounded) to the denominator. A weight e_t ·
//   vscale_t moves by at most vmax / 510, so |Δo| <= 32 · 127 · max vscale / 510 ≈ 0.063 · max|V|
//   in the worst case (32 errors of one sign, e = 1 at each block's max); uniform data sees 1.2e-3
//   to 5.6e-3 of max|o| (7e-5 to 5.5e-3 absolute with |v| <= 1; attention_test.cpp), the order of
//   the int8 cache's own rounding of V (max|v| / 254 per element), but 10-50x the 1e-4 kernels
//   check tolerance: hence the reference models it. The splits start at multiples of 32 there, so
//   the result does not depend on the thread count. 32 tokens rather than the kernel's 16-token
//   score blocks: P·V's integer sums then run over 32 tokens before they are scaled into the fp32
//   output (half the conversions: +11-15 % compute on Zen 5, docs/kernels.md; 16-token blocks saw
//   1e-3 to 3.7e-3 of max|o|). Other paths (AVX2, GQA < 8, other head_dims) keep fp32
//   probabilities: u8 P·V only pays where 8+ q heads share each V byte (P·V on int16 was slower
//   below GQA 8), and their fp32 scores are not the bit-exact integer ones the rounding needs.
#include <cstdint>
#include <string>

#include "kernels/cpu/dispatch.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::kernels {

struct AttentionDims {
  int64_t batch = 1, q_heads = 32, kv_heads = 32, head_dim = 128;
  int64_t q_len = 1, kv_len = 1;
  int64_t kv_capacity = 0;  // tokens per batch row in K/V (0 = kv_len)
  bool causal = true;
  float scale = 0;          // 0 = 1/sqrt(head_dim)
  int64_t capacity() const { return kv_capacity > 0 ? kv_capacity : kv_len; }
  float softmax_scale() const;
};
// Throws std::invalid_argument naming the bad field (heads not divisible, kv_len < q_len, ...).
void validate(const AttentionDims& d);

void attention_prefill(const float* q, const float* k, const float* v, float* o,
                       const AttentionDims& d, ThreadPool& pool, Isa isa = best_isa());

enum class KvFormat { fp32, bf16, int8 };
struct KvCacheView {
  KvFormat format = KvFormat::fp32;
  const void* k = nullptr;  // [batch, capacity, kv_heads, head_dim] of float / uint16_t (bf16) / int8_t
  const void* v = nullptr;
  // int8 only: [batch, capacity, kv_heads] scales, fp32 or (scales_fp16) IEEE half.
  const void* k_scale = nullptr;
  const void* v_scale = nullptr;
  bool scales_fp16 = false;
};
// Both attention kernels have an AVX-512 path, an AVX2 + FMA path (isa == avx2, or a CPU without
// AVX-512) and the reference (attention_runs_reference).
void attention_decode(const float* q, const KvCacheView& kv, float* o, const AttentionDims& d,
                      ThreadPool& pool, Isa isa = best_isa());

// Scalar references (double accumulation, plain softmax over materialised scores per query).
// attention_ref handles any q_len and any KV format; prefill and decode are both checked against it.
// With an int8 cache it rounds each q head with quantize_int8_rows first, with a bf16 cache each
// q element with float_to_bf16 (see attention_decode).
void attention_ref(const float* q, const KvCacheView& kv, float* o, const AttentionDims& d);
// With u8_probabilities (int8 caches, q_len 1) the same with the u8 probabilities attention_decode
// uses where decode_quantizes_p (see attention_decode above), bit for bit in the weights.
void attention_ref(const float* q, const KvCacheView& kv, float* o, const AttentionDims& d,
                   bool u8_probabilities);
// Why attention_prefill / attention_decode hand (d, isa) to attention_ref (hundreds of times
// slower): no AVX2 + FMA path on this CPU (or isa == scalar), or head_dim not a multiple of 16;
// empty where they run a SIMD path. attention_runs_reference: whether that reason is non-empty.
std::string attention_reference_reason(const AttentionDims& d, Isa isa = best_isa());
bool attention_runs_reference(const AttentionDims& d, Isa isa = best_isa());
// Whether attention_decode(q, kv, o, d, pool, isa) does q·k as int8 dot products (vpdpbusd on
// q rounded to int8: int8 caches on AVX-512 VNNI CPUs, head_dim a multiple of 64) on this CPU.
bool decode_integer_qk(const KvCacheView& kv, const AttentionDims& d, Isa isa = best_isa());
// Whether it rounds the probabilities to u8 on this CPU (P·V as int8 dot products too): where
// decode_integer_qk, from GQA 8 up.
bool decode_quantizes_p(const KvCacheView& kv, const AttentionDims& d, Isa isa = best_isa());
// Tokens per block of those u8 probabilities: each absolute block [32j, 32j + 32) of a batch row's
// context is rounded against its own max score and max V scale (attention_decode above).
inline constexpr int64_t kDecodeU8Block = 32;
// Whether attention_decode(q, kv, o, d, pool, isa) does q·k and P·V as bf16 dot products
// (vdpbf16ps or AMX tdpbf16ps, the probabilities rounded to bf16) on this CPU: bf16 caches on
// AVX512_BF16 CPUs, head_dim a multiple of 32, from GQA 8 up, and wherever decode_bf16_amx.
bool decode_bf16_dot_products(const KvCacheView& kv, const AttentionDims& d, Isa isa = best_isa());
// Whether it runs them on AMX-BF16 tiles (tdpbf16ps; the same rounding): bf16 caches on AMX-BF16
// CPUs, head_dim a multiple of 32, GQA from kDecodeAmxMinGroup up where the group splits into equal
// tiles of at most 16 q heads.
bool decode_bf16_amx(const KvCacheView& kv, const AttentionDims& d, Isa isa = best_isa());
inline constexpr int64_t kDecodeAmxMinGroup = 8;
// Whether it runs an int8 cache on AMX-INT8 tiles (tdpbssd q·k, tdpbusd P·V on the same u8
// probabilities; attention_decode_amx_int8.cpp): where decode_integer_qk, on AMX-INT8 CPUs, GQA
// from kDecodeAmxInt8MinGroup up where the group splits into equal tiles of at most 8 q heads.
bool decode_int8_amx(const KvCacheView& kv, const AttentionDims& d, Isa isa = best_isa());
inline constexpr int64_t kDecodeAmxInt8MinGroup = 8;

// KV cache helpers, shared by tests, benchmarks and `validate`.
uint16_t float_to_bf16(float x);  // round to nearest even
// dst[i] = float_to_bf16(x[i]) for i < n, bit for bit; 16 lanes at a time where the CPU has AVX-512
// (a bf16 KV cache store, bf16 weights and tables: one out-of-line call per element cost validate's
// 64-token Qwen1.5-MoE prefill 3.3x its `rope` row).
void float_to_bf16_row(const float* x, uint16_t* dst, int64_t n);
void float_to_bf16_row_avx512(const float* x, uint16_t* dst, int64_t n);  // AVX-512 only
float bf16_to_float(uint16_t b);
uint16_t float_to_half(float x);
float half_to_float(uint16_t h);
// Symmetric int8 per (token, head) row of head_dim values: scale = max|x| / 127. `rows` rows.
void quantize_int8_rows(const float* x, int8_t* q, float* scale, int64_t rows, int64_t head_dim);

}  // namespace llmroof::kernels
