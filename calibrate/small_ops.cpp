// The fixed cost of a small kernel in a decode step (docs/calibrate.md, "Small ops").
//
// At batch 1 the decode step's norms, residual adds, activation and rope move a few KiB to a few
// hundred KiB. In a large model their inputs were last touched hundreds of MiB of weight traffic
// earlier: they start cold. Their time is then bytes / bandwidth plus a fixed cost the bandwidth
// term cannot express (TLB walks, DRAM latency before the prefetchers stream, the pool's
// fork/join). In a small model (qwen2-0.5b: a block's attention weights are ~7 MiB) the same ops
// find their inputs still in the last-level cache, and pay far less. This probe runs the real
// kernels in both situations and keeps, per op, the measured time and the analyzer's bytes for it
// (cost.hpp):
//   cold -- one GEMV streaming a 4096x4096 fp32 matrix from DRAM, then the small ops, each on
//           buffers last touched `copies` GEMVs (>= 8x the LLC) earlier;
//   hot  -- one GEMV streaming 4x the L2 of weights from DRAM (it evicts the L1/L2, not the
//           L3), then the same ops, at a small model's shapes, on one set of buffers reused every
//           round, so each starts with its inputs in the L3 -- what the analyzer's residency
//           ledger calls resident.
// calibrate.cpp turns them into kernel_launch_overhead (cold: time - bytes / effective DRAM
// bandwidth) and kernel_launch_overhead_hot (hot: time - bytes / the L3 read-back bandwidth),
// medians over the ops.
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

struct Shape {
  int64_t hidden, inter, heads, head_dim;
};
// Cold: Llama-2-7b's decode shapes (hidden 4096, intermediate 11008, 32 heads of 128).
constexpr Shape kLarge{4096, 11008, 32, 128};
// Hot: a small model's (a quarter of those; qwen2-0.5b has hidden 896, intermediate 4864). At
// this size the bytes term is a fifth of the time or less, so the fixed part is what remains and
// an error in the cache's read rate hardly moves it; at Llama's size, hot, the ops took 0.35-1.9 us
// against a bytes term of 0.7-1.8 us at the read-back rate, and the fixed part (their difference)
// was lost in it (-0.3 to +0.1 us).
constexpr Shape kSmall{1024, 2816, 8, 128};
constexpr int64_t kHeadDim = 128;  // both shapes: the rope table's

// One slot's private buffers: every op reads and writes only its own.
struct Slot {
  std::vector<float> norm_x, norm_gamma, norm_y, add_h, silu_g, silu_u, silu_out, rope_q, rope_k;
  std::vector<float> k_cache;  // one fresh row per round: rope writes the rotated K there
  Slot(const Shape& sh, uint64_t seed, int rows)
      : k_cache(static_cast<size_t>(rows * sh.heads * sh.head_dim), 0.f) {
    const auto vec = [&](int64_t n, uint64_t s) {
      std::vector<float> v(static_cast<size_t>(n));
      kernels::fill_uniform(v, seed * 16 + s, -1.f, 1.f);
      return v;
    };
    norm_x = vec(sh.hidden, 1);
    norm_gamma = vec(sh.hidden, 2);
    norm_y = vec(sh.hidden, 3);
    add_h = vec(sh.hidden, 4);
    silu_g = vec(sh.inter, 5);
    silu_u = vec(sh.inter, 6);
    silu_out = vec(sh.inter, 7);
    rope_q = vec(sh.heads * sh.head_dim, 8);
    rope_k = vec(sh.heads * sh.head_dim, 9);
  }
};

double llc_bytes(const CacheSizes& caches) {
  return caches.l3_bytes_total > 0 ? caches.l3_bytes_total : 32.0 * (1 << 20);
}

