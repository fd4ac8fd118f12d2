// W8A8 at small m (the multi-row VNNI GEMV, 2 <= m <= 64, docs/gemm.md, "Small m"; on CPUs with
// AMX-INT8 the AMX tile, which gemm() takes there instead) and around it, on every path: the
// default one, the VNNI GEMV with AMX turned off, the blocked VNNI GEMM it replaces (crossover 1),
// AVX2 (with AVX-VNNI where the CPU has it, and the maddubs tile) and the portable loops;
// m = 1..9, 16, 17, 33, 64; k not a multiple of 4 or 16; 1 and 2 threads.
//
// Tolerances: the integer dot products are exact (int32, |acc| <= 255 * 127 * k), so
//  - on integer data with max |x| = max |w| = 127 per row / column both scales are exactly 1,
//    the quantizers return the values themselves, and y must equal the int64 sum of x * w
//    exactly (|sum| < 2^24, so the fp32 result is exact; the test checks that bound);
//  - on random data only the fp32 epilogue differs from the reference: the kernel rounds
//    acc -> float, s_x * s_w and the product (3 roundings of 2^-24), the reference once from
//    double, so per element |y - ref| <= 4 * 2^-24 |ref|; checked with 2^-21 |ref|. An integer
//    sum that is wrong by even one unit of a typical column (one missed or doubled k step, a
//    quantizer that rounds one x differently) is far above that.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "kernels/check.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/gemm_internal.hpp"

using namespace llmroof::kernels;

namespace {

constexpr int64_t kRowsToTest[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 33, 64};

struct Path {
  const char* name;
  Isa isa;
  int64_t crossover;  // detail::gemv_rows_crossover() while it runs (1: the blocked GEMM)
  bool avx_vnni;      // detail::w8a8_avx2_vnni_allowed() while it runs (AVX2 path only)
  bool amx;           // detail::w8a8_amx_allowed() while it runs (AVX-512 path, AMX CPUs only)
};
constexpr int64_t kCross = detail::kGemvRowsCrossover;
// "default" is the AMX tile for m >= 2 on AMX CPUs, "vnni" the AVX-512 path without it; "avx2"
// is the AVX-VNNI tile where the CPU has AVX-VNNI (the maddubs one otherwise), "avx2-maddubs"
// always the maddubs tile.
constexpr Path kPaths[] = {{"default", Isa::avx512, kCross, true, true},
                           {"vnni", Isa::avx512, kCross, true, false},
                           {"vnni-blocked", Isa::avx512, 1, true, false},
                           {"avx2", Isa::avx2, kCross, true, true},
                           {"avx2-maddubs", Isa::avx2, kCross, false, true},
                           {"portable", Isa::scalar, kCross, true, true}};

// Integers in [-127, 127] with a +-127 in every row of x ([m,k]) and every column of W ([n,k]).
std::vector<float> integer_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  std::vector<float> v(rows * cols);
  fill_integers(v, seed, -127, 127);
  for (int64_t r = 0; r < rows; ++r) v[r * cols + (r * 7) % cols] = r % 2 ? -127.f : 127.f;
  return v;
}

// x [m,k] times W^T (wnk [n,k]) in int64, checked to be exact fp32 values (< 2^24) and not
// degenerate (some |sum| > 1e4).
std::vector<double> exact_products(const std::vector<float>& x, const std::vector<float>& wnk,
                                   int64_t m, int64_t n, int64_t k) {
  std::vector<double> exact(m * n);
  double largest = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t s = 0;
      for (int64_t kk = 0; kk < k; ++kk)
        s += static_cast<int64_t>(x[i * k + kk]) * static_cast<int64_t>(wnk[j * k + kk]);
      exact[i * n + j] = static_cast<double>(s);
      largest = std::max(largest, std::fabs(exact[i * n + j]));
    }
  REQUIRE(largest < 16777216.0);  // 2^24: every sum is an exact fp32
  REQUIRE(largest > 1e4);         // and the data is not degenerate
  return exact;
}

void run(const Path& path, const float* x, int64_t m, const PackedWeights& w, float* y,
         ThreadPool& pool) {
  int64_t& crossover = detail::gemv_rows_crossover();
  bool& vnni = detail::w8a8_avx2_vnni_allowed();
  bool& amx = detail::w8a8_amx_allowed();
  const int64_t saved = crossover;
  const bool saved_vnni = vnni, saved_amx = amx;
  crossover = path.crossover;
  vnni = path.avx_vnni;
  amx = path.amx;
  gemm(x, m, w, y, pool, path.isa);
  crossover = saved;
  vnni = saved_vnni;
  amx = saved_amx;
}

}  // namespace

TEST_CASE("W8A8 small m: integer data with unit scales gives the exact integer sums") {
  ThreadPool one(1), two(2);
  for (const auto& [n, k] : {std::pair<int64_t, int64_t>{45, 131}, {77, 1001}, {96, 2111}}) {
    const std::vector<float> wnk = integer_matrix(n, k, 7 + k);
    const PackedWeights w =
        pack_weights(wnk.data(), k, n, WeightFormat::w8a8, 128, WeightLayout::nk);
    for (int64_t m : kRowsToTest) {
      const std::vector<float> x = integer_matrix(m, k, 11 + m);
      const std::vector<double> exact = exact_products(x, wnk, m, n, k);
      for (const Path& path : kPaths)
        for (ThreadPool* pool : {&one, &two}) {
          CAPTURE(std::string(path.name));
          CAPTURE(pool->size());
          CAPTURE(m);
          CAPTURE(n);
          CAPTURE(k);
          std::vector<float> y(m * n, -1.f), ref(m * n, -2.f);
          run(path, x.data(), m, w, y.data(), *pool);
          gemm_ref(x.data(), m, w, ref.data());
          int64_t wrong = 0, wrong_ref = 0;
          for (int64_t e = 0; e < m * n; ++e) {
            wrong += y[e] != exact[e];
            wrong_ref += ref[e] != exact[e];
          }
          CHECK(wrong == 0);
          CHECK(wrong_ref == 0);
        }
    }
  }
}

