#pragma once
// The W8A8 epilogue shared by the VNNI tile (gemm_avx512_int8.cpp) and the AMX tile
// (gemm_amx_int8.cpp): int32 sums of u8 (q + 128) x s8 products to fp32 outputs. Include only
// after the including file's AVX-512 target pragma and <immintrin.h> (internal linkage).
#include <cstdint>

namespace llmroof::kernels::detail {
namespace {

inline __mmask16 col_mask(int64_t cols) {
  return cols >= 16 ? __mmask16(0xFFFF) : cols <= 0 ? __mmask16(0) : __mmask16((1u << cols) - 1);
}

// Output rows of one 32-column panel: y = s_x[r] * s_w[c] * (acc - 128 * colsum[c]), the 128 *
// sum_k w[k][c] that the activations' +128 adds taken off (docs/gemm.md); `cols` columns written.
struct Epilogue {
  const float* sx;
  const float* sw;
  const int32_t* colsum;
  float* y;
  int64_t ldy, cols;
};

// The panel's per-column terms, loaded once per tile (y may alias nothing here, but the compiler
// cannot know that s_w is not written through y).
struct EpilogueColumns {
  __m512i z0, z1;
  __m512 w0, w1;
  __mmask16 m0, m1;
  explicit EpilogueColumns(const Epilogue& e)
      : z0(_mm512_slli_epi32(_mm512_loadu_si512(e.colsum), 7)),
        z1(_mm512_slli_epi32(_mm512_loadu_si512(e.colsum + 16), 7)),
        w0(_mm512_loadu_ps(e.sw)),
        w1(_mm512_loadu_ps(e.sw + 16)),
        m0(col_mask(e.cols)),
        m1(col_mask(e.cols - 16)) {}
};

// Row r from its two accumulators (columns 0-15 and 16-31).
inline void store_row(__m512i c0, __m512i c1, const EpilogueColumns& k, const Epilogue& e,
                      int64_t r) {
  const __m512 s = _mm512_set1_ps(e.sx[r]);
  const __m512 v0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(c0, k.z0));
  const __m512 v1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(c1, k.z1));
  float* yr = e.y + r * e.ldy;
  _mm512_mask_storeu_ps(yr, k.m0, _mm512_mul_ps(v0, _mm512_mul_ps(s, k.w0)));
  _mm512_mask_storeu_ps(yr + 16, k.m1, _mm512_mul_ps(v1, _mm512_mul_ps(s, k.w1)));
}

// R rows held in registers (the VNNI tiles).
template <int R>
inline void store_tile(const __m512i* c0, const __m512i* c1, const Epilogue& e) {
  const EpilogueColumns k(e);
#pragma GCC unroll 14
  for (int r = 0; r < R; ++r) store_row(c0[r], c1[r], k, e, r);
}

// `rows` rows of int32 sums in memory, 32 per row (the AMX tiles' stores).
inline void store_rows(const int32_t* acc, int64_t rows, const Epilogue& e) {
  const EpilogueColumns k(e);
  for (int64_t r = 0; r < rows; ++r)
    store_row(_mm512_loadu_si512(acc + 32 * r), _mm512_loadu_si512(acc + 32 * r + 16), k, e, r);
}

}  // namespace
}  // namespace llmroof::kernels::detail
