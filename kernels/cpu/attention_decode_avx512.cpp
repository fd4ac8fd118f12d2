// Flash-decoding split kernel on AVX-512 (compiled with AVX-512 flags; see simd_avx512.hpp).
//
// Tokens are taken 16 at a time (a block); within a block one kv head at a time, whose GQA group of
// q heads (up to 8 at once) shares every K and V load. The 16 dot products of a block are reduced
// together by a transpose-add tree (one zmm of scores, no per-token horizontal sums); the online
// softmax then runs on that zmm; P·V keeps the output chunks in registers over the block. q comes
// rounded to the cache's format (attention.hpp). Int8 caches on VNNI CPUs (head_dim a multiple of
// 64) do q·k with vpdpbusd on the int8 q: by token rows below GQA 4 (qk_heads_u8), from GQA 4 with
// the block's tokens in the lanes (qk_lanes_u8, so no transpose-add tree); from GQA 8 P·V with
// vpdpbusd on u8 probabilities (pv_u8_vnni, rounding in attention.hpp; the split then takes 32
// tokens, two score blocks, at a time: block_span); all in
// attention_decode_avx512_int8.hpp. Bf16 caches below GQA 8 convert K/V pair-split, from GQA 8 on
// AVX512_BF16 CPUs do q·k with vdpbf16ps on the bf16 q (qk_heads_dpbf16;
// attention_decode_avx512_bf16.hpp). The next block's K and V are prefetched in address order
// (the hardware prefetchers do not follow the per-kv-head access: without software prefetch the
// split runs 2-3x slower from DRAM): paced by FMA work for fp32 and pair-split bf16
// (PacedPrefetcher), else spread over every QK and PV step (Prefetcher) or a slice per QK step
// (prefetch_slice); see block() and split(). head_dim 64 and 128 get specialised copies of the
// whole split (split_hd).
#include <math.h>

#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/attention_decode_avx512_bf16.hpp"
#include "kernels/cpu/attention_decode_avx512_int8.hpp"
#include "kernels/cpu/attention_decode_prefetch.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels {

namespace {
using namespace avx512;
constexpr int64_t B = kDecodeBlock;

template <KvFormat F>
inline __m512 load_kv(const void* base, int64_t idx) {
  if constexpr (F == KvFormat::fp32) return _mm512_loadu_ps(static_cast<const float*>(base) + idx);
  else if constexpr (F == KvFormat::bf16) return load_bf16(static_cast<const uint16_t*>(base) + idx);
  else return load_i8(static_cast<const int8_t*>(base) + idx);
}

// Lane t of the result = horizontal sum of v[t] (16 vectors, 16 floats apart each).
inline __m512 reduce16(const float* v) {
  __m512 x[8], y[4], z[2];
  for (int i = 0; i < 8; ++i) {
    const __m512 a = _mm512_load_ps(v + 16 * i), b = _mm512_load_ps(v + 16 * (i + 8));
    x[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
  }
  for (int i = 0; i < 4; ++i)
    y[i] = _mm512_add_ps(_mm512_shuffle_f32x4(x[i], x[i + 4], 0x88),
                         _mm512_shuffle_f32x4(x[i], x[i + 4], 0xDD));
  for (int i = 0; i < 2; ++i)
    z[i] = _mm512_add_ps(_mm512_shuffle_ps(y[i], y[i + 2], 0x44), _mm512_shuffle_ps(y[i], y[i + 2], 0xEE));
  const __m512 w = _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], 0x88), _mm512_shuffle_ps(z[0], z[1], 0xDD));
  // The tree leaves token t in lane perm[t] (an involution: a few pairs swapped).
  const __m512i perm = _mm512_setr_epi32(0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15);
  return _mm512_permutexvar_ps(perm, w);
}

// QK for U tokens of kv head g: dot products of each q head of the group with the U keys, left as
// 16-lane partial sums in red[h][tt + u] (reduced 16 tokens at a time by reduce16). U·GB = 16
// accumulators: each K chunk is loaded (and converted) once for all GB heads of the group and each
// q chunk once for U tokens, so loads stay well below the FMA count.
template <KvFormat F, int U, int GB, typename P>
inline void qk_heads(const DecodeSplit& s, const int64_t* kbase, int64_t h0, float* red, P& pf) {
  const int64_t hd = s.head_dim;
  __m512 acc[U][GB];
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) acc[u][x] = _mm512_setzero_ps();
  for (int64_t c = 0; c < hd; c += 16) {
    if constexpr (P::kPaced) pf.step();
    __m512 kc[U];
    for (int u = 0; u < U; ++u) kc[u] = load_kv<F>(s.k, kbase[u] + c);
    for (int x = 0; x < GB; ++x) {
      const __m512 qx = _mm512_loadu_ps(s.q + (h0 + x) * hd + c);
      for (int u = 0; u < U; ++u) acc[u][x] = _mm512_fmadd_ps(qx, kc[u], acc[u][x]);
    }
  }
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) _mm512_store_ps(red + ((h0 + x) * B + u) * 16, acc[u][x]);
}

using Prefetcher = PrefetcherT<false>;
using PacedPrefetcher = PrefetcherT<true>;
// The PV steps of a split that prefetches a slice per QK step instead (prefetch_slice): no code.
struct NoPrefetch {
  static constexpr bool kSpread = false;
  static constexpr bool kPaced = false;
  int64_t steps = 0;
  inline void step() {}
  inline void rest() {}
};

