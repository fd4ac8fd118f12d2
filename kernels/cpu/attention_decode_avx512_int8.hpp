#pragma once
// The integer dot-product pieces of the AVX-512 flash-decoding split for int8 KV caches on VNNI
// CPUs, included only by attention_decode_avx512.cpp (the only file compiled with AVX-512 flags
// that uses them; internal linkage, see simd_avx512.hpp):
//   q·k  qk_lanes_u8: vpdpbusd (u8 × s8, 4 products per dword lane, 64 MACs per instruction) on q
//        rounded to int8 and K offset to unsigned, with the block's 16 tokens in the vector lanes
//        (K transposed once per (block, kv head) and shared by the GQA group);
//   P·V  pv_u8_vnni: vpdpbusd on the block's probabilities quantized to u8 (GQA >= 8).
// The VNNI instructions are issued through inline asm (the file is not compiled with
// -mavx512vnni; the caller checks the CPU), which also keeps GCC 12 from copying every accumulator
// through a spare register around the intrinsics (measured: 16 extra moves per 16 dot products).
#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels::avx512 {
namespace {

// acc += per dword lane, the sum of the products of the 4 unsigned bytes of u8 with the 4 signed
// bytes of the dword *s8x4 (broadcast to all lanes). Products and sums are exact int32
// (vpdpbusd does not saturate).
inline void dpbusd_bcast(__m512i& acc, __m512i u8, const int32_t* s8x4) {
  asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(u8), "m"(*s8x4));
}
inline void dpbusd(__m512i& acc, __m512i u8, __m512i s8) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
}
// K of one (block, kv head) with the tokens in the lanes (DecodeSplit::k_lanes): lane t of kt[j]
// holds bytes 4j .. 4j + 3 of token t's row, each + 128 (x ^ 0x80 maps int8 x to the uint8 x + 128
// that vpdpbusd's unsigned operand needs). k0 is token 0's row, `row` the stride between tokens;
// slots past the block's nt tokens repeat its last token (one running pointer, not 16: fewer
// registers spilled). head_dim / 4 vectors; 64 shuffles and 16 xors per 64 bytes of the rows.
inline void transpose_k_u8(const DecodeSplit& s, const int8_t* k0, int64_t row, int64_t nt, __m512i* kt) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t c = 0; c < s.head_dim; c += 64) {
    __m512i r[16];
    const int8_t* p = k0 + c;
    for (int t = 0; t < 16; ++t) {
      r[t] = _mm512_loadu_si512(p);
      p += t + 1 < nt ? row : 0;
    }
    transpose16(r);
    for (int j = 0; j < 16; ++j) kt[c / 4 + j] = _mm512_xor_si512(r[j], flip);
  }
}

// Σ_c (k_c + 128) q8_c = k·q8 + 128 Σ q8 = k·q8 + s.q8_bias[h]: the K offset of the two q·k
// forms below comes off in softmax_heads. All sums are exact in int32 and in their fp32 conversion:
// |Σ (k + 128) q8| <= head_dim · 255 · 127 < 2^24 for head_dim <= 512 (and so every partial sum).

// q·k on int8 q (s.q8) and U token rows of K: the U × GB blocking of qk_heads, 64 MACs per
// vpdpbusd (K made unsigned by one xor per 64 bytes, shared by the GB heads); the 16-lane partial
// sums go to red[h][tt + u] as fp32 for reduce16, like the fp32 path's.
template <int U, int GB>
inline void qk_heads_u8(const DecodeSplit& s, const int64_t* kbase, int64_t h0, float* red) {
  const int64_t hd = s.head_dim;
  const int8_t* k = static_cast<const int8_t*>(s.k);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc[U][GB];
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) acc[u][x] = _mm512_setzero_si512();
  for (int64_t c = 0; c < hd; c += 64) {
    __m512i kc[U];
    for (int u = 0; u < U; ++u) kc[u] = _mm512_xor_si512(_mm512_loadu_si512(k + kbase[u] + c), flip);
    for (int x = 0; x < GB; ++x) {
      const __m512i qx = _mm512_loadu_si512(s.q8 + (h0 + x) * hd + c);
      for (int u = 0; u < U; ++u) dpbusd(acc[u][x], kc[u], qx);
    }
  }
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x)
      _mm512_store_ps(red + ((h0 + x) * kDecodeBlock + u) * 16, _mm512_cvtepi32_ps(acc[u][x]));
}

