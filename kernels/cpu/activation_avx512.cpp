// AVX-512 SiLU-gated activation (compiled with AVX-512 flags; see simd_avx512.hpp).
#include "kernels/cpu/activation.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels {

namespace {
using namespace avx512;

// silu(g)·u = g·u / (1 + e^-g). For g < -126·ln2, e^-g overflows to +inf in exp2_ps's clamp
// (2^127 finite, so the quotient is a tiny finite number, as it should be).
inline __m512 silu_mul_vec(__m512 g, __m512 u) {
  const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g));
  return _mm512_div_ps(_mm512_mul_ps(g, u), _mm512_add_ps(_mm512_set1_ps(1.f), e));
}
}  // namespace

void silu_mul_rows_avx512(const float* gate, const float* up, float* out, int64_t r0, int64_t r1,
                          int64_t inter, int64_t in_stride) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* g = gate + r * in_stride;
    const float* u = up + r * in_stride;
    float* o = out + r * inter;
    int64_t i = 0;
    for (; i + 16 <= inter; i += 16)
      _mm512_storeu_ps(o + i, silu_mul_vec(_mm512_loadu_ps(g + i), _mm512_loadu_ps(u + i)));
    if (i < inter) {
      const __mmask16 m = tail_mask(inter - i);
      _mm512_mask_storeu_ps(o + i, m, silu_mul_vec(_mm512_maskz_loadu_ps(m, g + i),
                                                   _mm512_maskz_loadu_ps(m, u + i)));
    }
  }
}

}  // namespace llmroof::kernels
