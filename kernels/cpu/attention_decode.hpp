#pragma once
// Internal interface between the flash-decoding driver (attention_decode.cpp: splits, merge) and its
// AVX-512 split kernel (attention_decode_avx512.cpp). Public API: attention_decode() in attention.hpp.
#include <cstdint>

#include "kernels/cpu/attention.hpp"

namespace llmroof::kernels {

inline constexpr int64_t kDecodeBlock = 16;  // tokens scored together (one zmm of scores)

// Tokens [t0, t1) of one batch row, all heads. Outputs are the unnormalised partials of the
// split: running max m (exp2 domain), sum l and output o = sum 2^(s - m) · v, per q head.
struct DecodeSplit {
  const float* q;          // [q_heads, head_dim] of this batch row
  // int8 caches on VNNI CPUs (head_dim a multiple of 32), else null: q of this batch row as int16,
  // q ≈ q16 · q16_scale[h] with q16_scale[h] = max|q_h| / 32767 (see quantize_q16), so q·k is an
  // exact integer dot product (vpdpwssd) and only q's rounding (<= 2^-16 of max|q_h|) is added.
  const int16_t* q16;      // [q_heads, head_dim]
  const float* q16_scale;  // [q_heads]
  // bf16 caches with head_dim % 32 == 0, else null: q of this batch row "pair-split" (see
  // split_pairs), matching the even/odd bf16 -> fp32 conversion of 32-element K/V chunks.
  const float* qp;         // [q_heads, head_dim]
  KvFormat format;
  const void* k;           // first element of this batch row of the K cache
  const void* v;
  const void* k_scale;     // int8: first scale of this batch row ([capacity, kv_heads])
  const void* v_scale;
  bool scales_fp16;
  int64_t q_heads, kv_heads, head_dim;  // head_dim multiple of 16
  int64_t t0, t1;
  float scale_log2;
  float* m;                // [q_heads]
  float* l;                // [q_heads]
  float* o;                // [q_heads, head_dim], zeroed by the caller
  float* scratch;          // decode_scratch_floats(q_heads) floats, 64-byte aligned
  // int8 caches on VNNI CPUs (head_dim a multiple of 32): P·V on integer dot products too, with the
  // block's probabilities (times the V scales) quantized to int16 per q head (see pv_i8_vnni).
  bool pv_i16 = false;
  // int8 caches on VNNI CPUs, head_dim % 64 == 0 (with q16): q·k with the block's 16 tokens in the
  // vector lanes (qk_lanes_i16 in attention_decode_avx512.cpp): K is transposed once per (block,
  // kv head) and shared by the group, so there is no per-(token, head) horizontal sum. q16 then
  // holds each quad of q as (q0, q2, q1, q3) (see interleave_quads).
  bool k_lanes = false;
};
// Per q head: 16 × 16 partial dot products, 16 probabilities, 16 lanes of the running sum, and the
// 16 int16 probabilities plus their scale of the int8 P·V (pv_i16).
// k_lanes adds the transposed K of one (block, kv head): head_dim / 2 vectors of 16 int16 pairs.
inline int64_t decode_scratch_floats(int64_t q_heads, int64_t head_dim = 0) {
  return q_heads * (kDecodeBlock * 16 + kDecodeBlock + 32) + head_dim * 8;
}
void decode_split_avx512(const DecodeSplit& s);
// The same split on AVX2 + FMA (attention_decode_avx2.cpp): 8-token blocks, fp32/bf16/int8 caches;
// ignores q16 (null on this path); bf16 caches always come with qp split in chunks of 16 (see
// split_pairs); uses less of the same scratch.
void decode_split_avx2(const DecodeSplit& s);

// Symmetric int16 quantization of each of `rows` rows of q (scale = max abs / 32767; an all-zero
// row gets scale 0). Round to nearest, so |q - q16 · scale| <= scale / 2.
// Reorders each 32-element chunk of `rows` rows of x (head_dim % 32 == 0): y[c + j] = x[c + 2j],
// y[c + 16 + j] = x[c + 2j + 1] for j < 16 (even elements, then odd ones).
void split_pairs(const float* x, float* y, int64_t rows, int64_t head_dim);
// The same with chunks of `chunk` elements (an even number dividing head_dim): the AVX2 split
// kernel converts bf16 K/V 16 elements (one 32-byte load) at a time, so it takes chunk = 16.
void split_pairs(const float* x, float* y, int64_t rows, int64_t head_dim, int64_t chunk);

void quantize_q16(const float* q, int16_t* q16, float* scale, int64_t rows, int64_t head_dim);
// In place, each quad (x0, x1, x2, x3) of n (a multiple of 4) becomes (x0, x2, x1, x3): the pairs
// that qk_lanes_i16 multiplies with the even bytes (0, 2) and the odd bytes (1, 3) of a K dword.
void interleave_quads(int16_t* x, int64_t n);

}  // namespace llmroof::kernels
