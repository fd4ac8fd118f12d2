#pragma once
// The bf16 pieces of the AVX-512 flash-decoding split, included only by attention_decode_avx512.cpp
// (internal linkage, see simd_avx512.hpp): the "pair-split" conversion (GQA < 8) and q·k on
// vdpbf16ps (GQA >= 8 on AVX512_BF16 CPUs).
#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels::avx512 {
namespace {

// bf16 caches with head_dim % 32 == 0 ("pair-split" layout): one 64-byte load holds 32 bf16 of a
// row; the even elements become fp32 by a 16-bit left shift of each dword and the odd ones by
// masking off its low half, so a 32-element chunk costs 1 load + 2 in-lane integer ops instead of 2
// loads + 2 lane-crossing zero-extends + 2 shifts. Lane j of the two halves holds elements c + 2j
// and c + 2j + 1, so q is pre-split the same way (s.qp) and PV accumulates the output rows in that
// layout (un-split once per split by unsplit_rows). Products and sums stay fp32: only the order of
// the dot product's additions changes.
inline void load_bf16_pair(const uint16_t* p, __m512& even, __m512& odd) {
  const __m512i w = _mm512_loadu_si512(p);
  even = _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
  odd = _mm512_castsi512_ps(_mm512_and_si512(w, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

template <int U, int GB, typename P>
inline void qk_heads_pairs(const DecodeSplit& s, const int64_t* kbase, int64_t h0, float* red, P& pf) {
  const int64_t hd = s.head_dim;
  const uint16_t* k = static_cast<const uint16_t*>(s.k);
  __m512 acc[U][GB];
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) acc[u][x] = _mm512_setzero_ps();
  for (int64_t c = 0; c < hd; c += 32) {
    // Paced prefetch: a step per 16 FMAs, as in PV (see PacedPrefetcher).
    if constexpr (P::kPaced)
      for (int i = 0; i < (2 * U * GB + 15) / 16; ++i) pf.step();
    __m512 ke[U], ko[U];
    for (int u = 0; u < U; ++u) load_bf16_pair(k + kbase[u] + c, ke[u], ko[u]);
    for (int x = 0; x < GB; ++x) {
      const __m512 qe = _mm512_loadu_ps(s.qp + (h0 + x) * hd + c);
      const __m512 qo = _mm512_loadu_ps(s.qp + (h0 + x) * hd + c + 16);
      for (int u = 0; u < U; ++u) acc[u][x] = _mm512_fmadd_ps(qo, ko[u], _mm512_fmadd_ps(qe, ke[u], acc[u][x]));
    }
  }
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) _mm512_store_ps(red + ((h0 + x) * kDecodeBlock + u) * 16, acc[u][x]);
}

// acc += in fp32 lane i, a[2i]·b[2i] + a[2i+1]·b[2i+1] of the bf16 pairs of a and b (vdpbf16ps,
// AVX512_BF16: the caller checks the CPU; inline asm because this file is not compiled with
// -mavx512bf16). The products of two bf16 are exact in fp32.
inline void dpbf16(__m512& acc, __m512i a, __m512i b) {
  asm("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
}

// q·k on the bf16-rounded q (s.q16) for 4 token rows of K as they are in the cache and GB q heads:
// the 4 × GB blocking of qk_heads, one vdpbf16ps per 32 dims per (token, q head) instead of two
// FMAs on K converted to fp32 (no conversion at all). Lane i of a partial sum holds dims 2i and
// 2i + 1 of every 32-dim chunk. The first two levels of the 16-token transpose-add tree run here
// in registers: per head the 4 tokens' partial sums become one vector whose 128-bit block u holds
// 4 partial sums of token u, stored in red slot 0 of the 4 (reduce_groups4 finishes). That is 1
// store and later 1 load per head and 4 tokens instead of 4 each, and a shorter dependency chain
// between q·k and the softmax: with reduce16 over 16 stored vectors, vdpbf16ps alone measured no
// faster than the fp32 FMAs (Zen 5, KV in L2, one thread), because the tree then cost as much as
// q·k itself. The lanes still add up every product of the row, in another order.
template <int GB, typename P>
inline void qk_heads_dpbf16(const DecodeSplit& s, const int64_t* kbase, int64_t h0, float* red,
                            P&) {
  const int64_t hd = s.head_dim;
  const uint16_t* k = static_cast<const uint16_t*>(s.k);
  __m512 acc[4][GB];
  for (int u = 0; u < 4; ++u)
    for (int x = 0; x < GB; ++x) acc[u][x] = _mm512_setzero_ps();
  // No paced prefetch steps here: the path runs from GQA 8, where the prefetch is spread, not paced
  // (paced_prefetch).
  for (int64_t c = 0; c < hd; c += 32) {
    __m512i kc[4];
    for (int u = 0; u < 4; ++u) kc[u] = _mm512_loadu_si512(k + kbase[u] + c);
    for (int x = 0; x < GB; ++x) {
      const __m512i qx = _mm512_load_si512(s.q16 + (h0 + x) * hd + c);  // 64-byte aligned (round_q)
      for (int u = 0; u < 4; ++u) dpbf16(acc[u][x], kc[u], qx);
    }
  }
  for (int x = 0; x < GB; ++x) {
    const __m512 a = _mm512_add_ps(_mm512_shuffle_f32x4(acc[0][x], acc[1][x], 0x44),
                                   _mm512_shuffle_f32x4(acc[0][x], acc[1][x], 0xEE));
    const __m512 b = _mm512_add_ps(_mm512_shuffle_f32x4(acc[2][x], acc[3][x], 0x44),
                                   _mm512_shuffle_f32x4(acc[2][x], acc[3][x], 0xEE));
    const __m512 y =
        _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xDD));
    _mm512_store_ps(red + (h0 + x) * kDecodeBlock * 16, y);
  }
}

// The block's 16 scores of one head from qk_heads_dpbf16's vectors: slot 4g (g = 0..3, 64 floats
// apart) holds in its 128-bit block u 4 partial sums of token 4g + u. The last two levels of the
// transpose-add tree (in-lane shuffles), then the 4 × 4 transpose of (u, g) to lane t = token t.
inline __m512 reduce_groups4(const float* v) {
  const __m512 y0 = _mm512_load_ps(v), y1 = _mm512_load_ps(v + 64), y2 = _mm512_load_ps(v + 128),
               y3 = _mm512_load_ps(v + 192);
  const __m512 z01 =
      _mm512_add_ps(_mm512_shuffle_ps(y0, y1, 0x44), _mm512_shuffle_ps(y0, y1, 0xEE));
  const __m512 z23 =
      _mm512_add_ps(_mm512_shuffle_ps(y2, y3, 0x44), _mm512_shuffle_ps(y2, y3, 0xEE));
  const __m512 w =
      _mm512_add_ps(_mm512_shuffle_ps(z01, z23, 0x88), _mm512_shuffle_ps(z01, z23, 0xDD));
  // w lane 4u + g = token 4g + u
  const __m512i perm = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_ps(perm, w);
}

// pv_chunks for the pair-split layout: NP 32-element chunks, output rows kept pair-split.
template <int GB, int NP, typename P>
inline void pv_pairs(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                     const float* pbuf, int64_t c, P& pf) {
  const int64_t hd = s.head_dim;
  const uint16_t* v = static_cast<const uint16_t*>(vrow0);
  __m512 acc[GB][2 * NP];
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < 2 * NP; ++j) acc[x][j] = _mm512_loadu_ps(s.o + (h0 + x) * hd + c + 16 * j);
  for (int64_t t = 0; t < nt; ++t) {
    pf.step();
    __m512 vc[2 * NP];
    for (int j = 0; j < NP; ++j) load_bf16_pair(v + t * row + c + 32 * j, vc[2 * j], vc[2 * j + 1]);
    for (int x = 0; x < GB; ++x) {
      const __m512 w = _mm512_set1_ps(pbuf[(h0 + x) * kDecodeBlock + t]);
      for (int j = 0; j < 2 * NP; ++j) acc[x][j] = _mm512_fmadd_ps(w, vc[j], acc[x][j]);
    }
  }
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < 2 * NP; ++j) _mm512_storeu_ps(s.o + (h0 + x) * hd + c + 16 * j, acc[x][j]);
}

