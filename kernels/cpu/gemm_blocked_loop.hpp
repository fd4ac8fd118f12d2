#pragma once
// The blocked GEMM's loop nest and A packing, shared by the AVX-512 and AVX2 GEMMs, which differ
// only in their register tile (rows x columns), block sizes and micro-kernels.
//
// Include only after a file's `#pragma GCC target`. Everything here is in an anonymous namespace: each
// including file compiles its own copy for its own instruction set, and the linker can never pick
// a copy built for one ISA in place of another (internal linkage, no ODR merging).
//
// Loop order (docs/gemm.md): groups of NC panels of 32 columns; per kc block the group's B blocks
// (NC x kc x 32 floats) sit in L2 and the C block (m x NC*32 floats) stays in L2 across kc blocks;
// the A micro-panel (MR x kc) stays in L1 while the tile walks the group's panels, TileCols columns
// at a time. fp32 weights are read in place; other formats are dequantized once per (group, kc
// block) into a thread-local buffer by `dequant(w, panel, k0, kc, out)`.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/gemm.hpp"

namespace llmroof::kernels::detail {
namespace {

// x (m x k, row-major) -> row blocks of MR rows, [block][k][MR], zero rows past m; blocks [b0, b1).
template <int MR>
void pack_a_blocks(const float* x, int64_t m, int64_t k, float* ap, int64_t b0, int64_t b1) {
  for (int64_t ib = b0; ib < b1; ++ib) {
    float* dst = ap + ib * k * MR;
    const int64_t rows = std::min<int64_t>(MR, m - ib * MR);
    for (int64_t r = 0; r < MR; ++r) {
      const float* src = x + (ib * MR + r) * k;
      if (r < rows)
        for (int64_t kk = 0; kk < k; ++kk) dst[kk * MR + r] = src[kk];
      else
        for (int64_t kk = 0; kk < k; ++kk) dst[kk * MR + r] = 0.f;
    }
  }
}

// y[m x n] (+)= A * W over panels [p0, p1). micro[rows - 1](a, b, kc, c, ldc, accumulate, cols)
// computes a rows x TileCols tile (cols <= TileCols valid columns) from the packed A micro-panel a
// and the B block b (kc x 32 floats, TileCols of them used).
template <int MR, int64_t NC, int64_t KC, int64_t TileCols, class Dequant, class MicroTable>
void blocked_gemm_loop(const float* ap, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                       int64_t p1, Dequant dequant, const MicroTable& micro) {
  static_assert(32 % TileCols == 0, "a tile covers a whole number of tiles per 32-column panel");
  thread_local std::vector<float> bbuf;
  bbuf.resize(NC * KC * 32);
  const int64_t k = w.k, blocks = (m + MR - 1) / MR;
  const float* wf = reinterpret_cast<const float*>(w.data.data());
  for (int64_t g0 = p0; g0 < p1; g0 += NC) {
    const int64_t gn = std::min(NC, p1 - g0);
    for (int64_t k0 = 0; k0 < k; k0 += KC) {
      const int64_t kc = std::min(KC, k - k0);
      const float* b[NC];
      for (int64_t j = 0; j < gn; ++j) {
        if (w.format == WeightFormat::fp32) {
          b[j] = wf + ((g0 + j) * k + k0) * 32;
        } else {
          dequant(w, g0 + j, k0, kc, &bbuf[j * KC * 32]);
          b[j] = &bbuf[j * KC * 32];
        }
      }
      for (int64_t ib = 0; ib < blocks; ++ib) {
        const int rows = static_cast<int>(std::min<int64_t>(MR, m - ib * MR));
        const float* a = ap + (ib * k + k0) * MR;
        for (int64_t j = 0; j < gn; ++j) {
          const int64_t p = g0 + j;
          for (int64_t h = 0; h < 32 / TileCols; ++h) {
            const int64_t cols = w.n - p * 32 - h * TileCols;
            if (cols <= 0) break;
            micro[rows - 1](a, b[j] + h * TileCols, kc, y + ib * MR * w.n + p * 32 + h * TileCols,
                            w.n, k0 > 0, cols);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace llmroof::kernels::detail
