// Flash-decoding split for bf16 caches on AMX-BF16 tiles (decode_bf16_amx in attention.hpp): q·k
// and P·V are tdpbf16ps, the vector unit does the softmax and the data movement between them.
//
// Why tiles: from GQA 8 the bf16 decode does 8 q heads' q·k and P·V per K/V byte pair, 8 flops per
// byte of cache. On the 2-vCPU Xeon the vdpbf16ps split ran at 8.8 GB/s per core with the KV in L2
// (compute alone), below the ~11 GB/s per core the memory delivers on two; one tdpbf16ps does the
// work of 16 vdpbf16ps (docs/kernels.md, "bf16 decode on AMX").
//
// Per 32-token block and kv head, for a tile of hc <= 16 of its q heads (a whole GQA group, or an
// equal share of one above 16):
//  - q·k, scores in [token][head]: C (16 tokens x hc) += K (16 tokens x 32 dims, the cache rows as
//    they are, no transpose) · qT (32 dims x hc, q in AMX's pair layout, built once per split).
//  - softmax on those rows (one vector per token, a lane per head): block max, rescale of the
//    running sum and output rows when it rises, p = 2^(s - m), p rounded to bf16, the 32 x hc
//    words transposed to hc rows of 32 tokens (the P tile: rows = heads, as A must be).
//  - P·V: o (hc x 16 channels, fp32 in memory) += P (hc x 32 tokens) · Vp (32 tokens x 16
//    channels): Vp holds V's token pairs word-interleaved (vpunpckl/hwd of rows 2r and 2r + 1),
//    built once per kv head and block and shared by its tiles. The unpacks leave channel
//    8 (k / 4) + k % 4 (+ 4 for the high half) in column k, the order pv_dpbf16 keeps, so o stays
//    in it over the split and unsplit_dpbf16 puts it back, as on the vdpbf16ps path.
// The numerics are the vdpbf16ps path's: q and p rounded to bf16, exact products, fp32 sums (in
// another order), the running sum of unrounded p (attention.hpp, decode_bf16_dot_products).
#include "kernels/cpu/amx_tile_config.hpp"
#include "kernels/cpu/attention_decode.hpp"

#if defined(__x86_64__)  // whole file: x86-64 only
#pragma GCC push_options
#pragma GCC target("amx-tile,amx-bf16,avx512bf16")
#include <immintrin.h>

#include "kernels/cpu/attention_decode_amx_common.hpp"
#include "kernels/cpu/attention_decode_avx512_bf16.hpp"
#include "kernels/cpu/attention_decode_prefetch.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels {

