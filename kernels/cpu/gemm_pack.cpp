// Weight packing: quantize per column / group, then scatter into 32-column panels (docs/gemm.md).
#include <algorithm>
#include <string>
#include <vector>

#include "io/errors.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/quant.hpp"

namespace llmroof::kernels {

namespace {

// Column j of the logical [k,n] matrix starts at col(j) and advances by stride along k.
struct Source {
  const float* W;
  int64_t k, n;
  WeightLayout layout;
  const float* col(int64_t j) const { return layout == WeightLayout::kn ? W + j : W + j * k; }
  int64_t stride() const { return layout == WeightLayout::kn ? n : 1; }
};

// bf16 panel rows are permuted so that vpunpck{l,h}wd with zero yield columns 0..15 and 16..31:
// 128-bit lane L holds columns 4L..4L+3 then 16+4L..16+4L+3. Returns the slot of column c.
int64_t bf16_slot(int64_t c) {
  const int64_t half = c / 16, lane = (c % 16) / 4, i = c % 4;
  return lane * 8 + half * 4 + i;
}

// int4 zero points: byte j holds column j in the low nibble and column j+16 in the high nibble.
void put_nibble(uint8_t* row16, int64_t c, uint8_t q) {
  if (c < 16)
    row16[c] = static_cast<uint8_t>((row16[c] & 0xF0) | q);
  else
    row16[c - 16] = static_cast<uint8_t>((row16[c - 16] & 0x0F) | (q << 4));
}

void pack_fp(PackedWeights& p, const Source& s, bool bf16) {
  const int64_t es = bf16 ? 2 : 4;
  p.data.assign(p.panels * p.k * kPanel * es, 0);
  for (int64_t j = 0; j < p.n; ++j) {
    const int64_t panel = j / kPanel, c = j % kPanel;
    const float* col = s.col(j);
    for (int64_t kk = 0; kk < p.k; ++kk) {
      const float v = col[kk * s.stride()];
      const int64_t row = (panel * p.k + kk) * kPanel;
      if (bf16)
        reinterpret_cast<uint16_t*>(p.data.data())[row + bf16_slot(c)] = bf16_round(v);
      else
        reinterpret_cast<float*>(p.data.data())[row + c] = v;
    }
  }
}

void pack_bytes_per_channel(PackedWeights& p, const Source& s) {
  const bool w8a8 = p.format == WeightFormat::w8a8;
  p.data.assign(p.panels * p.k_padded * kPanel, 0);
  p.scale.assign(p.panels * kPanel, 0.f);
  if (w8a8) p.col_sum.assign(p.panels * kPanel, 0);
  std::vector<uint8_t> q(p.k);
  for (int64_t j = 0; j < p.n; ++j) {
    const int64_t panel = j / kPanel, c = j % kPanel;
    if (p.format == WeightFormat::fp8) {
      p.scale[j] = quantize_fp8_column(s.col(j), p.k, s.stride(), q.data());
    } else {
      p.scale[j] =
          quantize_int8_symmetric(s.col(j), p.k, s.stride(), reinterpret_cast<int8_t*>(q.data()));
    }
    uint8_t* base = p.data.data() + panel * p.k_padded * kPanel;
    for (int64_t kk = 0; kk < p.k; ++kk) {
      // w8a8: [k/4][32][4] so one 32-bit lane holds 4 consecutive k of one column (vpdpbusd)
      const int64_t off = w8a8 ? (kk / 4) * 128 + c * 4 + kk % 4 : kk * kPanel + c;
      base[off] = q[kk];
      if (w8a8) p.col_sum[j] += static_cast<int8_t>(q[kk]);
    }
  }
}

// int4 weights: blocks of 8 rows; in a block, dword c (c = column 0..31) holds the 8 nibbles of
// rows 8b..8b+7 of that column, row 8b+i in bits 4i..4i+3 (docs/gemm.md).
size_t int4_offset(const PackedWeights& p, int64_t panel, int64_t kk, int64_t c) {
  return ((panel * (p.k_padded / 8) + kk / 8) * kPanel + c) * 4 + (kk % 8) / 2;
}

void pack_int4(PackedWeights& p, const Source& s) {
  const int64_t groups = p.groups();
  p.data.assign(p.panels * p.k_padded * 16, 0);
  p.scale16.assign(p.panels * groups * kPanel, 0);
  p.zeros.assign(p.panels * groups * 16, 0);
  std::vector<uint8_t> q(p.group_size);
  for (int64_t j = 0; j < p.n; ++j) {
    const int64_t panel = j / kPanel, c = j % kPanel;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t k0 = g * p.group_size, len = std::min(p.group_size, p.k - k0);
      const Int4Group ig =
          quantize_int4_group(s.col(j) + k0 * s.stride(), len, s.stride(), q.data());
      p.scale16[(panel * groups + g) * kPanel + c] = ig.scale_fp16;
      put_nibble(&p.zeros[(panel * groups + g) * 16], c, ig.zero);
      for (int64_t i = 0; i < len; ++i) {
        const int64_t kk = k0 + i;
        p.data[int4_offset(p, panel, kk, c)] |= static_cast<uint8_t>(q[i] << (kk % 2 ? 4 : 0));
      }
    }
  }
}

}  // namespace