// PV for the nt tokens of a block, GB q heads of kv head g, NC 16-wide chunks of the head at a time:
// o[h] += sum_t p[h][t] v[t]. Chunk-outer, token-inner: the GB·NC output chunks stay in registers
// for the whole block (o is read and written once per block, not once per token), each V chunk is
// loaded and converted once for all GB heads, and p[h][t] is an embedded-broadcast FMA operand.
// GB·NC = 8..16 independent accumulators cover the FMA latency (4 cycles × 2 pipes).
template <KvFormat F, int GB, int NC, typename P>
inline void pv_chunks(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                      const float* pbuf, int64_t c, P& pf) {
  const int64_t hd = s.head_dim;
  __m512 acc[GB][NC];
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < NC; ++j) acc[x][j] = _mm512_loadu_ps(s.o + (h0 + x) * hd + c + 16 * j);
  for (int64_t t = 0; t < nt; ++t) {
    pf.step();
    __m512 vc[NC];
    for (int j = 0; j < NC; ++j) vc[j] = load_kv<F>(vrow0, t * row + c + 16 * j);
    for (int x = 0; x < GB; ++x) {
      const __m512 w = _mm512_set1_ps(pbuf[(h0 + x) * B + t]);
      for (int j = 0; j < NC; ++j) acc[x][j] = _mm512_fmadd_ps(w, vc[j], acc[x][j]);
    }
  }
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < NC; ++j) _mm512_storeu_ps(s.o + (h0 + x) * hd + c + 16 * j, acc[x][j]);
}

template <KvFormat F, int GB, typename P>
inline void pv_heads(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                     const float* pbuf, P& pf) {
  constexpr int NC = GB >= 8 ? 2 : GB == 4 ? 4 : 8;
  int64_t c = 0;
  for (; c + 16 * NC <= s.head_dim; c += 16 * NC) pv_chunks<F, GB, NC>(s, vrow0, row, nt, h0, pbuf, c, pf);
  for (; c < s.head_dim; c += 16) pv_chunks<F, GB, 1>(s, vrow0, row, nt, h0, pbuf, c, pf);
}

// Software prefetch of `bytes` from base + byte_offset to all cache levels (on Zen 5 in DRAM T0
// measured a little faster than T1/T2; the L2 copy is what counts). Volatile asm, not
// _mm_prefetch: GCC 12 deems a function made only of __builtin_prefetch free of side effects and
// deletes the calls to it (prefetch_slice vanished from the object code).
inline void prefetch_row(const void* base, int64_t byte_offset, int64_t bytes) {
  const char* p = static_cast<const char*>(base) + byte_offset;
  for (int64_t i = 0; i < bytes; i += 64) asm volatile("prefetcht0 %0" : : "m"(p[i]));
}

// Step i of n of prefetching the K and V rows of the block of `span` tokens at token tgt: slice i
// of n of its bytes, in address order. block() takes n = kv_heads · 4 steps per 16 tokens (one per
// 4-token QK step), so the next block streams in sequentially and evenly over the compute of this
// one. Measured on Zen 5 in DRAM (one thread, CPU time): +0-40 % over a burst of whole rows per kv
// head, and up to +60 % over per-(token, head) rows 32 tokens ahead (strided, which the hardware
// prefetchers follow worse).
inline void prefetch_slice(const DecodeSplit& s, int64_t tgt, int64_t span, int64_t row_bytes, int64_t i,
                           int64_t n) {
  const int64_t rows = s.t1 - tgt < span ? s.t1 - tgt : span;
  if (rows <= 0) return;
  const int64_t bytes = rows * row_bytes;
  const int64_t lo = bytes * i / n / 64 * 64, hi = bytes * (i + 1) / n / 64 * 64;
  prefetch_row(s.k, tgt * row_bytes + lo, hi - lo);
  prefetch_row(s.v, tgt * row_bytes + lo, hi - lo);
}

// Calls fn.template operator()<GB>(h0) over the q heads of kv head g in chunks of 8, 4, 2, 1.
template <typename Fn>
inline void for_group(int64_t g, int64_t group, Fn&& fn) {
  int64_t h = g * group;
  const int64_t end = h + group;
  for (; h + 8 <= end; h += 8) fn.template operator()<8>(h);
  for (; h + 4 <= end; h += 4) fn.template operator()<4>(h);
  for (; h + 2 <= end; h += 2) fn.template operator()<2>(h);
  for (; h < end; ++h) fn.template operator()<1>(h);
}

// The per-q-head scales of the u8 probabilities (pv_u8_vnni) in the scratch, after the scores,
// probabilities, running sums and the u8 probabilities (kU8Dwords per head).
inline float* p8_scale(const DecodeSplit& s) { return s.scratch + s.q_heads * (B * 16 + B + 16 + kU8Dwords); }

// Tokens a split takes per block(): on the u8 P·V path kDecodeU8Block, two 16-token score blocks
// whose probabilities are rounded together (attention.hpp), else one score block.
template <KvFormat F>
inline int64_t block_span(const DecodeSplit& s) {
  return F == KvFormat::int8 && s.pv_u8 ? kDecodeU8Block : B;
}

// Where the block's K and V scales as fp32 start in the scratch (decode_scratch_floats): after the
// scores, probabilities, running sums, u8 probabilities and their scales and the transposed K.
inline int64_t scales_offset(const DecodeSplit& s) { return s.q_heads * (B * 16 + B + 32) + s.head_dim * 4; }

