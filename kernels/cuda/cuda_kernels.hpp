#pragma once
// CUDA twins of the CPU kernels (built only where nvcc exists: LLMROOF_HAVE_CUDA). Same ops, same
// layouts and the same scalar references as kernels/cpu/ (docs/kernels.md); pointers here are
// device pointers and the launches are asynchronous on the default stream.
#include <cstdint>

namespace llmroof::kernels::cuda {

// Number of visible CUDA devices (0 when there is no GPU or no driver: never throws).
int device_count();

// y = x / sqrt(mean(x^2) + eps) * gamma over `rows` rows of `dim` fp32 values (one block per row).
void rmsnorm(const float* x, const float* gamma, float* y, int64_t rows, int64_t dim, float eps);

// Decode attention (q_len 1) over an fp32 KV cache [batch, capacity, kv_heads, head_dim]; q and o are
// [batch, q_heads, head_dim]. One block per (batch, q head); each warp runs an online softmax over
// a strided share of the tokens, and the warps' partials are merged in shared memory.
// head_dim <= 256 and a multiple of 32.
void attention_decode(const float* q, const float* k, const float* v, float* o, int64_t batch,
                      int64_t q_heads, int64_t kv_heads, int64_t head_dim, int64_t kv_len,
                      int64_t capacity, float scale);

// Throws std::runtime_error with CUDA's message if the last launch or copy failed.
void check_last_error(const char* what);

}  // namespace llmroof::kernels::cuda
