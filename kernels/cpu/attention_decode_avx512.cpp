// Flash-decoding split kernel on AVX-512 (compiled with AVX-512 flags; see simd_avx512.hpp).
//
// Tokens are taken 16 at a time (a block); within a block one kv head at a time, whose GQA group of
// q heads (up to 8 at once) shares every K and V load. The 16 dot products of a block are reduced
// together by a transpose-add tree (one zmm of scores, no per-token horizontal sums); the online
// softmax then runs on that zmm; P·V keeps the output chunks in registers over the block. Int8
// caches on VNNI CPUs do q·k with vpdpwssd on an int16 q from GQA 4 (qk_heads_i16; from GQA 8 with
// the block's tokens in the lanes, qk_lanes_i16, so no transpose-add tree) and P·V with vpdpwssd on
// int16 probabilities from GQA 8 (pv_i8_vnni). The next block's K and V are prefetched in address
// order, either spread over every QK and PV step (Prefetcher) or a slice per QK step
// (prefetch_slice); see block(). head_dim 64 and 128 get specialised copies of the whole split
// (split_hd).
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

// QK for U tokens of kv head g: dot products of each q head of the group with the U keys, left as
// 16-lane partial sums in red[h][tt + u] (reduced 16 tokens at a time by reduce16). U·GB = 16
// accumulators: each K chunk is loaded (and converted) once for all GB heads of the group and each
// q chunk once for U tokens, so loads stay well below the FMA count.
template <KvFormat F, int U, int GB>
inline void qk_heads(const DecodeSplit& s, const int64_t* kbase, int64_t h0, float* red) {
  const int64_t hd = s.head_dim;
  __m512 acc[U][GB];
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) acc[u][x] = _mm512_setzero_ps();
  for (int64_t c = 0; c < hd; c += 16) {
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

// acc += the dot products of the int16 pairs of a and b, per dword lane (vpdpwssd, AVX512_VNNI;
// the caller checks the CPU). Inline asm, not the intrinsic: GCC 12 copies every accumulator
// through a spare register around _mm512_dpwssd_epi32 (measured: 16 extra moves per 16 dot
// products); the asm keeps the accumulation in place. `b32` is one dword broadcast to all lanes.
inline void dpwssd(__m512i& acc, __m512i a, __m512i b) {
  asm("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
}
inline void dpwssd_bcast(__m512i& acc, __m512i a, const int32_t* b32) {
  asm("vpdpwssd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(a), "m"(*b32));
}

// QK on int16 q (s.q16) and an int8 K row: the same U × GB blocking as qk_heads, 32 MACs per
// vpdpwssd (K sign-extended to int16 once for all GB heads). Sums are exact in int32: |sum| <=
// head_dim · 127 · 32767 < 2^31 for head_dim <= 512; they are left as fp32 for reduce16, scaled by
// q16_scale in softmax_heads.
template <int U, int GB>
inline void qk_heads_i16(const DecodeSplit& s, const int64_t* kbase, int64_t h0, float* red) {
  const int64_t hd = s.head_dim;
  const int8_t* k = static_cast<const int8_t*>(s.k);
  __m512i acc[U][GB];
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) acc[u][x] = _mm512_setzero_si512();
  for (int64_t c = 0; c < hd; c += 32) {
    __m512i kc[U];
    for (int u = 0; u < U; ++u)
      kc[u] = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(k + kbase[u] + c)));
    for (int x = 0; x < GB; ++x) {
      const __m512i qx = _mm512_loadu_si512(s.q16 + (h0 + x) * hd + c);
      for (int u = 0; u < U; ++u) dpwssd(acc[u][x], qx, kc[u]);
    }
  }
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) _mm512_store_ps(red + ((h0 + x) * B + u) * 16, _mm512_cvtepi32_ps(acc[u][x]));
}

