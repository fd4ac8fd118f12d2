// Every GEMM format against its scalar reference on the same quantized weights: odd shapes (m = 1,
// 2..16 (the multi-row GEMV), 17, 64; n not a multiple of 32; k not a multiple of 16 or of the
// int4 group), the AVX-512 path and the portable path, 1 and 2 threads. Exact-friendly data
// (integer x, weights the quantizer represents exactly) makes the result exact for every format
// but fp8.
#include "kernels/cpu/gemm.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/check.hpp"
#include "kernels/cpu/gemm_internal.hpp"
#include "kernels/cpu/gemm_registry.hpp"
#include "kernels/cpu/quant.hpp"

using namespace llmroof::kernels;

namespace {

constexpr WeightFormat kFormats[] = {WeightFormat::fp32, WeightFormat::bf16, WeightFormat::int8,
                                     WeightFormat::int4, WeightFormat::fp8,  WeightFormat::w8a8};

struct Shape {
  int64_t m, n, k, group;
};
// The last three are large enough that gemm() splits them over the pool (small problems run on the
// calling thread; gemm.cpp is_small). {75, 200, 1023}: W8A8's claimed split with row blocks of 14
// (5 left over), 7 panels (the last one 8 columns wide) and k padded from 1023 to 1024.
constexpr Shape kShapes[] = {{1, 64, 128, 128},    {1, 95, 300, 128},   {3, 33, 257, 128},
                             {17, 100, 384, 64},   {64, 70, 130, 32},   {15, 32, 1000, 128},
                             {5, 40, 2100, 128},   {1, 5, 3, 128},      {1, 600, 1200, 128},
                             {33, 300, 1100, 128}, {75, 200, 1023, 128},
                             // small m (batched decode, MoE experts): the multi-row GEMV for
                             // 2 <= m <= 16 (gemm_avx512_mrows.cpp). m = 9 and 16 take two row
                             // blocks over k chunks (2300 and 2111 rows > every format's chunk,
                             // the int4 chunk ending mid-k at a group boundary); 4 x 600 x 1200 is
                             // split over the pool.
                             {2, 33, 129, 32},     {3, 47, 515, 64},    {4, 95, 300, 128},
                             {5, 40, 131, 8},      {8, 70, 1001, 128},  {9, 45, 2300, 32},
                             {16, 77, 2111, 128},  {4, 600, 1200, 128}};

ErrorStats run_case(WeightFormat f, const Shape& s, ThreadPool& pool, bool portable) {
  std::vector<float> x(s.m * s.k);
  fill_integers(x, 42 + s.k, -3, 3);
  const auto wv = exact_test_weights(f, s.k, s.n, s.group, 9);
  const PackedWeights w = pack_weights(wv.data(), s.k, s.n, f, s.group, WeightLayout::nk);
  std::vector<float> y(s.m * s.n, -1.f), ref(s.m * s.n);
  if (portable)
    gemm_portable(x.data(), s.m, w, y.data(), pool);
  else
    gemm(x.data(), s.m, w, y.data(), pool);
  gemm_ref(x.data(), s.m, w, ref.data());
  const CheckResult c = check_close(y, ref, Tolerance{Metric::max_norm, 1e-5, 0.5});
  CHECK_MESSAGE(c.disposition == Disposition::passed, c.detail);
  return error_stats(y, ref);
}

}  // namespace

// Sets detail::bf16_amx_allowed() for one scope (on CPUs without AMX-BF16 it changes nothing).
struct Bf16Amx {
  bool saved = detail::bf16_amx_allowed();
  explicit Bf16Amx(bool allowed) { detail::bf16_amx_allowed() = allowed; }
  ~Bf16Amx() { detail::bf16_amx_allowed() = saved; }
};

