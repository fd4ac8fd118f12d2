#include "calibrate/moe_block.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "analyzer/cost.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/activation.hpp"

namespace llmroof::calibrate {

using kernels::PackedWeights;
using kernels::WeightFormat;

MoeShape moe_shape(const ModelSpec& m) {
  MoeShape s;
  s.hidden = m.hidden_size;
  s.experts = m.moe->num_experts;
  s.top_k = m.moe->experts_per_token;
  s.expert_inter = m.moe->expert_intermediate_size;
  if (m.moe->num_shared_experts > 0) s.shared_inter = m.moe->shared_expert_intermediate_size;
  s.shared_gate = s.shared_inter > 0 && m.moe->shared_expert_gate;
  s.renormalize = m.family != "qwen2_moe";
  return s;
}

namespace {

std::vector<float> random_matrix(int64_t rows, int64_t cols, float r, uint64_t seed) {
  std::vector<float> w(static_cast<size_t>(rows * cols));
  kernels::fill_uniform(w, seed, -r, r);
  return w;
}

PackedWeights pack_random(int64_t k, int64_t n, WeightFormat f, int64_t group, uint64_t seed) {
  const auto w = random_matrix(k, n, 1.0f / std::sqrt(static_cast<float>(k)), seed);
  return kernels::pack_weights(w.data(), k, n, f, group);
}

ExpertWeights random_expert(int64_t h, int64_t inter, WeightFormat f, int64_t group,
                            uint64_t seed) {
  ExpertWeights e;
  e.gate = pack_random(h, inter, f, group, seed * 3 + 1);
  e.up = pack_random(h, inter, f, group, seed * 3 + 2);
  e.down = pack_random(inter, h, f, group, seed * 3 + 3);
  return e;
}

double matrix_bytes(int64_t k, int64_t n, WeightFormat f, int64_t group) {
  return weight_bytes(k, n, kernels::weight_dtype(f), f == WeightFormat::int4 ? group : 0);
}

}  // namespace

MoeWeights make_moe_weights(const MoeShape& s, WeightFormat weights, bool router_bf16,
                            int64_t group_size, uint64_t seed, int64_t distinct) {
  MoeWeights w;
  const int64_t h = s.hidden;
  const float r = 1.0f / std::sqrt(static_cast<float>(h));
  w.router = kernels::pack_router(random_matrix(s.experts, h, r, seed * 97 + 5).data(), s.experts,
                                  h, router_bf16);
  distinct = std::clamp<int64_t>(distinct, 1, s.experts);
  std::vector<ExpertWeights> protos;
  for (int64_t i = 0; i < distinct; ++i)
    protos.push_back(random_expert(h, s.expert_inter, weights, group_size, seed * 97 + 11 + i));
  w.experts.reserve(static_cast<size_t>(s.experts));
  // Copies first, the prototypes moved in last: the peak is one block's experts, not two.
  for (int64_t e = distinct; e < s.experts; ++e)
    w.experts.push_back(protos[static_cast<size_t>(e % distinct)]);
  for (auto& p : protos) w.experts.push_back(std::move(p));
  // Expert e is the e-th entry: rotate so the distinct ones come first (e % distinct == proto).
  std::rotate(w.experts.begin(), w.experts.end() - distinct, w.experts.end());
  if (s.shared_inter > 0)
    w.shared = random_expert(h, s.shared_inter, weights, group_size, seed * 97 + 3);
  if (s.shared_gate)
    w.shared_gate =
        kernels::pack_router(random_matrix(1, h, r, seed * 97 + 7).data(), 1, h, router_bf16);
  return w;
}

double moe_weight_bytes(const MoeShape& s, WeightFormat f, bool router_bf16, int64_t group) {
  const double elem = router_bf16 ? 2 : 4;
  const int64_t h = s.hidden;
  const auto mlp = [&](int64_t inter) {
    return 2 * matrix_bytes(h, inter, f, group) + matrix_bytes(inter, h, f, group);
  };
  double b = static_cast<double>(s.experts * h) * elem +
             static_cast<double>(s.experts) * mlp(s.expert_inter);
  if (s.shared_inter > 0) b += mlp(s.shared_inter);
  if (s.shared_gate) b += static_cast<double>(h) * elem;
  return b;
}

MoeBuffers::MoeBuffers(const MoeShape& s, int64_t max_rows) {
  const size_t rows = static_cast<size_t>(max_rows), pairs = rows * static_cast<size_t>(s.top_k);
  const size_t h = static_cast<size_t>(s.hidden), ei = static_cast<size_t>(s.expert_inter),
               si = static_cast<size_t>(s.shared_inter);
  logits.assign(rows * static_cast<size_t>(s.experts), 0.f);
  if (s.uniform_routing) uniform_logits.assign(logits.size(), 0.f);
  weights.assign(pairs, 0.f);
  ids.assign(pairs, 0);
  offset.assign(static_cast<size_t>(s.experts + 1), 0);
  slot_of.assign(pairs, 0);
  token_of.assign(pairs, 0);
  for (auto* v : {&xg, &yg}) v->assign(pairs * h, 0.f);
  for (auto* v : {&g, &u, &a}) v->assign(pairs * ei, 0.f);
  for (auto* v : {&sg, &su, &sa}) v->assign(rows * si, 0.f);
  if (si > 0) sy.assign(rows * h, 0.f);
  gate_logit.assign(rows, 0.f);
}

namespace {

// Counting sort of the (token, j) pairs by expert: offset[e] .. offset[e+1] are expert e's slots.
void group_by_expert(const MoeShape& s, int64_t rows, MoeBuffers& b) {
  const int64_t k = s.top_k, pairs = rows * k;
  std::fill(b.offset.begin(), b.offset.end(), 0);
  for (int64_t p = 0; p < pairs; ++p) ++b.offset[static_cast<size_t>(b.ids[p] + 1)];
  b.distinct_experts = 0;
  for (int64_t e = 0; e < s.experts; ++e) {
    b.distinct_experts += b.offset[static_cast<size_t>(e + 1)] > 0 ? 1 : 0;
    b.offset[static_cast<size_t>(e + 1)] += b.offset[static_cast<size_t>(e)];
  }
  std::vector<int64_t> next(b.offset.begin(), b.offset.end() - 1);
  for (int64_t p = 0; p < pairs; ++p) {
    const int64_t slot = next[static_cast<size_t>(b.ids[p])]++;
    b.slot_of[static_cast<size_t>(p)] = slot;
    b.token_of[static_cast<size_t>(slot)] = p / k;
  }
}

void run_experts(const MoeShape& s, const MoeWeights& w, const float* x, int64_t rows, float* y,
                 MoeBuffers& b, kernels::ThreadPool& pool) {
  const int64_t h = s.hidden, in = s.expert_inter, k = s.top_k, pairs = rows * k;
  group_by_expert(s, rows, b);
  pool.parallel_for(pairs, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      std::memcpy(b.xg.data() + p * h, x + b.token_of[static_cast<size_t>(p)] * h,
                  static_cast<size_t>(h) * 4);
  });
  const auto each_expert = [&](auto&& fn) {
    for (int64_t e = 0; e < s.experts; ++e) {
      const int64_t o = b.offset[static_cast<size_t>(e)],
                    n = b.offset[static_cast<size_t>(e + 1)] - o;
      if (n > 0) fn(w.experts[static_cast<size_t>(e)], o, n);
    }
  };
  each_expert([&](const ExpertWeights& ew, int64_t o, int64_t n) {
    kernels::gemm(b.xg.data() + o * h, n, ew.gate, b.g.data() + o * in, pool);
    kernels::gemm(b.xg.data() + o * h, n, ew.up, b.u.data() + o * in, pool);
  });
  kernels::silu_mul(b.g.data(), b.u.data(), b.a.data(), pairs, in, in, pool);
  each_expert([&](const ExpertWeights& ew, int64_t o, int64_t n) {
    kernels::gemm(b.a.data() + o * in, n, ew.down, b.yg.data() + o * h, pool);
  });
  // Weighted combine per token (threads own whole output rows).
  pool.parallel_for(rows, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* yt = y + t * h;
      std::fill(yt, yt + h, 0.f);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t slot = b.slot_of[static_cast<size_t>(t * k + j)];
        kernels::axpy(b.weights[static_cast<size_t>(t * k + j)], b.yg.data() + slot * h, yt, h);
      }
    }
  });
}