// 16 × 16 transpose of dwords: on return lane t of r[j] is what lane j of r[t] was. Unpacks of
// dwords and qwords build 4 × 4 blocks inside each 128-bit lane; two rounds of 128-bit shuffles
// then move the blocks (64 shuffles in all).
inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  __m512i u[4][4];  // u[G][e], 128-bit lane k: element 4k + e of rows 4G .. 4G + 3
  for (int G = 0; G < 4; ++G) {
    u[G][0] = _mm512_unpacklo_epi64(t[4 * G], t[4 * G + 2]);
    u[G][1] = _mm512_unpackhi_epi64(t[4 * G], t[4 * G + 2]);
    u[G][2] = _mm512_unpacklo_epi64(t[4 * G + 1], t[4 * G + 3]);
    u[G][3] = _mm512_unpackhi_epi64(t[4 * G + 1], t[4 * G + 3]);
  }
  for (int e = 0; e < 4; ++e) {
    const __m512i x0 = _mm512_shuffle_i32x4(u[0][e], u[1][e], 0x44), x1 = _mm512_shuffle_i32x4(u[0][e], u[1][e], 0xEE);
    const __m512i y0 = _mm512_shuffle_i32x4(u[2][e], u[3][e], 0x44), y1 = _mm512_shuffle_i32x4(u[2][e], u[3][e], 0xEE);
    r[e] = _mm512_shuffle_i32x4(x0, y0, 0x88);
    r[4 + e] = _mm512_shuffle_i32x4(x0, y0, 0xDD);
    r[8 + e] = _mm512_shuffle_i32x4(x1, y1, 0x88);
    r[12 + e] = _mm512_shuffle_i32x4(x1, y1, 0xDD);
  }
}

// K of one (block, kv head) with the tokens in the lanes (DecodeSplit::k_lanes): kt[2j] lane t
// holds the int16 pair (k[t][4j], k[t][4j + 2]) and kt[2j + 1] the pair (k[t][4j + 1],
// k[t][4j + 3]), sign-extended from the bytes of one dword of the transposed rows (a word's low
// byte by shift left then arithmetic right, its high byte by the arithmetic right shift alone).
// kb[t] is token t's row offset (slots past the block's end repeat its last token).
inline void transpose_k_i8(const DecodeSplit& s, const int64_t* kb, __m512i* kt) {
  const int8_t* k = static_cast<const int8_t*>(s.k);
  for (int64_t c = 0; c < s.head_dim; c += 64) {
    __m512i r[16];
    for (int t = 0; t < 16; ++t) r[t] = _mm512_loadu_si512(k + kb[t] + c);
    transpose16(r);
    for (int j = 0; j < 16; ++j) {
      kt[(c / 4 + j) * 2] = _mm512_srai_epi16(_mm512_slli_epi16(r[j], 8), 8);
      kt[(c / 4 + j) * 2 + 1] = _mm512_srai_epi16(r[j], 8);
    }
  }
}

// q·k for GB q heads on the transposed K: one vpdpwssd per int16 pair of q (broadcast) adds that
// pair's products for all 16 tokens, so the scores come out with the tokens in the lanes (exact in
// int32, as in qk_heads_i16) and go to red[h][0][0..15] as fp32. Two accumulators per head keep
// 2·GB >= 8 chains in flight for GB >= 4.
template <int GB>
inline void qk_lanes_i16(const DecodeSplit& s, const __m512i* kt, int64_t h0, float* red) {
  const int64_t hd = s.head_dim;
  const int32_t* q32 = reinterpret_cast<const int32_t*>(s.q16);
  __m512i acc[GB][2];
  for (int x = 0; x < GB; ++x) acc[x][0] = acc[x][1] = _mm512_setzero_si512();
  for (int64_t i = 0; i < hd / 2; i += 2) {
    const __m512i a = kt[i], b = kt[i + 1];
    for (int x = 0; x < GB; ++x) {
      dpwssd_bcast(acc[x][0], a, q32 + (h0 + x) * (hd / 2) + i);
      dpwssd_bcast(acc[x][1], b, q32 + (h0 + x) * (hd / 2) + i + 1);
    }
  }
  for (int x = 0; x < GB; ++x)
    _mm512_store_ps(red + (h0 + x) * B * 16, _mm512_cvtepi32_ps(_mm512_add_epi32(acc[x][0], acc[x][1])));
}

// Streams the next block's K and V rows into the caches a few lines per call, in address order,
// from every PV token step as well as every QK step, so the prefetches are spread over the whole
// block's compute instead of coming in bursts during QK (see block()).
struct Prefetcher {
  static constexpr bool kSpread = true;
  const char* k = nullptr;
  const char* v = nullptr;
  int64_t pos = 0, end = 0, per = 0;  // bytes; lines of K (and of V) per step
  inline void step() {
    for (int64_t i = 0; i < per && pos < end; ++i, pos += 64) {
      asm volatile("prefetcht0 %0" : : "m"(k[pos]));
      asm volatile("prefetcht0 %0" : : "m"(v[pos]));
    }
  }
  inline void rest() {
    for (; pos < end; pos += 64) {
      asm volatile("prefetcht0 %0" : : "m"(k[pos]));
      asm volatile("prefetcht0 %0" : : "m"(v[pos]));
    }
  }
};
// The PV steps of a split that prefetches a slice per QK step instead (prefetch_slice): no code.
struct NoPrefetch {
  static constexpr bool kSpread = false;
  inline void step() {}
  inline void rest() {}
};

