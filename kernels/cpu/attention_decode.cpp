// Flash-decoding driver: round q as the KV format asks (round_q), split each batch row's KV length
// into contiguous ranges (one per thread when batch is small), run the AVX-512 or AVX2 split kernel
// on each (from GQA 8 on AMX CPUs the tile splits: bf16 caches decode_bf16_amx, int8 caches
// decode_int8_amx), then merge the partial softmaxes:
//   M = max_s m_s,  L = sum_s l_s 2^(m_s - M),  O = sum_s o_s 2^(m_s - M) / L.
#include "kernels/cpu/attention_decode.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm_internal.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/huge_buffer.hpp"

namespace llmroof::kernels {

namespace {
// Splits per batch row: the fewest that make batch · splits a multiple of the thread count, so
// every thread gets the same number of equal splits (batch 3 on 2 threads: 2 splits per row, 3 per
// thread, not 2 rows on one thread and 1 on the other); but at least 64 tokens per split.
int64_t splits_per_row(const AttentionDims& d, int threads) {
  const int64_t want = threads / std::gcd<int64_t>(d.batch, threads);
  return std::max<int64_t>(1, std::min<int64_t>(want, d.kv_len / 64));
}

// Token where split j of `splits` of a batch row starts (j == splits: kv_len). Equal shares; with
// u8 probabilities (DecodeSplit::pv_u8) rounded down to a multiple of kDecodeU8Block, so every
// block is an absolute 32-token block and the result does not depend on the thread count (a split
// keeps >= 64 - 31 tokens: splits_per_row).
int64_t split_start(const AttentionDims& d, int64_t splits, int64_t j, bool aligned) {
  if (j >= splits) return d.kv_len;
  const int64_t t = d.kv_len * j / splits;
  return aligned ? t / kDecodeU8Block * kDecodeU8Block : t;
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
// q as the kernels read it (attention.hpp): with an int8 cache rounded to int8 per head
// (quantize_int8_rows, with the scale and 128 · Σ q8 per head for vpdpbusd), with a bf16 cache
// rounded to bf16 (float_to_bf16_row, the bits in q16 for vdpbf16ps); q points at the rounded
// values as fp32 (qr) then, else (fp32) at the caller's q. The AVX-512 versions are bit-identical
// to the scalar ones the reference uses (tested). q16 is 64-byte aligned: vdpbf16ps reads it 64
// bytes at a time, and at malloc's 16 or 32 mod 64 (which varied with the heap state, i.e. with
// what ran before in the process) every such load splits two lines: -4 to -6 % at GQA 8.
struct RoundedQ {
  const float* q = nullptr;
  std::vector<float> qr, q8_scale;
  std::vector<int8_t> q8;
  std::vector<int32_t> q8_bias;
  HugeVector<uint16_t> q16;
};

RoundedQ round_q(const float* q, KvFormat f, Isa path, int64_t rows, int64_t hd) {
  RoundedQ r;
  r.q = q;
  if (f == KvFormat::fp32) return r;
  const size_t n = static_cast<size_t>(rows * hd);
  r.qr.resize(n);
  r.q = r.qr.data();
  if (f == KvFormat::bf16) {
    r.q16.resize(n);
    float_to_bf16_row(q, r.q16.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) r.qr[i] = bf16_to_float(r.q16[i]);
    return r;
  }
  r.q8.resize(n);
  r.q8_scale.resize(static_cast<size_t>(rows));
  r.q8_bias.resize(static_cast<size_t>(rows));
  if (path == Isa::avx512) {
    quantize_q8_avx512(q, r.q8.data(), r.q8_scale.data(), r.q8_bias.data(), r.qr.data(), rows, hd);
    return r;
  }
  quantize_int8_rows(q, r.q8.data(), r.q8_scale.data(), rows, hd);
  for (size_t i = 0; i < n; ++i) r.qr[i] = r.q8[i] * r.q8_scale[i / static_cast<size_t>(hd)];
  return r;  // q8_bias: only the AVX-512 vpdpbusd paths read it
}
// The fields every split of one call shares, pointing at batch row 0 (at_row moves them), and the
// choice of the integer dot-product paths:
// int8 caches (q rounded to int8, see round_q): on VNNI CPUs with head_dim % 64 == 0 q·k is an
// integer dot product, vpdpbusd (64 MACs per instruction, K needs no conversion): by token rows
// below GQA 4, from GQA 4 with the block's tokens in the lanes (DecodeSplit::k_lanes; measured on
// Zen 5, KV in L3, one thread: +10 % over rows at group 4, -4 % at group 2). P·V on vpdpbusd
// with u8 probabilities (4 tokens per instruction; the rounding the reference models, see
// attention.hpp) from GQA 8 up: +15-20 % at group 8 over P·V on int16 vpdpwssd (KV in L3, one
// thread), which itself was -6 % at group 4 and -15 % at 1 against fp32 FMAs (the per-block
// quantization and permutes are per q head, the savings per group).
// bf16 caches (q rounded to bf16) on AVX512_BF16 CPUs with head_dim % 32 == 0: q·k on vdpbf16ps
// (DecodeSplit::q16, with the first reduction levels in registers) from GQA 8 up. Measured on Zen
// 5 against the fp32-FMA path (paired in one process, medians of per-call ratios, the bench's
// shape b4/32 q/4 kv heads/d128): GQA 8 +19 to +31 % with the KV in L2 (one thread), +30 % in DRAM
// on one thread, +11 to +17 % in DRAM on 2 threads (then memory-bound). GQA 4: +25 % in L2 but -6
// to -19 % in DRAM against the paced pair-split path; GQA 1: +8 % in L2, -1 to +6 % in DRAM; so
// below GQA 8 the pair-split path stays. With q16, P·V runs on vdpbf16ps too (pv_dpbf16, the
// probabilities rounded to bf16: decode_bf16_dot_products in attention.hpp), half the
// instructions of fp32 FMAs on converted V. Measured on Zen 5 (b4/32 q/4 kv heads/d128, paired in
// one process, medians of per-call ratios): 1.07-1.08x with the KV in L3 on one thread, 1.02-1.09x
// in DRAM on 2 threads (nearer memory-bound there).
DecodeSplit base_split(const KvCacheView& kv, const AttentionDims& d, Isa path, const RoundedQ& rq,
                       const float* qp) {
  const int64_t hd = d.head_dim, group = d.q_heads / d.kv_heads;
  const bool q8 = decode_integer_qk(kv, d, path);
  DecodeSplit s;
  s.q = rq.q;
  s.q8 = q8 ? rq.q8.data() : nullptr;
  s.q8_scale = q8 ? rq.q8_scale.data() : nullptr;
  s.q8_bias = q8 ? rq.q8_bias.data() : nullptr;
  s.qp = qp;
  s.q16 = decode_bf16_dot_products(kv, d, path) ? rq.q16.data() : nullptr;
  s.format = kv.format;
  s.k = kv.k;
  s.v = kv.v;
  s.k_scale = kv.k_scale;
  s.v_scale = kv.v_scale;
  s.scales_fp16 = kv.scales_fp16;
  s.q_heads = d.q_heads;
  s.kv_heads = d.kv_heads;
  s.head_dim = hd;
  s.scale_log2 = d.softmax_scale() * 1.4426950408889634f;
  s.pv_u8 = decode_quantizes_p(kv, d, path);  // the one definition the reference also asks
  s.k_lanes = q8 && group >= 4;
  return s;
}

// `base` moved to batch row b: its q rows and its [capacity, kv_heads] rows of K, V and scales.
DecodeSplit at_row(const DecodeSplit& base, const AttentionDims& d, KvFormat f, int64_t b) {
  DecodeSplit s = base;
  const int64_t qoff = b * d.q_heads * d.head_dim;
  const size_t row_off = static_cast<size_t>(b * d.capacity() * d.kv_heads);
  const size_t eb = static_cast<size_t>(kv_element_bytes(f)), sb = base.scales_fp16 ? 2 : 4;
  s.q += qoff;
  if (s.q8) {
    s.q8 += qoff;
    s.q8_scale += b * d.q_heads;
    s.q8_bias += b * d.q_heads;
  }
  if (s.qp) s.qp += qoff;
  if (s.q16) s.q16 += qoff;
  s.k = static_cast<const char*>(base.k) + row_off * d.head_dim * eb;
  s.v = static_cast<const char*>(base.v) + row_off * d.head_dim * eb;
  if (s.k_scale) s.k_scale = static_cast<const char*>(base.k_scale) + row_off * sb;
  if (s.v_scale) s.v_scale = static_cast<const char*>(base.v_scale) + row_off * sb;
  return s;
}
}  // namespace

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

std::string attention_reference_reason(const AttentionDims& d, Isa isa) {
  if (usable_isa(isa) == Isa::scalar) return "no AVX2 + FMA";
  if (d.head_dim % 16 != 0) return "head_dim not a multiple of 16";
  return {};
}

bool attention_runs_reference(const AttentionDims& d, Isa isa) { return !attention_reference_reason(d, isa).empty(); }

bool decode_integer_qk(const KvCacheView& kv, const AttentionDims& d, Isa isa) {
  return kv.format == KvFormat::int8 && d.q_len == 1 && usable_isa(isa) == Isa::avx512 &&
         cpu_features().avx512_vnni && d.head_dim % 64 == 0;
}

bool decode_quantizes_p(const KvCacheView& kv, const AttentionDims& d, Isa isa) {
  return (decode_integer_qk(kv, d, isa) && d.q_heads / d.kv_heads >= 8) ||
         decode_int8_amx(kv, d, isa);
}

bool decode_bf16_dot_products(const KvCacheView& kv, const AttentionDims& d, Isa isa) {
  return (kv.format == KvFormat::bf16 && d.q_len == 1 && usable_isa(isa) == Isa::avx512 &&
          cpu_features().avx512_bf16 && d.head_dim % 32 == 0 && d.q_heads / d.kv_heads >= 8) ||
         decode_bf16_amx(kv, d, isa);
}

namespace {
bool amx_usable(KvFormat f) {
#if defined(__x86_64__)
  static const bool bf16 = detail::amx_bf16_usable(), int8 = detail::amx_int8_usable();
  return f == KvFormat::bf16 ? bf16 : f == KvFormat::int8 && int8;
#else
  (void)f;
  return false;
#endif
}
}  // namespace

bool& detail::decode_amx_allowed() {
  static bool allowed = true;
  return allowed;
}

bool decode_bf16_amx(const KvCacheView& kv, const AttentionDims& d, Isa isa) {
  const int64_t group = d.q_heads / d.kv_heads;
  return kv.format == KvFormat::bf16 && d.q_len == 1 && usable_isa(isa) == Isa::avx512 &&
         d.head_dim % 32 == 0 && group >= kDecodeAmxMinGroup &&
         decode_amx_heads_per_tile(group) > 0 && detail::decode_amx_allowed() &&
         amx_usable(kv.format);
}

bool decode_int8_amx(const KvCacheView& kv, const AttentionDims& d, Isa isa) {
  const int64_t group = d.q_heads / d.kv_heads;
  return decode_integer_qk(kv, d, isa) && group >= kDecodeAmxInt8MinGroup &&
         decode_amx_heads_per_tile(group, 8) > 0 && detail::decode_amx_allowed() &&
         amx_usable(kv.format);
}

void attention_decode(const float* q, const KvCacheView& kv, float* o, const AttentionDims& d,
                      ThreadPool& pool, Isa isa) {
  validate(d);
  if (d.q_len != 1) throw std::invalid_argument("attention_decode: q_len must be 1 (use prefill)");
  if (kv.format == KvFormat::int8 && (!kv.k_scale || !kv.v_scale))
    throw std::invalid_argument("attention_decode: an int8 KV cache needs k_scale and v_scale");
  const Isa path = usable_isa(isa);  // avx512 or avx2 splits; the reference otherwise
  if (attention_runs_reference(d, isa)) {
    attention_ref(q, kv, o, d);
    return;
  }
  const int64_t splits = splits_per_row(d, pool.size()), items = d.batch * splits;
  const int64_t hd = d.head_dim;
  std::vector<float> m(items * d.q_heads, -INFINITY), l(items * d.q_heads, 0.f);
  std::vector<float> part(items * d.q_heads * hd, 0.f);
  const RoundedQ rq = round_q(q, kv.format, path, d.batch * d.q_heads, hd);
  // bf16 caches: K/V chunks of 32 are converted even/odd (no lane-crossing shuffles); q is
  // reordered to match once per step (see DecodeSplit::qp).
  // (The AVX2 kernel does the same with 16-element chunks, one 32-byte load; hd % 16 == 0 here.)
  // On AVX-512 only below GQA 8: at group 8 the plain conversion path measured 20 % faster with the
  // KV in L3 and 2x in DRAM on Zen 5 (equal at groups 1 and 4).
  const int64_t group = d.q_heads / d.kv_heads;
  const bool pairs = kv.format == KvFormat::bf16 &&
                     (path == Isa::avx2 || (hd % 32 == 0 && group < 8));
  std::vector<float> qp(pairs ? d.batch * d.q_heads * hd : 0);
  if (pairs) split_pairs(rq.q, qp.data(), d.batch * d.q_heads, hd, path == Isa::avx512 ? 32 : 16);
  const DecodeSplit base = base_split(kv, d, path, rq, pairs ? qp.data() : nullptr);
  // q heads per tile of the AMX splits (0: no tiles)
  const int64_t amx_hc = decode_bf16_amx(kv, d, isa)   ? decode_amx_heads_per_tile(group)
                         : decode_int8_amx(kv, d, isa) ? decode_amx_heads_per_tile(group, 8)
                                                       : 0;
  const int64_t amx_bytes = !amx_hc ? 0
                            : kv.format == KvFormat::bf16
                                ? decode_amx_scratch_bytes(d.q_heads, hd)
                                : decode_amx_int8_scratch_bytes(d.q_heads, d.kv_heads, hd, amx_hc);
  pool.parallel_for(items, [&](int64_t i0, int64_t i1) {
    const size_t bytes = static_cast<size_t>(
        (std::max(decode_scratch_floats(d.q_heads, hd) * 4, amx_bytes) + 63) / 64 * 64);
    std::unique_ptr<float, decltype(&std::free)> scratch(static_cast<float*>(std::aligned_alloc(64, bytes)),
                                                         &std::free);
    for (int64_t i = i0; i < i1; ++i) {
      DecodeSplit s = at_row(base, d, kv.format, i / splits);
      s.t0 = split_start(d, splits, i % splits, base.pv_u8);
      s.t1 = split_start(d, splits, i % splits + 1, base.pv_u8);
      s.m = m.data() + i * d.q_heads;
      s.l = l.data() + i * d.q_heads;
      s.o = part.data() + i * d.q_heads * hd;
      s.scratch = scratch.get();
      if (amx_hc && kv.format == KvFormat::bf16)
        decode_split_amx_bf16(s, amx_hc);
      else if (amx_hc)
        decode_split_amx_int8(s, amx_hc);
      else if (path == Isa::avx512)
        decode_split_avx512(s);
      else
        decode_split_avx2(s);
    }
  });
  merge(d, splits, m.data(), l.data(), part.data(), o);
}

}  // namespace llmroof::kernels
