// Flash-decoding split kernel on AVX2 + FMA (compiled with -mavx2 -mfma; see simd_avx2.hpp).
//
// The structure of attention_decode_avx512.cpp with 8-lane vectors and 16 registers: tokens are
// taken 8 at a time (a block, one ymm of scores); within a block one kv head at a time, whose GQA
// group of q heads (up to 4 at once) shares every K and V load. The 8 dot products of a block are
// reduced together by a vhaddps tree (reduce8: no per-token horizontal sums); the online softmax
// runs on that ymm; P·V keeps output chunks in registers over the block. K/V in fp32, bf16 (widened
// by a shift) or int8 (scales per (token, kv head), fp32 or fp16, applied to the scores and P).
// bf16 caches use the AVX-512 file's pair-split trick on 16-element chunks (qk_heads_pairs); its
// int16-q (VNNI) variant has no AVX2 counterpart.
#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/simd_avx2.hpp"

namespace llmroof::kernels {

namespace {
using namespace avx2;
constexpr int64_t B = 8;  // tokens per block

template <KvFormat F>
inline __m256 load_kv(const void* base, int64_t idx) {
  if constexpr (F == KvFormat::fp32) return _mm256_loadu_ps(static_cast<const float*>(base) + idx);
  else if constexpr (F == KvFormat::bf16) return load_bf16_8(static_cast<const uint16_t*>(base) + idx);
  else return load_i8_8(static_cast<const int8_t*>(base) + idx);
}

// fp16 scales go through the scalar half_to_float: this file needs no F16C (Isa::avx2 is
// avx2 + fma), and it is 2 conversions per (token, kv head), not per element.
inline float load_scale(const void* s, int64_t idx, bool fp16) {
  return fp16 ? half_to_float(static_cast<const uint16_t*>(s)[idx]) : static_cast<const float*>(s)[idx];
}

// Lane t of the result = horizontal sum of v[t] (8 vectors, 8 floats apart each). vhaddps works
// per 128-bit half: after two rounds u0 = [v0..v3 low-half sums | v0..v3 high-half sums] (u1 the
// same for v4..v7); the cross-lane permutes line the halves up in token order.
inline __m256 reduce8(const float* v) {
  const __m256 t0 = _mm256_hadd_ps(_mm256_load_ps(v), _mm256_load_ps(v + 8));
  const __m256 t1 = _mm256_hadd_ps(_mm256_load_ps(v + 16), _mm256_load_ps(v + 24));
  const __m256 t2 = _mm256_hadd_ps(_mm256_load_ps(v + 32), _mm256_load_ps(v + 40));
  const __m256 t3 = _mm256_hadd_ps(_mm256_load_ps(v + 48), _mm256_load_ps(v + 56));
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// QK for U tokens and GB q heads of one kv head: 8-lane partial dot products into
// red[h][tt + u] (reduced 8 tokens at a time by reduce8). U·GB = 8 accumulators + U K chunks + one
// q chunk stay within 16 registers; each K chunk is converted once for all GB heads.
template <KvFormat F, int U, int GB>
inline void qk_heads(const DecodeSplit& s, const int64_t* kbase, int64_t h0, float* red) {
  const int64_t hd = s.head_dim;
  __m256 acc[U][GB];
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) acc[u][x] = _mm256_setzero_ps();
  for (int64_t c = 0; c < hd; c += 8) {
    __m256 kc[U];
    for (int u = 0; u < U; ++u) kc[u] = load_kv<F>(s.k, kbase[u] + c);
    for (int x = 0; x < GB; ++x) {
      const __m256 qx = _mm256_loadu_ps(s.q + (h0 + x) * hd + c);
      for (int u = 0; u < U; ++u) acc[u][x] = _mm256_fmadd_ps(qx, kc[u], acc[u][x]);
    }
  }
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) _mm256_store_ps(red + ((h0 + x) * B + u) * 8, acc[u][x]);
}

// PV for the nt tokens of a block, GB q heads, NC 8-wide chunks of the head at a time:
// o[h] += sum_t p[h][t] v[t], the GB·NC output chunks held in registers over the block.
template <KvFormat F, int GB, int NC>
inline void pv_chunks(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                      const float* pbuf, int64_t c) {
  const int64_t hd = s.head_dim;
  __m256 acc[GB][NC];
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < NC; ++j) acc[x][j] = _mm256_loadu_ps(s.o + (h0 + x) * hd + c + 8 * j);
  for (int64_t t = 0; t < nt; ++t) {
    __m256 vc[NC];
    for (int j = 0; j < NC; ++j) vc[j] = load_kv<F>(vrow0, t * row + c + 8 * j);
    for (int x = 0; x < GB; ++x) {
      const __m256 w = _mm256_broadcast_ss(pbuf + (h0 + x) * B + t);
      for (int j = 0; j < NC; ++j) acc[x][j] = _mm256_fmadd_ps(w, vc[j], acc[x][j]);
    }
  }
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < NC; ++j) _mm256_storeu_ps(s.o + (h0 + x) * hd + c + 8 * j, acc[x][j]);
}