// int8 V on VNNI (s.pv_i16): P·V as integer dot products over token pairs. quantize_p_i16 turns a
// head's 16 weights w_t = p_t · vscale_t (>= 0) into int16 w16_t = round(w_t / ws), ws = max_t w_t
// / 32767 (error <= ws / 2 per weight, i.e. 2^-16 of the block's largest), stored as 8 dwords
// (w16_2j, w16_2j+1). pv_i8_vnni interleaves the int16 V rows of tokens 2j and 2j+1 (unpack lo/hi)
// so one vpdpwssd with that dword broadcast adds both tokens to 16 channels: 32 MACs per
// instruction instead of 16 per FMA, and no int8 -> fp32 conversion of V. Sums are exact in int32
// (|sum| <= 16 · 32767 · 127 < 2^31); they reach o once per block as fp32 · ws.
inline void quantize_p_i16(const float* pbuf, int32_t* pw, float* ws, int64_t h0, int64_t h1) {
  for (int64_t h = h0; h < h1; ++h) {
    const __m512 w = _mm512_load_ps(pbuf + h * B);
    const float mx = hmax(w);
    ws[h] = mx / 32767.f;
    const __m512 inv = _mm512_set1_ps(mx > 0 ? 32767.f / mx : 0.f);
    const __m256i w16 = _mm512_cvtepi32_epi16(_mm512_cvtps_epi32(_mm512_mul_ps(w, inv)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(pw + h * 8), w16);
  }
}

// Channels [c, c + 32) of GB q heads. Lane i of the lo/hi accumulators holds channel
// 8·(i / 4) + i % 4 (lo) or that + 4 (hi), the in-lane order of vpunpck*wd; one permute per 16
// channels puts them back in order.
template <int GB, typename P>
inline void pv_i8_vnni(const DecodeSplit& s, const int8_t* vrow0, int64_t row, int64_t nt, int64_t h0,
                       const int32_t* pw, const float* ws, int64_t c, P& pf) {
  const int64_t hd = s.head_dim;
  __m512i lo_acc[GB], hi_acc[GB];
  for (int x = 0; x < GB; ++x) lo_acc[x] = hi_acc[x] = _mm512_setzero_si512();
  for (int64_t t = 0; t < nt; t += 2) {
    const int64_t t1 = t + 1 < nt ? t + 1 : t;  // odd tail: that slot's weight is 0
    pf.step();
    pf.step();
    const __m512i a = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(vrow0 + t * row + c)));
    const __m512i b = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(vrow0 + t1 * row + c)));
    const __m512i lo = _mm512_unpacklo_epi16(a, b), hi = _mm512_unpackhi_epi16(a, b);
    for (int x = 0; x < GB; ++x) {
      dpwssd_bcast(lo_acc[x], lo, pw + (h0 + x) * 8 + t / 2);
      dpwssd_bcast(hi_acc[x], hi, pw + (h0 + x) * 8 + t / 2);
    }
  }
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i second = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  for (int x = 0; x < GB; ++x) {
    const __m512 l = _mm512_cvtepi32_ps(lo_acc[x]), h = _mm512_cvtepi32_ps(hi_acc[x]);
    const __m512 w = _mm512_set1_ps(ws[h0 + x]);
    float* o = s.o + (h0 + x) * hd + c;
    _mm512_storeu_ps(o, _mm512_fmadd_ps(_mm512_permutex2var_ps(l, first, h), w, _mm512_loadu_ps(o)));
    _mm512_storeu_ps(o + 16, _mm512_fmadd_ps(_mm512_permutex2var_ps(l, second, h), w, _mm512_loadu_ps(o + 16)));
  }
}

template <int GB, typename P>
inline void pv_heads_i8_vnni(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                             const int32_t* pw, const float* ws, P& pf) {
  for (int64_t c = 0; c < s.head_dim; c += 32)
    pv_i8_vnni<GB>(s, static_cast<const int8_t*>(vrow0), row, nt, h0, pw, ws, c, pf);
}

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