// Copies of a matrix of `bytes` enough that one is reused only after >= 8x the last-level cache
// (and >= 256 MiB) of weights has streamed from DRAM; 4 to max_copies.
int rotation_copies(const CacheSizes& caches, double bytes, double max_copies) {
  const double stream = std::max(8 * llc_bytes(caches), 256.0 * (1 << 20));
  return static_cast<int>(std::clamp(std::ceil(stream / bytes), 4.0, max_copies));
}

struct OpSamples {
  std::vector<double> add, norm, silu, rope;
};

// The four ops on slot `s` right after a GEMV wrote `y`, each timed on its own; the samples go to
// `into` when `keep` (round 0 warms up: page tables, code).
void run_ops(const Shape& sh, Slot& s, const float* y, int round,
             const kernels::RopeTable& table, LapTimer& timer, bool keep, OpSamples& into,
             kernels::ThreadPool& pool) {
  std::vector<double> sink;
  const auto lap = [&](std::vector<double>& to) {
    const double dt = timer.lap();
    if (dt >= 0) (keep ? to : sink).push_back(dt);
  };
  timer.restart();
  // The residual add reads the GEMV's fresh output, as attn_add reads o_proj's.
  kernels::add_inplace(s.add_h.data(), y, sh.hidden, pool);
  lap(into.add);
  kernels::rmsnorm(s.norm_x.data(), s.norm_gamma.data(), s.norm_y.data(), 1, sh.hidden, 1e-5f,
                   pool);
  lap(into.norm);
  kernels::silu_mul(s.silu_g.data(), s.silu_u.data(), s.silu_out.data(), 1, sh.inter, sh.inter,
                    pool);
  lap(into.silu);
  // The analyzer's rope row: rotate Q, and write the rotated K into the (cold) cache row.
  const kernels::RopeKSink to_cache = [&](int64_t, const float* k_rot) {
    const int64_t row = sh.heads * sh.head_dim;
    std::copy(k_rot, k_rot + row, s.k_cache.begin() + static_cast<ptrdiff_t>(round * row));
  };
  kernels::rope(s.rope_q.data(), s.rope_k.data(), table, 1, 1, sh.heads, sh.heads, 512 + round,
                pool, kernels::best_isa(), &to_cache);
  lap(into.rope);
}

std::vector<SmallOpTime> summarize(const Shape& sh, const OpSamples& t, bool resident,
                                   const TimingPolicy& policy) {
  const auto op = [&](const char* name, const OpCost& cost, const std::vector<double>& v) {
    const TimingStats st = stats_of(v);
    return SmallOpTime{name, cost.bytes.total(), st.value(policy.stat), st.spread(), resident};
  };
  return {op("add", add_cost(1, sh.hidden, 4), t.add),
          op("rmsnorm", rmsnorm_cost(1, sh.hidden, 4), t.norm),
          op("silu_mul", activation_cost(1, sh.inter, true, 4), t.silu),
          op("rope", rope_cost(1, sh.heads, sh.heads, sh.head_dim, 4), t.rope)};
}

// Started cold: slots rotated behind >= 8x the LLC (and >= 256 MiB) of DRAM-streamed weights.
std::vector<SmallOpTime> measure_cold(kernels::ThreadPool& pool, const CacheSizes& caches,
                                      bool quick, const TimingPolicy& policy,
                                      const kernels::RopeTable& table) {
  const Shape& sh = kLarge;
  std::vector<float> w(static_cast<size_t>(sh.hidden * sh.hidden));
  kernels::fill_uniform(w, 13, -0.02f, 0.02f);
  const kernels::PackedWeights w0 =
      kernels::pack_weights(w.data(), sh.hidden, sh.hidden, kernels::WeightFormat::fp32);
  const int copies = rotation_copies(caches, w0.bytes(), 32);
  std::vector<kernels::PackedWeights> ws(static_cast<size_t>(copies), w0);
  const int rounds = quick ? 6 : 24;
  std::vector<Slot> slots;
  for (int i = 0; i < copies; ++i) slots.emplace_back(sh, static_cast<uint64_t>(i), rounds + 1);
  std::vector<float> x(static_cast<size_t>(sh.hidden)), y(x.size());
  kernels::fill_uniform(x, 14);
  LapTimer timer(policy.clock);  // wall clock (cpu: switched-out intervals are dropped)
  OpSamples t;
  for (int r = 0; r <= rounds; ++r)
    for (int i = 0; i < copies; ++i) {
      kernels::gemm(x.data(), 1, ws[static_cast<size_t>(i)], y.data(), pool);
      run_ops(sh, slots[static_cast<size_t>(i)], y.data(), r, table, timer, r > 0, t, pool);
    }
  return summarize(sh, t, false, policy);
}

