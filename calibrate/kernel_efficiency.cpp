// The achieved efficiency of the real kernels at representative shapes, against calibrate's own
// measured limits (DRAM read bandwidth, SIMD peaks). Bytes and ops come from analyzer/cost.hpp via
// PackedWeights::shape(), so the efficiency is exactly the factor the analyzer's realistic mode needs.
#include <cmath>
#include <vector>

#include "calibrate/calibrate.hpp"
#include "calibrate/timing.hpp"
#include "kernels/check.hpp"
#include "kernels/huge_buffer.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/gemm.hpp"

namespace llmroof::calibrate {

namespace {

using kernels::PackedWeights;
using kernels::WeightFormat;

PackedWeights random_weights(int64_t k, int64_t n, WeightFormat f, uint64_t seed) {
  std::vector<float> w(static_cast<size_t>(k * n));
  kernels::fill_uniform(w, seed, -0.05f, 0.05f);
  return kernels::pack_weights(w.data(), k, n, f, 128);
}

std::string shape_text(int64_t m, int64_t n, int64_t k) {
  return "m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k);
}

// Decode GEMV with the weights rotated through >= 1 GiB of copies, so every call streams its
// weights from DRAM as in a full model (one matrix would stay in the last-level cache).
KernelEfficiency gemv_efficiency(kernels::ThreadPool& pool, WeightFormat f, int64_t n, int64_t k,
                                 double limit, double t_min, const TimingPolicy& policy) {
  const PackedWeights w0 = random_weights(k, n, f, 11);
  const size_t copies =
      static_cast<size_t>(std::ceil(double(1ull << 30) / std::max(1.0, w0.bytes())));
  std::vector<PackedWeights> ws(copies, w0);
  std::vector<float> x(static_cast<size_t>(k)), y(static_cast<size_t>(n));
  kernels::fill_uniform(x, 3);
  TimingPlan plan;
  plan.clock = policy.clock;
  plan.min_total_s = t_min;
  plan.min_samples = 5;
  const auto t = time_it(
      [&] {
        for (const auto& w : ws) kernels::gemm(x.data(), 1, w, y.data(), pool);
      },
      plan);
  const double bytes = gemm_cost(w0.shape(1)).bytes.total();
  return {"gemm_" + std::string(kernels::to_string(f)), shape_text(1, n, k), true,
          bytes * static_cast<double>(copies) / t.value(policy.stat), limit};
}

// Prefill GEMM: compute-bound, one matrix (its reuse across 512 rows is the point).
KernelEfficiency gemm_efficiency(kernels::ThreadPool& pool, WeightFormat f, int64_t m, int64_t n,
                                 int64_t k, double limit, double t_min, const TimingPolicy& policy) {
  const PackedWeights w = random_weights(k, n, f, 12);
  std::vector<float> x(static_cast<size_t>(m * k)), y(static_cast<size_t>(m * n));
  kernels::fill_uniform(x, 4);
  TimingPlan plan;
  plan.clock = policy.clock;
  plan.min_total_s = t_min;
  plan.min_samples = 3;
  const auto t = time_it([&] { kernels::gemm(x.data(), m, w, y.data(), pool); }, plan);
  return {"gemm_" + std::string(kernels::to_string(f)), shape_text(m, n, k), false,
          gemm_cost(w.shape(m)).ops / t.value(policy.stat), limit};
}

// Attention (Llama-2-7b shape: 32 heads of 128, fp32), costed by the analyzer's fused_attention_cost.
// Decode reads a 2048-token fp32 KV cache, rotated through >= 1 GiB of caches like the weights above;
// prefill is 512 causal tokens (compute-bound). They become efficiency.attention_memory and
// efficiency.attention_compute (calibrate.cpp), which the analyzer applies to fused_attention.
KernelEfficiency attention_efficiency(kernels::ThreadPool& pool, bool decode, const Calibration& c,
                                      double t_min, const TimingPolicy& policy) {
  kernels::AttentionDims d;
  d.q_heads = d.kv_heads = 32;
  d.head_dim = 128;
  d.q_len = decode ? 1 : 512;
  d.kv_len = decode ? 2048 : 512;
  const size_t kv_elems = static_cast<size_t>(d.kv_len * d.kv_heads * d.head_dim);
  const size_t copies = decode ? static_cast<size_t>(std::ceil(double(1ull << 30) /
                                                                (2.0 * 4.0 * double(kv_elems))))
                               : 1;
  // 2 MiB pages where granted, like the weights (kernels/huge_buffer.hpp).
  std::vector<kernels::HugeVector<float>> k(copies, kernels::HugeVector<float>(kv_elems)), v = k;
  for (size_t i = 0; i < copies; ++i) {
    kernels::fill_uniform(k[i], 20 + i);
    kernels::fill_uniform(v[i], 40 + i);
  }
  std::vector<float> q(static_cast<size_t>(d.q_len * d.q_heads * d.head_dim)), o(q.size());
  kernels::fill_uniform(q, 5);
  TimingPlan plan;
  plan.clock = policy.clock;
  plan.min_total_s = t_min;
  plan.min_samples = 3;
  const auto t = time_it(
      [&] {
        for (size_t i = 0; i < copies; ++i) {
          if (decode) {
            kernels::KvCacheView kv;
            kv.k = k[i].data();
            kv.v = v[i].data();
            kernels::attention_decode(q.data(), kv, o.data(), d, pool);
          } else {
            kernels::attention_prefill(q.data(), k[i].data(), v[i].data(), o.data(), d, pool);
          }
        }
      },
      plan);
  AttentionShape a;
  a.q_heads = a.kv_heads = 32;
  a.head_dim = 128;
  a.q_len = d.q_len;
  a.kv_len = d.kv_len;
  a.act_bytes = 4;
  a.kv = DType::fp32;
  a.onchip_bytes = c.caches.l2_bytes_per_core;
  const OpCost cost = fused_attention_cost(a);
  const double per_s = static_cast<double>(copies) / t.value(policy.stat);
  const std::string shape = "heads=32 d=128 q=" + std::to_string(d.q_len) +
                            " kv=" + std::to_string(d.kv_len);
  if (decode)
    return {"attention_decode", shape, true, cost.bytes.total() * per_s, c.dram_read_bytes_per_s()};
  return {"attention_prefill", shape, false, cost.ops * per_s, c.peak(DType::fp32)};
}

}  // namespace

std::vector<KernelEfficiency> measure_kernel_efficiency(kernels::ThreadPool& pool,
                                                        const Calibration& c, bool quick,
                                                        const CalibrateOptions& opt) {
  std::vector<KernelEfficiency> out;
  const double t_min = quick ? 0.05 : 0.6;
  const double dram = c.dram_read_bytes_per_s();
  const auto progress = [&](const std::string& s) {
    if (opt.progress) opt.progress(s);
  };
  const std::vector<WeightFormat> gemv_formats =
      quick ? std::vector<WeightFormat>{WeightFormat::bf16}
            : std::vector<WeightFormat>{WeightFormat::fp32, WeightFormat::bf16, WeightFormat::int8,
                                        WeightFormat::int4};
  for (auto f : gemv_formats) {
    progress("decode GEMV " + std::string(kernels::to_string(f)) +
             " m=1 n=4096 k=4096, weights rotated through 1 GiB");
    out.push_back(gemv_efficiency(pool, f, 4096, 4096, dram, t_min, opt.policy));
  }
  const int64_t m = quick ? 256 : 512;
  const std::vector<WeightFormat> gemm_formats =
      quick ? std::vector<WeightFormat>{WeightFormat::fp32}
            : std::vector<WeightFormat>{WeightFormat::fp32, WeightFormat::int4, WeightFormat::w8a8};
  for (auto f : gemm_formats) {
    const double limit = c.peak(f == WeightFormat::w8a8 ? DType::int8 : DType::fp32);
    if (limit <= 0) continue;
    progress("prefill GEMM " + std::string(kernels::to_string(f)) + " m=" + std::to_string(m) +
             " n=4096 k=4096");
    out.push_back(gemm_efficiency(pool, f, m, 4096, 4096, limit, t_min, opt.policy));
  }
  if (!quick) {
    progress("attention decode (kv 2048, rotated through 1 GiB) and prefill (512 tokens)");
    out.push_back(attention_efficiency(pool, true, c, t_min, opt.policy));
    if (c.peak(DType::fp32) > 0) out.push_back(attention_efficiency(pool, false, c, t_min, opt.policy));
  }
  return out;
}

}  // namespace llmroof::calibrate