TEST_CASE("W8A8 small m: random data within 2^-21 of the reference, element by element") {
  ThreadPool two(2);
  const double tol = std::ldexp(1.0, -21);
  for (const auto& [n, k] : {std::pair<int64_t, int64_t>{70, 257}, {64, 2111}}) {
    std::vector<float> wnk(n * k);
    fill_uniform(wnk, 3 + k, -0.05f, 0.05f);
    const PackedWeights w =
        pack_weights(wnk.data(), k, n, WeightFormat::w8a8, 128, WeightLayout::nk);
    for (int64_t m : kRowsToTest) {
      std::vector<float> x(m * k);
      fill_uniform(x, 5 + m);
      std::vector<float> ref(m * n);
      gemm_ref(x.data(), m, w, ref.data());
      for (const Path& path : kPaths) {
        CAPTURE(std::string(path.name));
        CAPTURE(m);
        CAPTURE(k);
        std::vector<float> y(m * n, -1.f);
        run(path, x.data(), m, w, y.data(), two);
        int64_t bad = 0, zeros = 0;
        double worst = 0;
        for (int64_t e = 0; e < m * n; ++e) {
          const double err = std::fabs(static_cast<double>(y[e]) - ref[e]);
          bad += !(err <= tol * std::fabs(ref[e]));  // NaN counts as bad
          zeros += ref[e] == 0;
          if (ref[e] != 0) worst = std::max(worst, err / std::fabs(ref[e]));
        }
        CAPTURE(worst);
        CHECK(bad == 0);
        CHECK(zeros <= m * n / 100);
      }
    }
  }
}

// ---- Large m: the AMX tile (gemm_amx_int8.cpp) and the VNNI tile it replaces on AMX CPUs --------
// Row counts around the AMX tile's 32 rows and its 16-row half (m = 112: a last block of exactly
// 16 rows, one A tile; 113: 17, both A tiles with rows past m), n around the 32-column panel, k
// not a multiple of 64 (the packed weights' zero rows past k) and above the tile's 4096-byte k
// block (partial sums carried between blocks). Same tolerances as above.
namespace {

constexpr int64_t kLargeRows[] = {65, 77, 96, 100, 112, 113, 130};

void run_tile(bool amx, const float* x, int64_t m, const PackedWeights& w, float* y,
              ThreadPool& pool) {
  bool& allowed = detail::w8a8_amx_allowed();
  const bool saved = allowed;
  allowed = amx;
  gemm(x, m, w, y, pool, Isa::avx512);
  allowed = saved;
}

}  // namespace

TEST_CASE("W8A8 large m: AMX and VNNI tiles give the exact integer sums") {
  if (!detail::amx_int8_usable()) MESSAGE("no AMX-INT8 here: both runs take the VNNI tile");
  ThreadPool one(1), two(2);
  for (const auto& [n, k] : {std::pair<int64_t, int64_t>{45, 131}, {77, 1001}, {96, 1000}}) {
    const std::vector<float> wnk = integer_matrix(n, k, 7 + k);
    const PackedWeights w =
        pack_weights(wnk.data(), k, n, WeightFormat::w8a8, 128, WeightLayout::nk);
    for (int64_t m : kLargeRows) {
      const std::vector<float> x = integer_matrix(m, k, 11 + m);
      const std::vector<double> exact = exact_products(x, wnk, m, n, k);
      for (bool amx : {true, false})
        for (ThreadPool* pool : {&one, &two}) {
          CAPTURE(amx);
          CAPTURE(pool->size());
          CAPTURE(m);
          CAPTURE(n);
          CAPTURE(k);
          std::vector<float> y(m * n, -1.f);
          run_tile(amx, x.data(), m, w, y.data(), *pool);
          int64_t wrong = 0;
          for (int64_t e = 0; e < m * n; ++e) wrong += y[e] != exact[e];
          CHECK(wrong == 0);
        }
    }
  }
}

TEST_CASE("W8A8 large m: AMX and VNNI tiles within 2^-21 of the reference, k over two blocks") {
  ThreadPool two(2);
  const double tol = std::ldexp(1.0, -21);
  for (const auto& [n, k] : {std::pair<int64_t, int64_t>{70, 257}, {33, 4500}}) {
    std::vector<float> wnk(n * k);
    fill_uniform(wnk, 3 + k, -0.05f, 0.05f);
    const PackedWeights w =
        pack_weights(wnk.data(), k, n, WeightFormat::w8a8, 128, WeightLayout::nk);
    for (int64_t m : kLargeRows) {
      std::vector<float> x(m * k);
      fill_uniform(x, 5 + m);
      std::vector<float> ref(m * n);
      gemm_ref(x.data(), m, w, ref.data());
      for (bool amx : {true, false}) {
        CAPTURE(amx);
        CAPTURE(m);
        CAPTURE(k);
        std::vector<float> y(m * n, -1.f);
        run_tile(amx, x.data(), m, w, y.data(), two);
        int64_t bad = 0, zeros = 0;
        for (int64_t e = 0; e < m * n; ++e) {
          const double err = std::fabs(static_cast<double>(y[e]) - ref[e]);
          bad += !(err <= tol * std::fabs(ref[e]));  // NaN counts as bad
          zeros += ref[e] == 0;
        }
        CHECK(bad == 0);
        CHECK(zeros <= m * n / 100);
      }
    }
  }
}
