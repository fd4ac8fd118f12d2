// Scalar attention reference and the KV-cache format helpers.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/attention.hpp"
#include "kernels/cpu_features.hpp"

namespace llmroof::kernels {

float AttentionDims::softmax_scale() const {
  return scale != 0 ? scale : static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
}

void validate(const AttentionDims& d) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("attention: " + what); };
  if (d.batch < 1 || d.q_heads < 1 || d.kv_heads < 1 || d.head_dim < 1 || d.q_len < 1 || d.kv_len < 1)
    fail("batch, heads, head_dim, q_len and kv_len must be >= 1");
  if (d.q_heads % d.kv_heads)
    fail("q_heads (" + std::to_string(d.q_heads) + ") must be a multiple of kv_heads (" +
         std::to_string(d.kv_heads) + ")");
  if (d.kv_len < d.q_len)
    fail("kv_len (" + std::to_string(d.kv_len) + ") must be >= q_len (" + std::to_string(d.q_len) +
         "): the new tokens are part of the context");
  if (d.capacity() < d.kv_len) fail("kv_capacity must be >= kv_len");
}

uint16_t float_to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

void float_to_bf16_row(const float* x, uint16_t* dst, int64_t n) {
  if (cpu_features().avx512f) return float_to_bf16_row_avx512(x, dst, n);
  for (int64_t i = 0; i < n; ++i) dst[i] = float_to_bf16(x[i]);
}

