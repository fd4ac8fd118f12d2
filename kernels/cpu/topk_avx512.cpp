// AVX-512 part of the MoE routing softmax (compiled with AVX-512 flags; see simd_avx512.hpp).
#include "kernels/cpu/simd_avx512.hpp"
#include "kernels/cpu/topk.hpp"

namespace llmroof::kernels {

float exp_sum_avx512(const float* l, int64_t n, float mx) {
  using namespace avx512;
  const __m512 m = _mm512_set1_ps(mx);
  __m512 acc = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    acc = _mm512_add_ps(acc, exp_ps(_mm512_sub_ps(_mm512_loadu_ps(l + j), m)));
  if (j < n) {
    // The masked-off lanes load 0 (exp(0 - mx) > 0): zeroed after the exp.
    const __mmask16 t = tail_mask(n - j);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(t, l + j), m));
    acc = _mm512_add_ps(acc, _mm512_maskz_mov_ps(t, e));
  }
  return hsum(acc);
}

}  // namespace llmroof::kernels
