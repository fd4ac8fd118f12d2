// AVX-512 rows of RMSNorm (compiled with AVX-512 flags; see simd_avx512.hpp for the rules).
#include <math.h>

#include "kernels/cpu/rmsnorm.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels {

namespace {
using namespace avx512;

// Sum of squares with four accumulators (hides FMA latency); the tail uses a masked load.
inline float sum_squares(const float* x, int64_t dim) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    const __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
    const __m512 v2 = _mm512_loadu_ps(x + i + 32), v3 = _mm512_loadu_ps(x + i + 48);
    a0 = _mm512_fmadd_ps(v0, v0, a0);
    a1 = _mm512_fmadd_ps(v1, v1, a1);
    a2 = _mm512_fmadd_ps(v2, v2, a2);
    a3 = _mm512_fmadd_ps(v3, v3, a3);
  }
  for (; i + 16 <= dim; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    a0 = _mm512_fmadd_ps(v, v, a0);
  }
  if (i < dim) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask(dim - i), x + i);
    a1 = _mm512_fmadd_ps(v, v, a1);
  }
  return hsum(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

inline void scale_row(const float* x, const float* gamma, float* y, int64_t dim, float inv) {
  const __m512 s = _mm512_set1_ps(inv);
  int64_t i = 0;
  for (; i + 16 <= dim; i += 16)
    _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), s),
                                          _mm512_loadu_ps(gamma + i)));
  if (i < dim) {
    const __mmask16 m = tail_mask(dim - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), s),
                                                  _mm512_maskz_loadu_ps(m, gamma + i)));
  }
}

}  // namespace

void rmsnorm_rows_avx512(const float* x, const float* gamma, float* y, int64_t r0, int64_t r1,
                         int64_t dim, float eps) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * dim;
    const float inv = 1.0f / sqrtf(sum_squares(xr, dim) / static_cast<float>(dim) + eps);
    scale_row(xr, gamma, y + r * dim, dim, inv);
  }
}

void add_rmsnorm_rows_avx512(const float* x, float* residual, const float* gamma, float* y,
                             int64_t r0, int64_t r1, int64_t dim, float eps) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * dim;
    float* rr = residual + r * dim;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    int64_t i = 0;
    for (; i + 32 <= dim; i += 32) {
      const __m512 v0 = _mm512_add_ps(_mm512_loadu_ps(xr + i), _mm512_loadu_ps(rr + i));
      const __m512 v1 = _mm512_add_ps(_mm512_loadu_ps(xr + i + 16), _mm512_loadu_ps(rr + i + 16));
      _mm512_storeu_ps(rr + i, v0);
      _mm512_storeu_ps(rr + i + 16, v1);
      a0 = _mm512_fmadd_ps(v0, v0, a0);
      a1 = _mm512_fmadd_ps(v1, v1, a1);
    }
    for (; i < dim; i += 16) {
      const __mmask16 m = first_lanes(dim - i);
      const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, xr + i), _mm512_maskz_loadu_ps(m, rr + i));
      _mm512_mask_storeu_ps(rr + i, m, v);
      a0 = _mm512_fmadd_ps(v, v, a0);
    }
    const float ss = hsum(_mm512_add_ps(a0, a1));
    const float inv = 1.0f / sqrtf(ss / static_cast<float>(dim) + eps);
    scale_row(rr, gamma, y + r * dim, dim, inv);  // the row was just written: it is in L1
  }
}

}  // namespace llmroof::kernels
