#include "calibrate/attention_probe.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/check.hpp"

namespace llmroof::calibrate {

namespace {
size_t elem_bytes(kernels::KvFormat f) {
  return f == kernels::KvFormat::fp32 ? 4 : f == kernels::KvFormat::bf16 ? 2 : 1;
}
}  // namespace

kernels::KvCacheView KvCopy::view(kernels::KvFormat f) const {
  kernels::KvCacheView v;
  v.format = f;
  v.k = k.data();
  v.v = this->v.data();
  v.k_scale = k_scale.empty() ? nullptr : k_scale.data();
  v.v_scale = v_scale.empty() ? nullptr : v_scale.data();
  v.scales_fp16 = true;
  return v;
}

double kv_copy_bytes(kernels::KvFormat f, int64_t tokens, int64_t heads, int64_t head_dim) {
  const double rows = static_cast<double>(tokens * heads);
  const double scales = f == kernels::KvFormat::int8 ? 2.0 : 0.0;  // fp16 per (token, head)
  return 2.0 * rows * (static_cast<double>(head_dim * static_cast<int64_t>(elem_bytes(f))) + scales);
}

KvCopy random_kv(kernels::KvFormat f, int64_t tokens, int64_t heads, int64_t head_dim,
                 uint64_t seed) {
  const size_t n = static_cast<size_t>(tokens * heads * head_dim);
  const size_t elem = elem_bytes(f);
  KvCopy c{kernels::HugeVector<uint8_t>(n * elem), kernels::HugeVector<uint8_t>(n * elem), {}, {}};
  std::vector<float> x(n);
  for (int side = 0; side < 2; ++side) {
    kernels::fill_uniform(x, seed + static_cast<uint64_t>(side) * 1000);
    uint8_t* dst = side == 0 ? c.k.data() : c.v.data();
    if (f == kernels::KvFormat::fp32) {
      std::memcpy(dst, x.data(), n * 4);
    } else if (f == kernels::KvFormat::bf16) {
      auto* d = reinterpret_cast<uint16_t*>(dst);
      kernels::float_to_bf16_row(x.data(), d, static_cast<int64_t>(n));
    } else {
      const size_t rows = static_cast<size_t>(tokens * heads);
      std::vector<float> scale(rows);
      kernels::quantize_int8_rows(x.data(), reinterpret_cast<int8_t*>(dst), scale.data(),
                                  static_cast<int64_t>(rows), head_dim);
      auto& s = side == 0 ? c.k_scale : c.v_scale;
      s = kernels::HugeVector<uint16_t>(rows);
      for (size_t i = 0; i < rows; ++i) s[i] = kernels::float_to_half(scale[i]);
    }
  }
  return c;
}

DecodeAttentionProbe::DecodeAttentionProbe(const kernels::AttentionDims& dims, kernels::KvFormat f,
                                           double rotation_bytes, size_t min_copies, uint64_t seed)
    : d_(dims), f_(f) {
  d_.q_len = 1;
  d_.kv_capacity = 0;  // dense: [batch, kv_len, kv_heads, head_dim]
  kernels::validate(d_);
  const int64_t tokens = d_.batch * d_.kv_len;
  const double bytes = kv_copy_bytes(f, tokens, d_.kv_heads, d_.head_dim);
  const auto n = std::max<size_t>(std::max<size_t>(1, min_copies),
                                  static_cast<size_t>(std::ceil(rotation_bytes / bytes)));
  kv_.reserve(n);
  for (size_t i = 0; i < n; ++i) kv_.push_back(random_kv(f, tokens, d_.kv_heads, d_.head_dim, seed + i));
  q_.resize(static_cast<size_t>(d_.batch * d_.q_heads * d_.head_dim));
  o_.resize(q_.size());
  kernels::fill_uniform(q_, 5);
}

void DecodeAttentionProbe::run(size_t i, kernels::ThreadPool& pool) {
  kernels::attention_decode(q_.data(), kv_[i % kv_.size()].view(f_), o_.data(), d_, pool);
}

}  // namespace llmroof::calibrate