namespace {
using namespace avx512;

constexpr int64_t kSpan = kAmxSpan;
constexpr int64_t kTileB = kAmxTileB;

// Tile registers (GCC's tile intrinsics take literal numbers):
//   0, 1  scores of tokens 0-15 and 16-31: 16 rows x hc fp32
//   2, 6  K rows of those tokens, 32 dims: 16 x 64 bytes; in P·V Vp, 16 token-pair rows x 16
//         channels
//   4     qT, 32 dims of the tile's q heads: 16 pair rows x hc dwords
//   5     P: hc rows x 32 tokens bf16
//   7, 3  o: hc rows x 16 channels fp32
// One configuration per hc (1..16): the rows and widths above. Constants in memory, not built on
// the stack (see AmxTileConfig).
struct DecodeTileConfigs {
  detail::AmxTileConfig c[17];
};
constexpr DecodeTileConfigs make_decode_configs() {
  DecodeTileConfigs t{};
  for (int hc = 1; hc <= 16; ++hc) {
    const auto w = static_cast<uint16_t>(4 * hc);
    const auto h = static_cast<uint8_t>(hc);
    t.c[hc] = tile_config({w, w, 64, 64, w, 64, 64, 64}, {16, 16, 16, h, 16, h, 16, h});
  }
  return t;
}
constexpr DecodeTileConfigs kDecodeConfigs = make_decode_configs();

// Where each buffer lies in the split's scratch, byte offsets (all multiples of 64); `bytes` is
// decode_amx_scratch_bytes.
struct AmxLayout {
  int64_t qt, scores, p, vp, kt, bytes;
};
constexpr AmxLayout amx_layout(int64_t q_heads, int64_t hd) {
  AmxLayout l{};
  l.qt = 0;  // per tile of q heads (q_heads tiles at most): hd / 32 qT tiles of 1 KiB
  l.scores = l.qt + q_heads * hd * 32;  // 32 token rows of 16 floats
  l.p = l.scores + kSpan * 64;          // the P tile: 16 rows of 32 bf16
  l.vp = l.p + kTileB;                  // hd / 16 Vp tiles of 16 rows x 64 bytes
  l.kt = l.vp + hd * 64;                // a partial block's K rows of one kv head: 32 x hd bf16
  l.bytes = l.kt + kSpan * hd * 2;
  return l;
}
struct AmxScratch {
  uint8_t* qt;
  float* scores;
  uint16_t* p;
  uint16_t* vp;
  uint16_t* kt;
};
AmxScratch carve(const DecodeSplit& s) {
  uint8_t* b = reinterpret_cast<uint8_t*>(s.scratch);
  const AmxLayout l = amx_layout(s.q_heads, s.head_dim);
  return {b + l.qt, reinterpret_cast<float*>(b + l.scores), reinterpret_cast<uint16_t*>(b + l.p),
          reinterpret_cast<uint16_t*>(b + l.vp), reinterpret_cast<uint16_t*>(b + l.kt)};
}

// qT tiles of q heads [h0, h0 + hc): tile j, row r, dword x = the bf16 pair (q[2(16j + r)],
// q[2(16j + r) + 1]) of head h0 + x, i.e. dword 16j + r of its row.
void build_qt(const DecodeSplit& s, int64_t h0, int64_t hc, uint8_t* qt) {
  const auto* q = reinterpret_cast<const uint32_t*>(s.q16);
  auto* t = reinterpret_cast<uint32_t*>(qt);
  const int64_t dw = s.head_dim / 2;
  for (int64_t i = 0; i < dw; ++i)  // tile i / 16, row i % 16
    for (int64_t x = 0; x < hc; ++x) t[i * 16 + x] = q[(h0 + x) * dw + i];
}

// Vp tiles of kv head g for the block at t (nt tokens; rows past nt repeat the last one, whose
// weight is 0): tile 2c + e, row r = the unpacklo (e = 0) / unpackhi (e = 1) of channels
// 32c .. 32c + 31 of token rows 2r and 2r + 1.
template <typename P>
void build_vp(const DecodeSplit& s, const uint16_t* v0, int64_t row, int64_t nt, uint16_t* vp,
              P& pf) {
  const int64_t hd = s.head_dim;
  for (int64_t r = 0; r < kSpan / 2; ++r) {
    pf.step();
    const uint16_t* a = v0 + (2 * r < nt ? 2 * r : nt - 1) * row;
    const uint16_t* b = v0 + (2 * r + 1 < nt ? 2 * r + 1 : nt - 1) * row;
    for (int64_t c = 0; c < hd; c += 32) {
      const __m512i x = _mm512_loadu_si512(a + c), y = _mm512_loadu_si512(b + c);
      uint16_t* d = vp + (c / 16) * (kTileB / 2) + r * 32;
      _mm512_store_si512(d, _mm512_unpacklo_epi16(x, y));
      _mm512_store_si512(d + kTileB / 2, _mm512_unpackhi_epi16(x, y));
    }
  }
}

// 16 x 16 dword transpose: out[i] dword j = in[j] dword i.
inline void transpose16(const __m512i in[16], __m512i out[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(in[2 * i], in[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(in[2 * i], in[2 * i + 1]);
  }
  // u[4i + k], 128-bit lane L: dword 4L + k of rows 4i .. 4i + 3
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  // out[4L + k] = lane L of u[k], u[4 + k], u[8 + k], u[12 + k] (a 4 x 4 transpose of lanes)
  for (int k = 0; k < 4; ++k) {
    const __m512i b0 = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x44),
                  b1 = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xEE);
    const __m512i b2 = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0x44),
                  b3 = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0xEE);
    out[k] = _mm512_shuffle_i32x4(b0, b2, 0x88);
    out[4 + k] = _mm512_shuffle_i32x4(b0, b2, 0xDD);
    out[8 + k] = _mm512_shuffle_i32x4(b1, b3, 0x88);
    out[12 + k] = _mm512_shuffle_i32x4(b1, b3, 0xDD);
  }
}