// q·k for GB q heads on the transposed K: one vpdpbusd per dword of q8 (4 int8 values, broadcast)
// adds their products with all 16 tokens, so the scores come out one token per lane, to
// red[h][0][0..15] as fp32 (no transpose-add tree). NA accumulators per head keep NA·GB >= 8
// dependency chains in flight (NA divides head_dim / 4, a multiple of 16).
template <int GB>
inline void qk_lanes_u8(const DecodeSplit& s, const __m512i* kt, int64_t h0, float* red) {
  constexpr int NA = GB >= 4 ? 2 : 8 / GB;
  const int64_t n = s.head_dim / 4;
  const int32_t* q32 = reinterpret_cast<const int32_t*>(s.q8);
  __m512i acc[GB][NA];
  for (int x = 0; x < GB; ++x)
    for (int a = 0; a < NA; ++a) acc[x][a] = _mm512_setzero_si512();
  for (int64_t i = 0; i < n; i += NA)
    for (int x = 0; x < GB; ++x)
      for (int a = 0; a < NA; ++a) dpbusd_bcast(acc[x][a], kt[i + a], q32 + (h0 + x) * n + i + a);
  for (int x = 0; x < GB; ++x) {
    __m512i sum = acc[x][0];
    for (int a = 1; a < NA; ++a) sum = _mm512_add_epi32(sum, acc[x][a]);
    _mm512_store_ps(red + (h0 + x) * kDecodeBlock * 16, _mm512_cvtepi32_ps(sum));
  }
}

// Lane h (< 8) of the result = max over the 16 lanes of v[h]: a max tree over the 8 vectors (24
// shuffles and maxes instead of 8 horizontal maxes of 7 steps each, and no scalar results). After
// the 128-bit-lane rounds, lane k of y0 holds heads 0, 4, 2, 6 (k = 0..3), of y1 heads 1, 5, 3, 7;
// the in-lane rounds leave head h's max at element `at[h]`. Max is exact, so any order gives the
// same value as the reference's.
inline __m512 hmax8(const __m512 v[8]) {
  __m512 x[4];
  for (int i = 0; i < 4; ++i)
    x[i] = _mm512_max_ps(_mm512_shuffle_f32x4(v[i], v[i + 4], 0x44), _mm512_shuffle_f32x4(v[i], v[i + 4], 0xEE));
  const __m512 y0 = _mm512_max_ps(_mm512_shuffle_f32x4(x[0], x[2], 0x88), _mm512_shuffle_f32x4(x[0], x[2], 0xDD));
  const __m512 y1 = _mm512_max_ps(_mm512_shuffle_f32x4(x[1], x[3], 0x88), _mm512_shuffle_f32x4(x[1], x[3], 0xDD));
  const __m512 z = _mm512_max_ps(_mm512_shuffle_ps(y0, y1, 0x44), _mm512_shuffle_ps(y0, y1, 0xEE));
  const __m512 w = _mm512_max_ps(z, _mm512_permute_ps(z, 0xB1));
  const __m512i at = _mm512_setr_epi32(0, 2, 8, 10, 4, 6, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(at, w);
}

// int8 V on VNNI (s.pv_u8): P·V as integer dot products over 4 tokens. softmax_u8 rounds a head's
// probabilities over a block of kDecodeU8Block tokens to u8, w8_t = round(2^(s_t - block max) ·
// vscale_t · 255 / max_t vscale_t), with the scale ws = 2^(block max - running max) · max_t
// vscale_t / 255, the rounding attention_ref models bit for bit (attention.hpp), stored as
// kU8Dwords dwords of 4 tokens each per head.
// pv_u8_vnni byte-interleaves the V rows of 4 tokens so one vpdpbusd (u8 weights broadcast × s8 V)
// adds 4 tokens to 16 channels: 64 MACs per instruction, twice the int16 vpdpwssd's, and no int8
// -> fp32 conversion of V. Sums are exact in int32 and in their fp32 conversion (|sum| <= 32 · 255
// · 128 < 2^24); they reach o once per 32-token block as fp32 · ws (each accumulator takes 8
// vpdpbusd per conversion, load, FMA and store; 4 with 16-token blocks, where that flush cost
// 18 % of the GQA 8 split: measured by skipping it).
inline constexpr int64_t kU8Dwords = kDecodeU8Block / 4;
// Channels [c, c + 64) of GB <= 4 q heads. Rows r0..r3 (64 bytes each) become 4 vectors whose dword
// lanes hold one channel of the 4 tokens by in-lane unpacks only: bytes of (r0, r1) and (r2, r3),
// then words of the two, 8 unpacks per 4 tokens for all GB heads. On Zen 5 in-lane unpacks issue
// beside vpdpbusd for free, while each 128-bit-lane shuffle takes a vpdpbusd slot (/tmp
// microbenchmark: 12 vpdpbusd 1.63 ns, + 8 vpunpcklbw 1.63 ns, + 8 vshufi64x2 2.08 ns). 128-bit
// lane L of d_k then holds channels 16L + 4k .. 16L + 4k + 3, stored at o + c + 16k + 4L: o keeps
// that order (a transpose of 4 × 4 blocks of 4 channels per 64) over the whole split (the rescales
// are per element) and unsplit_u8 puts it back once at its end.
template <int GB, typename P>
inline void pv_u8_vnni(const DecodeSplit& s, const int8_t* vrow0, int64_t row, int64_t nt, int64_t h0,
                       const int32_t* pw, const float* ws, int64_t c, P& pf) {
  static_assert(GB <= 4, "4 accumulators per head: 16 of the 32 registers for 4 heads");
  const int64_t hd = s.head_dim;
  __m512i acc[GB][4];
  for (int x = 0; x < GB; ++x)
    for (int k = 0; k < 4; ++k) acc[x][k] = _mm512_setzero_si512();
  // the 4 weights of tokens 4j .. 4j + 3 of head h0 + x: pj[kU8Dwords · x + j]
  const int32_t* pj = pw + h0 * kU8Dwords;
  auto step4 = [&](const int8_t* r0, const int8_t* r1, const int8_t* r2, const int8_t* r3) {
    pf.step();
    pf.step();
    const __m512i a = _mm512_loadu_si512(r0), b = _mm512_loadu_si512(r1);
    const __m512i e = _mm512_loadu_si512(r2), f = _mm512_loadu_si512(r3);
    const __m512i x0 = _mm512_unpacklo_epi8(a, b), x1 = _mm512_unpackhi_epi8(a, b);
    const __m512i y0 = _mm512_unpacklo_epi8(e, f), y1 = _mm512_unpackhi_epi8(e, f);
    const __m512i d[4] = {_mm512_unpacklo_epi16(x0, y0), _mm512_unpackhi_epi16(x0, y0),
                          _mm512_unpacklo_epi16(x1, y1), _mm512_unpackhi_epi16(x1, y1)};
    for (int x = 0; x < GB; ++x) {
      const __m512i w = _mm512_set1_epi32(pj[kU8Dwords * x]);
      for (int k = 0; k < 4; ++k) dpbusd(acc[x][k], w, d[k]);
    }
    ++pj;
  };
  const int8_t* r = vrow0 + c;
  int64_t t = 0;
  for (; t + 4 <= nt; t += 4, r += 4 * row) step4(r, r + row, r + 2 * row, r + 3 * row);
  if (t < nt) {  // the block's tail: slots past nt repeat its last token (their weights are 0)
    const int64_t last = nt - 1 - t;
    step4(r, r + (last < 1 ? last : 1) * row, r + (last < 2 ? last : 2) * row, r + (last < 3 ? last : 3) * row);
  }
  for (int x = 0; x < GB; ++x) {
    const __m512 w = _mm512_set1_ps(ws[h0 + x]);
    float* o = s.o + (h0 + x) * hd + c;
    for (int k = 0; k < 4; ++k)
      _mm512_storeu_ps(o + 16 * k, _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[x][k]), w, _mm512_loadu_ps(o + 16 * k)));
  }
}