template <int GB, typename P>
inline void pv_heads_pairs(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                           const float* pbuf, P& pf) {
  constexpr int NP = GB >= 8 ? 1 : GB == 4 ? 2 : 4;
  int64_t c = 0;
  for (; c + 32 * NP <= s.head_dim; c += 32 * NP) pv_pairs<GB, NP>(s, vrow0, row, nt, h0, pbuf, c, pf);
  for (; c < s.head_dim; c += 32) pv_pairs<GB, 1>(s, vrow0, row, nt, h0, pbuf, c, pf);
}

// 16 fp32 to 16 bf16, round to nearest even (vcvtneps2bf16; inline asm, see dpbf16).
inline __m256i cvtne_bf16(__m512 x) {
  __m256i r;
  asm("vcvtneps2bf16 %1, %0" : "=v"(r) : "v"(x));
  return r;
}
// acc += in fp32 lane i, the bf16 pair of a's dword i times the bf16 pair *w (broadcast).
inline void dpbf16_bcast(__m512& acc, __m512i a, const int32_t* w) {
  asm("vdpbf16ps %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(a), "m"(*w));
}

// P·V on vdpbf16ps (with qk_heads_dpbf16, GQA >= 8): the probabilities rounded to bf16 (pw: dword j
// of head h holds tokens 2j and 2j + 1, softmax_heads), two tokens per instruction. Rows t and
// t + 1 of a 32-channel chunk are interleaved by word (two in-lane unpacks): dword k of lo holds
// channel 8(k / 4) + k % 4 of both tokens, of hi the same + 4. o keeps that order over the split
// (the rescales are per element); unsplit_dpbf16 puts it back at its end.
template <int GB, typename P>
inline void pv_dpbf16(const DecodeSplit& s, const uint16_t* v, int64_t row, int64_t nt, int64_t h0,
                      const int32_t* pw, int64_t c, P& pf) {
  const int64_t hd = s.head_dim;
  __m512 acc[GB][2];
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < 2; ++j) acc[x][j] = _mm512_loadu_ps(s.o + (h0 + x) * hd + c + 16 * j);
  const int32_t* w = pw + h0 * kDecodeBlock;
  const uint16_t* r = v + c;
  for (int64_t t = 0; t < nt; t += 2, r += 2 * row, ++w) {
    pf.step();
    pf.step();
    const __m512i a = _mm512_loadu_si512(r);
    const __m512i b = _mm512_loadu_si512(t + 1 < nt ? r + row : r);  // its weight is 0 past nt
    const __m512i lo = _mm512_unpacklo_epi16(a, b), hi = _mm512_unpackhi_epi16(a, b);
    for (int x = 0; x < GB; ++x) {
      dpbf16_bcast(acc[x][0], lo, w + x * kDecodeBlock);
      dpbf16_bcast(acc[x][1], hi, w + x * kDecodeBlock);
    }
  }
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < 2; ++j) _mm512_storeu_ps(s.o + (h0 + x) * hd + c + 16 * j, acc[x][j]);
}

template <int GB, typename P>
inline void pv_heads_dpbf16(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                            const int32_t* pw, P& pf) {
  for (int64_t c = 0; c < s.head_dim; c += 32)
    pv_dpbf16<GB>(s, static_cast<const uint16_t*>(vrow0), row, nt, h0, pw, c, pf);
}

// The output rows of a split from pv_dpbf16's channel order back to the natural one.
inline void unsplit_dpbf16(float* o, int64_t rows, int64_t hd) {
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i second = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  permute_rows32(o, rows * hd, first, second);
}

// Output rows from the pair-split layout back to element order (even/odd halves interleaved).
inline void unsplit_rows(float* o, int64_t rows, int64_t hd) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  permute_rows32(o, rows * hd, lo, hi);
}

}  // namespace
}  // namespace llmroof::kernels::avx512
