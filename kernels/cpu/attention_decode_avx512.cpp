// Flash-decoding split kernel on AVX-512 (compiled with AVX-512 flags; see simd_avx512.hpp).
//
// Tokens are taken 16 at a time (a block); within a block one kv head at a time, whose GQA group of
// q heads (up to 4 at once) shares every K and V load, and 4 tokens per pass. The 16 dot products of
// a block are reduced together by a transpose-add tree (one zmm of scores, no per-token horizontal
// sums); the online softmax then runs on that zmm. Whole rows of the next block are prefetched in
// address order, so memory is streamed front to back.
#include <math.h>

#include "kernels/cpu/attention_decode.hpp"
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

inline float load_scale(const void* s, int64_t idx, bool fp16) {
  return fp16 ? _cvtsh_ss(static_cast<const uint16_t*>(s)[idx]) : static_cast<const float*>(s)[idx];
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

// QK for 4 tokens of kv head g: dot products of each q head of the group with the 4 keys, left as
// 16-lane partial sums in red[h][tt + u] (reduced 16 tokens at a time by reduce16). Four tokens per
// pass load each q chunk once for 4·GB FMAs (a load per FMA would make this load-bound).
template <KvFormat F, int GB>
inline void qk_heads(const DecodeSplit& s, const int64_t* kbase, int64_t h0, float* red) {
  const int64_t hd = s.head_dim;
  __m512 acc[4][GB];
  for (int u = 0; u < 4; ++u)
    for (int x = 0; x < GB; ++x) acc[u][x] = _mm512_setzero_ps();
  for (int64_t c = 0; c < hd; c += 16) {
    __m512 kc[4];
    for (int u = 0; u < 4; ++u) kc[u] = load_kv<F>(s.k, kbase[u] + c);
    for (int x = 0; x < GB; ++x) {
      const __m512 qx = _mm512_loadu_ps(s.q + (h0 + x) * hd + c);
      for (int u = 0; u < 4; ++u) acc[u][x] = _mm512_fmadd_ps(qx, kc[u], acc[u][x]);
    }
  }
  for (int u = 0; u < 4; ++u)
    for (int x = 0; x < GB; ++x) _mm512_store_ps(red + ((h0 + x) * B + u) * 16, acc[u][x]);
}

// PV for 4 tokens of kv head g: o[h] += sum_u p[h][tt+u] v[tt+u] for the group's heads (four
// tokens per pass quarter the load/store traffic of o, which lives in L1).
template <KvFormat F, int GB>
inline void pv_heads(const DecodeSplit& s, const int64_t* vbase, int64_t h0, const float* const* p) {
  const int64_t hd = s.head_dim;
  __m512 w[4][GB];
  for (int u = 0; u < 4; ++u)
    for (int x = 0; x < GB; ++x) w[u][x] = _mm512_set1_ps(p[u][(h0 + x) * B]);
  for (int64_t c = 0; c < hd; c += 16) {
    const __m512 v0 = load_kv<F>(s.v, vbase[0] + c), v1 = load_kv<F>(s.v, vbase[1] + c);
    const __m512 v2 = load_kv<F>(s.v, vbase[2] + c), v3 = load_kv<F>(s.v, vbase[3] + c);
    for (int x = 0; x < GB; ++x) {
      float* o = s.o + (h0 + x) * hd + c;
      __m512 a = _mm512_fmadd_ps(w[0][x], v0, _mm512_loadu_ps(o));
      a = _mm512_fmadd_ps(w[1][x], v1, a);
      a = _mm512_fmadd_ps(w[2][x], v2, a);
      _mm512_storeu_ps(o, _mm512_fmadd_ps(w[3][x], v3, a));
    }
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

// Online-softmax step for q heads [h0, h1) over the block's scores: new max, P = 2^(S - max) (times
// the V scales for int8) into pbuf, running sum, and the rescale of the output rows.
template <KvFormat F>
void softmax_heads(const DecodeSplit& s, int64_t t, int64_t nt, int64_t g, int64_t h0, int64_t h1) {
  const int64_t hd = s.head_dim;
  float* red = s.scratch;
  float* pbuf = red + s.q_heads * B * 16;
  const __mmask16 live = nt >= 16 ? static_cast<__mmask16>(0xffff) : tail_mask(nt);
  __m512 kscale = _mm512_set1_ps(s.scale_log2), vscale = _mm512_set1_ps(1.f);
  if constexpr (F == KvFormat::int8) {
    alignas(64) float ks[B] = {}, vs[B] = {};
    for (int64_t tt = 0; tt < nt; ++tt) {
      ks[tt] = load_scale(s.k_scale, (t + tt) * s.kv_heads + g, s.scales_fp16);
      vs[tt] = load_scale(s.v_scale, (t + tt) * s.kv_heads + g, s.scales_fp16);
    }
    kscale = _mm512_mul_ps(kscale, _mm512_load_ps(ks));
    vscale = _mm512_load_ps(vs);
  }
  for (int64_t h = h0; h < h1; ++h) {
    for (int64_t tt = nt; tt < B; ++tt) _mm512_store_ps(red + (h * B + tt) * 16, _mm512_setzero_ps());
    __m512 sc = _mm512_mul_ps(reduce16(red + h * B * 16), kscale);
    sc = _mm512_mask_mov_ps(_mm512_set1_ps(-__builtin_inff()), live, sc);
    const float mnew = fmaxf(s.m[h], hmax(sc));
    const float alpha = _mm512_cvtss_f32(exp2_ps(_mm512_set1_ps(s.m[h] - mnew)));
    const __m512 p = exp2_ps(_mm512_sub_ps(sc, _mm512_set1_ps(mnew)));
    s.l[h] = s.l[h] * alpha + hsum(p);
    s.m[h] = mnew;
    _mm512_store_ps(pbuf + h * B, _mm512_mul_ps(p, vscale));
    if (alpha != 1.f) {
      const __m512 a = _mm512_set1_ps(alpha);
      for (int64_t c = 0; c < hd; c += 16)
        _mm512_storeu_ps(s.o + h * hd + c, _mm512_mul_ps(_mm512_loadu_ps(s.o + h * hd + c), a));
    }
  }
}

// One block of nt (<= 16) tokens starting at t, one kv head at a time: QK over the block, the
// softmax step, then PV, so only the group's q, scores and output rows are hot (a few KiB of L1).
// The next block is prefetched meanwhile, so memory streams ahead of the compute.
template <KvFormat F>
void block(const DecodeSplit& s, int64_t t, int64_t nt) {
  const int64_t hd = s.head_dim, row = s.kv_heads * hd, group = s.q_heads / s.kv_heads;
  const int64_t eb = F == KvFormat::fp32 ? 4 : F == KvFormat::bf16 ? 2 : 1;
  const int64_t next_rows = s.t1 - (t + B) < B ? s.t1 - (t + B) : B;
  float* red = s.scratch;                  // [q_heads][16 tokens][16 lanes]
  float* pbuf = red + s.q_heads * B * 16;  // [q_heads][16 tokens]
  const int64_t rows_per_head = (B + s.kv_heads - 1) / s.kv_heads;
  for (int64_t g = 0; g < s.kv_heads; ++g) {
    // Whole rows of the next block, in address order, spread over the kv heads of this one: DRAM
    // sees two sequential streams even though the compute below visits the block head by head.
    for (int64_t r = g * rows_per_head; r < (g + 1) * rows_per_head && r < next_rows; ++r) {
      prefetch_row(s.k, (t + B + r) * row * eb, row * eb);
      prefetch_row(s.v, (t + B + r) * row * eb, row * eb);
    }
    // Slots past nt get a copy of the last token's scores; softmax_heads zeroes and masks them.
    for (int64_t tt = 0; tt < nt; tt += 4) {
      int64_t kb[4];
      for (int u = 0; u < 4; ++u) kb[u] = (t + (tt + u < nt ? tt + u : nt - 1)) * row + g * hd;
      for_group(g, group, [&]<int GB>(int64_t h0) { qk_heads<F, GB>(s, kb, h0, red + tt * 16); });
    }
    softmax_heads<F>(s, t, nt, g, g * group, (g + 1) * group);
    // Tokens past nt repeat the last row at weight 0 (pbuf lanes >= nt are 0).
    for (int64_t tt = 0; tt < nt; tt += 4) {
      int64_t vb[4];
      const float* p[4];
      for (int u = 0; u < 4; ++u) {
        vb[u] = (t + (tt + u < nt ? tt + u : nt - 1)) * row + g * hd;
        p[u] = pbuf + (tt + u < nt ? tt + u : B - 1);
      }
      for_group(g, group, [&]<int GB>(int64_t h0) { pv_heads<F, GB>(s, vb, h0, p); });
    }
  }
}

template <KvFormat F>
void split(const DecodeSplit& s) {
  for (int64_t t = s.t0; t < s.t1; t += B) block<F>(s, t, s.t1 - t < B ? s.t1 - t : B);
}

}  // namespace

void decode_split_avx512(const DecodeSplit& s) {
  switch (s.format) {
    case KvFormat::fp32: split<KvFormat::fp32>(s); break;
    case KvFormat::bf16: split<KvFormat::bf16>(s); break;
    case KvFormat::int8: split<KvFormat::int8>(s); break;
  }
}

}  // namespace llmroof::kernels