// The K and V scales of the nt tokens of the block at t, all kv heads ([token][kv head], contiguous
// in the cache), to fp32 in the scratch (K, then V at block_span · kv_heads): 16 per vcvtph2ps
// instead of one scalar conversion per (token, kv head) and scale.
inline void block_scales(const DecodeSplit& s, int64_t t, int64_t nt) {
  float* dst = s.scratch + scales_offset(s);
  const int64_t n = nt * s.kv_heads;
  for (int w = 0; w < 2; ++w, dst += block_span<KvFormat::int8>(s) * s.kv_heads) {
    const void* src = w ? s.v_scale : s.k_scale;
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = first_lanes(n - i);
      const int64_t at = t * s.kv_heads + i;
      const __m512 v = s.scales_fp16
          ? _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(src) + at))
          : _mm512_maskz_loadu_ps(m, static_cast<const float*>(src) + at);
      _mm512_mask_storeu_ps(dst + i, m, v);
    }
  }
}

// Lanes t (live) of kv head g's K and V scales among the block's [token][kv head] fp32 scales
// (block_scales: K at f, V at f + vs): f[t · kv_heads + g]. For 2, 4 or 8 kv heads by kv_heads / 2
// two-vector permutes (the flat index's low 5 bits pick the element of a pair of vectors, the rest
// the pair) instead of a 16-element gather: +3 % measured on Zen 5 (int8 GQA 8, one thread, KV in
// L3, paired A/B). The index and the pair masks serve both.
inline void head_scales(const float* f, int64_t vs, int64_t kv_heads, int64_t g, __mmask16 live, __m512& k,
                        __m512& v) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i at = _mm512_add_epi32(
      _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int>(kv_heads))),
      _mm512_set1_epi32(static_cast<int>(g)));
  if (kv_heads != 2 && kv_heads != 4 && kv_heads != 8) {
    k = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, at, f, 4);
    v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, at, f + vs, 4);
    return;
  }
  k = v = _mm512_setzero_ps();
  const __m512i pair = _mm512_srli_epi32(at, 5);
  for (int64_t j = 0; j < kv_heads / 2; ++j) {
    const __mmask16 m = _mm512_mask_cmpeq_epi32_mask(live, pair, _mm512_set1_epi32(static_cast<int>(j)));
    const float* fk = f + 32 * j;
    const float* fv = f + vs + 32 * j;
    k = _mm512_mask_mov_ps(k, m, _mm512_permutex2var_ps(_mm512_loadu_ps(fk), at, _mm512_loadu_ps(fk + 16)));
    v = _mm512_mask_mov_ps(v, m, _mm512_permutex2var_ps(_mm512_loadu_ps(fv), at, _mm512_loadu_ps(fv + 16)));
  }
}

