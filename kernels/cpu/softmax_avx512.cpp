// AVX-512 row softmax (compiled with AVX-512 flags; see simd_avx512.hpp).
#include "kernels/cpu/simd_avx512.hpp"
#include "kernels/cpu/softmax.hpp"

namespace llmroof::kernels {

namespace {
using namespace avx512;

float row_max(const float* x, int64_t cols) {
  __m512 m0 = _mm512_set1_ps(-__builtin_inff()), m1 = m0;
  int64_t i = 0;
  for (; i + 32 <= cols; i += 32) {
    m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
    m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + i + 16));
  }
  for (; i < cols; i += 16) m0 = _mm512_mask_max_ps(m0, first_lanes(cols - i), m0, _mm512_maskz_loadu_ps(first_lanes(cols - i), x + i));
  return hmax(_mm512_max_ps(m0, m1));
}
}  // namespace

void softmax_rows_avx512(const float* x, float* y, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const __m512 mx = _mm512_set1_ps(row_max(xr, cols));
    __m512 s = _mm512_setzero_ps();
    const int64_t full = cols / 16 * 16;  // unmasked main loops, one masked tail
    for (int64_t i = 0; i < full; i += 16) {
      const __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + i), mx));
      _mm512_storeu_ps(yr + i, e);
      s = _mm512_add_ps(s, e);
    }
    if (full < cols) {
      const __mmask16 m = tail_mask(cols - full);
      const __m512 e = _mm512_maskz_mov_ps(m, exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + full), mx)));
      _mm512_mask_storeu_ps(yr + full, m, e);
      s = _mm512_add_ps(s, e);
    }
    const __m512 inv = _mm512_set1_ps(1.f / hsum(s));
    for (int64_t i = 0; i < full; i += 16) _mm512_storeu_ps(yr + i, _mm512_mul_ps(_mm512_loadu_ps(yr + i), inv));
    if (full < cols) {
      const __mmask16 m = tail_mask(cols - full);
      _mm512_mask_storeu_ps(yr + full, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, yr + full), inv));
    }
  }
}

}  // namespace llmroof::kernels
