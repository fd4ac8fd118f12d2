// The AVX2 (+FMA, F16C) paths against the scalar references, run on any CPU with AVX2 by asking
// for Isa::avx2 explicitly (an AVX-512 host runs them too); skipped, with a message, elsewhere.
// GEMM: every weight format on the odd shapes gemm_test.cpp uses, 1 and 2 threads, exact-friendly
// data, so the result is exact up to the fp32 rounding of y (fp8: max-norm error <= 1e-6).
// Attention: the shapes attention_test.cpp uses (head_dim 64/128, GQA 1/4/8 and more, sequences
// 1..4096, batch > 1, spare capacity, fp32/bf16/int8 caches with fp16 and fp32 scales) with the
// same tolerance, max |o - ref| / max |ref| <= 1e-4 (fp32 dot products and running sums over up to
// 4K keys against the double reference).
#include <doctest/doctest.h>

#include <vector>

#include "kernels/check.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/dispatch.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/gemm_registry.hpp"
#include "tests/kernels/attention_check.hpp"

using namespace llmroof::kernels;
using llmroof::kernels::test::dims;
using llmroof::kernels::test::uniform;

namespace {

bool have_avx2_gemm() { return gemm_isa(WeightFormat::fp32, Isa::avx2) == "avx2+fma+f16c"; }

constexpr WeightFormat kFormats[] = {WeightFormat::fp32, WeightFormat::bf16, WeightFormat::int8,
                                     WeightFormat::int4, WeightFormat::fp8,  WeightFormat::w8a8};

struct Shape {
  int64_t m, n, k, group;
};
// m = 1 (GEMV), m < 6, m = 6 + 1, m = 17 (tile rows 6, 6, 5; int8 tile rows 4 x 4 + 1), odd n and
// k, int4 groups of 32..128 with k not a multiple of the group; the last two are split over the
// pool (gemm.cpp is_small); k = 2100 spans several kc blocks of 256; then n = 1 / k = 1, exactly
// two 6-row blocks, and int4 groups of 8 (a new scale and zero point every 8 rows).
constexpr Shape kShapes[] = {{1, 64, 128, 128},  {1, 95, 300, 128},   {3, 33, 257, 128},
                             {7, 40, 129, 32},   {17, 100, 384, 64},  {64, 70, 130, 32},
                             {15, 32, 1000, 128}, {5, 40, 2100, 128}, {1, 5, 3, 128},
                             {1, 600, 1200, 128}, {33, 300, 1100, 128}, {2, 1, 1, 8},
                             {6, 17, 9, 8}, {12, 48, 520, 8},
                             // the small-m shapes gemm_test.cpp runs (m = 2..16)
                             {2, 33, 129, 32}, {3, 47, 515, 64}, {4, 95, 300, 128},
                             {5, 40, 131, 8}, {8, 70, 1001, 128}, {9, 45, 2300, 32},
                             {16, 77, 2111, 128}, {4, 600, 1200, 128}};

}  // namespace

TEST_CASE("AVX2 gemm matches the reference on odd shapes, exactly where the data allows") {
  if (!have_avx2_gemm()) {
    MESSAGE("skipped: this CPU lacks AVX2/FMA/F16C");
    return;
  }
  ThreadPool one(1), two(2);
  for (WeightFormat f : kFormats)
    for (const Shape& s : kShapes)
      for (ThreadPool* pool : {&one, &two}) {
        CAPTURE(to_string(f));
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        CAPTURE(s.group);
        CAPTURE(pool->size());
        std::vector<float> x(s.m * s.k);
        fill_integers(x, 42 + s.k, -3, 3);
        const auto wv = exact_test_weights(f, s.k, s.n, s.group, 9);
        const PackedWeights w = pack_weights(wv.data(), s.k, s.n, f, s.group, WeightLayout::nk);
        std::vector<float> y(s.m * s.n, -1.f), ref(s.m * s.n);
        gemm(x.data(), s.m, w, y.data(), *pool, Isa::avx2);
        gemm_ref(x.data(), s.m, w, ref.data());
        const ErrorStats e = error_stats(y, ref);
        CHECK(e.nan + e.inf == 0);
        if (f == WeightFormat::fp8)
          CHECK(e.value(Metric::max_norm) <= 1e-6);
        else
          CHECK(e.max_abs <= 1e-6 * e.max_ref);
        if (e.n >= 16) CHECK(e.ref_zeros < e.n / 4);  // (a 2-element y may hold a zero)
      }
}