// bf16 caches with head_dim % 32 == 0 ("pair-split" layout): one 64-byte load holds 32 bf16 of a
// row; the even elements become fp32 by a 16-bit left shift of each dword and the odd ones by
// masking off its low half, so a 32-element chunk costs 1 load + 2 in-lane integer ops instead of 2
// loads + 2 lane-crossing zero-extends + 2 shifts. Lane j of the two halves holds elements c + 2j
// and c + 2j + 1, so q is pre-split the same way (s.qp) and PV accumulates the output rows in that
// layout (un-split once per split by unsplit_rows). Products and sums stay fp32: only the order of
// the dot product's additions changes.
inline void load_bf16_pair(const uint16_t* p, __m512& even, __m512& odd) {
  const __m512i w = _mm512_loadu_si512(p);
  even = _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
  odd = _mm512_castsi512_ps(_mm512_and_si512(w, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

template <int U, int GB>
inline void qk_heads_pairs(const DecodeSplit& s, const int64_t* kbase, int64_t h0, float* red) {
  const int64_t hd = s.head_dim;
  const uint16_t* k = static_cast<const uint16_t*>(s.k);
  __m512 acc[U][GB];
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) acc[u][x] = _mm512_setzero_ps();
  for (int64_t c = 0; c < hd; c += 32) {
    __m512 ke[U], ko[U];
    for (int u = 0; u < U; ++u) load_bf16_pair(k + kbase[u] + c, ke[u], ko[u]);
    for (int x = 0; x < GB; ++x) {
      const __m512 qe = _mm512_loadu_ps(s.qp + (h0 + x) * hd + c);
      const __m512 qo = _mm512_loadu_ps(s.qp + (h0 + x) * hd + c + 16);
      for (int u = 0; u < U; ++u) acc[u][x] = _mm512_fmadd_ps(qo, ko[u], _mm512_fmadd_ps(qe, ke[u], acc[u][x]));
    }
  }
  for (int u = 0; u < U; ++u)
    for (int x = 0; x < GB; ++x) _mm512_store_ps(red + ((h0 + x) * B + u) * 16, acc[u][x]);
}

// pv_chunks for the pair-split layout: NP 32-element chunks, output rows kept pair-split.
template <int GB, int NP, typename P>
inline void pv_pairs(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                     const float* pbuf, int64_t c, P& pf) {
  const int64_t hd = s.head_dim;
  const uint16_t* v = static_cast<const uint16_t*>(vrow0);
  __m512 acc[GB][2 * NP];
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < 2 * NP; ++j) acc[x][j] = _mm512_loadu_ps(s.o + (h0 + x) * hd + c + 16 * j);
  for (int64_t t = 0; t < nt; ++t) {
    pf.step();
    __m512 vc[2 * NP];
    for (int j = 0; j < NP; ++j) load_bf16_pair(v + t * row + c + 32 * j, vc[2 * j], vc[2 * j + 1]);
    for (int x = 0; x < GB; ++x) {
      const __m512 w = _mm512_set1_ps(pbuf[(h0 + x) * B + t]);
      for (int j = 0; j < 2 * NP; ++j) acc[x][j] = _mm512_fmadd_ps(w, vc[j], acc[x][j]);
    }
  }
  for (int x = 0; x < GB; ++x)
    for (int j = 0; j < 2 * NP; ++j) _mm512_storeu_ps(s.o + (h0 + x) * hd + c + 16 * j, acc[x][j]);
}

template <int GB, typename P>
inline void pv_heads_pairs(const DecodeSplit& s, const void* vrow0, int64_t row, int64_t nt, int64_t h0,
                           const float* pbuf, P& pf) {
  constexpr int NP = GB >= 8 ? 1 : GB == 4 ? 2 : 4;
  int64_t c = 0;
  for (; c + 32 * NP <= s.head_dim; c += 32 * NP) pv_pairs<GB, NP>(s, vrow0, row, nt, h0, pbuf, c, pf);
  for (; c < s.head_dim; c += 32) pv_pairs<GB, 1>(s, vrow0, row, nt, h0, pbuf, c, pf);
}

// Output rows from the pair-split layout back to element order (even/odd halves interleaved).
inline void unsplit_rows(float* o, int64_t rows, int64_t hd) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  for (int64_t c = 0; c < rows * hd; c += 32) {
    const __m512 e = _mm512_loadu_ps(o + c), d = _mm512_loadu_ps(o + c + 16);
    _mm512_storeu_ps(o + c, _mm512_permutex2var_ps(e, lo, d));
    _mm512_storeu_ps(o + c + 16, _mm512_permutex2var_ps(e, hi, d));
  }
}

