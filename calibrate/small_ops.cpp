// The fixed cost of a small kernel in a decode step (docs/calibrate.md, "Small ops").
//
// At batch 1 the decode step's norms, residual adds, activation and rope move a few KiB to a few
// hundred KiB, and their inputs were last touched hundreds of MiB of weight traffic earlier: they
// start cold. Their time is then bytes / bandwidth plus a fixed cost the bandwidth term cannot
// express (TLB walks, DRAM latency before the prefetchers stream, the pool's fork/join). This probe
// runs the real kernels in that situation -- one GEMV streaming a 4096x4096 fp32 matrix from DRAM,
// then the small ops, each on buffers last touched `copies` GEMVs earlier -- and keeps, per op,
// the measured time and the analyzer's bytes for it (cost.hpp). calibrate.cpp turns them into the
// spec's kernel_launch_overhead (time - bytes / effective bandwidth, median over the ops).
#include <algorithm>
#include <cmath>
#include <vector>

#include "calibrate/calibrate.hpp"
#include "calibrate/timing.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/activation.hpp"
#include "kernels/cpu/add.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/rmsnorm.hpp"
#include "kernels/cpu/rope.hpp"

namespace llmroof::calibrate {

namespace {

// Llama-2-7b's decode shapes: hidden 4096, intermediate 11008, 32 heads of 128.
constexpr int64_t kHidden = 4096, kInter = 11008, kHeads = 32, kHeadDim = 128;

// One slot's private buffers: every op reads and writes only its own, so each starts cold.
struct Slot {
  std::vector<float> norm_x, norm_gamma, norm_y, add_h, silu_g, silu_u, silu_out, rope_q, rope_k;
  std::vector<float> k_cache;  // one fresh row per round: rope writes the rotated K there
  Slot(uint64_t seed, int rows) : k_cache(static_cast<size_t>(rows * kHeads * kHeadDim), 0.f) {
    const auto vec = [&](int64_t n, uint64_t s) {
      std::vector<float> v(static_cast<size_t>(n));
      kernels::fill_uniform(v, seed * 16 + s, -1.f, 1.f);
      return v;
    };
    norm_x = vec(kHidden, 1);
    norm_gamma = vec(kHidden, 2);
    norm_y = vec(kHidden, 3);
    add_h = vec(kHidden, 4);
    silu_g = vec(kInter, 5);
    silu_u = vec(kInter, 6);
    silu_out = vec(kInter, 7);
    rope_q = vec(kHeads * kHeadDim, 8);
    rope_k = vec(kHeads * kHeadDim, 9);
  }
};

}  // namespace

std::vector<SmallOpTime> measure_small_ops(kernels::ThreadPool& pool, const CacheSizes& caches,
                                           bool quick, const TimingPolicy& policy) {
  std::vector<float> w(static_cast<size_t>(kHidden * kHidden));
  kernels::fill_uniform(w, 13, -0.02f, 0.02f);
  const kernels::PackedWeights w0 =
      kernels::pack_weights(w.data(), kHidden, kHidden, kernels::WeightFormat::fp32);
  // Enough matrices that a slot's buffers are reused only after >= 8x the last-level cache (and
  // >= 256 MiB) of weights has streamed past them.
  const double llc = caches.l3_bytes_total > 0 ? caches.l3_bytes_total : 32.0 * (1 << 20);
  const int copies = static_cast<int>(
      std::clamp(std::ceil(std::max(8 * llc, 256.0 * (1 << 20)) / w0.bytes()), 4.0, 32.0));
  std::vector<kernels::PackedWeights> ws(static_cast<size_t>(copies), w0);
  const int rounds = quick ? 6 : 24;
  std::vector<Slot> slots;
  for (int i = 0; i < copies; ++i) slots.emplace_back(static_cast<uint64_t>(i), rounds + 1);
  std::vector<float> x(static_cast<size_t>(kHidden)), y(x.size());
  kernels::fill_uniform(x, 14);
  const kernels::RopeTable table = kernels::make_rope_table(kHeadDim, 1024);
  LapTimer timer(policy.clock);  // wall clock (cpu: switched-out intervals are dropped)

  std::vector<double> t_add, t_norm, t_silu, t_rope;
  const auto lap = [&](std::vector<double>& into) {
    const double dt = timer.lap();
    if (dt >= 0) into.push_back(dt);
  };
  for (int r = 0; r <= rounds; ++r) {  // round 0 warms up (page tables, code) and is not kept
    for (int i = 0; i < copies; ++i) {
      kernels::gemm(x.data(), 1, ws[static_cast<size_t>(i)], y.data(), pool);
      Slot& s = slots[static_cast<size_t>(i)];
      std::vector<double> sink;
      const bool keep = r > 0;
      timer.restart();
      // The residual add reads the GEMV's fresh output, as attn_add reads o_proj's.
      kernels::add_inplace(s.add_h.data(), y.data(), kHidden, pool);
      lap(keep ? t_add : sink);
      kernels::rmsnorm(s.norm_x.data(), s.norm_gamma.data(), s.norm_y.data(), 1, kHidden, 1e-5f,
                       pool);
      lap(keep ? t_norm : sink);
      kernels::silu_mul(s.silu_g.data(), s.silu_u.data(), s.silu_out.data(), 1, kInter, kInter,
                        pool);
      lap(keep ? t_silu : sink);
      // The analyzer's rope row: rotate Q, and write the rotated K into the (cold) cache row.
      const kernels::RopeKSink to_cache = [&](int64_t, const float* k_rot) {
        std::copy(k_rot, k_rot + kHeads * kHeadDim,
                  s.k_cache.begin() + static_cast<ptrdiff_t>(r) * kHeads * kHeadDim);
      };
      kernels::rope(s.rope_q.data(), s.rope_k.data(), table, 1, 1, kHeads, kHeads, 512 + r, pool,
                    kernels::best_isa(), &to_cache);
      lap(keep ? t_rope : sink);
    }
  }
  const auto op = [&](const char* name, const OpCost& cost, const std::vector<double>& t) {
    const TimingStats st = stats_of(t);
    return SmallOpTime{name, cost.bytes.total(), st.value(policy.stat), st.spread()};
  };
  return {op("add", add_cost(1, kHidden, 4), t_add),
          op("rmsnorm", rmsnorm_cost(1, kHidden, 4), t_norm),
          op("silu_mul", activation_cost(1, kInter, true, 4), t_silu),
          op("rope", rope_cost(1, kHeads, kHeads, kHeadDim, 4), t_rope)};
}

}  // namespace llmroof::calibrate