// Started with the inputs in the L3: one slot (~0.1 MiB) reused every round, behind a GEMV that
// streams kHotReuseDistanceOfLlc of the L3 (4 MiB of 32) of weights from DRAM (the matrices rotate
// through >= 8x the LLC) -- as a qwen2-0.5b decode add finds the hidden state written before its
// block's ~4 MiB of bf16 q/k/v/o weights. The distance matters: a spacer that was itself
// L3-resident (no DRAM stream) made the ops 2-3x faster (add 0.13 us) than validate measured them
// (0.45-0.55 us); streamed, at L3/2 they took 0.56-1.2 us, at L3/8 0.14-0.9 us. The analyzer
// interpolates between this distance and the capacity (residency.cpp, cost_small_row).
std::vector<SmallOpTime> measure_hot(kernels::ThreadPool& pool, const CacheSizes& caches,
                                     bool quick, const TimingPolicy& policy,
                                     const kernels::RopeTable& table) {
  const Shape& sh = kSmall;
  const double l3 = llc_bytes(caches);
  // The reuse distance the analyzer takes as hot (HardwareSpec::kHotReuseDistanceOfLlc).
  const double spacer_bytes = HardwareSpec::kHotReuseDistanceOfLlc * l3;
  // k x hidden: its output is a hidden-sized vector, as o_proj's (the add's addend).
  const int64_t k = std::max<int64_t>(64, static_cast<int64_t>(spacer_bytes / (4.0 * sh.hidden)));
  std::vector<float> w(static_cast<size_t>(k * sh.hidden));
  kernels::fill_uniform(w, 15, -0.02f, 0.02f);
  const kernels::PackedWeights w0 =
      kernels::pack_weights(w.data(), k, sh.hidden, kernels::WeightFormat::fp32);
  const int copies = rotation_copies(caches, w0.bytes(), 256);
  const std::vector<kernels::PackedWeights> ws(static_cast<size_t>(copies), w0);
  const int rounds = quick ? 48 : 160;  // ~0.1 ms a round
  Slot slot(sh, 0, rounds + 1);
  std::vector<float> x(static_cast<size_t>(k)), y(static_cast<size_t>(sh.hidden));
  kernels::fill_uniform(x, 16);
  LapTimer timer(policy.clock);
  OpSamples t;
  for (int r = 0; r <= rounds; ++r) {
    kernels::gemm(x.data(), 1, ws[static_cast<size_t>(r % copies)], y.data(), pool);
    run_ops(sh, slot, y.data(), r, table, timer, r > 0, t, pool);
  }
  return summarize(sh, t, true, policy);
}

}  // namespace

std::vector<SmallOpTime> measure_small_ops(kernels::ThreadPool& pool, const CacheSizes& caches,
                                           bool quick, const TimingPolicy& policy) {
  const kernels::RopeTable table = kernels::make_rope_table(kHeadDim, 1024);
  std::vector<SmallOpTime> out = measure_cold(pool, caches, quick, policy, table);
  const std::vector<SmallOpTime> hot = measure_hot(pool, caches, quick, policy, table);
  out.insert(out.end(), hot.begin(), hot.end());
  return out;
}

}  // namespace llmroof::calibrate