// softmax_heads for q heads [h0, h1) on the u8 P·V path (s.pv_u8), on the block's q·k sums that
// qk_lanes_u8 left in red[h][0] and red[h][1] (its two 16-token halves, scales and live lanes
// kscale[j], vsi[j], live[j]; s.pv_u8 implies s.k_lanes). The probabilities are taken relative
// to the block's own max mb, e_t = 2^(s_t - mb) <= 1, so their u8 rounding w8_t = round(e_t · vsi_t)
// (vsi_t = vscale_t · 255 / max vscale, shared by the group) does not depend on the running max m,
// i.e. on where a split starts (attention.hpp); the block's factor a = 2^(mb - m) goes to the
// running sum here and, times max vscale / 255 (ws0), to the output through p8_scale. 8 heads at a
// time: their block maxima in one reduction (hmax8) and both factors (a and the rescale
// 2^(m - mnew)) in one exp2_ps (lanes 0-7 and 8-15), not a horizontal max and an exp2 per head.
// The scores are made here from the sums with softmax_heads' float operations and stay in
// registers, not stored by softmax_heads and reloaded here. Measured on Zen 5 (GQA 8, one thread,
// KV in L3, paired A/B): +4 % over that store, reload and separate exp2 of the rescale.
inline void softmax_u8(const DecodeSplit& s, const __m512 kscale[2], const __m512 vsi[2], float ws0,
                       const __mmask16 live[2], int64_t h0, int64_t h1) {
  static_assert(kDecodeU8Block == 2 * B, "two 16-token halves per block");
  float* red = s.scratch;
  float* lsum = red + s.q_heads * (B * 16 + B);
  int32_t* pw = reinterpret_cast<int32_t*>(lsum + s.q_heads * 16);  // kU8Dwords (32 u8) per head
  float* ws = p8_scale(s);
  const __m512 ninf = _mm512_set1_ps(-__builtin_inff());
  for (int64_t hc = h0; hc < h1; hc += 8) {
    const int n = h1 - hc < 8 ? static_cast<int>(h1 - hc) : 8;
    const __mmask16 heads = static_cast<__mmask16>((1u << n) - 1);
    __m512 sc[8][2], mx[8];
    for (int i = 0; i < 8; ++i) {
      if (i >= n) {
        sc[i][0] = sc[i][1] = mx[i] = ninf;
        continue;
      }
      // (attention_ref repeats these float operations to get the same scores.)
      const int64_t h = hc + i;
      const __m512 q8s = _mm512_set1_ps(s.q8_scale[h]);
      const __m512 bias = _mm512_set1_ps(static_cast<float>(s.q8_bias[h]));
      for (int j = 0; j < 2; ++j) {
        const __m512 raw = _mm512_sub_ps(_mm512_load_ps(red + h * B * 16 + 16 * j), bias);
        sc[i][j] = _mm512_mask_mov_ps(ninf, live[j], _mm512_mul_ps(raw, _mm512_mul_ps(kscale[j], q8s)));
      }
      mx[i] = _mm512_max_ps(sc[i][0], sc[i][1]);
    }
    const __m512 mb = hmax8(mx);
    const __m512 m = _mm512_mask_loadu_ps(_mm512_set1_ps(-__builtin_inff()), heads, s.m + hc);
    const __m512 mnew = _mm512_max_ps(m, mb);
    const __mmask16 up = _mm512_mask_cmp_ps_mask(heads, mb, m, _CMP_GT_OQ);
    alignas(64) float mbv[16], ar[16];
    _mm512_store_ps(mbv, mb);
    // lanes 0-7: a = 2^(mb - mnew), 1 where the block raised the max; lanes 8-15: the rescale
    // 2^(m - mnew) of heads 0-7, 0 on the first block (m = -inf)
    const __m512 x =
        _mm512_insertf32x8(_mm512_sub_ps(mb, mnew), _mm512_castps512_ps256(_mm512_sub_ps(m, mnew)), 1);
    const __m512 a = exp2_ps(x);
    _mm512_store_ps(ar, a);
    const float* av = ar;
    const float* rv = ar + 8;
    _mm512_mask_storeu_ps(s.m + hc, heads, mnew);
    _mm512_mask_storeu_ps(ws + hc, heads, _mm512_mul_ps(a, _mm512_set1_ps(ws0)));
    for (int i = 0; i < n; ++i) {
      const int64_t h = hc + i;
      __m512 l = _mm512_load_ps(lsum + h * 16);
      if (up >> i & 1) {
        const __m512 r = _mm512_set1_ps(rv[i]);
        l = _mm512_mul_ps(l, r);
        scale_row(s.o + h * s.head_dim, s.head_dim, r);
      }
      const __m512 bm = _mm512_set1_ps(mbv[i]), av_i = _mm512_set1_ps(av[i]);
      for (int j = 0; j < 2; ++j) {
        const __m512 e = exp2_ps(_mm512_sub_ps(sc[i][j], bm));
        l = _mm512_fmadd_ps(e, av_i, l);
        const __m128i w8 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(e, vsi[j])));  // 0..255
        _mm_storeu_si128(reinterpret_cast<__m128i*>(pw + h * kU8Dwords + 4 * j), w8);
      }
      _mm512_store_ps(lsum + h * 16, l);
    }
  }
}

// Online-softmax step for q heads [h0, h1) over the block's scores: P = 2^(S - max) (times the V
// scales for int8) into pbuf, running sum, and (only when the max grows) the rescale of the output
// rows. The common case (no score of the block above the running max: after the first blocks
// almost always) is one compare and a predicted branch, so the heads do not wait on each other's
// horizontal max; the running sum stays a vector (lsum, 16 lanes) reduced once per split.
template <KvFormat F>
void softmax_heads(const DecodeSplit& s, int64_t nt, int64_t g, int64_t h0, int64_t h1) {
  const int64_t hd = s.head_dim;
  float* red = s.scratch;
  float* pbuf = red + s.q_heads * B * 16;
  float* lsum = pbuf + s.q_heads * B;
  const __mmask16 live = first_lanes(nt);
  __m512 kscale = _mm512_set1_ps(s.scale_log2), vscale = _mm512_set1_ps(1.f);
  if constexpr (F == KvFormat::int8) {
    // The block's scales of kv head g: lanes tt < nt, stride kv_heads in the block's scales as
    // fp32 (block_scales), by head_scales.
    const float* sk = s.scratch + scales_offset(s);
    if (s.pv_u8) {  // nt <= kDecodeU8Block: the scales of both 16-token halves
      const __mmask16 lv[2] = {live, first_lanes(nt - B)};
      __m512 ks[2], vs[2];
      for (int j = 0; j < 2; ++j) head_scales(sk + j * B * s.kv_heads, kDecodeU8Block * s.kv_heads, s.kv_heads, g,
                                              lv[j], ks[j], vs[j]);
      // 255 / max vscale (0 if all are 0), correctly rounded as the reference's division
      const float vmax = hmax(_mm512_max_ps(vs[0], vs[1])), inv = vmax > 0 ? 255.f / vmax : 0.f;
      const __m512 ksc[2] = {_mm512_mul_ps(kscale, ks[0]), _mm512_mul_ps(kscale, ks[1])};
      const __m512 vsi[2] = {_mm512_mul_ps(vs[0], _mm512_set1_ps(inv)), _mm512_mul_ps(vs[1], _mm512_set1_ps(inv))};
      softmax_u8(s, ksc, vsi, vmax / 255.f, lv, h0, h1);
      return;
    }
    __m512 ks;
    head_scales(sk, B * s.kv_heads, s.kv_heads, g, live, ks, vscale);
    kscale = _mm512_mul_ps(kscale, ks);
  }
  for (int64_t h = h0; h < h1; ++h) {
    const __m512 ksh = s.q8 ? _mm512_mul_ps(kscale, _mm512_set1_ps(s.q8_scale[h])) : kscale;
    __m512 raw;
    if (s.k_lanes) {
      raw = _mm512_load_ps(red + h * B * 16);  // qk_lanes_u8: already one score per lane
    } else if (F == KvFormat::bf16 && s.q16) {
      // qk_heads_dpbf16: slot 4g holds tokens 4g..4g+3; groups past nt were not computed (their
      // lanes are masked below; zeroed so no stale NaN or denormal enters the adds).
      for (int64_t tt = (nt + 3) / 4 * 4; tt < B; tt += 4)
        _mm512_store_ps(red + (h * B + tt) * 16, _mm512_setzero_ps());
      raw = reduce_groups4(red + h * B * 16);
    } else {
      for (int64_t tt = nt; tt < B; ++tt) _mm512_store_ps(red + (h * B + tt) * 16, _mm512_setzero_ps());
      raw = reduce16(red + h * B * 16);
    }
    // int8 q·k: remove the +128 of K (exact, see attention_decode_avx512_int8.hpp)
    if (s.q8) raw = _mm512_sub_ps(raw, _mm512_set1_ps(static_cast<float>(s.q8_bias[h])));
    __m512 sc = _mm512_mul_ps(raw, ksh);
    sc = _mm512_mask_mov_ps(_mm512_set1_ps(-__builtin_inff()), live, sc);
    __m512 l = _mm512_load_ps(lsum + h * 16);
    if (_mm512_cmp_ps_mask(sc, _mm512_set1_ps(s.m[h]), _CMP_GT_OQ) != 0) {
      const float mnew = fmaxf(s.m[h], hmax(sc));
      const __m512 a = exp2_ps(_mm512_set1_ps(s.m[h] - mnew));  // 0 on the first block (m = -inf)
      s.m[h] = mnew;
      l = _mm512_mul_ps(l, a);
      scale_row(s.o + h * hd, hd, a);
    }
    const __m512 p = exp2_ps(_mm512_sub_ps(sc, _mm512_set1_ps(s.m[h])));
    _mm512_store_ps(lsum + h * 16, _mm512_add_ps(l, p));
    if (F == KvFormat::bf16 && s.q16) {  // pv_dpbf16's bf16 pairs
      _mm256_store_si256(reinterpret_cast<__m256i*>(pbuf + h * B), cvtne_bf16(p));
      continue;
    }
    _mm512_store_ps(pbuf + h * B, _mm512_mul_ps(p, vscale));
  }
}

