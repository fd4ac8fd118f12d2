#pragma once
// Internal interface between the flash-decoding driver (attention_decode.cpp: splits, merge) and its
// AVX-512 split kernel (attention_decode_avx512.cpp). Public API: attention_decode() in attention.hpp.
#include <cstdint>

#include "kernels/cpu/attention.hpp"

namespace llmroof::kernels {

inline constexpr int64_t kDecodeBlock = 16;  // tokens scored together (one zmm of scores)

// Bytes of one K or V element in the cache.
constexpr int64_t kv_element_bytes(KvFormat f) { return f == KvFormat::fp32 ? 4 : f == KvFormat::bf16 ? 2 : 1; }

// Tokens [t0, t1) of one batch row, all heads. Outputs are the unnormalised partials of the
// split: running max m (exp2 domain), sum l and output o = sum 2^(s - m) · v, per q head.
struct DecodeSplit {
  const float* q;          // [q_heads, head_dim] of this batch row (int8 / bf16 caches: rounded,
                           // q8 · scale / the bf16 value)
  // int8 caches on VNNI CPUs with head_dim % 64 == 0, else null: q of this batch row rounded to
  // int8 per head (quantize_int8_rows: q ≈ q8 · q8_scale[h], the rounding every int8 path and the
  // reference use), and q8_bias[h] = 128 · Σ_c q8[h][c], which removes the +128 that makes K
  // unsigned for vpdpbusd (qk_heads_u8, qk_lanes_u8 in attention_decode_avx512_int8.hpp).
  const int8_t* q8;        // [q_heads, head_dim]
  const float* q8_scale;   // [q_heads]
  const int32_t* q8_bias;  // [q_heads]
  // bf16 caches with head_dim % 32 == 0, else null: q of this batch row "pair-split" (see
  // split_pairs), matching the even/odd bf16 -> fp32 conversion of 32-element K/V chunks.
  const float* qp;         // [q_heads, head_dim]
  // bf16 caches on AVX512_BF16 CPUs with head_dim % 32 == 0 and GQA >= 8 (base_split), else null:
  // q of this batch row as bf16 bits (the bf16-rounded q every path uses), 64-byte aligned, for
  // q·k on vdpbf16ps (qk_heads_dpbf16 in attention_decode_avx512_bf16.hpp).
  const uint16_t* q16;     // [q_heads, head_dim]
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
  // int8 caches with q8 and GQA >= 8 (decode_quantizes_p): P·V on integer dot products too, with
  // the block's probabilities (times the V scales) rounded to u8 per q head (see pv_u8_vnni). The
  // split then goes kDecodeU8Block tokens at a time (two 16-token score blocks) and t0 is a
  // multiple of it, so the blocks are the absolute 32-token blocks of the
  // rounding attention_ref models.
  bool pv_u8 = false;
  // int8 caches on VNNI CPUs, head_dim % 64 == 0 (with q8): q·k with the block's 16 tokens in the
  // vector lanes (qk_lanes_u8 in attention_decode_avx512_int8.hpp): K is transposed once per
  // (block, kv head) and shared by the group, so there is no per-(token, head) horizontal sum.
  bool k_lanes = false;
};
// Per q head: 16 × 16 partial dot products, 16 probabilities, 16 lanes of the running sum, and the
// 32 u8 probabilities (8 dwords) plus their scale (8 reserved) of the int8 P·V (pv_u8).
// k_lanes adds the transposed K of one (block, kv head): head_dim / 4 vectors of 16 dwords; int8
// caches the block's K and V scales as fp32 (2 · 16 · kv_heads, with pv_u8 2 · 32 · kv_heads,
// <= 32 · q_heads).
inline int64_t decode_scratch_floats(int64_t q_heads, int64_t head_dim = 0) {
  return q_heads * (kDecodeBlock * 16 + kDecodeBlock + 32) + head_dim * 4 + q_heads * 2 * kDecodeBlock;
}
void decode_split_avx512(const DecodeSplit& s);
// The same split on AVX2 + FMA (attention_decode_avx2.cpp): 8-token blocks, fp32/bf16/int8 caches;
// ignores q8 (null on this path; s.q is the rounded q); bf16 caches always come with qp
// split in chunks of 16 (see split_pairs); uses less of the same scratch.
void decode_split_avx2(const DecodeSplit& s);

// bf16 caches on AMX-BF16 CPUs (decode_bf16_amx): the split on tiles (attention_decode_amx.cpp),
// hc q heads per tile (decode_amx_heads_per_tile). Reads s.q16 (set on this path), writes m, l
// and o like the AVX-512 split; its scratch is decode_amx_scratch_bytes, 64-byte aligned.
void decode_split_amx_bf16(const DecodeSplit& s, int64_t hc);
int64_t decode_amx_scratch_bytes(int64_t q_heads, int64_t head_dim);
// int8 caches on AMX-INT8 CPUs (decode_int8_amx): the split on tiles
// (attention_decode_amx_int8.cpp), hc <= 8 q heads per tile. Reads s.q8 and s.q8_scale, rounds the
// probabilities to u8 as s.pv_u8 says (t0 a multiple of kDecodeU8Block), writes m, l and o like the
// AVX-512 split; its scratch is decode_amx_int8_scratch_bytes, 64-byte aligned.
void decode_split_amx_int8(const DecodeSplit& s, int64_t hc);
int64_t decode_amx_int8_scratch_bytes(int64_t q_heads, int64_t kv_heads, int64_t head_dim,
                                      int64_t hc);
// q heads per tile for a GQA group: the group itself up to `most` (16 for bf16: a tile's rows; 8
// for int8: the split puts two 16-token halves of 8 heads in one vector), above that the largest
// equal share of at most `most`; 0 where no equal share exists (then no AMX).
inline int64_t decode_amx_heads_per_tile(int64_t group, int64_t most = 16) {
  const int64_t tiles = (group + most - 1) / most;
  return group % tiles == 0 ? group / tiles : 0;
}
namespace detail {
// Whether attention_decode may take the AMX splits where decode_bf16_amx's or decode_int8_amx's
// other conditions hold (default true; tests and benchmarks turn it off to run the vdpbf16ps and
// vpdpbusd paths on AMX CPUs). Change it only while no attention_decode call runs.
bool& decode_amx_allowed();
}  // namespace detail

// quantize_int8_rows of `rows` rows of q on AVX-512 (head_dim a multiple of 16), bit-identical to
// it (the same division, clamp and round-to-nearest-even), plus what the int8 paths read per row:
// qr = q8 · scale as fp32 and bias = 128 · Σ q8 (DecodeSplit::q8_bias).
void quantize_q8_avx512(const float* q, int8_t* q8, float* scale, int32_t* bias, float* qr, int64_t rows,
                        int64_t head_dim);
// Reorders each 32-element chunk of `rows` rows of x (head_dim % 32 == 0): y[c + j] = x[c + 2j],
// y[c + 16 + j] = x[c + 2j + 1] for j < 16 (even elements, then odd ones).
void split_pairs(const float* x, float* y, int64_t rows, int64_t head_dim);
// The same with chunks of `chunk` elements (an even number dividing head_dim): the AVX2 split
// kernel converts bf16 K/V 16 elements (one 32-byte load) at a time, so it takes chunk = 16.
void split_pairs(const float* x, float* y, int64_t rows, int64_t head_dim, int64_t chunk);

}  // namespace llmroof::kernels
