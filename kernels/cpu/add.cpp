#include "kernels/cpu/add.hpp"

#include <immintrin.h>

#include "kernels/cpu_features.hpp"

namespace llmroof::kernels {

namespace {

__attribute__((target("avx512f"))) void add_avx512(float* h, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(h + i, _mm512_add_ps(_mm512_loadu_ps(h + i), _mm512_loadu_ps(x + i)));
  for (; i < n; ++i) h[i] += x[i];
}

}  // namespace

void add_inplace(float* h, const float* x, int64_t n, ThreadPool& pool) {
  const bool simd = cpu_features().avx512f;
  pool.parallel_for(
      n,
      [&](int64_t b, int64_t e) {
        if (simd) {
          add_avx512(h + b, x + b, e - b);
        } else {
          for (int64_t i = b; i < e; ++i) h[i] += x[i];  // the compiler vectorizes this
        }
      },
      4096);
}

}  // namespace llmroof::kernels