// Whether block() takes the kv heads kInterleavedHeads at a time, alternating between them: QK
// every 4 tokens, PV every kInterleavedPvTokens. At GQA 1 one kv head's rows of a block are 16 rows
// one cache row (kv_heads · head_dim elements) apart; where that is a multiple of 2 KiB (e.g. 32 kv
// heads of 128 int8 = 4 KiB) they all fall into the same one or two L1 sets, and on Zen 5 L1 misses
// to one set are served one after another: reading L2-resident lines down a column at a 4096-byte
// stride runs at 30 GB/s, at 4160 bytes 104 (docs/kernels.md). The block's prefetched rows do not
// stay in L1 until used (its 128 KiB at 32 kv heads is more than L1), so QK and PV miss; alternating
// between 4 kv heads spreads the misses over 4 set pairs. Measured on Zen 5 (paired A/B, b1/32 kv
// heads/d128, bit-identical): int8 1.07-1.13x with the KV in L3 on one thread and 1.12x from DRAM on
// two, bf16 0.97-1.0x / 1.13x, fp32 1.07x / 1.02x. For int8 it also pays where the rows do not alias
// (31 kv heads: 1.03x / 1.06x; 8 kv heads: 0.99-1.04x / 1.06x); bf16 rows that do not fill 4 KiB
// lose 8-10 % in L3 (8 and 31 kv heads; PV's output rows go through memory every 8 tokens instead
// of every 16), so the other formats interleave only where a row is a multiple of 4 KiB.
inline constexpr int64_t kInterleavedHeads = 4;
inline constexpr int64_t kInterleavedPvTokens = 8;
inline bool interleave_heads(const DecodeSplit& s) {
  const int64_t row_bytes = s.kv_heads * s.head_dim * kv_element_bytes(s.format);
  return s.q_heads == s.kv_heads && s.kv_heads > 1 && (s.format == KvFormat::int8 || row_bytes % 4096 == 0);
}

