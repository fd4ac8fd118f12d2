// Row-wise kernels (add_inplace, rmsnorm, add_rmsnorm, silu_mul, softmax, rope) against their scalar references
// on odd shapes, plus hand-derived values so the references themselves are checked.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/check.hpp"
#include "kernels/cpu/activation.hpp"
#include "kernels/cpu/add.hpp"
#include "kernels/cpu/rmsnorm.hpp"
#include "kernels/cpu/rope.hpp"
#include "kernels/cpu/softmax.hpp"

using namespace llmroof::kernels;

namespace {
const Tolerance kTol{Metric::max_norm, 1e-5};
std::vector<float> uniform(int64_t n, uint64_t seed, float lo = -1, float hi = 1) {
  std::vector<float> v(static_cast<size_t>(n));
  fill_uniform(v, seed, lo, hi);
  return v;
}
void expect_pass(const std::vector<float>& got, const std::vector<float>& ref) {
  const CheckResult c = check_close(got, ref, kTol);
  INFO(c.detail, " error ", c.error);
  CHECK(c.disposition == Disposition::passed);
}
}  // namespace

TEST_CASE("the best path is what the CPU supports; requests above it are lowered") {
  CHECK(usable_isa(Isa::scalar) == Isa::scalar);
  CHECK(usable_isa(Isa::avx512) == best_isa());
  CHECK(static_cast<int>(usable_isa(Isa::avx2)) <= static_cast<int>(Isa::avx2));
}

TEST_CASE("rmsnorm reference: hand-derived values") {
  // x = (3, 4): mean square 12.5, so y = x / sqrt(12.5) * gamma.
  const float x[2] = {3, 4}, g[2] = {1, 2};
  float y[2];
  rmsnorm_ref(x, g, y, 1, 2, 0.f);
  CHECK(y[0] == doctest::Approx(3 / std::sqrt(12.5)));
  CHECK(y[1] == doctest::Approx(8 / std::sqrt(12.5)));
}

// Every path this CPU can run (AVX-512, AVX2, scalar): requests above the CPU are lowered.
const Isa kPaths[] = {Isa::avx512, Isa::avx2, Isa::scalar};

TEST_CASE("rmsnorm and add_rmsnorm match the reference on odd shapes") {
  ThreadPool pool(2);
  for (Isa isa : kPaths)
  for (auto [rows, dim] : {std::pair<int64_t, int64_t>{1, 4096}, {7, 4099}, {3, 5}, {33, 11008}, {2, 16}}) {
    CAPTURE(to_string(isa));
    CAPTURE(rows);
    CAPTURE(dim);
    const auto x = uniform(rows * dim, 1), g = uniform(dim, 2, 0.5f, 1.5f), r0 = uniform(rows * dim, 3);
    std::vector<float> y(x.size()), yr(x.size());
    rmsnorm(x.data(), g.data(), y.data(), rows, dim, 1e-5f, pool, isa);
    rmsnorm_ref(x.data(), g.data(), yr.data(), rows, dim, 1e-5f);
    expect_pass(y, yr);
    auto r = r0, rr = r0;
    add_rmsnorm(x.data(), r.data(), g.data(), y.data(), rows, dim, 1e-5f, pool, isa);
    add_rmsnorm_ref(x.data(), rr.data(), g.data(), yr.data(), rows, dim, 1e-5f);
    expect_pass(y, yr);
    expect_pass(r, rr);
  }
}

TEST_CASE("add_rmsnorm writes the exact residual sum (integer inputs)") {
  ThreadPool pool(2);
  std::vector<float> x(3 * 37), r(3 * 37), g(37, 1.f), y(3 * 37);
  fill_integers(x, 4, -50, 50);
  fill_integers(r, 5, -50, 50);
  const auto expect = [&] { std::vector<float> s(x.size()); for (size_t i = 0; i < s.size(); ++i) s[i] = x[i] + r[i]; return s; }();
  add_rmsnorm(x.data(), r.data(), g.data(), y.data(), 3, 37, 1e-6f, pool);
  CHECK(r == expect);
}

TEST_CASE("silu_mul reads the fused gate|up layout") {
  ThreadPool pool(2);
  // Hand value: silu(1) * 2 = 2 / (1 + e^-1).
  const float gu[2] = {1, 2};
  float out[1];
  silu_mul(gu, gu + 1, out, 1, 1, 2, pool);
  CHECK(out[0] == doctest::Approx(2 / (1 + std::exp(-1.0))));
  for (Isa isa : kPaths)
  for (auto [rows, inter] : {std::pair<int64_t, int64_t>{1, 11008}, {5, 4099}, {3, 7}}) {
    CAPTURE(to_string(isa));
    const auto gub = uniform(rows * 2 * inter, 6, -20, 20);
    std::vector<float> o(rows * inter), orf(rows * inter);
    silu_mul(gub.data(), gub.data() + inter, o.data(), rows, inter, 2 * inter, pool, isa);
    silu_mul_ref(gub.data(), gub.data() + inter, orf.data(), rows, inter, 2 * inter);
    expect_pass(o, orf);
  }
}