float bf16_to_float(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

float half_to_float(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  double v;
  if (exp == 0) v = std::ldexp(man, -24);
  else if (exp == 31) v = man ? NAN : INFINITY;
  else v = std::ldexp(man + 1024, exp - 25);
  return static_cast<float>(sign ? -v : v);
}

uint16_t float_to_half(float x) {
  // Exact for the values the scales take (normal halves); rounds to nearest even otherwise.
  uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  double a = std::fabs(static_cast<double>(x));
  if (std::isnan(x)) return 0x7e00;
  if (a >= 65520.0) return sign | 0x7c00;
  if (a < std::ldexp(1.0, -14)) return sign | static_cast<uint16_t>(std::nearbyint(a * std::ldexp(1.0, 24)));
  int e;
  const double m = std::frexp(a, &e);  // a = m 2^e, m in [0.5, 1)
  uint32_t man = static_cast<uint32_t>(std::nearbyint(m * 2048.0));  // 11 bits incl. the hidden one
  if (man == 2048) { man = 1024; ++e; }
  return sign | static_cast<uint16_t>(((e + 14) << 10) | (man - 1024));
}

void quantize_int8_rows(const float* x, int8_t* q, float* scale, int64_t rows, int64_t head_dim) {
  for (int64_t r = 0; r < rows; ++r) {
    float mx = 0;
    for (int64_t i = 0; i < head_dim; ++i) mx = std::fmax(mx, std::fabs(x[r * head_dim + i]));
    const float s = mx > 0 ? mx / 127.f : 1.f;
    scale[r] = s;
    for (int64_t i = 0; i < head_dim; ++i)
      q[r * head_dim + i] = static_cast<int8_t>(std::lrint(std::fmin(127.f, std::fmax(-127.f, x[r * head_dim + i] / s))));
  }
}

namespace {

// Scale of row `row` of an int8 cache's K or V scales, fp32 or fp16.
float scale_at(const void* s, int64_t row, bool fp16) {
  return fp16 ? half_to_float(static_cast<const uint16_t*>(s)[row]) : static_cast<const float*>(s)[row];
}

// Value of element `i` of row `row` ([batch, capacity, kv_heads] flattened) of a K or V cache.
double kv_value(const KvCacheView& kv, bool is_k, int64_t row, int64_t i, int64_t head_dim) {
  const void* base = is_k ? kv.k : kv.v;
  const int64_t idx = row * head_dim + i;
  switch (kv.format) {
    case KvFormat::fp32: return static_cast<const float*>(base)[idx];
    case KvFormat::bf16: return bf16_to_float(static_cast<const uint16_t*>(base)[idx]);
    case KvFormat::int8: {
      const double s = scale_at(is_k ? kv.k_scale : kv.v_scale, row, kv.scales_fp16);
      return static_cast<const int8_t*>(base)[idx] * s;
    }
  }
  return 0;
}

// Scalar twin of avx512::exp2_ps (simd_avx512.hpp), bit for bit: the same clamp, the
// round-to-nearest-even split x = n + f (f exact), the degree-6 polynomial by fused multiply-adds
// and p · 2^n (ldexp and vscalefps both round a subnormal result to nearest even).
float exp2_twin(float x) {
  if (!(x >= -126.f)) return 0.f;
  x = std::fmin(x, 127.f);
  const float n = std::nearbyint(x), f = x - n;
  float p = 1.535336188319500e-4f;
  p = std::fma(p, f, 1.339887440266574e-3f);
  p = std::fma(p, f, 9.618437357674640e-3f);
  p = std::fma(p, f, 5.550332471162809e-2f);
  p = std::fma(p, f, 2.402264791363012e-1f);
  p = std::fma(p, f, 6.931472028550421e-1f);
  p = std::fma(p, f, 1.0f);
  return std::ldexp(p, static_cast<int>(n));
}

// One q head of decode with u8 probabilities (attention.hpp): the scores in fp32 exactly as the
// AVX-512 kernel forms them (integer q8·k8, then · ((scale·log2 e) · kscale) · q8_scale), the
// weights per absolute kDecodeU8Block-token block as its softmax_u8 rounds them (fp32, the same operations),
// then numerator and denominator in double.
void decode_head_u8p(const int8_t* q8, float q8s, const KvCacheView& kv, const AttentionDims& d,
                     int64_t row0, int64_t kvh, float* out) {
  const int64_t hd = d.head_dim, n = d.kv_len, stride = d.kv_heads;
  const float sl2 = d.softmax_scale() * 1.4426950408889634f;  // as DecodeSplit::scale_log2
  const auto* k = static_cast<const int8_t*>(kv.k);
  const auto* v = static_cast<const int8_t*>(kv.v);
  std::vector<float> sc(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    const int64_t row = row0 + j * stride + kvh;
    int64_t raw = 0;
    for (int64_t c = 0; c < hd; ++c) raw += int64_t{q8[c]} * k[row * hd + c];
    const float ks = sl2 * scale_at(kv.k_scale, row, kv.scales_fp16);
    const float ksh = ks * q8s;
    sc[j] = static_cast<float>(raw) * ksh;
  }
  float big = -INFINITY;
  for (float x : sc) big = std::fmax(big, x);
  std::vector<double> num(static_cast<size_t>(hd), 0.0);
  double den = 0;
  for (int64_t t0 = 0; t0 < n; t0 += kDecodeU8Block) {
    const int64_t t1 = std::min<int64_t>(n, t0 + kDecodeU8Block);
    float mb = -INFINITY, vmax = 0, vs[kDecodeU8Block];
    for (int64_t j = t0; j < t1; ++j) {
      mb = std::fmax(mb, sc[j]);
      vs[j - t0] = scale_at(kv.v_scale, row0 + j * stride + kvh, kv.scales_fp16);
      vmax = std::fmax(vmax, vs[j - t0]);
    }
    const float inv = vmax > 0 ? 255.f / vmax : 0.f;
    const double f = std::exp2(static_cast<double>(mb) - big), ws = vmax / 255.f;
    for (int64_t j = t0; j < t1; ++j) {
      const float e = exp2_twin(sc[j] - mb), vsi = vs[j - t0] * inv;
      den += f * e;
      const double w8 = static_cast<double>(std::lrint(e * vsi));  // nearest even (the default mode)
      const int8_t* vr = v + (row0 + j * stride + kvh) * hd;
      for (int64_t c = 0; c < hd; ++c) num[c] += f * ws * w8 * vr[c];
    }
  }
  for (int64_t c = 0; c < hd; ++c) out[c] = static_cast<float>(num[c] / den);
}

}  // namespace

void attention_ref(const float* q, const KvCacheView& kv, float* o, const AttentionDims& d,
                   bool u8_probabilities) {
  if (!u8_probabilities || kv.format != KvFormat::int8) return attention_ref(q, kv, o, d);
  validate(d);
  if (d.q_len != 1) throw std::invalid_argument("attention_ref: u8 probabilities need q_len 1 (decode)");
  const int64_t hd = d.head_dim, group = d.q_heads / d.kv_heads;
  std::vector<int8_t> q8(static_cast<size_t>(hd));
  for (int64_t b = 0; b < d.batch; ++b)
    for (int64_t h = 0; h < d.q_heads; ++h) {
      float qs;
      quantize_int8_rows(q + (b * d.q_heads + h) * hd, q8.data(), &qs, 1, hd);
      decode_head_u8p(q8.data(), qs, kv, d, b * d.capacity() * d.kv_heads, h / group, o + (b * d.q_heads + h) * hd);
    }
}

void attention_ref(const float* q, const KvCacheView& kv, float* o, const AttentionDims& d) {
  validate(d);
  const int64_t group = d.q_heads / d.kv_heads, cap = d.capacity(), hd = d.head_dim;
  const double scale = d.softmax_scale();
  std::vector<double> p(static_cast<size_t>(d.kv_len)), acc(static_cast<size_t>(hd));
  // int8 caches: q rounded to int8 per head, like the kernels (attention.hpp); q8 · scale is exact
  // in double. bf16 caches: q rounded to bf16 element by element.
  std::vector<double> qr(static_cast<size_t>(hd));
  std::vector<int8_t> q8(static_cast<size_t>(hd));
  for (int64_t b = 0; b < d.batch; ++b)
    for (int64_t i = 0; i < d.q_len; ++i)
      for (int64_t h = 0; h < d.q_heads; ++h) {
        const float* qf = q + ((b * d.q_len + i) * d.q_heads + h) * hd;
        if (kv.format == KvFormat::int8) {
          float qs;
          quantize_int8_rows(qf, q8.data(), &qs, 1, hd);
          for (int64_t c = 0; c < hd; ++c) qr[c] = q8[c] * static_cast<double>(qs);
        } else if (kv.format == KvFormat::bf16) {
          for (int64_t c = 0; c < hd; ++c) qr[c] = bf16_to_float(float_to_bf16(qf[c]));
        } else {
          for (int64_t c = 0; c < hd; ++c) qr[c] = qf[c];
        }
        const int64_t kvh = h / group;
        const int64_t last = d.causal ? i + d.kv_len - d.q_len : d.kv_len - 1;
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j <= last; ++j) {
          double s = 0;
          for (int64_t c = 0; c < hd; ++c) s += qr[c] * kv_value(kv, true, (b * cap + j) * d.kv_heads + kvh, c, hd);
          p[j] = s * scale;
          mx = std::fmax(mx, p[j]);
        }
        for (int64_t c = 0; c < hd; ++c) acc[c] = 0;
        for (int64_t j = 0; j <= last; ++j) {
          const double w = std::exp(p[j] - mx);
          sum += w;
          for (int64_t c = 0; c < hd; ++c) acc[c] += w * kv_value(kv, false, (b * cap + j) * d.kv_heads + kvh, c, hd);
        }
        float* orow = o + ((b * d.q_len + i) * d.q_heads + h) * hd;
        for (int64_t c = 0; c < hd; ++c) orow[c] = static_cast<float>(acc[c] / sum);
      }
}

}  // namespace llmroof::kernels
