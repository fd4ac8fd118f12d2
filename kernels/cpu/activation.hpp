#pragma once
// SiLU-gated activation: out[r, i] = silu(gate[r, i]) * up[r, i],  silu(g) = g / (1 + e^-g).
// gate and up are rows of `inter` fp32 values `in_stride` elements apart, so the fused gate|up GEMM
// output [rows, 2·inter] (gate in columns [0, inter), up in [inter, 2·inter)) is read in place:
//   silu_mul(gu, gu + inter, out, rows, inter, 2 * inter, pool);
// Separate gate and up buffers use in_stride = inter. out is dense [rows, inter].
#include <cstdint>

#include "kernels/cpu/dispatch.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::kernels {

void silu_mul(const float* gate, const float* up, float* out, int64_t rows, int64_t inter,
              int64_t in_stride, ThreadPool& pool, Isa isa = best_isa());
void silu_mul_ref(const float* gate, const float* up, float* out, int64_t rows, int64_t inter,
                  int64_t in_stride);

void silu_mul_rows_avx512(const float* gate, const float* up, float* out, int64_t r0, int64_t r1,
                          int64_t inter, int64_t in_stride);

}  // namespace llmroof::kernels