// One block of nt (<= block_span: 16, or 32 on the u8 P·V path) tokens starting at t, one kv head
// at a time: QK over the block, the softmax step, then PV, so only the group's q, scores and output
// rows are hot (a few KiB of L1). The next block is prefetched meanwhile, so memory streams ahead
// of the compute.
template <KvFormat F, typename P, bool Interleave>
void block(const DecodeSplit& s, int64_t t, int64_t nt, int64_t& paced_steps) {
  const int64_t hd = s.head_dim, row = s.kv_heads * hd, group = s.q_heads / s.kv_heads;
  constexpr int64_t eb = kv_element_bytes(F);
  const int64_t span = block_span<F>(s);  // nt <= span; 32 on the u8 P·V path, two score blocks
  float* red = s.scratch;                  // [q_heads][16 tokens][16 lanes]
  // [q_heads][16 tokens] fp32; on the vdpbf16ps path (s.q16) the first 8 dwords of each head hold
  // the probabilities as bf16 pairs (softmax_heads, pv_dpbf16)
  float* pbuf = red + s.q_heads * B * 16;
  // Prefetch of the next block (P, see spread_prefetch): spread over all of this block's steps, 4
  // QK steps per kv head and about nt PV token steps per 32 output channels of each q head (a step
  // of pv_chunks or pv_pairs covers 16·NC channels of GB heads, i.e. 32..128 channels of 1..8
  // heads; pv_dpbf16 steps twice per token pair and 32 channels; rest() issues whatever an
  // underestimate left over); or a slice per QK step. Paced
  // (PacedPrefetcher): planned over the step count of the last full block (paced_steps, set on
  // return), the estimate above (fewer steps: the prefetch ends early) only for a split's first
  // block.
  P pf;
  if constexpr (P::kSpread) {
    const int64_t next = s.t1 - (t + span) < span ? s.t1 - (t + span) : span;  // rows of the next block
    if (next > 0) {
      pf.k = static_cast<const char*>(s.k) + (t + span) * row * eb;
      pf.v = static_cast<const char*>(s.v) + (t + span) * row * eb;
      // u8 P·V (s.pv_u8) steps twice per 4 tokens, 64 channels and 4 heads (group · hd / 512 per
      // token), the others once per token and 32..128 channels.
      const int64_t wide = F == KvFormat::int8 && s.pv_u8 ? 512 : 256;
      const int64_t per_head = group >= 8 ? group * hd / wide : group >= 4 ? hd / 64 : hd / 128 > 0 ? hd / 128 : 1;
      int64_t steps = s.kv_heads * (4 * ((nt + B - 1) / B) + nt * per_head);
      if (P::kPaced && paced_steps > 0) steps = paced_steps;
      pf.plan(next * row * eb, steps);
    }
  }
  if constexpr (F == KvFormat::int8) block_scales(s, t, nt);
  // kv heads taken gh at a time (interleave_heads; each order is a split of its own, see split_hd):
  // their QK steps alternate every 4 tokens, then come their softmax steps, then their PV steps
  // alternate every kInterleavedPvTokens.
  constexpr int64_t gh = Interleave ? kInterleavedHeads : 1;
  // prefetch_slice steps (NoPrefetch): one per QK step, and with gh > 1 one per PV step too, in
  // this order, so the slices go out in address order whatever the order of the heads; for int8
  // also one before each kv head's softmax, so the memory does not idle while it runs. Measured on
  // the 2-vCPU Xeon (int8 GQA 1, b1/32 kv heads/d128/ctx 32768, 1 GiB of copies, with and without
  // alternated per call, medians of 20-40 pairs): 1.04, 1.06, 1.07x on 2 threads, 1.10x on one.
  // The same for int8 GQA 8 inside softmax_u8 (a step per head): 0.99-1.06x, not kept.
  const int64_t slices =
      s.kv_heads * ((gh > 1 ? B / 2 : B / 4) * (span / B) + (F == KvFormat::int8 ? 1 : 0));
  int64_t slice = 0;
  const auto qk_step = [&](int64_t g, int64_t tt) {
    // Slots past nt get a copy of the last token's scores; softmax_heads zeroes and masks them.
    int64_t kb[4];
    for (int u = 0; u < 4; ++u) kb[u] = (t + (tt + u < nt ? tt + u : nt - 1)) * row + g * hd;
    if constexpr (P::kSpread) {
      if constexpr (!P::kPaced) pf.step();
    } else {
      prefetch_slice(s, t + span, span, row * eb, slice++, slices);
    }
    for_group(g, group, [&]<int GB>(int64_t h0) {
      if constexpr (F == KvFormat::int8) {
        if (s.q8) {
          if constexpr (GB == 8) {
            qk_heads_u8<2, 8>(s, kb, h0, red + tt * 16);
            qk_heads_u8<2, 8>(s, kb + 2, h0, red + (tt + 2) * 16);
          } else {
            qk_heads_u8<4, GB>(s, kb, h0, red + tt * 16);
          }
          return;
        }
      }
      if constexpr (F == KvFormat::bf16) {
        if (s.q16) {  // GQA >= 8 (base_split): 4 tokens × 4 heads twice, as below
          if constexpr (GB == 8) {
            qk_heads_dpbf16<4>(s, kb, h0, red + tt * 16, pf);
            qk_heads_dpbf16<4>(s, kb, h0 + 4, red + tt * 16, pf);
          } else {
            qk_heads_dpbf16<GB>(s, kb, h0, red + tt * 16, pf);
          }
          return;
        }
        if (s.qp) {
          if constexpr (GB == 8) {
            qk_heads_pairs<2, 8>(s, kb, h0, red + tt * 16, pf);
            qk_heads_pairs<2, 8>(s, kb + 2, h0, red + (tt + 2) * 16, pf);
          } else {
            qk_heads_pairs<4, GB>(s, kb, h0, red + tt * 16, pf);
          }
          return;
        }
      }
      // 8 heads as 4 tokens × 4 heads twice (16 accumulators): 1 q load per 4 FMAs instead of 1
      // per 2 of 2 tokens × 8 heads; the second pass reloads (and for bf16 re-converts) K from
      // L1. Measured on Zen 5 (one thread, KV in L2, CPU time): fp32 GQA 8 +17-20 %, bf16 +2-4 %.
      if constexpr (GB == 8) {
        qk_heads<F, 4, 4>(s, kb, h0, red + tt * 16, pf);
        qk_heads<F, 4, 4>(s, kb, h0 + 4, red + tt * 16, pf);
      } else {
        qk_heads<F, 4, GB>(s, kb, h0, red + tt * 16, pf);
      }
    });
  };
  // PV of kv head g for the n tokens from tt (pbuf + tt: pbuf[h][tt + i], see pv_chunks).
  const auto pv_step = [&](int64_t g, int64_t tt, int64_t n) {
    const void* vrow = static_cast<const char*>(s.v) + ((t + tt) * row + g * hd) * eb;
    for_group(g, group, [&]<int GB>(int64_t h0) {
      if constexpr (F == KvFormat::bf16) {
        if (s.q16)  // GQA >= 8, so gh == 1 and tt == 0 (its pbuf holds bf16 pairs)
          return pv_heads_dpbf16<GB>(s, vrow, row, n, h0, reinterpret_cast<const int32_t*>(pbuf), pf);
        if (s.qp) return pv_heads_pairs<GB>(s, vrow, row, n, h0, pbuf + tt, pf);
      }
      pv_heads<F, GB>(s, vrow, row, n, h0, pbuf + tt, pf);
    });
  };
  for (int64_t g0 = 0; g0 < s.kv_heads; g0 += gh) {
    const int64_t g1 = g0 + gh < s.kv_heads ? g0 + gh : s.kv_heads;
    if (F == KvFormat::int8 && s.k_lanes) {  // GQA >= 4, so gh == 1
      const int64_t g = g0;
      __m512i* kt = reinterpret_cast<__m512i*>(pbuf + s.q_heads * (B + 32));  // after pw, ws
      // per 16-token score block (two on the u8 P·V path): its scores to red[h][tb / 16]
      for (int64_t tb = 0; tb < nt; tb += B) {
        for (int64_t i = 0; i < B / 4; ++i) {
          if constexpr (P::kSpread) pf.step();
          else prefetch_slice(s, t + span, span, row * eb, slice++, slices);
        }
        transpose_k_u8(s, static_cast<const int8_t*>(s.k) + (t + tb) * row + g * hd, row,
                       nt - tb < B ? nt - tb : B, kt);
        for_group(g, group, [&]<int GB>(int64_t h0) { qk_lanes_u8<GB>(s, kt, h0, red + tb); });
      }
    } else {
      for (int64_t tt = 0; tt < nt; tt += 4)
        for (int64_t g = g0; g < g1; ++g) qk_step(g, tt);
    }
    for (int64_t g = g0; g < g1; ++g) {
      if constexpr (F == KvFormat::int8 && !P::kSpread)
        prefetch_slice(s, t + span, span, row * eb, slice++, slices);
      softmax_heads<F>(s, nt, g, g * group, (g + 1) * group);
    }
    if (F == KvFormat::int8 && s.pv_u8) {  // GQA >= 8, so gh == 1
      const void* vrow0 = static_cast<const char*>(s.v) + (t * row + g0 * hd) * eb;
      const int32_t* pw = reinterpret_cast<const int32_t*>(pbuf + s.q_heads * (B + 16));  // softmax_u8's
      const float* ws = p8_scale(s);
      for_group(g0, group, [&]<int GB>(int64_t h0) { pv_heads_u8_vnni<GB>(s, vrow0, row, nt, h0, pw, ws, pf); });
      continue;
    }
    if constexpr (gh == 1) {
      pv_step(g0, 0, nt);
      continue;
    }
    constexpr int64_t pvt = kInterleavedPvTokens;
    for (int64_t tt = 0; tt < nt; tt += pvt)
      for (int64_t g = g0; g < g1; ++g) {
        if constexpr (!P::kSpread)
          for (int64_t i = 0; i < pvt / 4; ++i) prefetch_slice(s, t + span, span, row * eb, slice++, slices);
        pv_step(g, tt, nt - tt < pvt ? nt - tt : pvt);
      }
  }
  pf.rest();
  if (nt == span) paced_steps = pf.steps;
}