std::string_view to_string(WeightFormat f) {
  switch (f) {
    case WeightFormat::fp32:
      return "fp32";
    case WeightFormat::bf16:
      return "bf16";
    case WeightFormat::int8:
      return "int8";
    case WeightFormat::int4:
      return "int4";
    case WeightFormat::fp8:
      return "fp8";
    case WeightFormat::w8a8:
      return "w8a8";
  }
  return "?";
}

double PackedWeights::bytes() const {
  return static_cast<double>(data.size() + scale.size() * 4 + scale16.size() * 2 + zeros.size() +
                             col_sum.size() * 4);
}

DType weight_dtype(WeightFormat f) {
  switch (f) {
    case WeightFormat::fp32: return DType::fp32;
    case WeightFormat::bf16: return DType::bf16;
    case WeightFormat::int4: return DType::int4;
    case WeightFormat::fp8: return DType::fp8;
    case WeightFormat::int8:
    case WeightFormat::w8a8: return DType::int8;
  }
  return DType::fp32;
}

GemmShape PackedWeights::shape(int64_t m) const {
  GemmShape s;
  s.m = m;
  s.n = n;
  s.k = k;
  s.weights = weight_dtype(format);
  s.activations = format == WeightFormat::w8a8 ? DType::int8 : DType::fp32;
  if (format == WeightFormat::int4) s.group_size = group_size;
  return s;
}

PackedWeights pack_weights(const float* W, int64_t k, int64_t n, WeightFormat fmt,
                           int64_t group_size, WeightLayout layout) {
  if (k <= 0 || n <= 0)
    throw InputError("pack_weights: k and n must be positive (got k=" + std::to_string(k) +
                     ", n=" + std::to_string(n) + ")");
  if (fmt == WeightFormat::int4 && (group_size <= 0 || group_size % 8 != 0))
    throw InputError(
        "pack_weights: int4 needs a group size that is a positive multiple of 8 (got " +
        std::to_string(group_size) + ")");
  PackedWeights p;
  p.format = fmt;
  p.k = k;
  p.n = n;
  p.group_size = fmt == WeightFormat::int4 ? group_size : 0;
  p.panels = (n + kPanel - 1) / kPanel;
  // w8a8: whole AMX tile rows of k (64 bytes; the tile GEMM reads no k tail), zeros past k
  p.k_padded = fmt == WeightFormat::w8a8   ? (k + 63) / 64 * 64
               : fmt == WeightFormat::int4 ? (k + 7) / 8 * 8
                                           : k;
  // Quantizers walk one column at a time: make columns contiguous first (blocked transpose).
  std::vector<float> t;
  if (layout == WeightLayout::kn && n > 1) {
    t.resize(k * n);
    constexpr int64_t B = 64;
    for (int64_t k0 = 0; k0 < k; k0 += B)
      for (int64_t j0 = 0; j0 < n; j0 += B)
        for (int64_t kk = k0; kk < std::min(k, k0 + B); ++kk)
          for (int64_t j = j0; j < std::min(n, j0 + B); ++j) t[j * k + kk] = W[kk * n + j];
    W = t.data();
    layout = WeightLayout::nk;
  }
  const Source s{W, k, n, layout};
  switch (fmt) {
    case WeightFormat::fp32:
      pack_fp(p, s, false);
      break;
    case WeightFormat::bf16:
      pack_fp(p, s, true);
      break;
    case WeightFormat::int8:
    case WeightFormat::fp8:
    case WeightFormat::w8a8:
      pack_bytes_per_channel(p, s);
      break;
    case WeightFormat::int4:
      pack_int4(p, s);
      break;
  }
  return p;
}

float dequantized_weight(const PackedWeights& w, int64_t kk, int64_t j) {
  const int64_t panel = j / kPanel, c = j % kPanel;
  const uint8_t* d = w.data.data();
  switch (w.format) {
    case WeightFormat::fp32:
      return reinterpret_cast<const float*>(d)[(panel * w.k + kk) * kPanel + c];
    case WeightFormat::bf16:
      return bf16_widen(
          reinterpret_cast<const uint16_t*>(d)[(panel * w.k + kk) * kPanel + bf16_slot(c)]);
    case WeightFormat::int8:
      return static_cast<int8_t>(d[(panel * w.k + kk) * kPanel + c]) * w.scale[j];
    case WeightFormat::fp8:
      return e4m3_to_float(d[(panel * w.k + kk) * kPanel + c]) * w.scale[j];
    case WeightFormat::w8a8:
      return static_cast<int8_t>(d[panel * w.k_padded * kPanel + (kk / 4) * 128 + c * 4 + kk % 4]) *
             w.scale[j];
    case WeightFormat::int4: {
      const int64_t g = kk / w.group_size, gi = (panel * w.groups() + g);
      const int sh = c < 16 ? 0 : 4, b = c % 16;
      const int q = (d[int4_offset(w, panel, kk, c)] >> (kk % 2 ? 4 : 0)) & 15;
      const int z = (w.zeros[gi * 16 + b] >> sh) & 15;
      return static_cast<float>(q - z) * fp16_to_float(w.scale16[gi * kPanel + c]);
    }
  }
  return 0;
}

}  // namespace llmroof::kernels