TEST_CASE("softmax: equal inputs give a uniform row; odd shapes match the reference") {
  ThreadPool pool(2);
  std::vector<float> x(19, 3.f), y(19);
  softmax(x.data(), y.data(), 1, 19, pool);
  for (float v : y) CHECK(v == doctest::Approx(1.0 / 19));
  for (Isa isa : kPaths)
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 4096}, {9, 4099}, {4, 3}, {2, 32000}}) {
    CAPTURE(to_string(isa));
    const auto xs = uniform(rows * cols, 7, -30, 30);
    std::vector<float> a(xs.size()), b(xs.size());
    softmax(xs.data(), a.data(), rows, cols, pool, isa);
    softmax_ref(xs.data(), b.data(), rows, cols);
    const CheckResult c = check_close(a, b, {Metric::max_abs, 1e-6});
    CHECK(c.disposition != Disposition::failed);
    CHECK(check_close(a, b, kTol).disposition == Disposition::passed);
  }
}

TEST_CASE("rope: position 0 is the identity; GQA shapes match the reference") {
  ThreadPool pool(2);
  const RopeTable t = make_rope_table(8, 16);
  auto q = uniform(2 * 8, 1), k = uniform(8, 2);
  const auto q0 = q, k0 = k;
  rope(q.data(), k.data(), t, 1, 1, 2, 1, 0, pool);
  CHECK(q == q0);
  CHECK(k == k0);
  // Hand value: head_dim 2, position 1, theta any: pair (1, 0) rotates by 1 radian.
  const RopeTable t2 = make_rope_table(2, 4);
  float qa[2] = {1, 0}, ka[2] = {0, 1};
  rope(qa, ka, t2, 1, 1, 1, 1, 1, pool);
  CHECK(qa[0] == doctest::Approx(std::cos(1.0)));
  CHECK(qa[1] == doctest::Approx(std::sin(1.0)));
  CHECK(ka[0] == doctest::Approx(-std::sin(1.0)));
  struct S { int64_t batch, seq, qh, kvh, hd, pos0; };
  for (const S s : {S{1, 7, 32, 32, 128, 0}, S{2, 5, 32, 8, 128, 300}, S{3, 17, 8, 1, 64, 4000},
                    S{1, 3, 4, 4, 10, 2}, S{1, 1, 8, 2, 128, 4095}}) {
    const RopeTable tab = make_rope_table(s.hd, 4096);
    for (Isa isa : kPaths) {
      CAPTURE(to_string(isa));
      auto qs = uniform(s.batch * s.seq * s.qh * s.hd, 3), ks = uniform(s.batch * s.seq * s.kvh * s.hd, 4);
      auto qr = qs, kr = ks;
      rope(qs.data(), ks.data(), tab, s.batch, s.seq, s.qh, s.kvh, s.pos0, pool, isa);
      rope_ref(qr.data(), kr.data(), s.hd, tab.theta, s.batch, s.seq, s.qh, s.kvh, s.pos0);
      expect_pass(qs, qr);
      expect_pass(ks, kr);
    }
  }
  CHECK_THROWS(rope(q.data(), k.data(), t, 1, 2, 2, 1, 15, pool));
}

TEST_CASE("rope's K sink receives every token's rotated K exactly once, on every path") {
  ThreadPool pool(2);
  const int64_t batch = 2, seq = 5, qh = 8, kvh = 2, hd = 64, pos0 = 100, kvd = kvh * hd;
  const RopeTable tab = make_rope_table(hd, 4096);
  for (Isa isa : kPaths) {
    CAPTURE(to_string(isa));
    auto q = uniform(batch * seq * qh * hd, 5), k = uniform(batch * seq * kvd, 6);
    auto qr = q, kr = k;
    std::vector<float> sunk(k.size(), 0.f);
    std::vector<int> calls(static_cast<size_t>(batch * seq), 0);
    const RopeKSink sink = [&](int64_t tok, const float* k_rot) {
      ++calls[static_cast<size_t>(tok)];  // distinct tokens per call: no race
      std::copy(k_rot, k_rot + kvd, sunk.begin() + tok * kvd);
    };
    rope(q.data(), k.data(), tab, batch, seq, qh, kvh, pos0, pool, isa, &sink);
    rope_ref(qr.data(), kr.data(), hd, tab.theta, batch, seq, qh, kvh, pos0);
    for (int c : calls) CHECK(c == 1);
    expect_pass(q, qr);
    expect_pass(sunk, kr);  // the sink saw the rotated rows, not the inputs
  }
}

TEST_CASE("add_inplace is the exact elementwise sum (integer inputs, odd lengths, 2 threads)") {
  ThreadPool pool(2);
  for (int64_t n : {1, 15, 17, 4096, 4096 * 3 + 5}) {
    std::vector<float> h(static_cast<size_t>(n)), x(h.size()), want(h.size());
    for (int64_t i = 0; i < n; ++i) {
      h[static_cast<size_t>(i)] = static_cast<float>(i % 97 - 48);
      x[static_cast<size_t>(i)] = static_cast<float>(3 * (i % 31) + 1);
      want[static_cast<size_t>(i)] = h[static_cast<size_t>(i)] + x[static_cast<size_t>(i)];
    }
    add_inplace(h.data(), x.data(), n, pool);
    INFO("n = ", n);
    CHECK(h == want);  // small integers: the float sum is exact
  }
}
