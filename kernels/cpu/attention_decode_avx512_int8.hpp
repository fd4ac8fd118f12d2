#pragma once
// The integer dot-product pieces of the AVX-512 flash-decoding split for int8 KV caches on VNNI
// CPUs, included only by attention_decode_avx512.cpp (the only file compiled with AVX-512 flags
// that uses them; internal linkage, see simd_avx512.hpp):
//   q·k  qk_lanes_u8: vpdpbusd (u8 × s8, 4 products per dword lane, 64 MACs per instruction) on q
//        rounded to int8 and K offset to unsigned, with the block's 16 tokens in the vector lanes
//        (K transposed once per (block, kv head) and shared by the GQA group);
//   P·V  pv_i8_vnni: vpdpwssd on the block's probabilities quantized to int16 (GQA >= 8).
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
// acc += per dword lane, the dot product of the int16 pair of a with the pair *b32 (broadcast).
inline void dpwssd_bcast(__m512i& acc, __m512i a, const int32_t* b32) {
  asm("vpdpwssd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(a), "m"(*b32));
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

// int8 V on VNNI (s.pv_i16): P·V as integer dot products over token pairs. quantize_p_i16 turns a
// head's 16 weights w_t = p_t · vscale_t (>= 0) into int16 w16_t = round(w_t / ws), ws = max_t w_t
// / 32767 (error <= ws / 2 per weight, i.e. 2^-16 of the block's largest), stored as 8 dwords
// (w16_2j, w16_2j+1). pv_i8_vnni interleaves the int16 V rows of tokens 2j and 2j+1 (unpack lo/hi)
// so one vpdpwssd with that dword broadcast adds both tokens to 16 channels: 32 MACs per
// instruction instead of 16 per FMA, and no int8 -> fp32 conversion of V. Sums are exact in int32
// (|sum| <= 16 · 32767 · 127 < 2^31); they reach o once per block as fp32 · ws.
inline void quantize_p_i16(const float* pbuf, int32_t* pw, float* ws, int64_t h0, int64_t h1) {
  for (int64_t h = h0; h < h1; ++h) {
    const __m512 w = _mm512_load_ps(pbuf + h * kDecodeBlock);
    const float mx = hmax(w);
    ws[h] = mx / 32767.f;
    const __m512 inv = _mm512_set1_ps(mx > 0 ? 32767.f / mx : 0.f);
    const __m256i w16 = _mm512_cvtepi32_epi16(_mm512_cvtps_epi32(_mm512_mul_ps(w, inv)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(pw + h * 8), w16);
  }
}

// Channels [c, c + 32) of GB q heads. Lane i of the lo/hi accumulators holds channel
// 8·(i / 4) + i % 4 (lo) or that + 4 (hi), the in-lane order of vpunpck*wd; one permute per 16
// channels puts them back in order. (Keeping the output rows in that order until the end of the
// split, instead of two permutes per block, measured no faster.)
template <int GB, typename P>
inline void pv_i8_vnni(const DecodeSplit& s, const int8_t* vrow0, int64_t row, int64_t nt, int64_t h0,
                       const int32_t* pw, const float* ws, int64_t c, P& pf) {
  const int64_t hd = s.head_dim;
  __m512i lo_acc[GB], hi_acc[GB];
  for (int x = 0; x < GB; ++x) lo_acc[x] = hi_acc[x] = _mm512_setzero_si512();
  const int32_t* pj = pw + h0 * 8;  // the pair of weights of tokens 2j, 2j + 1 of head h0 + x: pj[8x + j]
  for (int64_t t = 0; t < nt; t += 2, ++pj) {
    const int64_t t1 = t + 1 < nt ? t + 1 : t;  // odd tail: that slot's weight is 0
    pf.step();
    pf.step();
    const __m512i a = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(vrow0 + t * row + c)));
    const __m512i b = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(vrow0 + t1 * row + c)));
    const __m512i lo = _mm512_unpacklo_epi16(a, b), hi = _mm512_unpackhi_epi16(a, b);
    for (int x = 0; x < GB; ++x) {
      dpwssd_bcast(lo_acc[x], lo, pj + 8 * x);
      dpwssd_bcast(hi_acc[x], hi, pj + 8 * x);
    }
  }
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i second = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  for (int x = 0; x < GB; ++x) {
    const __m512 l = _mm512_cvtepi32_ps(lo_acc[x]), h = _mm512_cvtepi32_ps(hi_acc[x]);
    const __m512 w = _mm512_set1_ps(ws[h0 + x]);
    float* o = s.o + (h0 + x) * hd + c;
    _mm512_storeu_ps(o, _mm512_fmadd_ps(_mm512_permutex2var_ps(l, first, h), w, _mm512_loadu_ps(o)));
    _mm512_storeu_ps(o + 16, _mm512_fmadd_ps(_mm512_permutex2var_ps(l, second, h), w, _mm512_loadu_ps(o + 16)));
  }
}

template <int GB, typename P>
inline void pv_heads_i8_vnni(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                             const int32_t* pw, const float* ws, P& pf) {
  for (int64_t c = 0; c < s.head_dim; c += 32)
    pv_i8_vnni<GB>(s, static_cast<const int8_t*>(vrow0), row, nt, h0, pw, ws, c, pf);
}

}  // namespace
}  // namespace llmroof::kernels::avx512
