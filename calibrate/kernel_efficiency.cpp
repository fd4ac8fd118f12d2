// The achieved efficiency of the real kernels at representative shapes, against calibrate's own
// measured limits (DRAM read bandwidth, SIMD peaks). Bytes and ops come from analyzer/cost.hpp via
// PackedWeights::shape(), so the efficiency is exactly the factor the analyzer's realistic mode needs.
#include <cmath>
#include <vector>

#include "calibrate/calibrate.hpp"
#include "calibrate/timing.hpp"
#include "kernels/check.hpp"
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
                                 double limit, double t_min, Statistic stat) {
  const PackedWeights w0 = random_weights(k, n, f, 11);
  const size_t copies =
      static_cast<size_t>(std::ceil(double(1ull << 30) / std::max(1.0, w0.bytes())));
  std::vector<PackedWeights> ws(copies, w0);
  std::vector<float> x(static_cast<size_t>(k)), y(static_cast<size_t>(n));
  kernels::fill_uniform(x, 3);
  TimingPlan plan;
  plan.min_total_s = t_min;
  plan.min_samples = 5;
  const auto t = time_it(
      [&] {
        for (const auto& w : ws) kernels::gemm(x.data(), 1, w, y.data(), pool);
      },
      plan);
  const double bytes = gemm_cost(w0.shape(1)).bytes.total();
  return {"gemm_" + std::string(kernels::to_string(f)), shape_text(1, n, k), true,
          bytes * static_cast<double>(copies) / t.value(stat), limit};
}

// Prefill GEMM: compute-bound, one matrix (its reuse across 512 rows is the point).
KernelEfficiency gemm_efficiency(kernels::ThreadPool& pool, WeightFormat f, int64_t m, int64_t n,
                                 int64_t k, double limit, double t_min, Statistic stat) {
  const PackedWeights w = random_weights(k, n, f, 12);
  std::vector<float> x(static_cast<size_t>(m * k)), y(static_cast<size_t>(m * n));
  kernels::fill_uniform(x, 4);
  TimingPlan plan;
  plan.min_total_s = t_min;
  plan.min_samples = 3;
  const auto t = time_it([&] { kernels::gemm(x.data(), m, w, y.data(), pool); }, plan);
  return {"gemm_" + std::string(kernels::to_string(f)), shape_text(m, n, k), false,
          gemm_cost(w.shape(m)).ops / t.value(stat), limit};
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
    out.push_back(gemv_efficiency(pool, f, 4096, 4096, dram, t_min, opt.stat));
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
    out.push_back(gemm_efficiency(pool, f, m, 4096, 4096, limit, t_min, opt.stat));
  }
  return out;
}

}  // namespace llmroof::calibrate
