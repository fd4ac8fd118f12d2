// Flash-decoding driver: split each batch row's KV length into contiguous ranges (one per thread
// when batch is small), run the AVX-512 split kernel on each, then merge the partial softmaxes:
//   M = max_s m_s,  L = sum_s l_s 2^(m_s - M),  O = sum_s o_s 2^(m_s - M) / L.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu_features.hpp"

namespace llmroof::kernels {

namespace {
size_t element_bytes(KvFormat f) {
  return f == KvFormat::fp32 ? 4 : f == KvFormat::bf16 ? 2 : 1;
}

// Splits per batch row: the fewest that make batch · splits a multiple of the thread count, so
// every thread gets the same number of equal splits (batch 3 on 2 threads: 2 splits per row, 3 per
// thread, not 2 rows on one thread and 1 on the other); but at least 64 tokens per split.
int64_t splits_per_row(const AttentionDims& d, int threads) {
  const int64_t want = threads / std::gcd<int64_t>(d.batch, threads);
  return std::max<int64_t>(1, std::min<int64_t>(want, d.kv_len / 64));
}

void merge(const AttentionDims& d, int64_t splits, const float* m, const float* l, const float* o,
           float* out) {
  const int64_t hd = d.head_dim;
  for (int64_t b = 0; b < d.batch; ++b)
    for (int64_t h = 0; h < d.q_heads; ++h) {
      float mx = -INFINITY;
      for (int64_t s = 0; s < splits; ++s) mx = std::max(mx, m[(b * splits + s) * d.q_heads + h]);
      float sum = 0;
      float* dst = out + (b * d.q_heads + h) * hd;
      std::fill(dst, dst + hd, 0.f);
      for (int64_t s = 0; s < splits; ++s) {
        const int64_t i = (b * splits + s) * d.q_heads + h;
        const float w = std::exp2(m[i] - mx);
        sum += l[i] * w;
        for (int64_t c = 0; c < hd; ++c) dst[c] += o[i * hd + c] * w;
      }
      for (int64_t c = 0; c < hd; ++c) dst[c] /= sum;
    }
}
}  // namespace

void quantize_q16(const float* q, int16_t* q16, float* scale, int64_t rows, int64_t head_dim) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = q + r * head_dim;
    float mx = 0;
    for (int64_t i = 0; i < head_dim; ++i) mx = std::max(mx, std::fabs(x[i]));
    scale[r] = mx / 32767.f;
    const float inv = mx > 0 ? 32767.f / mx : 0.f;
    for (int64_t i = 0; i < head_dim; ++i)
      q16[r * head_dim + i] = static_cast<int16_t>(std::lrint(std::clamp(x[i] * inv, -32767.f, 32767.f)));
  }
}

void interleave_quads(int16_t* x, int64_t n) {
  for (int64_t i = 0; i + 4 <= n; i += 4) std::swap(x[i + 1], x[i + 2]);
}

void split_pairs(const float* x, float* y, int64_t rows, int64_t head_dim, int64_t chunk) {
  const int64_t half = chunk / 2;
  for (int64_t c = 0; c < rows * head_dim; c += chunk)
    for (int64_t j = 0; j < half; ++j) {
      y[c + j] = x[c + 2 * j];
      y[c + half + j] = x[c + 2 * j + 1];
    }
}

void split_pairs(const float* x, float* y, int64_t rows, int64_t head_dim) {
  for (int64_t c = 0; c < rows * head_dim; c += 32)
    for (int64_t j = 0; j < 16; ++j) {
      y[c + j] = x[c + 2 * j];
      y[c + 16 + j] = x[c + 2 * j + 1];
    }
}

