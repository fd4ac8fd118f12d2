// The achieved efficiency of the real kernels at representative shapes, against calibrate's own
// measured limits (DRAM read bandwidth, SIMD peaks). Bytes and ops come from analyzer/cost.hpp via
// PackedWeights::shape(), so the efficiency is exactly the factor the analyzer's realistic mode needs.
#include <cmath>
#include <cstring>
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

// One copy of a KV cache (K or V) in `f`, random values: fp32, bf16 (rounded), or int8 with one
// fp16 scale per (token, kv head) as the runner stores it. 2 MiB pages where granted.
struct KvCopy {
  kernels::HugeVector<uint8_t> k, v;
  kernels::HugeVector<uint16_t> k_scale, v_scale;  // int8 only
};

KvCopy random_kv(kernels::KvFormat f, int64_t tokens, int64_t heads, int64_t head_dim,
                 uint64_t seed) {
  const size_t n = static_cast<size_t>(tokens * heads * head_dim);
  const size_t elem = f == kernels::KvFormat::fp32 ? 4 : f == kernels::KvFormat::bf16 ? 2 : 1;
  KvCopy c{kernels::HugeVector<uint8_t>(n * elem), kernels::HugeVector<uint8_t>(n * elem), {}, {}};
  std::vector<float> x(n);
  for (int side = 0; side < 2; ++side) {
    kernels::fill_uniform(x, seed + static_cast<uint64_t>(side) * 1000);
    uint8_t* dst = side == 0 ? c.k.data() : c.v.data();
    if (f == kernels::KvFormat::fp32) {
      std::memcpy(dst, x.data(), n * 4);
    } else if (f == kernels::KvFormat::bf16) {
      auto* d = reinterpret_cast<uint16_t*>(dst);
      for (size_t i = 0; i < n; ++i) d[i] = kernels::float_to_bf16(x[i]);
    } else {
      const size_t rows = static_cast<size_t>(tokens * heads);
      std::vector<float> scale(rows);
      kernels::quantize_int8_rows(x.data(), reinterpret_cast<int8_t*>(dst), scale.data(),
                                  static_cast<int64_t>(rows), head_dim);
      auto& s = side == 0 ? c.k_scale : c.v_scale;
      s = kernels::HugeVector<uint16_t>(rows);
      for (size_t i = 0; i < rows; ++i) s[i] = kernels::float_to_half(scale[i]);
    }
  }
  return c;
}

DType kv_dtype(kernels::KvFormat f) {
  return f == kernels::KvFormat::fp32 ? DType::fp32
         : f == kernels::KvFormat::bf16 ? DType::bf16
                                        : DType::int8;
}

// Decode attention (Llama-2-7b shape: 32 heads of 128) over a 2048-token cache in `f`, rotated
// through >= 1 GiB of caches like the weights above, costed by the analyzer's fused_attention_cost.
// fp32 becomes efficiency.attention_memory, bf16/int8 efficiency.attention_memory_<dtype>
// (calibrate.cpp); the analyzer applies the one of --kvbits' format to fused_attention.
KernelEfficiency attention_decode_efficiency(kernels::ThreadPool& pool, kernels::KvFormat f,
                                             const Calibration& c, double t_min,
                                             const TimingPolicy& policy) {
  kernels::AttentionDims d;
  d.q_heads = d.kv_heads = 32;
  d.head_dim = 128;
  d.q_len = 1;
  d.kv_len = 2048;
  AttentionShape a;
  a.q_heads = a.kv_heads = 32;
  a.head_dim = 128;
  a.q_len = 1;
  a.kv_len = d.kv_len;
  a.act_bytes = 4;
  a.kv = kv_dtype(f);
  a.onchip_bytes = c.caches.l2_bytes_per_core;
  const OpCost cost = fused_attention_cost(a);
  const size_t copies =
      static_cast<size_t>(std::ceil(double(1ull << 30) / std::max(1.0, cost.bytes.kv_read)));
  std::vector<KvCopy> kv;
  kv.reserve(copies);
  for (size_t i = 0; i < copies; ++i) kv.push_back(random_kv(f, d.kv_len, 32, 128, 20 + i));
  std::vector<float> q(static_cast<size_t>(d.q_heads * d.head_dim)), o(q.size());
  kernels::fill_uniform(q, 5);
  TimingPlan plan;
  plan.clock = policy.clock;
  plan.min_total_s = t_min;
  plan.min_samples = 3;
  const auto t = time_it(
      [&] {
        for (const KvCopy& x : kv) {
          kernels::KvCacheView view;
          view.format = f;
          view.k = x.k.data();
          view.v = x.v.data();
          view.k_scale = x.k_scale.data();
          view.v_scale = x.v_scale.data();
          view.scales_fp16 = true;
          kernels::attention_decode(q.data(), view, o.data(), d, pool);
        }
      },
      plan);
  const double per_s = static_cast<double>(copies) / t.value(policy.stat);
  const std::string name = f == kernels::KvFormat::fp32
                               ? "attention_decode"
                               : "attention_decode_" + std::string(to_string(a.kv));
  return {name, "heads=32 d=128 q=1 kv=2048 " + std::string(to_string(a.kv)) + " KV", true,
          cost.bytes.total() * per_s, c.dram_read_bytes_per_s()};
}

// Prefill attention: 512 causal tokens of the same shape, fp32, compute-bound (one copy).
// Becomes efficiency.attention_compute.
KernelEfficiency attention_prefill_efficiency(kernels::ThreadPool& pool, const Calibration& c,
                                              double t_min, const TimingPolicy& policy) {
  kernels::AttentionDims d;
  d.q_heads = d.kv_heads = 32;
  d.head_dim = 128;
  d.q_len = d.kv_len = 512;
  const size_t n = static_cast<size_t>(d.kv_len * d.kv_heads * d.head_dim);
  kernels::HugeVector<float> k(n), v(n);
  kernels::fill_uniform(k, 20);
  kernels::fill_uniform(v, 40);
  std::vector<float> q(n), o(n);
  kernels::fill_uniform(q, 5);
  TimingPlan plan;
  plan.clock = policy.clock;
  plan.min_total_s = t_min;
  plan.min_samples = 3;
  const auto t = time_it(
      [&] { kernels::attention_prefill(q.data(), k.data(), v.data(), o.data(), d, pool); }, plan);
  AttentionShape a;
  a.q_heads = a.kv_heads = 32;
  a.head_dim = 128;
  a.q_len = a.kv_len = 512;
  a.act_bytes = 4;
  a.kv = DType::fp32;
  a.onchip_bytes = c.caches.l2_bytes_per_core;
  return {"attention_prefill", "heads=32 d=128 q=512 kv=512", false,
          fused_attention_cost(a).ops / t.value(policy.stat), c.peak(DType::fp32)};
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
    for (auto f : {kernels::KvFormat::fp32, kernels::KvFormat::bf16, kernels::KvFormat::int8}) {
      progress("attention decode, " + std::string(to_string(kv_dtype(f))) +
               " KV of 2048 tokens rotated through 1 GiB");
      out.push_back(attention_decode_efficiency(pool, f, c, t_min, opt.policy));
    }
    if (c.peak(DType::fp32) > 0) {
      progress("attention prefill, 512 causal tokens");
      out.push_back(attention_prefill_efficiency(pool, c, t_min, opt.policy));
    }
  }
  return out;
}

}  // namespace llmroof::calibrate