// The online-softmax step of q heads [h0, h0 + hc) over the block's scores (a.scores, token rows,
// lane x = head h0 + x): running max s.m, running sum s.l, the rescale of their output rows where
// the max rose, and the P tile (a.p: row x = head h0 + x, word t = bf16 of token t's probability;
// tokens past nt 0).
template <typename P>
void softmax_block(const DecodeSplit& s, const AmxScratch& a, int64_t h0, int64_t hc, int64_t nt,
                   P& pf) {
  const __mmask16 hm = first_lanes(hc);
  const __m512 ninf = _mm512_set1_ps(-__builtin_inff()), sl = _mm512_set1_ps(s.scale_log2);
  __m512 x[kSpan];
  __m512 mb = ninf;
  for (int i = 0; i < kSpan; ++i) {
    if (i % 8 == 0) pf.step();
    x[i] = i < nt ? _mm512_mask_mul_ps(ninf, hm, _mm512_load_ps(a.scores + 16 * i), sl) : ninf;
    mb = _mm512_max_ps(mb, x[i]);
  }
  __m512 m = _mm512_mask_loadu_ps(ninf, hm, s.m + h0);
  __m512 l = _mm512_maskz_loadu_ps(hm, s.l + h0);
  const __mmask16 up = _mm512_mask_cmp_ps_mask(hm, mb, m, _CMP_GT_OQ);
  if (up) {
    const __m512 mnew = _mm512_max_ps(m, mb);
    // 0 where m was -inf (the first block), 1 where the max stayed
    const __m512 r = exp2_ps(_mm512_maskz_sub_ps(hm, m, mnew));
    alignas(64) float rv[16];
    _mm512_store_ps(rv, r);
    l = _mm512_mul_ps(l, r);
    for (int64_t i = 0; i < hc; ++i) {
      if (!(up >> i & 1)) continue;
      scale_row(s.o + (h0 + i) * s.head_dim, s.head_dim, _mm512_set1_ps(rv[i]));
    }
    m = mnew;
    _mm512_mask_storeu_ps(s.m + h0, hm, m);
  }
  // Token pairs (2r, 2r + 1) as bf16 words 0-15 and 16-31, then dword x = (token 2r, token 2r + 1)
  // of head x: vpermw by kPair.
  const __m512i kPair = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24,
                                         8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  __m512i d[16];
  for (int r = 0; r < kSpan / 2; ++r) {
    if (r % 2 == 0) pf.step();
    const __m512 p0 = exp2_ps(_mm512_sub_ps(x[2 * r], m)),
                 p1 = exp2_ps(_mm512_sub_ps(x[2 * r + 1], m));
    l = _mm512_add_ps(l, _mm512_add_ps(p0, p1));
    const __m512i w = (__m512i)_mm512_cvtne2ps_pbh(p1, p0);
    d[r] = _mm512_permutexvar_epi16(kPair, w);
  }
  _mm512_mask_storeu_ps(s.l + h0, hm, l);
  __m512i rows[16];
  transpose16(d, rows);
  for (int64_t i = 0; i < hc; ++i) _mm512_store_si512(a.p + 32 * i, rows[i]);
}

// The next block's K and V rows into L2, in address order, a few lines per step(). The steps are
// spread over all of a block's work: every Vp row, q·k and P·V tile step, and every 8 score rows
// and 2 probability rows of the softmax. The memory then streams while the tiles and the softmax
// run. Measured on the 2-vCPU Xeon (bf16 GQA 8, b4/32 q/4 kv heads/d128, KV from DRAM, 2 threads,
// alternated with the vdpbf16ps path per call): 16.0 GB/s without the softmax's steps, 20.8 with
// them (the host's read 21-23); a burst per kv head instead of steps: 30 % of the cycles on
// prefetcht1 with the KV in L2. prefetcht0 was 6 % slower than prefetcht1, two blocks ahead 3 %.
using SpreadPrefetch = PrefetcherT<false, true>;
// step() calls per tile of q heads besides the kv head's kSpan / 2 Vp rows (build_vp): hd / 32 in
// q·k, kSpan / 8 + kSpan / 4 in softmax_block, hd / 32 in P·V.
constexpr int64_t tile_steps(int64_t hd) {
  return hd / 32 + kSpan / 8 + kSpan / 4 + hd / 32;
}

