#pragma once
// The bf16 "pair-split" pieces of the AVX-512 flash-decoding split (bf16 caches, GQA < 8), included
// only by attention_decode_avx512.cpp (internal linkage, see simd_avx512.hpp).
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

// Output rows from the pair-split layout back to element order (even/odd halves interleaved).
inline void unsplit_rows(float* o, int64_t rows, int64_t hd) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  for (int64_t c = 0; c < rows * hd; c += 32) {
    const __m512 e = _mm512_loadu_ps(o + c), d = _mm512_loadu_ps(o + c + 16);
    _mm512_storeu_ps(o + c, _mm512_permutex2var_ps(e, lo, d));
    _mm512_storeu_ps(o + c + 16, _mm512_permutex2var_ps(e, hi, d));
  }
}

}  // namespace
}  // namespace llmroof::kernels::avx512
