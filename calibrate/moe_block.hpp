#pragma once
// The MLP half of a sparse (mixture-of-experts) decoder block, run through the CPU kernels and
// timed under the analyzer's row names (analyzer/moe.cpp): `router`, `experts`, `shared_expert`.
//
//   router         router_logits (x . W_r, W_r [experts, hidden] in the embedding format) and
//                  softmax_top_k: per token the top_k experts and their weights
//   experts        grouped by expert: gather each expert's tokens, gate / up GEMMs in the weight
//                  format, one silu_mul over all (token, expert) pairs, the down GEMM per expert,
//                  then y[t] = sum_j w_tj * expert_j(x_t) -- each touched expert's weights read
//                  once
//   shared_expert  gate / up / silu_mul / down over every token, times sigmoid(x . w_g) when the
//                  model has the shared-expert gate (Qwen-MoE), added into y
//
// Routing, two modes, both deterministic:
//  - hidden-state routing: top-k of the real logits. A random (untrained) router on random-weight
//    hidden states is not balanced -- the tokens share a component that favours some experts, so a
//    64-token prefill of Qwen2-57B-A14B touched 45 of 64 experts where uniform routing touches 64;
//  - uniform routing (`uniform_routing`, what validate uses): the router GEMV runs on the real
//    hidden state exactly as above (same bytes and OPs, timed), then the logits top-k selects from
//    are replaced by seeded uniform values, so each token picks k experts uniformly at random: the
//    routing behind the analyzer's expected_distinct_experts(E, k, T) = E (1 - (1 - k/E)^T), and a
//    stand-in for a trained, load-balanced router.
// MoeBuffers::distinct_experts reports what a call really touched (docs/validate.md, "MoE blocks").
#include <cstdint>
#include <functional>
#include <vector>

#include "analyzer/model_spec.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/topk.hpp"
#include "kernels/huge_buffer.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::calibrate {

struct MoeShape {
  int64_t hidden = 0, experts = 0, top_k = 0, expert_inter = 0, shared_inter = 0;
  bool shared_gate = false;
  // Mixtral renormalizes the k routing weights to sum 1; Qwen-MoE (norm_topk_prob = false in the
  // Hugging Face configs of Qwen1.5-MoE and Qwen2-MoE) keeps the softmax probabilities. The model
  // schema has no field for it, so the family decides; the cost is the same either way.
  bool renormalize = true;
  bool uniform_routing = false;  // see above
};
MoeShape moe_shape(const ModelSpec& m);  // m.is_moe() required

struct ExpertWeights {
  kernels::PackedWeights gate, up, down;  // [hidden, inter], [hidden, inter], [inter, hidden]
};

struct MoeWeights {
  kernels::RouterWeights router;       // [experts, hidden]
  std::vector<ExpertWeights> experts;  // each owns its bytes (what the caches see)
  ExpertWeights shared;                // empty when shared_inter == 0
  kernels::RouterWeights shared_gate;  // [1, hidden] when shared_gate
};

// Random weights (uniform +-1/sqrt(fan_in)): `distinct` different experts, copied round-robin into
// the others (building Mixtral's 8 x 14336 x 4096 x 3 distinct matrices would take a minute; the
// copies still own their bytes). Tests pass distinct = experts so a wrong expert index shows.
MoeWeights make_moe_weights(const MoeShape& s, kernels::WeightFormat weights, bool router_bf16,
                            int64_t group_size, uint64_t seed, int64_t distinct = 1);

// Bytes of one sparse block's MLP weights: router, every expert, the shared expert and its gate
// (what a full model keeps in memory, not what one token reads).
double moe_weight_bytes(const MoeShape& s, kernels::WeightFormat weights, bool router_bf16,
                        int64_t group_size);

// Activations and routing of one call, sized for up to max_rows tokens.
struct MoeBuffers {
  MoeBuffers(const MoeShape& s, int64_t max_rows);
  std::vector<float> logits, weights;  // [rows, experts], [rows, top_k]
  std::vector<int32_t> ids;            // [rows, top_k] chosen experts
  std::vector<int64_t> offset;         // [experts + 1] first pair slot of each expert
  std::vector<int64_t> slot_of;        // [rows, top_k] pair slot of (token, j)
  std::vector<int64_t> token_of;       // [rows * top_k] token of each pair slot
  kernels::HugeVector<float> xg, g, u, a, yg;  // pairs grouped by expert: x rows, gate, up, act, out
  kernels::HugeVector<float> sg, su, sa, sy, gate_logit;  // shared expert
  int64_t distinct_experts = 0;                   // experts the last call touched
  uint64_t routing_seed = 1;                      // uniform routing: advances every draw
  // Uniform routing: the seeded logits top-k selects from, [uniform_rows, experts], drawn by
  // draw_uniform_routing before the timed interval; uniform_rows = 0 when none is drawn.
  std::vector<float> uniform_logits;
  int64_t uniform_rows = 0;
};

// Uniform routing's logits for the next moe_forward of `rows` tokens, i.i.d. uniform in [0, 4)
// (every k-subset of experts equally likely per token) from routing_seed, which advances. A caller
// that times the router (validate) draws them before its timed interval: rows x experts RNG draws
// are no part of a router (they took 3840 draws per 64-token prefill of Qwen1.5-MoE inside the
// `router` interval until 2026-11-21). moe_forward draws them itself when none are ready.
void draw_uniform_routing(const MoeShape& s, int64_t rows, MoeBuffers& buf);

using LapFn = std::function<void(const char* op_name)>;

// y[rows, hidden] = MoE(x[rows, hidden]); calls lap("router"), lap("experts") and, with a shared
// expert, lap("shared_expert") after each part (lap may be empty).
void moe_forward(const MoeShape& s, const MoeWeights& w, const float* x, int64_t rows, float* y,
                 MoeBuffers& buf, kernels::ThreadPool& pool, const LapFn& lap);

}  // namespace llmroof::calibrate
