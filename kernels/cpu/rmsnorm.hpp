#pragma once
// RMSNorm and fused residual-add + RMSNorm over rows of fp32 activations (row-major, dense).
//   rmsnorm:      y[r,:] = x[r,:] / sqrt(mean(x[r,:]^2) + eps) * gamma
//   add_rmsnorm:  residual[r,:] += x[r,:];  y[r,:] = rmsnorm(residual[r,:])   (one pass over memory:
//                 the row is summed while it is written, then normalized from L1)
// The optimized functions split rows over the pool and use AVX-512 where the CPU has it; the *_ref
// functions are obvious loops with double accumulation. y may alias x (rmsnorm) but not residual.
#include <cstdint>

#include "kernels/cpu/dispatch.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::kernels {

// `isa` picks the path (default: the best this CPU has; a higher request is lowered).
void rmsnorm(const float* x, const float* gamma, float* y, int64_t rows, int64_t dim, float eps,
             ThreadPool& pool, Isa isa = best_isa());
void rmsnorm_ref(const float* x, const float* gamma, float* y, int64_t rows, int64_t dim, float eps);

void add_rmsnorm(const float* x, float* residual, const float* gamma, float* y, int64_t rows,
                 int64_t dim, float eps, ThreadPool& pool, Isa isa = best_isa());
void add_rmsnorm_ref(const float* x, float* residual, const float* gamma, float* y, int64_t rows,
                     int64_t dim, float eps);

// Row-range entry points of the AVX-512 path (rmsnorm_avx512.cpp); call only if the CPU has avx512f.
void rmsnorm_rows_avx512(const float* x, const float* gamma, float* y, int64_t r0, int64_t r1,
                         int64_t dim, float eps);
void add_rmsnorm_rows_avx512(const float* x, float* residual, const float* gamma, float* y,
                             int64_t r0, int64_t r1, int64_t dim, float eps);

}  // namespace llmroof::kernels
