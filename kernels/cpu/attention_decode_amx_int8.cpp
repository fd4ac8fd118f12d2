// Flash-decoding split for int8 caches on AMX-INT8 tiles (decode_int8_amx in attention.hpp): q·k is
// tdpbssd on the int8 q, P·V tdpbusd on the u8 probabilities, the vector unit does the scales, the
// softmax with its u8 rounding, and the data movement between them.
//
// Why tiles: the vpdpbusd split (attention_decode_avx512.cpp) transposes K and does q·k and P·V
// per q head, so its work per KV byte grows with the group. On the 2-vCPU Xeon (docs/kernels.md,
// "int8 decode on AMX"; kernels bench from DRAM, 2 threads, separate processes) the tiles measured
// +21 % at GQA 16 and +1.5-3 % at GQA 8; compute alone (KV in L2, one thread) 1.1x at GQA 8.
//
// Per 32-token block and kv head, for a tile of hc <= 8 of its q heads
// (decode_amx_heads_per_tile(group, 8)):
//  - q·k, scores in [token][head]: C (16 tokens x hc) = K (16 tokens x 64 dims, the cache rows as
//    they are) · qT (16 dword rows of 4 dims x hc heads, built once per split), signed x signed,
//    exact int32: the reference's integer sums.
//  - The two 16-token score tiles are stored side by side, so score row i holds token i in lanes
//    0-7 and token 16 + i in lanes 8-15: the softmax runs 16 vectors for 32 tokens.
//  - softmax with the u8 rounding attention.hpp defines, in the same float operations as the
//    vpdpbusd split's softmax_u8 and attention_ref: s = float(Σ q8 k8) · ((scale_log2 · kscale_t) ·
//    q8_scale), block max mb, e = exp2_ps(s - mb), w8 = round(e · (vscale_t · (255 / vmax))), so
//    the weights are bit for bit the reference's; the w8 of 4 tokens are packed into a dword per
//    head and transposed to the P tile (rows = heads, 32 bytes = the block's tokens).
//  - P·V: C (hc x 16 channels, int32) = P (hc x 32 tokens, u8) · Vp (8 token quads x 16 channels,
//    s8), Vp holding V's 4-token byte interleave (pv_u8_vnni's unpacks, so o keeps its channel
//    order and unsplit_u8 puts it back at the end); then o += float(C) · (2^(mb - m) · vmax / 255).
#include "kernels/cpu/amx_tile_config.hpp"
#include "kernels/cpu/attention_decode.hpp"

#if defined(__x86_64__)  // whole file: x86-64 only
#pragma GCC push_options
#pragma GCC target("amx-tile,amx-int8")
#include <immintrin.h>

#include "kernels/cpu/attention_decode_amx_common.hpp"
#include "kernels/cpu/attention_decode_avx512_int8.hpp"
#include "kernels/cpu/attention_decode_prefetch.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels {

namespace {
using namespace avx512;

constexpr int64_t kHalf = kAmxSpan / 2;  // tokens per score tile
constexpr int64_t kVpTileB = 512;        // bytes of a Vp tile: 8 token quads x 64 bytes

// Tile registers (GCC's tile intrinsics take literal numbers):
//   0     scores of 16 tokens: 16 rows x hc int32
//   2     K rows of those tokens, 64 dims: 16 x 64 bytes
//   4     qT, 64 dims of the tile's q heads: 16 rows of 4 dims x hc dwords
//   5     P: hc rows x 32 tokens u8
//   3     Vp: 8 token quads x 16 channels (dwords of 4 tokens)
//   7     P·V: hc rows x 16 channels int32
// One configuration per hc (1..8). Constants in memory, not built on the stack (see AmxTileConfig).
struct Int8TileConfigs {
  detail::AmxTileConfig c[9];
};
constexpr Int8TileConfigs make_int8_configs() {
  Int8TileConfigs t{};
  for (int hc = 1; hc <= 8; ++hc) {
    const auto w = static_cast<uint16_t>(4 * hc);
    const auto h = static_cast<uint8_t>(hc);
    t.c[hc] = tile_config({w, 0, 64, 64, w, 32, 0, 64}, {16, 0, 16, 8, 16, h, 0, h});
  }
  return t;
}
constexpr Int8TileConfigs kInt8Configs = make_int8_configs();

// Where each buffer lies in the split's scratch, byte offsets (all multiples of 64); `bytes` is
// decode_amx_int8_scratch_bytes.
struct Int8Layout {
  int64_t qt, scores, p, vp, pv, kt, ksl, vsi, ws0, wst, bytes;
};
constexpr int64_t round64(int64_t b) {
  return (b + 63) / 64 * 64;
}
constexpr Int8Layout int8_layout(int64_t q_heads, int64_t kv_heads, int64_t hd, int64_t hc) {
  Int8Layout l{};
  l.qt = 0;                                  // per tile of q heads: hd / 64 qT tiles of 1 KiB
  l.scores = l.qt + q_heads / hc * hd * 16;  // 16 rows of 2 x 8 int32
  l.p = l.scores + kHalf * 64;               // the P tile: 8 rows of 32 u8
  l.vp = l.p + 8 * 32;                       // hd / 16 Vp tiles
  l.pv = l.vp + hd / 16 * kVpTileB;          // hd / 16 P·V tiles of 8 rows x 64 bytes
  l.kt = l.pv + hd / 16 * 8 * 64;            // a partial block's K rows, every kv head
  l.ksl = l.kt + kAmxSpan * kv_heads * hd;   // [token][kv head] scale_log2 · kscale
  l.vsi = l.ksl + round64(kAmxSpan * kv_heads * 4);  // [token][kv head] vscale · 255 / vmax
  l.ws0 = l.vsi + round64(kAmxSpan * kv_heads * 4);  // [kv head] vmax / 255
  l.wst = l.ws0 + round64(kv_heads * 4);  // the P·V scale 2^(mb - m) · vmax / 255 of hc heads
  l.bytes = l.wst + 64;
  return l;
}
struct Int8Scratch {
  uint8_t* qt;
  int32_t* scores;
  uint8_t* p;
  int8_t* vp;
  int32_t* pv;
  int8_t* kt;
  float *ksl, *vsi, *ws0, *wst;
};
Int8Scratch carve(const DecodeSplit& s, int64_t hc) {
  uint8_t* b = reinterpret_cast<uint8_t*>(s.scratch);
  const Int8Layout l = int8_layout(s.q_heads, s.kv_heads, s.head_dim, hc);
  return {b + l.qt,
          reinterpret_cast<int32_t*>(b + l.scores),
          b + l.p,
          reinterpret_cast<int8_t*>(b + l.vp),
          reinterpret_cast<int32_t*>(b + l.pv),
          reinterpret_cast<int8_t*>(b + l.kt),
          reinterpret_cast<float*>(b + l.ksl),
          reinterpret_cast<float*>(b + l.vsi),
          reinterpret_cast<float*>(b + l.ws0),
          reinterpret_cast<float*>(b + l.wst)};
}

// qT tiles of q heads [h0, h0 + hc): tile j, row r, dword x = q8 of head h0 + x, dims
// 4(16j + r) .. 4(16j + r) + 3, i.e. dword 16j + r of its row.
void build_qt(const DecodeSplit& s, int64_t h0, int64_t hc, uint8_t* qt) {
  const auto* q = reinterpret_cast<const uint32_t*>(s.q8);
  auto* t = reinterpret_cast<uint32_t*>(qt);
  const int64_t dw = s.head_dim / 4;
  for (int64_t i = 0; i < dw; ++i)  // tile i / 16, row i % 16
    for (int64_t x = 0; x < hc; ++x) t[i * 16 + x] = q[(h0 + x) * dw + i];
}

// The block's scales, every kv head ([token][kv head], as in the cache): scale_log2 · kscale_t
// (ksl), and per kv head vmax = max_t vscale_t, ws0 = vmax / 255 and vsi_t = vscale_t · (255 /
// vmax) (0 if vmax is 0), each the reference's float operation (attention.hpp).
void block_scales(const DecodeSplit& s, const Int8Scratch& a, int64_t t, int64_t nt) {
  const int64_t kv = s.kv_heads;
  const __m512 sl = _mm512_set1_ps(s.scale_log2), k255 = _mm512_set1_ps(255.f);
  auto load = [&](const void* base, int64_t at, __mmask16 m) {
    return s.scales_fp16 ? _mm512_cvtph_ps(
                               _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(base) + at))
                         : _mm512_maskz_loadu_ps(m, static_cast<const float*>(base) + at);
  };
  // The V scales are read twice from the cache (max, then vsi), not stored and reloaded: a masked
  // load of what a masked store just wrote waits for the store to retire (no forwarding).
  if (16 % kv == 0) {  // 1, 2, 4, 8 or 16 kv heads: the block's scales 16 at a time, flat
    const int64_t n = nt * kv, at = t * kv;
    __m512 vmax = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = first_lanes(n - i);
      _mm512_mask_storeu_ps(a.ksl + i, m, _mm512_mul_ps(sl, load(s.k_scale, at + i, m)));
      vmax = _mm512_max_ps(vmax, load(s.v_scale, at + i, m));
    }
    // lane l holds kv head l % kv: the max over each residue class by rotations of 8, 4, .., kv
    auto fold = [&]<int W>() {
      const __m512i x = _mm512_castps_si512(vmax);
      vmax = _mm512_max_ps(vmax, _mm512_castsi512_ps(_mm512_alignr_epi32(x, x, W)));
    };
    if (kv <= 8) fold.template operator()<8>();
    if (kv <= 4) fold.template operator()<4>();
    if (kv <= 2) fold.template operator()<2>();
    if (kv == 1) fold.template operator()<1>();
    const __m512 inv =
        _mm512_maskz_div_ps(_mm512_cmp_ps_mask(vmax, _mm512_setzero_ps(), _CMP_GT_OQ), k255, vmax);
    _mm512_mask_storeu_ps(a.ws0, first_lanes(kv), _mm512_div_ps(vmax, k255));
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = first_lanes(n - i);
      _mm512_mask_storeu_ps(a.vsi + i, m, _mm512_mul_ps(load(s.v_scale, at + i, m), inv));
    }
    return;
  }
  for (int64_t g0 = 0; g0 < kv; g0 += 16) {
    const __mmask16 gm = first_lanes(kv - g0);
    __m512 vmax = _mm512_setzero_ps();
    for (int64_t i = 0; i < nt; ++i) {
      const int64_t at = (t + i) * kv + g0;
      _mm512_mask_storeu_ps(a.ksl + i * kv + g0, gm, _mm512_mul_ps(sl, load(s.k_scale, at, gm)));
      vmax = _mm512_max_ps(vmax, load(s.v_scale, at, gm));
    }
    const __m512 inv =
        _mm512_maskz_div_ps(_mm512_cmp_ps_mask(vmax, _mm512_setzero_ps(), _CMP_GT_OQ), k255, vmax);
    _mm512_mask_storeu_ps(a.ws0 + g0, gm, _mm512_div_ps(vmax, k255));
    for (int64_t i = 0; i < nt; ++i)
      _mm512_mask_storeu_ps(a.vsi + i * kv + g0, gm,
                            _mm512_mul_ps(load(s.v_scale, (t + i) * kv + g0, gm), inv));
  }
}