TEST_CASE("AVX2 gemm on non-exact data stays within 1e-5 (max-norm) of the reference") {
  if (!have_avx2_gemm()) {
    MESSAGE("skipped: this CPU lacks AVX2/FMA/F16C");
    return;
  }
  ThreadPool pool(2);
  const int64_t n = 96, k = 1024;
  std::vector<float> x(13 * k), wv(k * n);
  fill_uniform(x, 3);
  fill_uniform(wv, 4, -0.05f, 0.05f);
  for (WeightFormat f : kFormats)
    for (int64_t m : {int64_t{1}, int64_t{13}}) {
      CAPTURE(to_string(f));
      CAPTURE(m);
      const PackedWeights w = pack_weights(wv.data(), k, n, f, 128);
      std::vector<float> y(m * n), ref(m * n);
      gemm(x.data(), m, w, y.data(), pool, Isa::avx2);
      gemm_ref(x.data(), m, w, ref.data());
      const CheckResult c = check_close(y, ref, Tolerance{Metric::max_norm, 1e-5, 0.5});
      CHECK_MESSAGE(c.disposition == Disposition::passed, c.detail);
    }
}

TEST_CASE("explicit ISA requests: names, lowering, and scalar = portable") {
  for (WeightFormat f : kFormats) {
    CAPTURE(to_string(f));
    CHECK(gemm_isa(f, Isa::scalar) == "portable");
    CHECK(gemm_isa(f, Isa::avx512) == gemm_isa(f));  // what plain gemm() does
    if (best_isa() == Isa::scalar) CHECK(gemm_isa(f, Isa::avx2) == "portable");
  }
  // Isa::scalar runs the portable loops: same answer as gemm_portable on exact data.
  ThreadPool pool(1);
  const auto wv = exact_test_weights(WeightFormat::int4, 64, 40, 32, 3);
  const PackedWeights w = pack_weights(wv.data(), 64, 40, WeightFormat::int4, 32, WeightLayout::nk);
  std::vector<float> x(2 * 64), a(2 * 40), b(2 * 40);
  fill_integers(x, 5, -3, 3);
  gemm(x.data(), 2, w, a.data(), pool, Isa::scalar);
  gemm_portable(x.data(), 2, w, b.data(), pool);
  CHECK(a == b);
}

namespace {

bool have_avx2() { return usable_isa(Isa::avx2) == Isa::avx2; }

// The shared checks (tests/kernels/attention_check.hpp) on the AVX2 path.
void check_prefill(const AttentionDims& d, ThreadPool& pool) {
  test::check_prefill(d, pool, Isa::avx2);
}
void check_decode(const AttentionDims& d, KvFormat f, ThreadPool& pool, bool fp16_scales = true) {
  test::check_decode(d, f, pool, fp16_scales, 1.f, Isa::avx2);
}

}  // namespace

