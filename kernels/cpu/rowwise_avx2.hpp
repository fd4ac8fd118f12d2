#pragma once
// AVX2 + FMA row kernels (rowwise_avx2.cpp, the only file built with -mavx2 -mfma): the middle tier
// between the AVX-512 paths and the scalar references, for CPUs without AVX-512.
#include <cstdint>

namespace llmroof::kernels {

void rmsnorm_rows_avx2(const float* x, const float* gamma, float* y, int64_t r0, int64_t r1,
                       int64_t dim, float eps);
void add_rmsnorm_rows_avx2(const float* x, float* residual, const float* gamma, float* y,
                           int64_t r0, int64_t r1, int64_t dim, float eps);
void silu_mul_rows_avx2(const float* gate, const float* up, float* out, int64_t r0, int64_t r1,
                        int64_t inter, int64_t in_stride);
void softmax_rows_avx2(const float* x, float* y, int64_t r0, int64_t r1, int64_t cols);
void rope_token_avx2(float* x, int64_t heads, int64_t head_dim, const float* cos, const float* sin);

}  // namespace llmroof::kernels
