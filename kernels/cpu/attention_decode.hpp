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
};
inline int64_t decode_scratch_floats(int64_t q_heads) { return q_heads * (kDecodeBlock * 16 + kDecodeBlock); }
void decode_split_avx512(const DecodeSplit& s);

}  // namespace llmroof::kernels