// Software prefetch of `bytes` from base + byte_offset to all cache levels (on Zen 5 in DRAM T0
// measured a little faster than T1/T2; the L2 copy is what counts). Volatile asm, not
// _mm_prefetch: GCC 12 deems a function made only of __builtin_prefetch free of side effects and
// deletes the calls to it (prefetch_slice vanished from the object code).
inline void prefetch_row(const void* base, int64_t byte_offset, int64_t bytes) {
  const char* p = static_cast<const char*>(base) + byte_offset;
  for (int64_t i = 0; i < bytes; i += 64) asm volatile("prefetcht0 %0" : : "m"(p[i]));
}

// Step i of n of prefetching the K and V rows of the block at token tgt: slice i of n of its bytes,
// in address order. block() takes n = kv_heads · 4 steps (one per 4-token QK step), so the next
// block streams in sequentially and evenly over the compute of this one. Measured on Zen 5 in DRAM
// (one thread, CPU time): +0-40 % over a burst of whole rows per kv head, and up to +60 % over
// per-(token, head) rows 32 tokens ahead (strided, which the hardware prefetchers follow worse).
inline void prefetch_slice(const DecodeSplit& s, int64_t tgt, int64_t row_bytes, int64_t i, int64_t n) {
  const int64_t rows = s.t1 - tgt < B ? s.t1 - tgt : B;
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

// Online-softmax step for q heads [h0, h1) over the block's scores: P = 2^(S - max) (times the V
// scales for int8) into pbuf, running sum, and (only when the max grows) the rescale of the output
// rows. The common case (no score of the block above the running max: after the first blocks
// almost always) is one compare and a predicted branch, so the heads do not wait on each other's
// horizontal max; the running sum stays a vector (lsum, 16 lanes) reduced once per split.
template <KvFormat F>
void softmax_heads(const DecodeSplit& s, int64_t t, int64_t nt, int64_t g, int64_t h0, int64_t h1) {
  const int64_t hd = s.head_dim;
  float* red = s.scratch;
  float* pbuf = red + s.q_heads * B * 16;
  float* lsum = pbuf + s.q_heads * B;
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
    const __m512 ksh = s.q16 ? _mm512_mul_ps(kscale, _mm512_set1_ps(s.q16_scale[h])) : kscale;
    __m512 raw;
    if (s.k_lanes) {
      raw = _mm512_load_ps(red + h * B * 16);  // qk_lanes_i16: already one score per lane
    } else {
      for (int64_t tt = nt; tt < B; ++tt) _mm512_store_ps(red + (h * B + tt) * 16, _mm512_setzero_ps());
      raw = reduce16(red + h * B * 16);
    }
    __m512 sc = _mm512_mul_ps(raw, ksh);
    sc = _mm512_mask_mov_ps(_mm512_set1_ps(-__builtin_inff()), live, sc);
    __m512 l = _mm512_load_ps(lsum + h * 16);
    if (_mm512_cmp_ps_mask(sc, _mm512_set1_ps(s.m[h]), _CMP_GT_OQ) != 0) {
      const float mnew = fmaxf(s.m[h], hmax(sc));
      const __m512 a = exp2_ps(_mm512_set1_ps(s.m[h] - mnew));  // 0 on the first block (m = -inf)
      s.m[h] = mnew;
      l = _mm512_mul_ps(l, a);
      for (int64_t c = 0; c < hd; c += 16)
        _mm512_storeu_ps(s.o + h * hd + c, _mm512_mul_ps(_mm512_loadu_ps(s.o + h * hd + c), a));
    }
    const __m512 p = exp2_ps(_mm512_sub_ps(sc, _mm512_set1_ps(s.m[h])));
    _mm512_store_ps(lsum + h * 16, _mm512_add_ps(l, p));
    _mm512_store_ps(pbuf + h * B, _mm512_mul_ps(p, vscale));
  }
}

