// gemv_mrows/<format>/k<K>/n<N>/m<M>: small-m GEMM (batched decode, MoE experts), weights rotated
// over > 1 GiB so every call reads DRAM. One iteration = three calls on three different weight
// copies, alternated so that all three see the same load on this shared machine:
//   t1   gemm() with m = 1 (the streaming GEMV),
//   new  gemm() with m rows (multi-row GEMV up to detail::gemv_rows_crossover(), blocked above),
//   old  the same with the crossover forced to 1 (the blocked GEMM for every m >= 2; for W8A8 the
//        14-row VNNI GEMM). On a CPU with AMX-INT8, W8A8 takes the AMX tile for every m >= 2 on
//        both sides (new = old); amx_vs_vnni in gemm_bench.cpp compares it with the VNNI GEMV.
// Counters are medians of per-call times: new_us, old_us, t1_us, new_over_t1 (time(m)/time(1)),
// old_over_t1, old_over_new (speedup), p10_*_us (10th percentiles), and new_frac_read /
// old_frac_read (weight + scale bytes per second over the STREAM-like read measured at start-up).
// gemv_mrows_avx2/... does the same through gemm(..., Isa::avx2) (knob gemv_rows_crossover_avx2).
//   build/<dir>/bench/gemm_bench --benchmark_filter=gemv_mrows [--threads=1]
#include "bench/gemm_bench_mrows.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/gemm_internal.hpp"

namespace lk = llmroof::kernels;
namespace bench = llmroof::bench;

namespace {

// One set of rotated copies at a time (the m loop is innermost, so each set serves 6 cases).
struct Rotation {
  lk::WeightFormat f{};
  int64_t k = 0, n = 0;
  std::vector<lk::PackedWeights> copies;
};

const std::vector<lk::PackedWeights>& rotated(lk::WeightFormat f, int64_t k, int64_t n) {
  static Rotation r;
  if (r.copies.empty() || r.f != f || r.k != k || r.n != n) {
    r.copies.clear();
    std::vector<float> w(k * n);
    lk::fill_uniform(w, 17, -0.05f, 0.05f);
    const lk::PackedWeights one = lk::pack_weights(w.data(), k, n, f, 128, lk::WeightLayout::nk);
    const int64_t copies =
        std::max<int64_t>(3, static_cast<int64_t>(1.1 * (1 << 30) / one.bytes()) + 1);
    r.copies.assign(copies, one);
    r.f = f;
    r.k = k;
    r.n = n;
  }
  return r.copies;
}

using bench::median;
double p10(const std::vector<double>& v) { return bench::at_fraction(v, 0.1); }  // the call that had the cores

void BM_gemv_mrows(benchmark::State& state, lk::ThreadPool& (*pool)(), const double* read_bps,
                   lk::WeightFormat f, int64_t m, int64_t k, int64_t n, lk::Isa isa) {
  const auto& rot = rotated(f, k, n);
  std::vector<float> x(m * k), y(m * n);
  lk::fill_uniform(x, 5);
  int64_t& crossover = isa == lk::Isa::avx2 ? lk::detail::gemv_rows_crossover_avx2()
                                            : lk::detail::gemv_rows_crossover();
  const int64_t saved = crossover;
  size_t i = 0;
  const auto timed = [&](int64_t rows, int64_t cross) {
    crossover = cross;
    const double s = bench::timed([&] { lk::gemm(x.data(), rows, rot[i], y.data(), pool(), isa); });
    i = (i + 1) % rot.size();
    return s;
  };
  std::vector<double> t1, tn, to, rn, ro, speed;
  for (auto _ : state) {
    t1.push_back(timed(1, saved));
    tn.push_back(timed(m, saved));
    to.push_back(timed(m, 1));
    rn.push_back(tn.back() / t1.back());
    ro.push_back(to.back() / t1.back());
    speed.push_back(to.back() / tn.back());
  }
  crossover = saved;
  benchmark::DoNotOptimize(y.data());
  const double bytes = rot[0].bytes();
  state.counters["t1_us"] = median(t1) * 1e6;
  state.counters["new_us"] = median(tn) * 1e6;
  state.counters["old_us"] = median(to) * 1e6;
  state.counters["p10_t1_us"] = p10(t1) * 1e6;
  state.counters["p10_new_us"] = p10(tn) * 1e6;
  state.counters["p10_old_us"] = p10(to) * 1e6;
  state.counters["new_over_t1"] = median(rn);
  state.counters["old_over_t1"] = median(ro);
  state.counters["old_over_new"] = median(speed);
  state.counters["new_frac_read"] = bytes / median(tn) / *read_bps;
  state.counters["old_frac_read"] = bytes / median(to) / *read_bps;
  state.SetLabel(std::string(lk::gemm_isa(f, isa)) + ", " + std::to_string(rot.size()) +
                 " copies, crossover " + std::to_string(saved));
}

}  // namespace

void register_gemv_mrows(lk::ThreadPool& (*pool)(), const double* read_bytes_per_s) {
  using lk::WeightFormat;
  for (auto [k, n] : {std::pair<int64_t, int64_t>{4096, 4096}, {4096, 11008}})
    for (WeightFormat f : {WeightFormat::bf16, WeightFormat::int8, WeightFormat::int4,
                           WeightFormat::fp32, WeightFormat::fp8, WeightFormat::w8a8})
      for (int64_t m : {2, 4, 8, 16, 32, 64}) {
        const std::string name = "gemv_mrows/" + std::string(to_string(f)) + "/k" +
                                 std::to_string(k) + "/n" + std::to_string(n) + "/m" +
                                 std::to_string(m);
        benchmark::RegisterBenchmark(name.c_str(), BM_gemv_mrows, pool, read_bytes_per_s, f, m, k,
                                     n, lk::Isa::avx512)
            ->Iterations(25)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      }
  // The AVX2 path's 2-row GEMV, 4096 x 4096 only; W8A8 there has no multi-row GEMV (new = old,
  // the 4-row maddubs tile for every m), listed for its time(m) / time(1).
  for (WeightFormat f :
       {WeightFormat::bf16, WeightFormat::int8, WeightFormat::fp32, WeightFormat::w8a8})
    for (int64_t m : {2, 4, 8, 16, 32}) {
      const std::string name =
          "gemv_mrows_avx2/" + std::string(to_string(f)) + "/k4096/n4096/m" + std::to_string(m);
      benchmark::RegisterBenchmark(name.c_str(), BM_gemv_mrows, pool, read_bytes_per_s, f, m,
                                   int64_t{4096}, int64_t{4096}, lk::Isa::avx2)
          ->Iterations(25)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
}
