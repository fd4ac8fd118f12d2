#pragma once
// What the W8A8 VNNI tile (gemm_avx512_int8.cpp) and AMX tile (gemm_amx_int8.cpp) share: the
// loop nest over panels, k blocks and row blocks, and the epilogue from int32 sums of u8 (q + 128)
// x s8 products to fp32 outputs. Include only after the including file's AVX-512 target pragma
// and <immintrin.h> (internal linkage: each file compiles its own copy).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels::detail {
namespace {

using avx512::first_lanes;  // valid columns among 16

// Output rows of one 32-column panel: y = s_x[r] * s_w[c] * (acc - 128 * colsum[c]), the 128 *
// sum_k w[k][c] that the activations' +128 adds taken off (docs/gemm.md); `cols` columns written.
struct Epilogue {
  const float* sx;
  const float* sw;
  const int32_t* colsum;
  float* y;
  int64_t ldy, cols;
};

// The epilogue of panel p for rows row0.. of y, whose scales start at sx.
inline Epilogue panel_epilogue(const float* sx, const PackedWeights& w, float* y, int64_t row0,
                               int64_t p) {
  return {sx, &w.scale[p * 32], &w.col_sum[p * 32], y + row0 * w.n + p * 32, w.n, w.n - p * 32};
}

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
        m0(first_lanes(e.cols)),
        m1(first_lanes(e.cols - 16)) {}
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

// y for panels [p0, p1), m rows: groups of NC panels; per k block of KC bytes the group's B
// blocks sit in L2 while each row block of MR rows (its A block in L1) walks them. tile(ib, rows,
// s0, ns, p, part, first, last) adds row block ib's products over steps [s0, s0 + ns) (4 k each)
// of panel p to `part` (MR x 32 int32; zeroed when first) and, after the last k block (last !=
// nullptr), writes the rows through the epilogue. Between k blocks the sums stay in `part`, exact.
template <int64_t MR, int64_t NC, int64_t KC, class Tile>
void w8a8_tile_loop(const float* scale, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                    int64_t p1, Tile&& tile) {
  const int64_t steps = w.k_padded / 4, blocks = (m + MR - 1) / MR;
  thread_local std::vector<int32_t> part;
  part.resize(NC * blocks * MR * 32);
  for (int64_t g0 = p0; g0 < p1; g0 += NC) {
    const int64_t gn = std::min(NC, p1 - g0);
    for (int64_t s0 = 0; s0 < steps; s0 += KC / 4) {
      const int64_t ns = std::min(KC / 4, steps - s0);
      const bool first = s0 == 0, is_last = s0 + ns == steps;
      for (int64_t ib = 0; ib < blocks; ++ib) {
        const int64_t rows = std::min(MR, m - ib * MR);
        for (int64_t j = 0; j < gn; ++j) {
          const int64_t p = g0 + j;
          const Epilogue ep = panel_epilogue(scale + ib * MR, w, y, ib * MR, p);
          tile(ib, rows, s0, ns, p, &part[(j * blocks + ib) * MR * 32], first,
               is_last ? &ep : nullptr);
        }
      }
    }
  }
}

}  // namespace
}  // namespace llmroof::kernels::detail