void run_shared(const MoeShape& s, const MoeWeights& w, const float* x, int64_t rows, float* y,
                MoeBuffers& b, kernels::ThreadPool& pool) {
  const int64_t h = s.hidden, in = s.shared_inter;
  kernels::gemm(x, rows, w.shared.gate, b.sg.data(), pool);
  kernels::gemm(x, rows, w.shared.up, b.su.data(), pool);
  kernels::silu_mul(b.sg.data(), b.su.data(), b.sa.data(), rows, in, in, pool);
  kernels::gemm(b.sa.data(), rows, w.shared.down, b.sy.data(), pool);
  if (s.shared_gate) kernels::router_logits(x, rows, w.shared_gate, b.gate_logit.data(), pool);
  pool.parallel_for(rows, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float gate =
          s.shared_gate ? 1.0f / (1.0f + std::exp(-b.gate_logit[static_cast<size_t>(t)])) : 1.0f;
      kernels::axpy(gate, b.sy.data() + t * h, y + t * h, h);
    }
  });
}

}  // namespace

void draw_uniform_routing(const MoeShape& s, int64_t rows, MoeBuffers& b) {
  const size_t n = static_cast<size_t>(rows * s.experts);
  if (b.uniform_logits.size() < n) b.uniform_logits.resize(n);
  kernels::Rng rng(b.routing_seed++);
  for (size_t i = 0; i < n; ++i) b.uniform_logits[i] = 4.0f * static_cast<float>(rng.uniform());
  b.uniform_rows = rows;
}

void moe_forward(const MoeShape& s, const MoeWeights& w, const float* x, int64_t rows, float* y,
                 MoeBuffers& b, kernels::ThreadPool& pool, const LapFn& lap) {
  const auto done = [&](const char* name) {
    if (lap) lap(name);
  };
  // Uniform routing: the table drawn before the caller's timed interval (or now, untimed callers);
  // top-k reads it as it would read the logits, so the router does the same work either way.
  if (s.uniform_routing && b.uniform_rows != rows) draw_uniform_routing(s, rows, b);
  kernels::router_logits(x, rows, w.router, b.logits.data(), pool);
  const float* route = s.uniform_routing ? b.uniform_logits.data() : b.logits.data();
  kernels::softmax_top_k(route, rows, s.experts, s.top_k, s.renormalize, b.ids.data(),
                         b.weights.data());
  b.uniform_rows = 0;  // a fresh draw for the next call
  done("router");
  run_experts(s, w, x, rows, y, b, pool);
  done("experts");
  if (s.shared_inter > 0) {
    run_shared(s, w, x, rows, y, b, pool);
    done("shared_expert");
  }
}

}  // namespace llmroof::calibrate