TEST_CASE("gemm matches its reference on odd shapes, exactly where the data allows") {
  // bf16 runs twice: with the AMX tile for m >= 9 (on CPUs with AMX-BF16; integer x is exact in
  // bf16, so the result stays exact) and without it (the FMA paths those CPUs then run).
  ThreadPool one(1), two(2);
  for (WeightFormat f : kFormats)
    for (bool amx : {true, false})
      for (const Shape& s : kShapes)
        for (bool portable : {false, true})
          for (ThreadPool* pool : {&one, &two}) {
            if (!amx && f != WeightFormat::bf16) continue;
            const Bf16Amx knob(amx);
            CAPTURE(amx);
            CAPTURE(to_string(f));
            CAPTURE(s.m);
            CAPTURE(s.n);
            CAPTURE(s.k);
            CAPTURE(s.group);
            CAPTURE(portable);
            CAPTURE(pool->size());
            const ErrorStats e = run_case(f, s, *pool, portable);
            CHECK(e.nan + e.inf == 0);
            if (f == WeightFormat::fp8)
              CHECK(e.value(Metric::max_norm) <= 1e-6);
            else
              CHECK(e.max_abs <= 1e-6 * e.max_ref);  // exact up to the fp32 rounding of y
            CHECK(e.ref_zeros < e.n / 4);
          }
}

TEST_CASE("small m: the multi-row GEMV and the blocked GEMM it replaces both match the reference") {
  // gemv_rows_crossover() = 1 sends every m >= 2 to the blocked GEMM (the path above the
  // crossover); the default sends m <= 16 to the multi-row GEMV. Both must stay exact.
  // (bf16 with AMX off: on AMX-BF16 CPUs the tile takes every m >= 9 whatever the crossover.)
  ThreadPool two(2);
  const Bf16Amx knob(false);
  int64_t& crossover = detail::gemv_rows_crossover();
  const int64_t saved = crossover;
  for (int64_t c : {int64_t{1}, saved, int64_t{32}})
    for (WeightFormat f : kFormats)
      for (const Shape& s : {Shape{2, 45, 301, 32}, Shape{9, 45, 2300, 32},
                             Shape{16, 77, 2111, 128}, Shape{31, 40, 600, 64}}) {
        crossover = c;
        CAPTURE(c);
        CAPTURE(to_string(f));
        CAPTURE(s.m);
        const ErrorStats e = run_case(f, s, two, false);
        CHECK(e.nan + e.inf == 0);
        CHECK(e.value(Metric::max_norm) <= 1e-6);
        CHECK(e.ref_zeros < e.n / 4);
      }
  crossover = saved;
}

TEST_CASE("reference on hand-computed values") {
  // x = [1 2; 3 4] (m=2,k=2), W[k,n] = [1 0 -1; 2 1 0] -> y = [5 2 -1; 11 4 -3]
  const float x[] = {1, 2, 3, 4}, W[] = {1, 0, -1, 2, 1, 0};
  const float want[] = {5, 2, -1, 11, 4, -3};
  ThreadPool pool(2);
  for (WeightFormat f : {WeightFormat::fp32, WeightFormat::bf16}) {
    const PackedWeights w = pack_weights(W, 2, 3, f);
    float y[6], r[6];
    gemm_ref(x, 2, w, r);
    gemm(x, 2, w, y, pool);
    for (int i = 0; i < 6; ++i) {
      CHECK(r[i] == want[i]);
      CHECK(y[i] == want[i]);
    }
  }
}

TEST_CASE("[k,n] and [n,k] inputs pack to the same weights") {
  const int64_t k = 70, n = 45;
  std::vector<float> kn(k * n), nk(k * n);
  fill_uniform(kn, 1);
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t j = 0; j < n; ++j) nk[j * k + kk] = kn[kk * n + j];
  for (WeightFormat f : kFormats) {
    const PackedWeights a = pack_weights(kn.data(), k, n, f, 32, WeightLayout::kn);
    const PackedWeights b = pack_weights(nk.data(), k, n, f, 32, WeightLayout::nk);
    CHECK(a.data == b.data);
    CHECK(a.scale == b.scale);
    CHECK(a.scale16 == b.scale16);
  }
}

TEST_CASE("quantized GEMMs on non-exact data stay within the stated tolerance") {
  ThreadPool pool(2);
  const int64_t m = 5, n = 96, k = 1024;
  std::vector<float> x(m * k), wv(k * n);
  fill_uniform(x, 3);
  fill_uniform(wv, 4, -0.05f, 0.05f);
  for (WeightFormat f : kFormats) {
    CAPTURE(to_string(f));
    const PackedWeights w = pack_weights(wv.data(), k, n, f, 128);
    // (bf16 on AMX rounds x: its own test below)
    const bool amx = f == WeightFormat::bf16 && gemm_bf16_uses_amx() && m >= kBf16AmxMinRows;
    for (int64_t mm : {int64_t{1}, amx ? 1 : m}) {
      std::vector<float> y(mm * n), ref(mm * n);
      gemm(x.data(), mm, w, y.data(), pool);
      gemm_ref(x.data(), mm, w, ref.data());
      const CheckResult c = check_close(y, ref, Tolerance{Metric::max_norm, 1e-5, 0.5});
      CHECK_MESSAGE(c.disposition == Disposition::passed, c.detail);
    }
    // and the quantized weights are close to the originals (round-trip through the packing)
    double worst = 0;
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < n; ++j)
        worst = std::max(worst, double{std::fabs(dequantized_weight(w, kk, j) - wv[kk * n + j])});
    CHECK(worst <= (f == WeightFormat::int4 ? 0.1 / 15 / 2 * 1.01 : 0.05 / 16));
  }
}

