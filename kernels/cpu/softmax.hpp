#pragma once
// Softmax over each row of a dense fp32 [rows, cols] matrix: y = e^(x - max) / sum e^(x - max).
// y may alias x. Three passes per row (max, exp+sum, scale) that run from L1 for rows up to ~8K.
#include <cstdint>

#include "kernels/cpu/dispatch.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::kernels {

void softmax(const float* x, float* y, int64_t rows, int64_t cols, ThreadPool& pool,
             Isa isa = best_isa());
void softmax_ref(const float* x, float* y, int64_t rows, int64_t cols);

void softmax_rows_avx512(const float* x, float* y, int64_t r0, int64_t r1, int64_t cols);

}  // namespace llmroof::kernels
