// Mixture-of-experts rows: router, the routed experts the batch touches, and shared experts.
#include <cmath>

#include "analyzer/analyzer.hpp"
#include "analyzer/plan.hpp"

namespace llmroof {

double expected_distinct_experts(int64_t experts, int64_t top_k, double tokens) {
  if (experts <= 0 || top_k <= 0 || tokens <= 0) return 0;
  // Each token picks k of E experts uniformly, so a given expert is missed by one token with
  // probability 1 - k/E and by all T tokens with (1 - k/E)^T; linearity of expectation over the E
  // experts gives E * (1 - (1 - k/E)^T).
  const double e = static_cast<double>(experts);
  const double miss = 1.0 - static_cast<double>(top_k) / e;
  return e * (1.0 - std::pow(miss, tokens));
}

namespace detail {

namespace {

// gate/up, activation, down of an expert MLP over `routed` token-expert pairs, with the weights of
// `experts_touched` experts read once each (grouped GEMM): OPs and activation bytes scale with the
// pairs, weight bytes and dequantization with the experts touched.
OpCost expert_mlp(const Plan& p, int64_t routed, int64_t inter, double experts_touched) {
  const ModelSpec& m = *p.model;
  OpCost total;
  auto add_gemm = [&](int64_t k, int64_t n) {
    const GemmShape g = linear_shape(p, routed, k, n);
    OpCost c = gemm_cost(g);
    c.ops += (experts_touched - 1) * gemm_dequant_ops(g);
    c.bytes.weights *= experts_touched;
    total.ops += c.ops;
    total.bytes += c.bytes;
  };
  if (m.gated_mlp) add_gemm(p.hidden, inter);
  add_gemm(p.hidden, inter);
  add_gemm(inter, p.hidden);
  const OpCost act = mlp_activation_cost(p, routed, inter);
  total.ops += act.ops;
  total.bytes += act.bytes;
  return total;
}

}  // namespace

void append_moe_rows(const Plan& p, const PhaseShape& ph, std::vector<LayerRow>& rows) {
  const MoeSpec& moe = *p.model->moe;
  const int64_t t = ph.tokens(), h = p.hidden, count = p.sparse_layers;
  const double td = static_cast<double>(t), hd = static_cast<double>(h);
  // Router: logits over the experts (kept in the float format), then softmax + top-k (~5/logit).
  GemmShape rg;
  rg.m = t;
  rg.k = h;
  rg.n = moe.num_experts;
  rg.weights = p.embed;
  rg.activations = p.residual;
  OpCost router = gemm_cost(rg);
  router.ops += 5 * td * static_cast<double>(moe.num_experts);
  LayerRow r;
  r.name = "router";
  r.count = count;
  r.cost = router;
  r.compute_dtype = p.float_compute;
  r.kernels = 2;
  // The cache-residency model's data flow (residency.cpp): the router and the experts read the
  // normed input, the experts write the MoE output where a dense block's down_proj writes it
  // (proj_out, which mlp_add reads), and the shared expert's down GEMM writes into it again.
  // The experts' gathered rows and intermediates are scratch of their own: they stream.
  const double normed_bytes = td * hd * p.act_bytes;
  const double gemm_in_bytes = td * hd * dtype_bytes(p.gemm_act);
  r.activations = {{Tensor::normed, normed_bytes, Access::read}};
  rows.push_back(r);

  const int64_t routed = t * moe.experts_per_token;
  const double touched = expected_distinct_experts(moe.num_experts, moe.experts_per_token, td);
  OpCost experts = expert_mlp(p, routed, p.expert_inter, touched);
  // Weighted combine of the k expert outputs per token: one multiply-add per element.
  experts.ops += 2 * static_cast<double>(routed) * hd;
  experts.bytes.act_read += static_cast<double>(routed) * hd * p.act_bytes;
  experts.bytes.act_written += td * hd * p.act_bytes;
  r.name = "experts";
  r.rates = RateClass::weights;  // the experts' weights are in the linear layers' format
  r.cost = experts;
  r.compute_dtype = p.gemm_compute;
  r.kernels = (p.model->gated_mlp ? 4 : 3) + 1;
  r.activations = {{Tensor::normed, gemm_in_bytes, Access::read},
                   {Tensor::proj_out, td * hd * p.act_bytes, Access::write}};
  rows.push_back(r);

  if (moe.num_shared_experts <= 0 || p.shared_inter <= 0) return;
  OpCost shared = expert_mlp(p, t, p.shared_inter, 1.0);
  r.kernels = p.model->gated_mlp ? 4 : 3;
  if (moe.shared_expert_gate) {
    // sigmoid(x . w_g) scales the shared output: a GEMV per token, sigmoid and a multiply-add.
    shared.ops += 2 * td * hd + 4 * td + 2 * td * hd;
    shared.bytes.weights += hd * dtype_bytes(p.embed);
    shared.bytes.act_read += td * hd * p.act_bytes;
    r.kernels += 1;
  }
  r.name = "shared_expert";
  r.cost = shared;
  r.activations = {{Tensor::normed, gemm_in_bytes, Access::read},
                   {Tensor::proj_out, td * hd * gemm_output_bytes(p.gemm_act), Access::write}};
  rows.push_back(r);
}

}  // namespace detail
}  // namespace llmroof