// Vp tiles of kv head g for the block at t (nt tokens; slots past nt repeat the last token, whose
// weight is 0): per 64 channels c and token quad r, pv_u8_vnni's unpacks of the 4 rows; vector k
// (lane L: channels c + 16L + 4k .. + 3, a dword of 4 tokens each) is row r of tile c / 16 + k.
template <typename P>
void build_vp(const DecodeSplit& s, const int8_t* v0, int64_t row, int64_t nt, int8_t* vp, P& pf) {
  const int64_t hd = s.head_dim;
  for (int64_t r = 0; r < kAmxSpan / 4; ++r) {
    const int8_t* rr[4];
    for (int i = 0; i < 4; ++i) rr[i] = v0 + (4 * r + i < nt ? 4 * r + i : nt - 1) * row;
    for (int64_t c = 0; c < hd; c += 64) {
      pf.step();
      const __m512i a = _mm512_loadu_si512(rr[0] + c), b = _mm512_loadu_si512(rr[1] + c);
      const __m512i e = _mm512_loadu_si512(rr[2] + c), f = _mm512_loadu_si512(rr[3] + c);
      const __m512i x0 = _mm512_unpacklo_epi8(a, b), x1 = _mm512_unpackhi_epi8(a, b);
      const __m512i y0 = _mm512_unpacklo_epi8(e, f), y1 = _mm512_unpackhi_epi8(e, f);
      int8_t* d = vp + (c / 16) * kVpTileB + r * 64;
      _mm512_store_si512(d, _mm512_unpacklo_epi16(x0, y0));
      _mm512_store_si512(d + kVpTileB, _mm512_unpackhi_epi16(x0, y0));
      _mm512_store_si512(d + 2 * kVpTileB, _mm512_unpacklo_epi16(x1, y1));
      _mm512_store_si512(d + 3 * kVpTileB, _mm512_unpackhi_epi16(x1, y1));
    }
  }
}