TEST_CASE("bf16 on AMX: x rounded to bf16, within 2^-9 of the fp32 products, exact on bf16 x") {
  // The AMX tile multiplies bf16(x) by the bf16 weights, products exact in fp32, sums in fp32:
  //   |y - ref| <= (2^-9 + k 2^-24) * sum_k |x_k w_k|   (x's rounding, then the fp32 sums').
  // The bound is loose for random data (the errors' signs cancel); the check that x is rounded,
  // and to nearest even, is the one below against the reference on bf16(x).
  // Runs on every CPU (elsewhere the FMA paths meet the same bounds); m = 9 is the tile's first
  // row count (kBf16AmxMinRows), 40 spans two 32-row tiles, 300 the claimed split over several.
  ThreadPool pool(2);
  const int64_t n = 70, k = 1000;
  std::vector<float> wv(k * n);
  fill_uniform(wv, 5, -0.05f, 0.05f);
  const PackedWeights w = pack_weights(wv.data(), k, n, WeightFormat::bf16, 128);
  for (int64_t m : {int64_t{9}, int64_t{40}, int64_t{300}}) {
    CAPTURE(m);
    std::vector<float> x(m * k), y(m * n), ref(m * n);
    fill_uniform(x, 6 + m);
    gemm(x.data(), m, w, y.data(), pool);
    gemm_ref(x.data(), m, w, ref.data());
    const double rel = std::ldexp(1.0, -9) + static_cast<double>(k) * std::ldexp(1.0, -24);
    int64_t outside = 0;
    double worst = 0;  // largest |y - ref| / bound
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double mag = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          mag += std::fabs(double{x[i * k + kk]} * dequantized_weight(w, kk, j));
        const double err = std::fabs(double{y[i * n + j]} - ref[i * n + j]);
        worst = std::max(worst, err / (rel * mag));
        outside += err > rel * mag;
      }
    CAPTURE(worst);
    CHECK(outside == 0);
    // Against the reference on x rounded to bf16 (nearest even) only the fp32 sums differ: for
    // gemm() on that x on every CPU, and on AMX for gemm() on x itself (the tile rounds it so).
    std::vector<float> xr(x);
    for (float& v : xr) v = bf16_widen(bf16_round(v));
    gemm_ref(xr.data(), m, w, ref.data());
    const Tolerance sums{Metric::max_norm, 1e-5, 0.5};
    if (gemm_bf16_uses_amx() && m >= kBf16AmxMinRows) {
      const CheckResult c = check_close(y, ref, sums);
      CHECK_MESSAGE(c.disposition == Disposition::passed, "x itself: " << c.detail);
    }
    gemm(xr.data(), m, w, y.data(), pool);
    const CheckResult c = check_close(y, ref, sums);
    CHECK_MESSAGE(c.disposition == Disposition::passed, c.detail);
  }
}

TEST_CASE("registry cases pass their own check and report the shared cost") {
  KernelRegistry r;
  register_gemm_kernels(r);
  ThreadPool pool(2);
  for (const char* name :
       {"gemm_fp32", "gemm_bf16", "gemm_w8a16", "gemm_w4a16", "gemm_w8a8", "gemm_fp8"}) {
    CAPTURE(name);
    const KernelEntry* e = r.find(name);
    REQUIRE(e != nullptr);
    Problem p;
    p.m = 3;
    p.n = 96;
    p.k = 512;
    auto c = e->make(p);
    c->run(pool);
    c->run_reference();
    CHECK(c->compare().disposition == Disposition::passed);
    CHECK(c->working_set_bytes() > 0);
  }
}