template <KvFormat F, int GB>
inline void pv_heads(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                     const float* pbuf) {
  constexpr int NC = GB >= 4 ? 2 : 4;
  int64_t c = 0;
  for (; c + 8 * NC <= s.head_dim; c += 8 * NC) pv_chunks<F, GB, NC>(s, vrow0, row, nt, h0, pbuf, c);
  for (; c < s.head_dim; c += 8) pv_chunks<F, GB, 1>(s, vrow0, row, nt, h0, pbuf, c);
}

// bf16 "pair-split" layout (as in attention_decode_avx512.cpp, with 16-element chunks): one 32-byte
// load holds 16 bf16 of a row; dword j holds elements c + 2j (low half) and c + 2j + 1 (high half),
// so the even ones become fp32 by a 16-bit left shift and the odd ones by masking off the low half:
// 1 load + 2 ops per 16 elements instead of 2 widening loads + 2 shifts. q comes pre-split the same
// way (s.qp, split_pairs with chunk 16), PV accumulates the output rows in that order and each
// split un-splits them once at its end. Products and sums stay fp32.
inline void load_bf16_pair(const uint16_t* p, __m256& even, __m256& odd) {
  const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  even = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
  odd = _mm256_castsi256_ps(_mm256_and_si256(w, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

// qk_heads on the pair-split layout: U tokens x GB heads, 2 K registers per token.
template <int U, int GB>
inline void qk_heads_pairs(const DecodeSplit& s, const int64_t* kbase, int64_t h0, float* red) {
  const int64_t hd = s.head_dim;
  const uint16_t* k = static_cast<const uint16_t*>(s.k);
  __m256 acc[U][GB];
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) acc[u][x] = _mm256_setzero_ps();
  for (int64_t c = 0; c < hd; c += 16) {
    __m256 ke[U], ko[U];
    for (int u = 0; u < U; ++u) load_bf16_pair(k + kbase[u] + c, ke[u], ko[u]);
    for (int x = 0; x < GB; ++x) {
      const __m256 qe = _mm256_loadu_ps(s.qp + (h0 + x) * hd + c);
      const __m256 qo = _mm256_loadu_ps(s.qp + (h0 + x) * hd + c + 8);
      for (int u = 0; u < U; ++u)
        acc[u][x] = _mm256_fmadd_ps(qo, ko[u], _mm256_fmadd_ps(qe, ke[u], acc[u][x]));
    }
  }
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) _mm256_store_ps(red + ((h0 + x) * B + u) * 8, acc[u][x]);
}

// pv_chunks on the pair-split layout: NP 16-element chunks, output rows kept pair-split.
template <int GB, int NP>
inline void pv_pairs(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                     const float* pbuf, int64_t c) {
  const int64_t hd = s.head_dim;
  const uint16_t* v = static_cast<const uint16_t*>(vrow0);
  __m256 acc[GB][2 * NP];
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < 2 * NP; ++j) acc[x][j] = _mm256_loadu_ps(s.o + (h0 + x) * hd + c + 8 * j);
  for (int64_t t = 0; t < nt; ++t) {
    __m256 vc[2 * NP];
    for (int j = 0; j < NP; ++j) load_bf16_pair(v + t * row + c + 16 * j, vc[2 * j], vc[2 * j + 1]);
    for (int x = 0; x < GB; ++x) {
      const __m256 w = _mm256_broadcast_ss(pbuf + (h0 + x) * B + t);
      for (int j = 0; j < 2 * NP; ++j) acc[x][j] = _mm256_fmadd_ps(w, vc[j], acc[x][j]);
    }
  }
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < 2 * NP; ++j) _mm256_storeu_ps(s.o + (h0 + x) * hd + c + 8 * j, acc[x][j]);
}