void attention_decode(const float* q, const KvCacheView& kv, float* o, const AttentionDims& d,
                      ThreadPool& pool, Isa isa) {
  validate(d);
  if (d.q_len != 1) throw std::invalid_argument("attention_decode: q_len must be 1 (use prefill)");
  if (kv.format == KvFormat::int8 && (!kv.k_scale || !kv.v_scale))
    throw std::invalid_argument("attention_decode: an int8 KV cache needs k_scale and v_scale");
  const Isa path = usable_isa(isa);  // avx512 or avx2 splits; the reference otherwise
  if (path == Isa::scalar || d.head_dim % 16 != 0) {
    attention_ref(q, kv, o, d);
    return;
  }
  const int64_t splits = splits_per_row(d, pool.size()), items = d.batch * splits;
  const int64_t hd = d.head_dim, cap = d.capacity();
  std::vector<float> m(items * d.q_heads, -INFINITY), l(items * d.q_heads, 0.f);
  std::vector<float> part(items * d.q_heads * hd, 0.f);
  const size_t eb = element_bytes(kv.format), sb = kv.scales_fp16 ? 2 : 4;
  // int8 caches on VNNI CPUs: q·k on integer dot products (vpdpwssd, 32 MACs per instruction
  // instead of 16 FMAs plus the int8 -> fp32 conversion of K) on q quantized to int16 once per
  // step, from GQA 4 up; P·V on vpdpwssd too (probabilities quantized to int16 per block) at GQA 8
  // and up. Measured on Zen 5 (compute, KV in L3): q16 +5 % at group 4, +16 % at group 8 (with the
  // in-place asm accumulation, see qk_heads_i16); P·V +3 % at group 8, neutral at 4, -15 % at 1
  // (the per-block quantization and permutes are per q head, the savings per group).
  const int64_t group = d.q_heads / d.kv_heads;
  const bool vnni = kv.format == KvFormat::int8 && hd % 32 == 0 && cpu_features().avx512_vnni &&
                    path == Isa::avx512;
  const bool q16 = vnni && group >= 4;
  const bool pv_i16 = vnni && group >= 8;
  std::vector<int16_t> qi(q16 ? d.batch * d.q_heads * hd : 0);
  std::vector<float> qs(q16 ? d.batch * d.q_heads : 0);
  if (q16) quantize_q16(q, qi.data(), qs.data(), d.batch * d.q_heads, hd);
  // Tokens in lanes for q·k (DecodeSplit::k_lanes) from GQA 8: the K transpose costs the same per
  // kv head whatever the group, the horizontal sums it removes are per q head. Measured on Zen 5
  // (one thread, KV in L2, CPU time): +8 % at group 8, -8 % at group 4.
  const bool k_lanes = q16 && hd % 64 == 0 && group >= 8;
  if (k_lanes) interleave_quads(qi.data(), static_cast<int64_t>(qi.size()));
  // bf16 caches: K/V chunks of 32 are converted even/odd (no lane-crossing shuffles); q is
  // reordered to match once per step (see DecodeSplit::qp).
  // (The AVX2 kernel does the same with 16-element chunks, one 32-byte load; hd % 16 == 0 here.)
  // On AVX-512 only below GQA 8: at group 8 the plain conversion path measured 20 % faster with the
  // KV in L3 and 2x in DRAM on Zen 5 (equal at groups 1 and 4).
  const bool pairs = kv.format == KvFormat::bf16 &&
                     (path == Isa::avx2 || (hd % 32 == 0 && group < 8));
  std::vector<float> qp(pairs ? d.batch * d.q_heads * hd : 0);
  if (pairs) split_pairs(q, qp.data(), d.batch * d.q_heads, hd, path == Isa::avx512 ? 32 : 16);
  pool.parallel_for(items, [&](int64_t i0, int64_t i1) {
    const size_t bytes = (static_cast<size_t>(decode_scratch_floats(d.q_heads, hd)) * 4 + 63) / 64 * 64;
    std::unique_ptr<float, decltype(&std::free)> scratch(static_cast<float*>(std::aligned_alloc(64, bytes)),
                                                         &std::free);
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / splits, sp = i % splits;
      DecodeSplit s;
      s.q = q + b * d.q_heads * hd;
      s.q16 = q16 ? qi.data() + b * d.q_heads * hd : nullptr;
      s.q16_scale = q16 ? qs.data() + b * d.q_heads : nullptr;
      s.qp = pairs ? qp.data() + b * d.q_heads * hd : nullptr;
      s.format = kv.format;
      const size_t row_off = static_cast<size_t>(b * cap * d.kv_heads);
      s.k = static_cast<const char*>(kv.k) + row_off * hd * eb;
      s.v = static_cast<const char*>(kv.v) + row_off * hd * eb;
      s.k_scale = kv.k_scale ? static_cast<const char*>(kv.k_scale) + row_off * sb : nullptr;
      s.v_scale = kv.v_scale ? static_cast<const char*>(kv.v_scale) + row_off * sb : nullptr;
      s.scales_fp16 = kv.scales_fp16;
      s.q_heads = d.q_heads;
      s.kv_heads = d.kv_heads;
      s.head_dim = hd;
      s.t0 = d.kv_len * sp / splits;
      s.t1 = d.kv_len * (sp + 1) / splits;
      s.scale_log2 = d.softmax_scale() * 1.4426950408889634f;
      s.m = m.data() + i * d.q_heads;
      s.l = l.data() + i * d.q_heads;
      s.o = part.data() + i * d.q_heads * hd;
      s.scratch = scratch.get();
      s.pv_i16 = pv_i16;
      s.k_lanes = k_lanes;
      if (path == Isa::avx512)
        decode_split_avx512(s);
      else
        decode_split_avx2(s);
    }
  });
  merge(d, splits, m.data(), l.data(), part.data(), o);
}

}  // namespace llmroof::kernels