// The tokens of score row i (lanes 0-7, lanes 8-15) whose scales it reads: token 0 past nt.
inline int64_t token_lo(int64_t i, int64_t nt) {
  return i < nt ? i : 0;
}
inline int64_t token_hi(int64_t i, int64_t nt) {
  return kHalf + i < nt ? kHalf + i : 0;
}

// The online-softmax step of q heads [h0, h0 + hc) of kv head g over the block's scores (a.scores:
// row i = token i in lanes 0-7, token 16 + i in lanes 8-15, lane x of each half = head h0 + x):
// running max s.m and sum s.l, the rescale of their output rows where the max rose, a.wst (the
// P·V scale per head) and the P tile (a.p: row x = head h0 + x, byte t = w8 of token t; 0 past
// nt).
template <typename P>
void softmax_block(const DecodeSplit& s, const Int8Scratch& a, int64_t g, int64_t h0, int64_t hc,
                   int64_t nt, P& pf) {
  const int64_t kv = s.kv_heads;
  const __mmask16 lo = first_lanes(hc), hm = static_cast<__mmask16>(lo | lo << 8);
  const __m512 ninf = _mm512_set1_ps(-__builtin_inff());
  // q8_scale of the tile's heads in both halves
  const __m512 q8s =
      _mm512_broadcast_f32x8(_mm256_maskz_loadu_ps(static_cast<__mmask8>(lo), s.q8_scale + h0));
  __m512 x[kHalf];
  __m512 mb = ninf;
  for (int i = 0; i < kHalf; ++i) {
    if (i % 4 == 0) pf.step();
    const __mmask16 live =
        hm & static_cast<__mmask16>((i < nt ? 0x00ff : 0) | (kHalf + i < nt ? 0xff00 : 0));
    // (sl2 · kscale_t) · q8_scale per lane, then the integer sum times it: the reference's order
    // (tokens past nt read token 0's scale: only written slots are read, the lanes are masked)
    const __m512 ks = _mm512_mask_mov_ps(_mm512_set1_ps(a.ksl[token_lo(i, nt) * kv + g]), 0xff00,
                                         _mm512_set1_ps(a.ksl[token_hi(i, nt) * kv + g]));
    const __m512 raw = _mm512_cvtepi32_ps(_mm512_maskz_load_epi32(live, a.scores + 16 * i));
    x[i] = _mm512_mask_mul_ps(ninf, live, raw, _mm512_mul_ps(ks, q8s));
    mb = _mm512_max_ps(mb, x[i]);
  }
  // the block max of head x in lanes x and 8 + x; 0 in lanes past hc (so x - mb is -inf there)
  mb = _mm512_maskz_mov_ps(hm, _mm512_max_ps(mb, _mm512_shuffle_f32x4(mb, mb, 0x4E)));
  const __m512 m = _mm512_broadcast_f32x8(
      _mm256_mask_loadu_ps(_mm256_set1_ps(-__builtin_inff()), static_cast<__mmask8>(lo), s.m + h0));
  const __m512 mnew = _mm512_max_ps(m, mb);
  const __mmask16 up = _mm512_mask_cmp_ps_mask(lo, mb, m, _CMP_GT_OQ);
  // lanes 0-7: a = 2^(mb - mnew) (1 where the block raised the max); lanes 8-15: the rescale
  // 2^(m - mnew) (0 on the first block, m = -inf)
  const __m512 ar = exp2_ps(_mm512_mask_sub_ps(_mm512_sub_ps(mb, mnew), 0xff00, m, mnew));
  alignas(64) float av[16];
  _mm512_store_ps(av, ar);
  const float* rv = av + 8;
  if (up) {
    for (int64_t i = 0; i < hc; ++i)
      if (up >> i & 1) scale_row(s.o + (h0 + i) * s.head_dim, s.head_dim, _mm512_set1_ps(rv[i]));
    _mm256_mask_storeu_ps(s.m + h0, static_cast<__mmask8>(lo), _mm512_castps512_ps256(mnew));
  }
  _mm256_store_ps(a.wst, _mm256_mul_ps(_mm512_castps512_ps256(ar), _mm256_set1_ps(a.ws0[g])));
  // e and w8 per score row; the w8 of 4 rows (tokens 4r..4r+3 | 16+4r..16+4r+3) packed to a dword
  // per head: packus to words and bytes leave 128-bit lane L as [row][head], a byte shuffle makes
  // it [head][row]
  const __m128i quad = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i kQuad = _mm512_broadcast_i32x4(quad);
  __m512 lb = _mm512_setzero_ps();
  __m512i d[4];
  for (int r = 0; r < kHalf / 4; ++r) {
    pf.step();
    __m512i w[4];
    for (int k = 0; k < 4; ++k) {
      const int i = 4 * r + k;
      const __m512 e = exp2_ps(_mm512_sub_ps(x[i], mb));
      lb = _mm512_add_ps(lb, e);
      const __m512 vsi = _mm512_mask_mov_ps(_mm512_set1_ps(a.vsi[token_lo(i, nt) * kv + g]), 0xff00,
                                            _mm512_set1_ps(a.vsi[token_hi(i, nt) * kv + g]));
      w[k] = _mm512_cvtps_epi32(_mm512_mul_ps(e, vsi));  // 0..255 (0 where e is 0)
    }
    d[r] = _mm512_shuffle_epi8(
        _mm512_packus_epi16(_mm512_packus_epi32(w[0], w[1]), _mm512_packus_epi32(w[2], w[3])),
        kQuad);
  }
  // running sum: l · 2^(m - mnew) + 2^(mb - mnew) · Σ e over both halves
  lb = _mm512_add_ps(lb, _mm512_shuffle_f32x4(lb, lb, 0x4E));
  const __m256 l = _mm256_maskz_loadu_ps(static_cast<__mmask8>(lo), s.l + h0);
  _mm256_mask_storeu_ps(s.l + h0, static_cast<__mmask8>(lo),
                        _mm256_fmadd_ps(_mm512_castps512_ps256(lb), _mm512_castps512_ps256(ar),
                                        _mm256_mul_ps(l, _mm256_loadu_ps(rv))));
  // d[r], lane L: heads 4(L % 2) .. + 3, quad r (L < 2) or 4 + r (L >= 2). A 4 x 4 dword
  // transpose in each lane gives u[k], lane L: head 4(L % 2) + k, quads 0-3 or 4-7; then head
  // k's row is lanes 0 and 2 of u[k], head 4 + k's lanes 1 and 3.
  const __m512i t0 = _mm512_unpacklo_epi32(d[0], d[1]), t1 = _mm512_unpackhi_epi32(d[0], d[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(d[2], d[3]), t3 = _mm512_unpackhi_epi32(d[2], d[3]);
  const __m512i u[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2),
                        _mm512_unpacklo_epi64(t1, t3), _mm512_unpackhi_epi64(t1, t3)};
  for (int k = 0; k < 4; ++k) {
    const __m512i z = _mm512_shuffle_i32x4(u[k], u[k], _MM_SHUFFLE(3, 1, 2, 0));
    _mm256_store_si256(reinterpret_cast<__m256i*>(a.p + 32 * k), _mm512_castsi512_si256(z));
    _mm256_store_si256(reinterpret_cast<__m256i*>(a.p + 32 * (4 + k)),
                       _mm512_extracti64x4_epi64(z, 1));
  }
}

// The next block's K and V rows into L2 a few lines per step(), as in the bf16 AMX split
// (attention_decode_amx.cpp).
using SpreadPrefetch = PrefetcherT<false, true>;
// step() calls per tile of q heads besides the kv head's Vp build (kAmxSpan / 4 · hd / 64): hd /
// 32 in q·k, kHalf / 4 + kHalf / 4 in softmax_block, hd / 16 in the output update.
constexpr int64_t tile_steps(int64_t hd) {
  return hd / 32 + kHalf / 2 + hd / 16;
}

// The block of nt tokens at t: its scales, the next block's prefetch, then per kv head the Vp
// tiles and per tile of hc q heads q·k, the softmax, P·V and the output update.
void int8_block(const DecodeSplit& s, const Int8Scratch& a, int64_t hc, int64_t t, int64_t nt) {
  const int64_t hd = s.head_dim, row = s.kv_heads * hd, group = s.q_heads / s.kv_heads;
  const auto* k = static_cast<const int8_t*>(s.k);
  const auto* v = static_cast<const int8_t*>(s.v);
  block_scales(s, a, t, nt);
  SpreadPrefetch pf;
  const int64_t next = s.t1 - (t + kAmxSpan) < kAmxSpan ? s.t1 - (t + kAmxSpan) : kAmxSpan;
  if (next > 0) {
    pf.k = reinterpret_cast<const char*>(k + (t + kAmxSpan) * row);
    pf.v = reinterpret_cast<const char*>(v + (t + kAmxSpan) * row);
    // planned to end a token row early (31/32 of the steps): the next block starts with the Vp
    // build of its first kv head, which reads that head's V from every row of the block at once,
    // the last row 31/32 of the way in. Planned over all the steps, those lines came too late:
    // int8 GQA 8 16.4-16.7 GB/s, 18.2-18.3 with this margin (docs/kernels.md, "Prefetch spread
    // evenly").
    const int64_t steps = s.kv_heads * (kAmxSpan / 4 * hd / 64 + group / hc * tile_steps(hd));
    pf.plan(next * row, steps * (kAmxSpan - 1) / kAmxSpan);
  }
  // K rows: in the cache, or for a partial block (the split's last) copied with the last row
  // repeated, every kv head
  const int8_t* kb = k + t * row;
  if (nt < kAmxSpan) {
    for (int64_t i = 0; i < kAmxSpan; ++i)
      for (int64_t c = 0; c < row; c += 64)
        _mm512_store_si512(a.kt + i * row + c,
                           _mm512_loadu_si512(kb + (i < nt ? i : nt - 1) * row + c));
    kb = a.kt;
  }
  for (int64_t g = 0; g < s.kv_heads; ++g) {
    build_vp(s, v + t * row + g * hd, row, nt, a.vp, pf);
    for (int64_t h0 = g * group; h0 < (g + 1) * group; h0 += hc) {
      stores_before_tile_loads();
      // q·k: tokens 16 · half + r to score row r, lanes 8 · half + x
      const uint8_t* qt = a.qt + h0 / hc * hd * 16;
      for (int64_t half = 0; half < 2; ++half) {
        _tile_zero(0);
        for (int64_t j = 0; j < hd / 64; ++j) {
          pf.step();
          _tile_loadd(4, qt + j * kAmxTileB, 64);
          _tile_loadd(2, kb + g * hd + half * kHalf * row + 64 * j, row);
          _tile_dpbssd(0, 2, 4);
        }
        _tile_stored(0, a.scores + 8 * half, 64);
      }
      softmax_block(s, a, g, h0, hc, nt, pf);
      stores_before_tile_loads();
      _tile_loadd(5, a.p, 32);
      for (int64_t j = 0; j < hd / 16; ++j) {
        _tile_zero(7);
        _tile_loadd(3, a.vp + j * kVpTileB, 64);
        _tile_dpbusd(7, 5, 3);
        _tile_stored(7, a.pv + j * 128, 64);
      }
      // o += float(C) · ws per head, in pv_u8_vnni's channel order (tile j = o + 16j)
      for (int64_t x = 0; x < hc; ++x) {
        const __m512 ws = _mm512_set1_ps(a.wst[x]);
        float* o = s.o + (h0 + x) * hd;
        for (int64_t j = 0; j < hd / 16; ++j) {
          if (x == 0) pf.step();
          const __m512 c = _mm512_cvtepi32_ps(_mm512_load_si512(a.pv + j * 128 + 16 * x));
          _mm512_storeu_ps(o + 16 * j, _mm512_fmadd_ps(c, ws, _mm512_loadu_ps(o + 16 * j)));
        }
      }
    }
  }
}

}  // namespace

int64_t decode_amx_int8_scratch_bytes(int64_t q_heads, int64_t kv_heads, int64_t head_dim,
                                      int64_t hc) {
  return int8_layout(q_heads, kv_heads, head_dim, hc).bytes;
}

void decode_split_amx_int8(const DecodeSplit& s, int64_t hc) {
  const Int8Scratch a = carve(s, hc);
  for (int64_t h0 = 0; h0 < s.q_heads; h0 += hc)
    build_qt(s, h0, hc, a.qt + h0 / hc * s.head_dim * 16);
  stores_before_tile_loads();
  _tile_loadconfig(&kInt8Configs.c[hc]);
  for (int64_t t = s.t0; t < s.t1; t += kAmxSpan)
    int8_block(s, a, hc, t, s.t1 - t < kAmxSpan ? s.t1 - t : kAmxSpan);
  _tile_release();
  avx512::unsplit_u8(s.o, s.q_heads, s.head_dim);
}

}  // namespace llmroof::kernels

#pragma GCC pop_options
#endif  // __x86_64__