// The output rows of a split from pv_u8_vnni's channel order back to the natural one: per 64
// channels a 4 × 4 transpose of 128-bit lanes (natural vector L = lane L of stored vectors 0..3).
inline void unsplit_u8(float* o, int64_t rows, int64_t hd) {
  for (int64_t c = 0; c < rows * hd; c += 64) {
    const __m512 v0 = _mm512_loadu_ps(o + c), v1 = _mm512_loadu_ps(o + c + 16);
    const __m512 v2 = _mm512_loadu_ps(o + c + 32), v3 = _mm512_loadu_ps(o + c + 48);
    const __m512 a = _mm512_shuffle_f32x4(v0, v1, 0x44), b = _mm512_shuffle_f32x4(v0, v1, 0xEE);
    const __m512 e = _mm512_shuffle_f32x4(v2, v3, 0x44), f = _mm512_shuffle_f32x4(v2, v3, 0xEE);
    _mm512_storeu_ps(o + c, _mm512_shuffle_f32x4(a, e, 0x88));
    _mm512_storeu_ps(o + c + 16, _mm512_shuffle_f32x4(a, e, 0xDD));
    _mm512_storeu_ps(o + c + 32, _mm512_shuffle_f32x4(b, f, 0x88));
    _mm512_storeu_ps(o + c + 48, _mm512_shuffle_f32x4(b, f, 0xDD));
  }
}

// GB heads (8 as two passes of 4: 4 × 4 accumulators fit the registers, and V's reload and unpacks
// from L1 cost no vpdpbusd slot) over head_dim (a multiple of 64 on this path) in 64 channels.
template <int GB, typename P>
inline void pv_heads_u8_vnni(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                             const int32_t* pw, const float* ws, P& pf) {
  constexpr int G = GB < 4 ? GB : 4;
  for (int64_t c = 0; c < s.head_dim; c += 64)
    for (int x = 0; x < GB; x += G)
      pv_u8_vnni<G>(s, static_cast<const int8_t*>(vrow0), row, nt, h0 + x, pw, ws, c, pf);
}

}  // namespace
}  // namespace llmroof::kernels::avx512