// One block of nt (<= 16) tokens starting at t, one kv head at a time: QK over the block, the
// softmax step, then PV, so only the group's q, scores and output rows are hot (a few KiB of L1).
// The next block is prefetched meanwhile, so memory streams ahead of the compute.
template <KvFormat F, typename P>
void block(const DecodeSplit& s, int64_t t, int64_t nt) {
  const int64_t hd = s.head_dim, row = s.kv_heads * hd, group = s.q_heads / s.kv_heads;
  const int64_t eb = F == KvFormat::fp32 ? 4 : F == KvFormat::bf16 ? 2 : 1;
  float* red = s.scratch;                  // [q_heads][16 tokens][16 lanes]
  float* pbuf = red + s.q_heads * B * 16;  // [q_heads][16 tokens]
  // Prefetch of the next block (P, see spread_prefetch): spread over all of this block's steps, 4
  // QK steps per kv head and about nt PV token steps per 32 output channels of each q head (a step
  // of pv_chunks or pv_pairs covers 16·NC channels of GB heads, i.e. 32..128 channels of 1..8
  // heads; rest() issues whatever an underestimate left over); or a slice per QK step.
  P pf;
  if constexpr (P::kSpread) {
    const int64_t next = s.t1 - (t + B) < B ? s.t1 - (t + B) : B;  // rows of the next block
    if (next > 0) {
      pf.k = static_cast<const char*>(s.k) + (t + B) * row * eb;
      pf.v = static_cast<const char*>(s.v) + (t + B) * row * eb;
      pf.end = next * row * eb;
      const int64_t per_head = group >= 8 ? group * hd / 256 : group >= 4 ? hd / 64 : hd / 128 > 0 ? hd / 128 : 1;
      const int64_t steps = s.kv_heads * (4 + nt * per_head);
      pf.per = ((pf.end + 63) / 64 + steps - 1) / steps;
    }
  }
  for (int64_t g = 0; g < s.kv_heads; ++g) {
    if (F == KvFormat::int8 && s.k_lanes) {
      int64_t kb[B];
      for (int64_t tt = 0; tt < B; ++tt) kb[tt] = (t + (tt < nt ? tt : nt - 1)) * row + g * hd;
      for (int64_t i = 0; i < B / 4; ++i) {
        if constexpr (P::kSpread) pf.step();
        else prefetch_slice(s, t + B, row * eb, g * (B / 4) + i, s.kv_heads * (B / 4));
      }
      __m512i* kt = reinterpret_cast<__m512i*>(pbuf + s.q_heads * (B + 32));  // after pw, ws
      transpose_k_i8(s, kb, kt);
      for_group(g, group, [&]<int GB>(int64_t h0) { qk_lanes_i16<GB>(s, kt, h0, red); });
    } else {
      // Slots past nt get a copy of the last token's scores; softmax_heads zeroes and masks them.
      for (int64_t tt = 0; tt < nt; tt += 4) {
        int64_t kb[4];
        for (int u = 0; u < 4; ++u) kb[u] = (t + (tt + u < nt ? tt + u : nt - 1)) * row + g * hd;
        if constexpr (P::kSpread) pf.step();
        else prefetch_slice(s, t + B, row * eb, g * (B / 4) + tt / 4, s.kv_heads * (B / 4));
        for_group(g, group, [&]<int GB>(int64_t h0) {
          if constexpr (F == KvFormat::int8) {
            if (s.q16) {
              if constexpr (GB == 8) {
                qk_heads_i16<2, 8>(s, kb, h0, red + tt * 16);
                qk_heads_i16<2, 8>(s, kb + 2, h0, red + (tt + 2) * 16);
              } else {
                qk_heads_i16<4, GB>(s, kb, h0, red + tt * 16);
              }
              return;
            }
          }
          if constexpr (F == KvFormat::bf16) {
            if (s.qp) {
              if constexpr (GB == 8) {
                qk_heads_pairs<2, 8>(s, kb, h0, red + tt * 16);
                qk_heads_pairs<2, 8>(s, kb + 2, h0, red + (tt + 2) * 16);
              } else {
                qk_heads_pairs<4, GB>(s, kb, h0, red + tt * 16);
              }
              return;
            }
          }
          // 8 heads as 4 tokens × 4 heads twice (16 accumulators): 1 q load per 4 FMAs instead of 1
          // per 2 of 2 tokens × 8 heads; the second pass reloads (and for bf16 re-converts) K from
          // L1. Measured on Zen 5 (one thread, KV in L2, CPU time): fp32 GQA 8 +17-20 %, bf16 +2-4 %.
          if constexpr (GB == 8) {
            qk_heads<F, 4, 4>(s, kb, h0, red + tt * 16);
            qk_heads<F, 4, 4>(s, kb, h0 + 4, red + tt * 16);
          } else {
            qk_heads<F, 4, GB>(s, kb, h0, red + tt * 16);
          }
        });
      }
    }
    softmax_heads<F>(s, t, nt, g, g * group, (g + 1) * group);
    const void* vrow0 = static_cast<const char*>(s.v) + (t * row + g * hd) * eb;
    if (F == KvFormat::int8 && s.pv_i16) {
      int32_t* pw = reinterpret_cast<int32_t*>(pbuf + s.q_heads * (B + 16));  // after lsum
      float* ws = reinterpret_cast<float*>(pw + s.q_heads * 8);
      quantize_p_i16(pbuf, pw, ws, g * group, (g + 1) * group);
      for_group(g, group, [&]<int GB>(int64_t h0) { pv_heads_i8_vnni<GB>(s, vrow0, row, nt, h0, pw, ws, pf); });
      continue;
    }
    for_group(g, group, [&]<int GB>(int64_t h0) {
      if constexpr (F == KvFormat::bf16)
        if (s.qp) return pv_heads_pairs<GB>(s, vrow0, row, nt, h0, pbuf, pf);
      pv_heads<F, GB>(s, vrow0, row, nt, h0, pbuf, pf);
    });
  }
  pf.rest();
}

