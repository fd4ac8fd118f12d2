#pragma once
// In-place residual add h += x over n floats, split over the pool: the analyzer's attn_add and
// mlp_add rows (add_cost: reads h and x, writes h, one pass).
#include <cstdint>

#include "kernels/thread_pool.hpp"

namespace llmroof::kernels {

void add_inplace(float* h, const float* x, int64_t n, ThreadPool& pool);

}  // namespace llmroof::kernels
