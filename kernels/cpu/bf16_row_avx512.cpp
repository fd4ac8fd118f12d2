// AVX-512 part of float_to_bf16_row (compiled with AVX-512 flags; the dispatch is in attention_ref.cpp
// beside float_to_bf16, which it matches bit for bit).
#include <immintrin.h>

#include "kernels/cpu/attention.hpp"

namespace llmroof::kernels {

// Round to nearest even as float_to_bf16 does: add 0x7fff + the kept lsb, keep the top half; a NaN
// keeps its top half with the quiet bit set.
void float_to_bf16_row_avx512(const float* x, uint16_t* d, int64_t n) {
  const __m512i one = _mm512_set1_epi32(1), round = _mm512_set1_epi32(0x7fff);
  const __m512i abs = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
  const __m512i quiet = _mm512_set1_epi32(0x40);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i u = _mm512_castps_si512(_mm512_loadu_ps(x + i));
    const __m512i hi = _mm512_srli_epi32(u, 16);
    const __m512i lsb = _mm512_and_si512(hi, one);
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(round, lsb)), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, abs), inf);
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(hi, quiet));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), _mm512_cvtepi32_epi16(r));
  }
  for (; i < n; ++i) d[i] = float_to_bf16(x[i]);
}

}  // namespace llmroof::kernels
