// Quantizers on their own: exact conversions where the format defines them, round-trip bounds
// (int8 |err| <= s/2, int4 <= s/2 per group, fp8 relative <= 2^-4) on random data.
#include "kernels/cpu/quant.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/check.hpp"

using namespace llmroof::kernels;

TEST_CASE("fp16 conversion: exact values, rounding, round-up for scales") {
  CHECK(float_to_fp16(1.f) == 0x3C00);
  CHECK(float_to_fp16(-2.f) == 0xC000);
  CHECK(float_to_fp16(65504.f) == 0x7BFF);
  CHECK(float_to_fp16(std::ldexp(1.f, -24)) == 0x0001);        // smallest subnormal
  CHECK(float_to_fp16(1.f + std::ldexp(1.f, -11)) == 0x3C00);  // tie -> even
  CHECK(float_to_fp16_up(1.f + std::ldexp(1.f, -20)) == 0x3C01);
  CHECK(float_to_fp16_up(std::ldexp(1.f, -30)) == 0x0001);
  for (uint32_t h = 0; h < 0x7C00; ++h) {  // every finite positive half round-trips
    CHECK_MESSAGE(float_to_fp16(fp16_to_float(static_cast<uint16_t>(h))) == h, h);
  }
}

TEST_CASE("bf16 rounds to nearest even") {
  CHECK(bf16_round(1.f) == 0x3F80);
  CHECK(bf16_round(1.f + std::ldexp(1.f, -8)) == 0x3F80);      // tie -> even
  CHECK(bf16_round(1.f + 3 * std::ldexp(1.f, -8)) == 0x3F82);  // tie -> even (up)
  CHECK(bf16_widen(0xC040) == -3.f);
}

TEST_CASE("e4m3: codes round-trip, saturation, relative error <= 2^-4") {
  CHECK(e4m3_to_float(0x7E) == 448.f);
  CHECK(e4m3_to_float(0x01) == std::ldexp(1.f, -9));  // smallest subnormal
  CHECK(e4m3_to_float(0x08) == std::ldexp(1.f, -6));  // smallest normal
  CHECK(std::isnan(e4m3_to_float(0x7F)));
  for (int b = 0; b < 256; ++b) {
    if ((b & 0x7F) == 0x7F || b == 0x80) continue;  // NaNs, -0
    CHECK_MESSAGE(float_to_e4m3(e4m3_to_float(static_cast<uint8_t>(b))) == b, b);
  }
  CHECK(float_to_e4m3(1000.f) == 0x7E);
  CHECK(float_to_e4m3(-1000.f) == 0xFE);
  double worst = 0;
  for (float v = std::ldexp(1.f, -6); v <= 448.f; v *= 1.0013f)
    worst = std::max(worst, double{std::fabs(e4m3_to_float(float_to_e4m3(v)) - v) / v});
  CHECK(worst <= std::ldexp(1.0, -4));
  CHECK(worst > std::ldexp(1.0, -5));  // the sweep did hit mid-points
}

TEST_CASE("int8 per-channel symmetric: |w - q*s| <= s/2, max maps to 127") {
  std::vector<float> w(1000);
  fill_uniform(w, 7, -0.3f, 0.2f);
  std::vector<int8_t> q(w.size());
  const float s = quantize_int8_symmetric(w.data(), 1000, 1, q.data());
  double worst = 0;
  int qmax = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    worst = std::max(worst, std::fabs(w[i] - q[i] * static_cast<double>(s)));
    qmax = std::max(qmax, std::abs(int{q[i]}));
  }
  CHECK(worst <= s / 2 * (1 + 1e-6));
  CHECK(qmax == 127);
  std::vector<float> zero(10, 0.f);
  CHECK(quantize_int8_symmetric(zero.data(), 10, 1, q.data()) == 0.f);
  CHECK(q[0] == 0);
}

TEST_CASE("int4 group asymmetric: |w - (q-z)*s| <= s/2 per group, incl. one-signed groups") {
  for (auto [lo, hi] : {std::pair{-0.5f, 0.25f}, std::pair{0.1f, 0.9f}, std::pair{-2.f, -1.f}}) {
    std::vector<float> w(128);
    fill_uniform(w, 11, lo, hi);
    std::vector<uint8_t> q(w.size());
    const Int4Group g = quantize_int4_group(w.data(), 128, 1, q.data());
    const double s = fp16_to_float(g.scale_fp16);
    double worst = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      REQUIRE(q[i] <= 15);
      worst = std::max(worst, std::fabs(w[i] - (q[i] - g.zero) * s));
    }
    CAPTURE(lo);
    CHECK(worst <= s / 2 * (1 + 1e-6));
    CHECK(s >= (std::max(hi, 0.f) - std::min(lo, 0.f)) / 15 * 0.9);  // not a degenerate scale
  }
  std::vector<float> zero(128, 0.f);
  std::vector<uint8_t> q(128, 9);
  const Int4Group g = quantize_int4_group(zero.data(), 128, 1, q.data());
  CHECK(g.scale_fp16 == 0);
  CHECK(q[5] == 0);
}

TEST_CASE("fp8 per-column: relative error <= 2^-4 where normal") {
  std::vector<float> w(2000);
  fill_uniform(w, 3, -1.f, 1.f);
  std::vector<uint8_t> q(w.size());
  const float s = quantize_fp8_column(w.data(), 2000, 1, q.data());
  for (size_t i = 0; i < w.size(); ++i) {
    const double back = e4m3_to_float(q[i]) * static_cast<double>(s);
    if (std::fabs(w[i]) / s >= std::ldexp(1.0, -6))
      CHECK(std::fabs(back - w[i]) <= std::fabs(w[i]) * std::ldexp(1.0, -4));
    else
      CHECK(std::fabs(back - w[i]) <= s * std::ldexp(1.0, -10));  // subnormal step / 2
  }
}

TEST_CASE("per-token int8 activations: |x - q*s| <= s/2") {
  std::vector<float> x(4097);
  fill_uniform(x, 5, -3.f, 7.f);
  std::vector<int8_t> q(x.size());
  const float s = quantize_row_int8(x.data(), 4097, q.data());
  CHECK(s == doctest::Approx(7.0 / 127).epsilon(1e-3));
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - q[i] * double{s}));
  CHECK(worst <= s / 2 * (1 + 1e-5));
}