// Splits that do not pace (paced_prefetch): whether a split prefetches the next block spread over
// every QK and PV step (Prefetcher) or a slice per QK step (prefetch_slice, NoPrefetch in PV).
// Measured before pacing existed on Zen 5 (2 threads, KV in DRAM,
// the bench's shapes, old/new ratios in one run): spreading is faster where the compute per byte is
// high (GQA 8: bf16 +16-30 %, int8 +6-9 %, fp32 ±5 %; int8 GQA 4 +20-35 %) and for blocks of >= 512
// KiB (fp32 GQA 1: +10-18 %), slower for fp32 and bf16 at GQA 4 (-5 to -9 %), neutral elsewhere.
template <KvFormat F>
bool spread_prefetch(const DecodeSplit& s) {
  const int64_t group = s.q_heads / s.kv_heads, eb = kv_element_bytes(F);
  return group >= 8 || (F == KvFormat::int8 && group >= 4) || 2 * B * s.kv_heads * s.head_dim * eb >= (512 << 10);
}

// Whether a split paces its prefetch by work (PacedPrefetcher): fp32 caches, and bf16 caches on the
// pair-split path (GQA < 8). Measured on Zen 5 (KV in DRAM, the bench's shapes, paced and unpaced
// alternated per call in one process, 2 threads, quiet): fp32 GQA 1 / 4 / 8 +6 / +18 / +21 %, bf16
// GQA 1 / 4 +14 / +19 %. Not paced: bf16 GQA 8 (compute-bound: plain conversion, q·k twice over K;
// paced -10 to -15 %; with the vdpbf16ps q·k paced 0 to -4 % against spread) and int8 (paced -0
// to -2 %, and -6 to -20 % with steps in its K transpose and tokens-in-lanes q·k), where the extra
// steps cost more than the overlap gains.
template <KvFormat F>
bool paced_prefetch(const DecodeSplit& s) {
  return F == KvFormat::fp32 || (F == KvFormat::bf16 && s.qp != nullptr);
}

