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
// 16 × 16 transpose of dwords: on return lane t of r[j] is what lane j of r[t] was. Unpacks of
// dwords and qwords build 4 × 4 blocks inside each 128-bit lane; two rounds of 128-bit shuffles
// then move the blocks (64 shuffles in all).
inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  __m512i u[4][4];  // u[G][e], 128-bit lane k: element 4k + e of rows 4G .. 4G + 3
  for (int G = 0; G < 4; ++G) {
    u[G][0] = _mm512_unpacklo_epi64(t[4 * G], t[4 * G + 2]);
    u[G][1] = _mm512_unpackhi_epi64(t[4 * G], t[4 * G + 2]);
    u[G][2] = _mm512_unpacklo_epi64(t[4 * G + 1], t[4 * G + 3]);
    u[G][3] = _mm512_unpackhi_epi64(t[4 * G + 1], t[4 * G + 3]);
  }
  for (int e = 0; e < 4; ++e) {
    const __m512i x0 = _mm512_shuffle_i32x4(u[0][e], u[1][e], 0x44), x1 = _mm512_shuffle_i32x4(u[0][e], u[1][e], 0xEE);
    const __m512i y0 = _mm512_shuffle_i32x4(u[2][e], u[3][e], 0x44), y1 = _mm512_shuffle_i32x4(u[2][e], u[3][e], 0xEE);
    r[e] = _mm512_shuffle_i32x4(x0, y0, 0x88);
    r[4 + e] = _mm512_shuffle_i32x4(x0, y0, 0xDD);
    r[8 + e] = _mm512_shuffle_i32x4(x1, y1, 0x88);
    r[12 + e] = _mm512_shuffle_i32x4(x1, y1, 0xDD);
  }
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
// block probabilities to u8, w8_t = round(2^(s_t - block max) · vscale_t · 255 / max_t vscale_t),
// with the scale ws = 2^(block max - running max) · max_t vscale_t / 255, the rounding
// attention_ref models bit for bit (attention.hpp), stored as 4 dwords of 4 tokens each.
// pv_u8_vnni byte-interleaves the V rows of 4 tokens so one vpdpbusd (u8 weights broadcast × s8 V)
// adds 4 tokens to 16 channels: 64 MACs per instruction, twice the int16 vpdpwssd's, and no int8
// -> fp32 conversion of V. Sums are exact in int32 (|sum| <= 16 · 255 · 128 < 2^31); they reach o
// once per block as fp32 · ws.
// Channels [c, c + 32) of GB q heads. Rows r0..r3 (32 bytes each) become 2 vectors whose dword
// lanes hold one channel of the 4 tokens: unpack bytes of (r0|r2, r1|r3), a 128-bit shuffle, then
// unpack words, 8 shuffles per 4 tokens for all GB heads. The four 4-lane quarters of acc0 then hold
// channels 0-3, 16-19, 8-11, 24-27 (acc1: each + 4); o keeps that order over the whole split (the
// rescales are per element) and unsplit_u8 puts it back once at its end, instead of two permutes
// per 32 channels, head and block (measured on Zen 5, GQA 8, KV in L3: +2-3 %).
template <int GB, typename P>
inline void pv_u8_vnni(const DecodeSplit& s, const int8_t* vrow0, int64_t row, int64_t nt, int64_t h0,
                       const int32_t* pw, const float* ws, int64_t c, P& pf) {
  const int64_t hd = s.head_dim;
  __m512i acc0[GB], acc1[GB];
  for (int x = 0; x < GB; ++x) acc0[x] = acc1[x] = _mm512_setzero_si512();
  const int32_t* pj = pw + h0 * 4;  // the 4 weights of tokens 4j .. 4j + 3 of head h0 + x: pj[4x + j]
  auto step4 = [&](const int8_t* r0, const int8_t* r1, const int8_t* r2, const int8_t* r3) {
    pf.step();
    pf.step();
    const auto ld = [](const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
    const __m512i a = _mm512_inserti64x4(_mm512_castsi256_si512(ld(r0)), ld(r2), 1);
    const __m512i b = _mm512_inserti64x4(_mm512_castsi256_si512(ld(r1)), ld(r3), 1);
    const __m512i lo = _mm512_unpacklo_epi8(a, b), hi = _mm512_unpackhi_epi8(a, b);
    const __m512i x01 = _mm512_shuffle_i64x2(lo, hi, 0x44), x23 = _mm512_shuffle_i64x2(lo, hi, 0xEE);
    const __m512i d0 = _mm512_unpacklo_epi16(x01, x23), d1 = _mm512_unpackhi_epi16(x01, x23);
    for (int x = 0; x < GB; ++x) {
      const __m512i w = _mm512_set1_epi32(pj[4 * x]);
      dpbusd(acc0[x], w, d0);
      dpbusd(acc1[x], w, d1);
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
    _mm512_storeu_ps(o, _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc0[x]), w, _mm512_loadu_ps(o)));
    _mm512_storeu_ps(o + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc1[x]), w, _mm512_loadu_ps(o + 16)));
  }
}

// The output rows of a split from pv_u8_vnni's channel order back to the natural one.
inline void unsplit_u8(float* o, int64_t rows, int64_t hd) {
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
  const __m512i second = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
  permute_rows32(o, rows * hd, first, second);
}

template <int GB, typename P>
inline void pv_heads_u8_vnni(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                             const int32_t* pw, const float* ws, P& pf) {
  for (int64_t c = 0; c < s.head_dim; c += 32)
    pv_u8_vnni<GB>(s, static_cast<const int8_t*>(vrow0), row, nt, h0, pw, ws, c, pf);
}

}  // namespace
}  // namespace llmroof::kernels::avx512
