// AVX2 + FMA row kernels (see rowwise_avx2.hpp). Tails of fewer than 8 elements run scalar.
// Like the AVX-512 files: no standard-library templates, helpers with internal linkage.
#include <immintrin.h>
#include <math.h>

#include "kernels/cpu/rowwise_avx2.hpp"
#include "kernels/cpu/simd_avx2.hpp"

namespace llmroof::kernels {

namespace {

using avx2::hmax8;
using avx2::hsum8;

// e^x = 2^(x log2 e), with simd_avx2.hpp's 2^x (exactly 0 below 2^-126).
inline __m256 exp8(__m256 x) { return avx2::exp2_8(_mm256_mul_ps(x, _mm256_set1_ps(1.4426950408889634f))); }

inline float silu_mul1(float g, float u) { return g * u / (1.f + expf(-g)); }

void scale_row(const float* x, const float* gamma, float* y, int64_t dim, float inv) {
  const __m256 s = _mm256_set1_ps(inv);
  int64_t i = 0;
  for (; i + 8 <= dim; i += 8)
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), s), _mm256_loadu_ps(gamma + i)));
  for (; i < dim; ++i) y[i] = x[i] * inv * gamma[i];
}

}  // namespace

void rmsnorm_rows_avx2(const float* x, const float* gamma, float* y, int64_t r0, int64_t r1,
                       int64_t dim, float eps) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * dim;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    int64_t i = 0;
    for (; i + 16 <= dim; i += 16) {
      const __m256 v0 = _mm256_loadu_ps(xr + i), v1 = _mm256_loadu_ps(xr + i + 8);
      a0 = _mm256_fmadd_ps(v0, v0, a0);
      a1 = _mm256_fmadd_ps(v1, v1, a1);
    }
    float ss = hsum8(_mm256_add_ps(a0, a1));
    for (; i < dim; ++i) ss += xr[i] * xr[i];
    scale_row(xr, gamma, y + r * dim, dim, 1.f / sqrtf(ss / static_cast<float>(dim) + eps));
  }
}

void add_rmsnorm_rows_avx2(const float* x, float* residual, const float* gamma, float* y,
                           int64_t r0, int64_t r1, int64_t dim, float eps) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * dim;
    float* rr = residual + r * dim;
    __m256 a0 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      const __m256 v = _mm256_add_ps(_mm256_loadu_ps(xr + i), _mm256_loadu_ps(rr + i));
      _mm256_storeu_ps(rr + i, v);
      a0 = _mm256_fmadd_ps(v, v, a0);
    }
    float ss = hsum8(a0);
    for (; i < dim; ++i) {
      rr[i] += xr[i];
      ss += rr[i] * rr[i];
    }
    scale_row(rr, gamma, y + r * dim, dim, 1.f / sqrtf(ss / static_cast<float>(dim) + eps));
  }
}

void silu_mul_rows_avx2(const float* gate, const float* up, float* out, int64_t r0, int64_t r1,
                        int64_t inter, int64_t in_stride) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* g = gate + r * in_stride;
    const float* u = up + r * in_stride;
    float* o = out + r * inter;
    int64_t i = 0;
    for (; i + 8 <= inter; i += 8) {
      const __m256 gv = _mm256_loadu_ps(g + i);
      const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), gv));
      _mm256_storeu_ps(o + i, _mm256_div_ps(_mm256_mul_ps(gv, _mm256_loadu_ps(u + i)),
                                            _mm256_add_ps(_mm256_set1_ps(1.f), e)));
    }
    for (; i < inter; ++i) o[i] = silu_mul1(g[i], u[i]);
  }
}

void softmax_rows_avx2(const float* x, float* y, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    __m256 m8 = _mm256_set1_ps(-__builtin_inff());
    int64_t i = 0;
    for (; i + 8 <= cols; i += 8) m8 = _mm256_max_ps(m8, _mm256_loadu_ps(xr + i));
    float mx = hmax8(m8);
    for (; i < cols; ++i) mx = fmaxf(mx, xr[i]);
    const __m256 mv = _mm256_set1_ps(mx);
    __m256 s8 = _mm256_setzero_ps();
    for (i = 0; i + 8 <= cols; i += 8) {
      const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(xr + i), mv));
      _mm256_storeu_ps(yr + i, e);
      s8 = _mm256_add_ps(s8, e);
    }
    float sum = hsum8(s8);
    for (; i < cols; ++i) sum += yr[i] = expf(xr[i] - mx);
    const float inv = 1.f / sum;
    for (i = 0; i + 8 <= cols; i += 8)
      _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_loadu_ps(yr + i), _mm256_set1_ps(inv)));
    for (; i < cols; ++i) yr[i] *= inv;
  }
}

void rope_token_avx2(float* x, int64_t heads, int64_t head_dim, const float* cos, const float* sin) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* lo = x + h * head_dim;
    float* hi = lo + half;
    int64_t i = 0;
    for (; i + 8 <= half; i += 8) {
      const __m256 c = _mm256_loadu_ps(cos + i), s = _mm256_loadu_ps(sin + i);
      const __m256 a = _mm256_loadu_ps(lo + i), b = _mm256_loadu_ps(hi + i);
      _mm256_storeu_ps(lo + i, _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s)));
      _mm256_storeu_ps(hi + i, _mm256_fmadd_ps(b, c, _mm256_mul_ps(a, s)));
    }
    for (; i < half; ++i) {
      const float a = lo[i], b = hi[i];
      lo[i] = a * cos[i] - b * sin[i];
      hi[i] = b * cos[i] + a * sin[i];
    }
  }
}

}  // namespace llmroof::kernels
