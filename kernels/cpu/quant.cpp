#include "kernels/cpu/quant.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace llmroof::kernels {

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Table of all 256 E4M3 values, built once from the format's definition.
struct E4M3Table {
  float v[256];
  E4M3Table() {
    for (int b = 0; b < 256; ++b) {
      const int e = (b >> 3) & 15, m = b & 7;
      float mag = e == 0 ? std::ldexp(m / 8.f, -6) : std::ldexp(1.f + m / 8.f, e - 7);
      if (e == 15 && m == 7) mag = NAN;
      v[b] = (b & 0x80) ? -mag : mag;
    }
  }
};
const E4M3Table& e4m3_table() {
  static const E4M3Table t;
  return t;
}

}  // namespace

float fp16_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const int e = (h >> 10) & 31, m = h & 1023;
  float mag;
  if (e == 0)
    mag = std::ldexp(static_cast<float>(m), -24);
  else if (e == 31)
    mag = m ? NAN : INFINITY;
  else
    mag = std::ldexp(1.f + m / 1024.f, e - 15);
  return sign ? -mag : mag;
}

// Exact rounding via the fp16 grid: values are multiples of 2^(E-10) in [2^E, 2^(E+1)).
static uint16_t to_fp16(float f, bool up) {
  const uint16_t sign = (bits(f) >> 16) & 0x8000u;
  const float a = std::fabs(f);
  if (std::isnan(f)) return 0x7E00;
  int e;
  std::frexp(a, &e);                   // a = frac * 2^e, frac in [0.5, 1)
  const int E = std::max(e - 1, -14);  // unbiased exponent, subnormals share -14
  const float ulp = std::ldexp(1.f, E - 10);
  float q = a / ulp;  // exact: power-of-two division
  q = up && !sign ? std::ceil(q) : (up ? std::floor(q) : std::nearbyint(q));
  const float r = q * ulp;
  if (r > 65504.f) return sign | 0x7C00;
  if (r == 0) return sign;
  int re;
  std::frexp(r, &re);
  const int RE = re - 1;
  if (RE < -14) return sign | static_cast<uint16_t>(r / std::ldexp(1.f, -24));
  const int man = static_cast<int>(r / std::ldexp(1.f, RE - 10)) - 1024;
  return sign | static_cast<uint16_t>(((RE + 15) << 10) | man);
}
uint16_t float_to_fp16(float f) { return to_fp16(f, false); }
uint16_t float_to_fp16_up(float f) { return to_fp16(f, true); }

uint16_t bf16_round(float f) {
  const uint32_t u = bits(f);
  if (std::isnan(f)) return static_cast<uint16_t>((u >> 16) | 0x40);
  const uint32_t rounding = 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}

float e4m3_to_float(uint8_t b) { return e4m3_table().v[b]; }

// Nearest of the 254 finite codes by bisection on the monotone positive half (ties to even code).
uint8_t float_to_e4m3(float f) {
  if (std::isnan(f)) return 0x7F;
  const uint8_t sign = std::signbit(f) ? 0x80 : 0;
  const float a = std::min(std::fabs(f), kE4M3Max);
  const float* t = e4m3_table().v;
  int lo = 0, hi = 126;  // codes 0..126 are the finite non-negative values, increasing
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    (t[mid] <= a ? lo : hi) = mid;
  }
  const float dl = a - t[lo], dh = t[hi] - a;
  const int code = dl < dh ? lo : dh < dl ? hi : ((lo & 1) ? hi : lo);
  return static_cast<uint8_t>(sign | code);
}

float quantize_int8_symmetric(const float* w, int64_t len, int64_t stride, int8_t* q) {
  float amax = 0;
  for (int64_t i = 0; i < len; ++i) amax = std::max(amax, std::fabs(w[i * stride]));
  const float s = amax / 127.f;
  for (int64_t i = 0; i < len; ++i) {
    const float v = s > 0 ? std::nearbyint(w[i * stride] / s) : 0.f;
    q[i] = static_cast<int8_t>(std::clamp(v, -127.f, 127.f));
  }
  return s;
}

Int4Group quantize_int4_group(const float* w, int64_t len, int64_t stride, uint8_t* q) {
  float lo = 0, hi = 0;  // range includes 0 so the zero point is representable
  for (int64_t i = 0; i < len; ++i) {
    lo = std::min(lo, w[i * stride]);
    hi = std::max(hi, w[i * stride]);
  }
  Int4Group g;
  g.scale_fp16 = float_to_fp16_up((hi - lo) / 15.f);
  const float s = fp16_to_float(g.scale_fp16);
  if (!(s > 0)) {
    for (int64_t i = 0; i < len; ++i) q[i] = 0;
    g.scale_fp16 = 0;
    return g;
  }
  g.zero = static_cast<uint8_t>(std::clamp(std::nearbyint(-lo / s), 0.f, 15.f));
  for (int64_t i = 0; i < len; ++i) {
    const float v = std::nearbyint(w[i * stride] / s) + g.zero;
    q[i] = static_cast<uint8_t>(std::clamp(v, 0.f, 15.f));
  }
  return g;
}

float quantize_fp8_column(const float* w, int64_t len, int64_t stride, uint8_t* q) {
  float amax = 0;
  for (int64_t i = 0; i < len; ++i) amax = std::max(amax, std::fabs(w[i * stride]));
  const float s = amax / kE4M3Max;
  for (int64_t i = 0; i < len; ++i) q[i] = s > 0 ? float_to_e4m3(w[i * stride] / s) : 0;
  return s;
}

float quantize_row_int8(const float* x, int64_t len, int8_t* q) {
  float amax = 0;
  for (int64_t i = 0; i < len; ++i) amax = std::max(amax, std::fabs(x[i]));
  if (!(amax > 0)) {
    std::fill(q, q + len, int8_t{0});
    return 0;
  }
  const float inv = 127.f / amax;
  for (int64_t i = 0; i < len; ++i)
    q[i] = static_cast<int8_t>(std::clamp(std::nearbyint(x[i] * inv), -127.f, 127.f));
  return amax / 127.f;
}

}  // namespace llmroof::kernels