// Whether a split prefetches the next block spread over every QK and PV step (Prefetcher) or a
// slice per QK step (prefetch_slice, NoPrefetch in PV). Measured on Zen 5 (2 threads, KV in DRAM,
// the bench's shapes, old/new ratios in one run): spreading is faster where the compute per byte is
// high (GQA 8: bf16 +16-30 %, int8 +6-9 %, fp32 ±5 %; int8 GQA 4 +20-35 %) and for blocks of >= 512
// KiB (fp32 GQA 1: +10-18 %), slower for fp32 and bf16 at GQA 4 (-5 to -9 %), neutral elsewhere.
template <KvFormat F>
bool spread_prefetch(const DecodeSplit& s) {
  const int64_t group = s.q_heads / s.kv_heads, eb = F == KvFormat::fp32 ? 4 : F == KvFormat::bf16 ? 2 : 1;
  return group >= 8 || (F == KvFormat::int8 && group >= 4) || 2 * B * s.kv_heads * s.head_dim * eb >= (512 << 10);
}

template <KvFormat F>
void split(const DecodeSplit& s) {
  float* lsum = s.scratch + s.q_heads * (B * 16 + B);
  for (int64_t h = 0; h < s.q_heads; ++h) _mm512_store_ps(lsum + h * 16, _mm512_setzero_ps());
  const bool spread = spread_prefetch<F>(s);
  for (int64_t t = s.t0; t < s.t1; t += B) {
    const int64_t nt = s.t1 - t < B ? s.t1 - t : B;
    if (spread) block<F, Prefetcher>(s, t, nt);
    else block<F, NoPrefetch>(s, t, nt);
  }
  for (int64_t h = 0; h < s.q_heads; ++h) s.l[h] = hsum(_mm512_load_ps(lsum + h * 16));
  if (F == KvFormat::bf16 && s.qp) unsplit_rows(s.o, s.q_heads, s.head_dim);
}

// head_dim 64 and 128 (nearly every model) get their own copy of the whole split with head_dim a
// compile-time constant: `flatten` inlines every call below into it, so the chunk loops are fully
// unrolled and their pointers fixed (measured on Zen 5: 10-15 % less compute at GQA 4 and 8).
template <KvFormat F, int HD>
__attribute__((flatten)) void split_hd(const DecodeSplit& s0) {
  DecodeSplit s = s0;
  s.head_dim = HD;
  split<F>(s);
}

template <KvFormat F>
void split_any(const DecodeSplit& s) {
  if (s.head_dim == 128) split_hd<F, 128>(s);
  else if (s.head_dim == 64) split_hd<F, 64>(s);
  else split<F>(s);
}

}  // namespace

void decode_split_avx512(const DecodeSplit& s) {
  switch (s.format) {
    case KvFormat::fp32: split_any<KvFormat::fp32>(s); break;
    case KvFormat::bf16: split_any<KvFormat::bf16>(s); break;
    case KvFormat::int8: split_any<KvFormat::int8>(s); break;
  }
}

}  // namespace llmroof::kernels