template <int GB>
inline void pv_heads_pairs(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt,
                           int64_t h0, const float* pbuf) {
  constexpr int NP = GB >= 4 ? 1 : 2;
  int64_t c = 0;
  for (; c + 16 * NP <= s.head_dim; c += 16 * NP) pv_pairs<GB, NP>(s, vrow0, row, nt, h0, pbuf, c);
  for (; c < s.head_dim; c += 16) pv_pairs<GB, 1>(s, vrow0, row, nt, h0, pbuf, c);
}

// Output rows from the pair-split layout back to element order (per 128-bit lane, unpack
// interleaves the even and odd halves; the lane permutes put the 4-element pieces in order).
inline void unsplit_rows(float* o, int64_t rows, int64_t hd) {
  for (int64_t c = 0; c < rows * hd; c += 16) {
    const __m256 e = _mm256_loadu_ps(o + c), d = _mm256_loadu_ps(o + c + 8);
    const __m256 lo = _mm256_unpacklo_ps(e, d), hi = _mm256_unpackhi_ps(e, d);
    _mm256_storeu_ps(o + c, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(o + c + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
}

// Software prefetch (to L2) of `bytes` from base + byte_offset.
inline void prefetch_row(const void* base, int64_t byte_offset, int64_t bytes) {
  const char* p = static_cast<const char*>(base) + byte_offset;
  for (int64_t i = 0; i < bytes; i += 64) _mm_prefetch(p + i, _MM_HINT_T1);
}

// Calls fn.template operator()<GB>(h0) over the q heads of kv head g in chunks of 4, 2, 1.
template <typename Fn>
inline void for_group(int64_t g, int64_t group, Fn&& fn) {
  int64_t h = g * group;
  const int64_t end = h + group;
  for (; h + 4 <= end; h += 4) fn.template operator()<4>(h);
  for (; h + 2 <= end; h += 2) fn.template operator()<2>(h);
  for (; h < end; ++h) fn.template operator()<1>(h);
}

// Online-softmax step for q heads [h0, h1) over the block's scores, as softmax_heads in the AVX-512
// file: P = 2^(S - max) (times the V scales for int8) into pbuf, a vector running sum, and the
// rescale of the output rows only when the block raises the running max.
template <KvFormat F>
void softmax_heads(const DecodeSplit& s, int64_t t, int64_t nt, int64_t g, int64_t h0, int64_t h1) {
  const int64_t hd = s.head_dim;
  float* red = s.scratch;
  float* pbuf = red + s.q_heads * B * 8;
  float* lsum = pbuf + s.q_heads * B;
  const __m256 live = lanes_below(nt), ninf = _mm256_set1_ps(-__builtin_inff());
  __m256 kscale = _mm256_set1_ps(s.scale_log2), vscale = _mm256_set1_ps(1.f);
  if constexpr (F == KvFormat::int8) {
    alignas(32) float ks[B] = {}, vs[B] = {};
    for (int64_t tt = 0; tt < nt; ++tt) {
      ks[tt] = load_scale(s.k_scale, (t + tt) * s.kv_heads + g, s.scales_fp16);
      vs[tt] = load_scale(s.v_scale, (t + tt) * s.kv_heads + g, s.scales_fp16);
    }
    kscale = _mm256_mul_ps(kscale, _mm256_load_ps(ks));
    vscale = _mm256_load_ps(vs);
  }
  for (int64_t h = h0; h < h1; ++h) {
    __m256 sc = _mm256_mul_ps(reduce8(red + h * B * 8), kscale);
    sc = _mm256_blendv_ps(ninf, sc, live);
    __m256 l = _mm256_load_ps(lsum + h * 8);
    if (_mm256_movemask_ps(_mm256_cmp_ps(sc, _mm256_set1_ps(s.m[h]), _CMP_GT_OQ)) != 0) {
      const float mx = hmax8(sc), mnew = mx > s.m[h] ? mx : s.m[h];
      const __m256 a = exp2_8(_mm256_set1_ps(s.m[h] - mnew));  // 0 on the first block (m = -inf)
      s.m[h] = mnew;
      l = _mm256_mul_ps(l, a);
      for (int64_t c = 0; c < hd; c += 8)
        _mm256_storeu_ps(s.o + h * hd + c, _mm256_mul_ps(_mm256_loadu_ps(s.o + h * hd + c), a));
    }
    const __m256 p = exp2_8(_mm256_sub_ps(sc, _mm256_set1_ps(s.m[h])));
    _mm256_store_ps(lsum + h * 8, _mm256_add_ps(l, p));
    _mm256_store_ps(pbuf + h * B, _mm256_mul_ps(p, vscale));
  }
}

// One block of nt (<= 8) tokens starting at t, one kv head at a time: QK, softmax step, PV; the
// next block's rows are prefetched in address order meanwhile.
template <KvFormat F>
void block(const DecodeSplit& s, int64_t t, int64_t nt) {
  const int64_t hd = s.head_dim, row = s.kv_heads * hd, group = s.q_heads / s.kv_heads;
  constexpr int64_t eb = kv_element_bytes(F);
  const int64_t next_rows = s.t1 - (t + B) < B ? s.t1 - (t + B) : B;
  float* red = s.scratch;                 // [q_heads][8 tokens][8 lanes]
  float* pbuf = red + s.q_heads * B * 8;  // [q_heads][8 tokens]
  const int64_t rows_per_head = (B + s.kv_heads - 1) / s.kv_heads;
  for (int64_t g = 0; g < s.kv_heads; ++g) {
    for (int64_t r = g * rows_per_head; r < (g + 1) * rows_per_head && r < next_rows; ++r) {
      prefetch_row(s.k, (t + B + r) * row * eb, row * eb);
      prefetch_row(s.v, (t + B + r) * row * eb, row * eb);
    }
    // Slots past nt get a copy of the last token's scores; softmax_heads masks them to -inf.
    for (int64_t tt = 0; tt < nt; tt += 4) {
      int64_t kb[4];
      for (int u = 0; u < 4; ++u) kb[u] = (t + (tt + u < nt ? tt + u : nt - 1)) * row + g * hd;
      for_group(g, group, [&]<int GB>(int64_t h0) {
        if constexpr (F == KvFormat::bf16) {  // s.qp is always set for bf16 on this path
          if constexpr (GB == 1) {
            qk_heads_pairs<4, 1>(s, kb, h0, red + tt * 8);
          } else {
            qk_heads_pairs<2, GB>(s, kb, h0, red + tt * 8);
            qk_heads_pairs<2, GB>(s, kb + 2, h0, red + (tt + 2) * 8);
          }
          return;
        }
        if constexpr (GB == 4) {  // 2 tokens x 4 heads: 8 accumulators
          qk_heads<F, 2, 4>(s, kb, h0, red + tt * 8);
          qk_heads<F, 2, 4>(s, kb + 2, h0, red + (tt + 2) * 8);
        } else {
          qk_heads<F, 4, GB>(s, kb, h0, red + tt * 8);
        }
      });
    }
    softmax_heads<F>(s, t, nt, g, g * group, (g + 1) * group);
    const void* vrow0 = static_cast<const char*>(s.v) + (t * row + g * hd) * eb;
    for_group(g, group, [&]<int GB>(int64_t h0) {
      if constexpr (F == KvFormat::bf16)
        pv_heads_pairs<GB>(s, vrow0, row, nt, h0, pbuf);
      else
        pv_heads<F, GB>(s, vrow0, row, nt, h0, pbuf);
    });
  }
}

template <KvFormat F>
void split(const DecodeSplit& s) {
  float* lsum = s.scratch + s.q_heads * (B * 8 + B);
  for (int64_t h = 0; h < s.q_heads; ++h) _mm256_store_ps(lsum + h * 8, _mm256_setzero_ps());
  for (int64_t t = s.t0; t < s.t1; t += B) block<F>(s, t, s.t1 - t < B ? s.t1 - t : B);
  for (int64_t h = 0; h < s.q_heads; ++h) s.l[h] = hsum8(_mm256_load_ps(lsum + h * 8));
  if (F == KvFormat::bf16) unsplit_rows(s.o, s.q_heads, s.head_dim);
}

}  // namespace

void decode_split_avx2(const DecodeSplit& s) {
  switch (s.format) {
    case KvFormat::fp32: split<KvFormat::fp32>(s); break;
    case KvFormat::bf16: split<KvFormat::bf16>(s); break;
    case KvFormat::int8: split<KvFormat::int8>(s); break;
  }
}

}  // namespace llmroof::kernels
