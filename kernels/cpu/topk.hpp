#pragma once
// Mixture-of-experts routing kernels (the analyzer's `router` row, analyzer/moe.cpp) and the small
// row updates an MoE block needs around its expert GEMMs.
//
//   RouterWeights w = pack_router(W, experts, hidden, /*bf16=*/false);  // W: [experts, hidden]
//   router_logits(x, tokens, w, logits, pool);        // logits[t, e] = x[t, :] . W[e, :]
//   softmax_top_k(logits, tokens, experts, k, renorm, ids, weights);
//
// The router matrix is tiny and has few outputs (8 for Mixtral, 60 for Qwen1.5-MoE), so it is not
// packed in the GEMM's 32-column panels (which would read 4x the bytes for 8 experts): each
// expert's row is a contiguous dot product, read exactly once per call -- h x E x element-size
// bytes, the analyzer's router weight bytes.
#include <cstdint>
#include <vector>

#include "kernels/thread_pool.hpp"

namespace llmroof::kernels {

struct RouterWeights {
  int64_t n = 0, k = 0;       // n outputs (experts) of k inputs (hidden)
  bool bf16 = false;          // stored as bf16 (round to nearest even), else fp32
  std::vector<float> f32;     // [n, k]
  std::vector<uint16_t> b16;  // [n, k]
  double bytes() const { return static_cast<double>(n * k) * (bf16 ? 2.0 : 4.0); }
  float at(int64_t row, int64_t col) const;  // the stored (rounded) value
};

// W is [n, k] row-major (nn.Linear's [out_features, in_features]).
RouterWeights pack_router(const float* w, int64_t n, int64_t k, bool bf16);

// logits[r, j] = sum_i x[r, i] * W[j, i] for r < rows; threads split the n outputs, so each row of
// W is read once and reused from L1 for every token.
void router_logits(const float* x, int64_t rows, const RouterWeights& w, float* logits,
                   ThreadPool& pool);
// Scalar reference: double accumulation.
void router_logits_ref(const float* x, int64_t rows, const RouterWeights& w, float* logits);

// Per row of n logits: p = softmax(logits); the top_k largest p (ties to the lower index), in
// descending order, into ids[r * top_k ..]; their weights p, or p / sum of the k p when
// `renormalize` (Mixtral renormalizes, Qwen-MoE's norm_topk_prob = false does not).
// Single-threaded: ~5 OPs per logit, a few microseconds for a decode step.
void softmax_top_k(const float* logits, int64_t rows, int64_t n, int64_t top_k, bool renormalize,
                   int32_t* ids, float* weights);
// sum_j exp(l[j] - mx) for j < n, 16 lanes at a time (AVX-512 path of softmax_top_k's normaliser:
// with std::exp per logit, the top-k of a 64-token Qwen1.5-MoE prefill took 17 us, as long as a
// quarter of its router GEMM).
float exp_sum_avx512(const float* l, int64_t n, float mx);
// Scalar reference: full sort in double.
void softmax_top_k_ref(const float* logits, int64_t rows, int64_t n, int64_t top_k,
                       bool renormalize, int32_t* ids, float* weights);

// y[i] += a * x[i] for i < n (the MoE combine, a bias add with a = 1). AVX-512 where available.
void axpy(float a, const float* x, float* y, int64_t n);

}  // namespace llmroof::kernels