template <KvFormat F, bool Interleave>
void split(const DecodeSplit& s) {
  float* lsum = s.scratch + s.q_heads * (B * 16 + B);
  for (int64_t h = 0; h < s.q_heads; ++h) _mm512_store_ps(lsum + h * 16, _mm512_setzero_ps());
  const bool spread = spread_prefetch<F>(s), paced = paced_prefetch<F>(s);
  int64_t paced_steps = 0;  // step() calls of the last full block (PacedPrefetcher)
  const int64_t span = block_span<F>(s);
  for (int64_t t = s.t0; t < s.t1; t += span) {
    const int64_t nt = s.t1 - t < span ? s.t1 - t : span;
    if constexpr (F != KvFormat::int8)
      if (paced) {
        block<F, PacedPrefetcher, Interleave>(s, t, nt, paced_steps);
        continue;
      }
    if (spread) block<F, Prefetcher, Interleave>(s, t, nt, paced_steps);
    else block<F, NoPrefetch, Interleave>(s, t, nt, paced_steps);
  }
  for (int64_t h = 0; h < s.q_heads; ++h) s.l[h] = hsum(_mm512_load_ps(lsum + h * 16));
  if (F == KvFormat::bf16 && s.qp) unsplit_rows(s.o, s.q_heads, s.head_dim);
  if (F == KvFormat::bf16 && s.q16) unsplit_dpbf16(s.o, s.q_heads, s.head_dim);
  if (F == KvFormat::int8 && s.pv_u8) unsplit_u8(s.o, s.q_heads, s.head_dim);
}

// head_dim 64 and 128 (nearly every model) get their own copy of the whole split with head_dim a
// compile-time constant: `flatten` inlines every call below into it, so the chunk loops are fully
// unrolled and their pointers fixed (measured on Zen 5: 10-15 % less compute at GQA 4 and 8).
// The interleaved GQA 1 order (interleave_heads) is a copy of its own too: with both orders in one
// flattened split the int8 GQA 8 split ran 0.87x (one thread, KV in L3), its code unchanged.
template <KvFormat F, int HD, bool Interleave>
__attribute__((flatten)) void split_hd(const DecodeSplit& s0) {
  DecodeSplit s = s0;
  s.head_dim = HD;
  split<F, Interleave>(s);
}

template <KvFormat F, bool Interleave>
void split_il(const DecodeSplit& s) {
  if (s.head_dim == 128) split_hd<F, 128, Interleave>(s);
  else if (s.head_dim == 64) split_hd<F, 64, Interleave>(s);
  else split<F, Interleave>(s);
}

template <KvFormat F>
void split_any(const DecodeSplit& s) {
  if (interleave_heads(s)) split_il<F, true>(s);
  else split_il<F, false>(s);
}

}  // namespace

void quantize_q8_avx512(const float* q, int8_t* q8, float* scale, int32_t* bias, float* qr, int64_t rows,
                        int64_t head_dim) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = q + r * head_dim;
    __m512 mx = _mm512_setzero_ps();
    for (int64_t c = 0; c < head_dim; c += 16) mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_loadu_ps(x + c)));
    const float m = hmax(mx);
    const float sc = m > 0 ? m / 127.f : 1.f;  // as quantize_int8_rows
    scale[r] = sc;
    const __m512 sv = _mm512_set1_ps(sc);
    __m512i sum = _mm512_setzero_si512();
    for (int64_t c = 0; c < head_dim; c += 16) {
      // x / s (correctly rounded, as the scalar division), clamped, rounded to nearest even (the
      // MXCSR default, as lrint): bit-identical to quantize_int8_rows.
      __m512 v = _mm512_div_ps(_mm512_loadu_ps(x + c), sv);
      v = _mm512_min_ps(_mm512_set1_ps(127.f), _mm512_max_ps(_mm512_set1_ps(-127.f), v));
      const __m512i i = _mm512_cvtps_epi32(v);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q8 + r * head_dim + c), _mm512_cvtepi32_epi8(i));
      _mm512_storeu_ps(qr + r * head_dim + c, _mm512_mul_ps(_mm512_cvtepi32_ps(i), sv));
      sum = _mm512_add_epi32(sum, i);
    }
    bias[r] = 128 * _mm512_reduce_add_epi32(sum);
  }
}

void decode_split_avx512(const DecodeSplit& s) {
  switch (s.format) {
    case KvFormat::fp32: split_any<KvFormat::fp32>(s); break;
    case KvFormat::bf16: split_any<KvFormat::bf16>(s); break;
    case KvFormat::int8: split_any<KvFormat::int8>(s); break;
  }
}

}  // namespace llmroof::kernels
