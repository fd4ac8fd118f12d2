// AVX-512 rotary embedding (compiled with AVX-512 flags; see simd_avx512.hpp).
#include "kernels/cpu/rope.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels {

void rope_token_avx512(float* x, int64_t heads, int64_t head_dim, const float* cos,
                       const float* sin) {
  using namespace avx512;
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* lo = x + h * head_dim;
    float* hi = lo + half;
    int64_t i = 0;
    for (; i + 16 <= half; i += 16) {
      const __m512 c = _mm512_loadu_ps(cos + i), s = _mm512_loadu_ps(sin + i);
      const __m512 a = _mm512_loadu_ps(lo + i), b = _mm512_loadu_ps(hi + i);
      _mm512_storeu_ps(lo + i, _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s)));
      _mm512_storeu_ps(hi + i, _mm512_fmadd_ps(b, c, _mm512_mul_ps(a, s)));
    }
    if (i < half) {  // head_dim not a multiple of 32: masked tail
      const __mmask16 m = tail_mask(half - i);
      const __m512 c = _mm512_maskz_loadu_ps(m, cos + i), s = _mm512_maskz_loadu_ps(m, sin + i);
      const __m512 a = _mm512_maskz_loadu_ps(m, lo + i), b = _mm512_maskz_loadu_ps(m, hi + i);
      _mm512_mask_storeu_ps(lo + i, m, _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s)));
      _mm512_mask_storeu_ps(hi + i, m, _mm512_fmadd_ps(b, c, _mm512_mul_ps(a, s)));
    }
  }
}

}  // namespace llmroof::kernels
