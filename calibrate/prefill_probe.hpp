#pragma once
// The fused prefill attention probe calibrate times: `heads` heads of `head_dim` (32 of 128 by
// default), fp32,
// `tokens` causal tokens (q = kv), inputs in 2 MiB pages as validate's runner holds them, and its
// ops from the analyzer's fused_attention_cost. kernel_efficiency.cpp times it at 512 tokens
// against the FMA peak (efficiency.attention_compute), short_ops.cpp at 64 against the 512-token
// probe (efficiency.attention_compute_short; with heads of 64 whose Q/K/V/O fill 3/4 of the L2:
// efficiency.attention_compute_short_onchip).
#include <cstdint>
#include <string>

#include "analyzer/cost.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/huge_buffer.hpp"

namespace llmroof::calibrate {

struct PrefillProbe {
  kernels::AttentionDims d;
  kernels::HugeVector<float> q, k, v, o;
  double ops = 0;

  PrefillProbe(int64_t tokens, double onchip_bytes, int64_t heads = 32, int64_t head_dim = 128) {
    d.q_heads = d.kv_heads = heads;
    d.head_dim = head_dim;
    d.q_len = d.kv_len = tokens;
    const size_t n = static_cast<size_t>(tokens * d.kv_heads * d.head_dim);
    for (auto* x : {&q, &k, &v, &o}) x->resize(n);
    kernels::fill_uniform(q, 5);
    kernels::fill_uniform(k, 20);
    kernels::fill_uniform(v, 40);
    AttentionShape a;
    a.q_heads = a.kv_heads = d.q_heads;
    a.head_dim = d.head_dim;
    a.q_len = a.kv_len = tokens;
    a.act_bytes = 4;
    a.kv = DType::fp32;
    a.onchip_bytes = onchip_bytes;
    ops = fused_attention_cost(a).ops;
  }
  std::string shape() const {
    return "heads=" + std::to_string(d.q_heads) + " d=" + std::to_string(d.head_dim) +
           " q=" + std::to_string(d.q_len) +
           " kv=" + std::to_string(d.kv_len);
  }
  void run(kernels::ThreadPool& pool) {
    kernels::attention_prefill(q.data(), k.data(), v.data(), o.data(), d, pool);
  }
};

}  // namespace llmroof::calibrate