// The block of nt tokens at t, every kv head: q·k, softmax and P·V per tile of hc q heads.
void amx_block(const DecodeSplit& s, const AmxScratch& a, int64_t hc, int64_t t, int64_t nt) {
  const int64_t hd = s.head_dim, row = s.kv_heads * hd, group = s.q_heads / s.kv_heads;
  const auto* k = static_cast<const uint16_t*>(s.k);
  const auto* v = static_cast<const uint16_t*>(s.v);
  SpreadPrefetch pf;
  const int64_t next = s.t1 - (t + kSpan) < kSpan ? s.t1 - (t + kSpan) : kSpan;
  if (next > 0) {
    pf.k = reinterpret_cast<const char*>(k + (t + kSpan) * row);
    pf.v = reinterpret_cast<const char*>(v + (t + kSpan) * row);
    pf.plan(next * row * 2, s.kv_heads * (kSpan / 2 + group / hc * tile_steps(hd)));
  }
  for (int64_t g = 0; g < s.kv_heads; ++g) {
    // K rows of this kv head: in the cache, or for a partial block copied with the last row
    // repeated
    const uint16_t* kg = k + t * row + g * hd;
    int64_t kstride = row * 2;
    if (nt < kSpan) {
      for (int64_t i = 0; i < kSpan; ++i)
        for (int64_t c = 0; c < hd; c += 32)
          _mm512_store_si512(a.kt + i * hd + c,
                             _mm512_loadu_si512(kg + (i < nt ? i : nt - 1) * row + c));
      kg = a.kt;
      kstride = hd * 2;
    }
    build_vp(s, v + t * row + g * hd, row, nt, a.vp, pf);
    stores_before_tile_loads();
    for (int64_t h0 = g * group; h0 < (g + 1) * group; h0 += hc) {
      const uint8_t* qt = a.qt + h0 / hc * hd * 32;
      _tile_zero(0);
      _tile_zero(1);
      for (int64_t j = 0; j < hd / 32; ++j) {
        pf.step();
        _tile_loadd(4, qt + j * kTileB, 64);
        _tile_loadd(2, kg + 32 * j, kstride);
        _tile_dpbf16ps(0, 2, 4);
        _tile_loadd(6, reinterpret_cast<const char*>(kg + 32 * j) + 16 * kstride, kstride);
        _tile_dpbf16ps(1, 6, 4);
      }
      _tile_stored(0, a.scores, 64);
      _tile_stored(1, a.scores + 16 * 16, 64);
      softmax_block(s, a, h0, hc, nt, pf);
      stores_before_tile_loads();
      _tile_loadd(5, a.p, 64);
      float* o = s.o + h0 * hd;
      // two channel groups at a time (o in tiles 7 and 3, Vp in 6 and 2), so a group's load does
      // not wait for the previous group's store of the same tile
      for (int64_t j = 0; j < hd / 16; j += 2) {
        pf.step();
        _tile_loadd(7, o + 16 * j, hd * 4);
        _tile_loadd(6, a.vp + j * (kTileB / 2), 64);
        _tile_loadd(3, o + 16 * j + 16, hd * 4);
        _tile_loadd(2, a.vp + (j + 1) * (kTileB / 2), 64);
        _tile_dpbf16ps(7, 5, 6);
        _tile_dpbf16ps(3, 5, 2);
        _tile_stored(7, o + 16 * j, hd * 4);
        _tile_stored(3, o + 16 * j + 16, hd * 4);
      }
    }
  }
}

}  // namespace

int64_t decode_amx_scratch_bytes(int64_t q_heads, int64_t head_dim) {
  return amx_layout(q_heads, head_dim).bytes;
}

void decode_split_amx_bf16(const DecodeSplit& s, int64_t hc) {
  const AmxScratch a = carve(s);
  for (int64_t h0 = 0; h0 < s.q_heads; h0 += hc)
    build_qt(s, h0, hc, a.qt + h0 / hc * s.head_dim * 32);
  stores_before_tile_loads();
  _tile_loadconfig(&kDecodeConfigs.c[hc]);
  for (int64_t t = s.t0; t < s.t1; t += kSpan)
    amx_block(s, a, hc, t, s.t1 - t < kSpan ? s.t1 - t : kSpan);
  _tile_release();
  unsplit_dpbf16(s.o, s.q_heads, s.head_dim);
}

}  // namespace llmroof::kernels

#pragma GCC pop_options
#endif  // __x86_64__