TEST_CASE("AVX2 flash prefill matches the reference") {
  if (!have_avx2()) {
    MESSAGE("skipped: this CPU lacks AVX2/FMA");
    return;
  }
  ThreadPool pool(2);
  SUBCASE("head_dim 64 and 128, GQA 1/4/8, batch > 1") {
    check_prefill(dims(2, 8, 8, 64, 67, 67), pool);
    check_prefill(dims(1, 8, 2, 128, 130, 130), pool);
    check_prefill(dims(2, 8, 1, 64, 64, 64), pool);
  }
  SUBCASE("short and chunked (kv_len > q_len), non-causal, spare capacity, head_dim 16..96") {
    check_prefill(dims(1, 4, 4, 128, 1, 1), pool);
    check_prefill(dims(1, 4, 1, 64, 3, 129), pool);
    check_prefill(dims(1, 8, 2, 128, 70, 200), pool);
    check_prefill(dims(1, 4, 4, 128, 65, 65, false), pool);
    check_prefill(dims(2, 4, 2, 64, 40, 50, true, 77), pool);
    check_prefill(dims(1, 2, 1, 16, 9, 9), pool);
    check_prefill(dims(1, 2, 2, 96, 17, 23), pool);
  }
  SUBCASE("long: 4096 keys") { check_prefill(dims(1, 1, 1, 128, 4096, 4096), pool); }
}

TEST_CASE("AVX2 flash decoding matches the reference for fp32, bf16 and int8 caches") {
  if (!have_avx2()) {
    MESSAGE("skipped: this CPU lacks AVX2/FMA");
    return;
  }
  ThreadPool pool(2);
  for (KvFormat f : {KvFormat::fp32, KvFormat::bf16, KvFormat::int8}) {
    CAPTURE(static_cast<int>(f));
    check_decode(dims(1, 32, 32, 128, 1, 1), f, pool);
    check_decode(dims(2, 32, 8, 128, 1, 333), f, pool);
    check_decode(dims(3, 8, 1, 64, 1, 1000), f, pool);
    check_decode(dims(1, 12, 4, 64, 1, 17), f, pool);  // group of 3: the 2 + 1 head paths
    check_decode(dims(1, 8, 2, 128, 1, 4096, true, 4100), f, pool);
    check_decode(dims(2, 32, 4, 128, 1, 777), f, pool);  // group 8: 4 + 4
    check_decode(dims(1, 24, 1, 64, 1, 2049), f, pool);  // group 24
    check_decode(dims(1, 8, 1, 48, 1, 100), f, pool);    // head_dim 48: the 1-chunk PV tail
  }
  check_decode(dims(2, 8, 2, 64, 1, 500), KvFormat::int8, pool, false);  // fp32 scales
}

TEST_CASE("AVX2 decode equals the last row of AVX2 prefill over the same context") {
  if (!have_avx2()) {
    MESSAGE("skipped: this CPU lacks AVX2/FMA");
    return;
  }
  ThreadPool pool(2);
  const AttentionDims pd = dims(1, 8, 2, 128, 33, 33);
  const int64_t n = 33 * 2 * 128;
  const auto k = uniform(n, 2), v = uniform(n, 3), q = uniform(33 * 8 * 128, 1);
  std::vector<float> o(q.size()), od(8 * 128);
  attention_prefill(q.data(), k.data(), v.data(), o.data(), pd, pool, Isa::avx2);
  KvCacheView kv;
  kv.k = k.data();
  kv.v = v.data();
  attention_decode(q.data() + 32 * 8 * 128, kv, od.data(), dims(1, 8, 2, 128, 1, 33), pool,
                   Isa::avx2);
  const std::vector<float> last(o.end() - 8 * 128, o.end());
  CHECK(check_close(od, last, kAttentionTolerance).disposition == Disposition::passed);
}

TEST_CASE("split_pairs with 16-element chunks (the AVX2 bf16 decode layout)") {
  std::vector<float> x(2 * 32), y(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  split_pairs(x.data(), y.data(), 2, 32, 16);
  CHECK(y[0] == 0.f);
  CHECK(y[7] == 14.f);
  CHECK(y[8] == 1.f);
  CHECK(y[15] == 15.f);
  CHECK(y[16] == 16.f);  // second chunk of row 0
  CHECK(y[24] == 17.f);
  CHECK(y[32 + 9] == 32 + 3.f);  // row 1, first chunk, odd half
  std::vector<float> z(x.size());
  split_pairs(x.data(), z.data(), 2, 32, 32);  // chunk 32 = the 4-argument (AVX-512) form
  split_pairs(x.data(), y.data(), 2, 32);
  CHECK(z == y);
}
