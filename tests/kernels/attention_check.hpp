#pragma once
// Shared by attention_test.cpp (the best ISA) and avx2_test.cpp (Isa::avx2): random inputs, shapes,
// KV caches in every format, and the checks of flash prefill / flash-decoding against the scalar
// reference, with the tolerances of kernels/cpu/attention_tolerance.hpp (`kernels check`'s).
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "kernels/check.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/attention_tolerance.hpp"

namespace llmroof::kernels::test {

inline std::vector<float> uniform(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  fill_uniform(v, seed);
  return v;
}

inline AttentionDims dims(int64_t batch, int64_t qh, int64_t kvh, int64_t hd, int64_t q_len,
                          int64_t kv_len, bool causal = true, int64_t capacity = 0) {
  AttentionDims d;
  d.batch = batch;
  d.q_heads = qh;
  d.kv_heads = kvh;
  d.head_dim = hd;
  d.q_len = q_len;
  d.kv_len = kv_len;
  d.causal = causal;
  d.kv_capacity = capacity;
  return d;
}

inline void check_prefill(const AttentionDims& d, ThreadPool& pool, Isa isa = best_isa()) {
  const int64_t kvn = d.batch * d.capacity() * d.kv_heads * d.head_dim;
  const auto q = uniform(d.batch * d.q_len * d.q_heads * d.head_dim, 1);
  const auto k = uniform(kvn, 2), v = uniform(kvn, 3);
  std::vector<float> o(q.size()), ref(q.size());
  attention_prefill(q.data(), k.data(), v.data(), o.data(), d, pool, isa);
  KvCacheView kv;
  kv.k = k.data();
  kv.v = v.data();
  attention_ref(q.data(), kv, ref.data(), d);
  const CheckResult c = check_close(o, ref, kAttentionTolerance);
  INFO(c.detail, " error ", c.error);
  CHECK(c.disposition == Disposition::passed);
}

// A K and V cache of random values in `f` (int8: per (token, kv head) scales, fp16 or fp32) and
// the view the kernels read.
struct Cache {
  std::vector<float> f32[2];
  std::vector<uint16_t> b16[2], s16[2];
  std::vector<int8_t> i8[2];
  std::vector<float> s32[2];
  KvCacheView view;
};

inline Cache make_cache(const AttentionDims& d, KvFormat f, bool fp16_scales) {
  Cache c;
  const int64_t rows = d.batch * d.capacity() * d.kv_heads;
  c.view.format = f;
  c.view.scales_fp16 = fp16_scales;
  for (int w = 0; w < 2; ++w) {
    const auto x = uniform(rows * d.head_dim, 10 + w);
    if (f == KvFormat::fp32) c.f32[w] = x;
    if (f == KvFormat::bf16)
      for (float e : x) c.b16[w].push_back(float_to_bf16(e));
    if (f == KvFormat::int8) {
      c.i8[w].resize(x.size());
      c.s32[w].resize(rows);
      quantize_int8_rows(x.data(), c.i8[w].data(), c.s32[w].data(), rows, d.head_dim);
      for (float s : c.s32[w]) c.s16[w].push_back(float_to_half(s));
    }
  }
  for (int w = 0; w < 2; ++w) {
    const void* p = f == KvFormat::fp32 ? static_cast<const void*>(c.f32[w].data())
                    : f == KvFormat::bf16 ? static_cast<const void*>(c.b16[w].data())
                                          : static_cast<const void*>(c.i8[w].data());
    const void* s = fp16_scales ? static_cast<const void*>(c.s16[w].data())
                                : static_cast<const void*>(c.s32[w].data());
    (w ? c.view.v : c.view.k) = p;
    if (f == KvFormat::int8) (w ? c.view.v_scale : c.view.k_scale) = s;
  }
  return c;
}

// q_gain scales q: a large gain makes the softmax peaked (a few tokens carry almost all weight).
inline void check_decode(const AttentionDims& d, KvFormat f, ThreadPool& pool,
                         bool fp16_scales = true, float q_gain = 1.f, Isa isa = best_isa()) {
  const Cache c = make_cache(d, f, fp16_scales);
  auto q = uniform(d.batch * d.q_heads * d.head_dim, 4);
  for (float& x : q) x *= q_gain;
  std::vector<float> o(q.size()), ref(q.size());
  attention_decode(q.data(), c.view, o.data(), d, pool, isa);
  attention_ref(q.data(), c.view, ref.data(), d, decode_quantizes_p(c.view, d, isa));
  const CheckResult r = check_close(o, ref, decode_tolerance(c.view, d, isa));
  INFO(r.detail, " error ", r.error);
  CHECK(r.disposition == Disposition::passed);
}

}  // namespace llmroof::kernels::test
