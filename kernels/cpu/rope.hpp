#pragma once
// Rotary position embedding (RoPE), applied in place to Q and K in the layout the attention kernels
// read: q [batch, seq, q_heads, head_dim], k [batch, seq, kv_heads, head_dim] (dense, fp32), so GQA
// (kv_heads < q_heads) needs nothing special. Token s of every batch row sits at position pos0 + s.
// Pairing is the "rotate half" (GPT-NeoX / Hugging Face Llama) convention: element i pairs with
// i + head_dim/2 and both rotate by angle pos · theta^(-2i/head_dim):
//   x'[i]     = x[i] cos a − x[i + d/2] sin a
//   x'[i+d/2] = x[i + d/2] cos a + x[i] sin a
// The whole head is rotated (no partial rotary). head_dim must be even.
// cos/sin come from a table built once per model (sincos per element would cost as much as the
// memory traffic); rope_ref computes the angles in double without the table, so the table is tested.
#include <cstdint>
#include <functional>
#include <vector>

#include "kernels/cpu/dispatch.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::kernels {

struct RopeTable {
  int64_t head_dim = 0, max_positions = 0;
  double theta = 10000.0;
  std::vector<float> cos, sin;  // [max_positions, head_dim / 2]
};
RopeTable make_rope_table(int64_t head_dim, int64_t max_positions, double theta = 10000.0);

// Called once per token (token = b * seq + s) with that token's rotated K (kv_heads * head_dim
// floats, still in L1): the analyzer's rope row writes the rotated K straight into the KV cache, and
// a sink that stores it there (in the cache's format) makes the kernel do exactly that in the same
// pass, on the same thread, instead of a second pass over K afterwards.
using RopeKSink = std::function<void(int64_t token, const float* k_rotated)>;

// Positions pos0 .. pos0 + seq - 1 must be < table.max_positions (std::invalid_argument otherwise).
void rope(float* q, float* k, const RopeTable& table, int64_t batch, int64_t seq, int64_t q_heads,
          int64_t kv_heads, int64_t pos0, ThreadPool& pool, Isa isa = best_isa(),
          const RopeKSink* k_sink = nullptr);
void rope_ref(float* q, float* k, int64_t head_dim, double theta, int64_t batch, int64_t seq,
              int64_t q_heads, int64_t kv_heads, int64_t pos0);

// Rotates `heads` consecutive heads of one token with one row of cos/sin (AVX-512 path).
void rope_token_avx512(float* x, int64_t heads, int64_t head_dim, const float* cos,
                       const float* sin);

}  // namespace llmroof::kernels
