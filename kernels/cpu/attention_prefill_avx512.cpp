// Flash-attention prefill on AVX-512 (compiled with AVX-512 flags; see simd_avx512.hpp), for a
// group of query tiles that read the same K and V (attention_prefill.hpp).
//
// Per 64-key tile the K and V rows are copied once into a contiguous buffer and used by every tile
// of the group, while the next key tile's rows are prefetched into L2. Scores are kept transposed,
// S^T[key][query], with the 64 queries of a tile across 4 zmm of lanes: the online-softmax max and
// sum over keys are then vertical (no horizontal reductions), Q^T is packed once per tile, K is
// read by broadcasts, and P·V broadcasts P[query][key] against rows of V. Both products are
// register-blocked GEMM microkernels (24 accumulators, 10 loads per 24 FMAs).
#include "kernels/cpu/attention_prefill.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels {

namespace {
using namespace avx512;
constexpr int64_t QT = kFlashQueryTile;

// S^T[j][0:16·NV] = sum_c K[j][c] · Q^T[c][0:16·NV] for JB keys (qt and s may start at a later
// vector of the 64 queries: rows stay QT floats apart).
template <int JB, int NV>
inline void qk_block(const float* k, int64_t ks, const float* qt, int64_t hd, float* s) {
  __m512 acc[JB][NV];
#pragma GCC unroll 8
  for (int j = 0; j < JB; ++j)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[j][v] = _mm512_setzero_ps();
  for (int64_t c = 0; c < hd; ++c) {
    const float* qc = qt + c * QT;
    __m512 q[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) q[v] = _mm512_load_ps(qc + 16 * v);
#pragma GCC unroll 8
    for (int j = 0; j < JB; ++j) {
      const __m512 b = _mm512_set1_ps(k[j * ks + c]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[j][v] = _mm512_fmadd_ps(b, q[v], acc[j][v]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < JB; ++j)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_store_ps(s + j * QT + 16 * v, acc[j][v]);
}

// qk_block for JB (1-6) keys and the query vectors from v0 (0-3) on: one call through a table.
template <int JB>
inline void qk_block_from(int64_t v0, const float* k, int64_t ks, const float* qt, int64_t hd,
                          float* s) {
  using Block = void (*)(const float*, int64_t, const float*, int64_t, float*);
  static constexpr Block kVectors[5] = {nullptr, &qk_block<JB, 1>, &qk_block<JB, 2>,
                                        &qk_block<JB, 3>, &qk_block<JB, 4>};
  kVectors[4 - v0](k, ks, qt + 16 * v0, hd, s + 16 * v0);
}

// Copies bc rows of K and V (rows ks floats apart) into kp and vp (rows hd floats apart): a key
// tile's rows are a head's slice of the token rows, 1–16 KiB apart, and read in place their lines
// fall into few L1 sets and no hardware prefetcher follows them across pages.
inline void pack_rows(const float* k, const float* v, int64_t ks, int64_t bc, int64_t hd, float* kp,
                      float* vp) {
  for (int64_t r = 0; r < bc; ++r)
    for (int64_t c = 0; c < hd; c += 16) {
      _mm512_store_ps(kp + r * hd + c, _mm512_loadu_ps(k + r * ks + c));
      _mm512_store_ps(vp + r * hd + c, _mm512_loadu_ps(v + r * ks + c));
    }
}

// Prefetch (into L2) of rows [r0, r1) of the next key tile's K and V, a line at a time. Volatile
// asm: GCC 12 may delete a function made only of __builtin_prefetch
// (attention_decode_prefetch.hpp).
struct NextRows {
  const float *k = nullptr, *v = nullptr;
  int64_t ks = 0, r0 = 0, r1 = 0, hd = 0;
  void issue(int64_t from, int64_t to) const {
    for (int64_t r = from; r < to; ++r)
      for (int64_t c = 0; c < hd; c += 16) {
        asm volatile("prefetcht1 %0" : : "m"(k[r * ks + c]));
        asm volatile("prefetcht1 %0" : : "m"(v[r * ks + c]));
      }
  }
};

// S^T for bc keys, 6 at a time, with the rows of `next` prefetched in even shares between blocks.
// fh: the first key (relative to the tile) hidden from query 0, as in pv_rows. A block of keys from
// j skips the query vectors that see none of its keys (queries 16v..16v+15 with 16v + 15 < j - fh +
// 1; mask_tile then writes all their scores): 35 % of the products of a tile with the diagonal at
// its corner (docs/kernels.md).
void qk_tile(const float* k, int64_t ks, const float* qt, int64_t hd, float* s, int64_t bc,
             int64_t fh, const NextRows& next) {
  const int64_t blocks = (bc + 5) / 6, per = (next.r1 - next.r0 + blocks - 1) / blocks;
  int64_t j = 0, r = next.r0;
  auto step = [&] {
    const int64_t to = r + per < next.r1 ? r + per : next.r1;
    next.issue(r, to);
    r = to;
  };
  // Query vectors (0-4) that see no key from `first` on.
  const auto hidden_vectors = [&](int64_t first) {
    const int64_t n = (first - fh + 1) / 16;
    return n < 0 ? 0 : (n > 4 ? 4 : n);
  };
  for (; j + 6 <= bc; j += 6) {
    step();
    const int64_t v0 = hidden_vectors(j);
    if (v0 < 4) qk_block_from<6>(v0, k + j * ks, ks, qt, hd, s + j * QT);
  }
  step();
  if (j == bc) return;
  const int64_t v0 = hidden_vectors(j);
  if (v0 == 4) return;
  using Rest = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*);
  static constexpr Rest kRest[6] = {nullptr,           &qk_block_from<1>, &qk_block_from<2>,
                                    &qk_block_from<3>, &qk_block_from<4>, &qk_block_from<5>};
  kRest[bc - j](v0, k + j * ks, ks, qt, hd, s + j * QT);
}

// O[r][c0 : c0+16·NV] = O·alpha[r] + sum_j P^T[j][r] · V[j][c0 : ...] for R rows.
template <int R, int NV>
inline void pv_block(const float* p, const float* v, int64_t vs, int64_t bc, const float* alpha,
                     float* o, int64_t hd) {
  __m512 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const __m512 a = _mm512_set1_ps(alpha[r]);
#pragma GCC unroll 4
    for (int x = 0; x < NV; ++x) acc[r][x] = _mm512_mul_ps(_mm512_load_ps(o + r * hd + 16 * x), a);
  }
  for (int64_t j = 0; j < bc; ++j) {
    __m512 vv[NV];
#pragma GCC unroll 4
    for (int x = 0; x < NV; ++x) vv[x] = _mm512_loadu_ps(v + j * vs + 16 * x);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 pr = _mm512_set1_ps(p[j * QT + r]);
#pragma GCC unroll 4
      for (int x = 0; x < NV; ++x) acc[r][x] = _mm512_fmadd_ps(pr, vv[x], acc[r][x]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int x = 0; x < NV; ++x) _mm512_store_ps(o + r * hd + 16 * x, acc[r][x]);
}

// Rows in blocks of 6 (and the rest). fh: the first key (relative to the tile) hidden from row 0
// (row i sees keys j < fh + i; fh >= bc where nothing is masked): a block stops at the last key its
// last row sees, since the masked keys' P is 0 (on the diagonal tile, about half the work).
template <int NV>
void pv_rows(const float* p, const float* v, int64_t vs, int64_t bc, const float* alpha, float* o,
             int64_t hd, int64_t nq, int64_t fh) {
  const auto keys = [&](int64_t r, int64_t rows) {
    const int64_t end = fh + r + rows - 1;
    return end < 0 ? 0 : (end < bc ? end : bc);
  };
  int64_t r = 0;
  for (; r + 6 <= nq; r += 6) pv_block<6, NV>(p + r, v, vs, keys(r, 6), alpha + r, o + r * hd, hd);
  // The last 1-5 rows: one call through a table of the smaller blocks.
  using Block =
      void (*)(const float*, const float*, int64_t, int64_t, const float*, float*, int64_t);
  static constexpr Block kRest[6] = {nullptr,          &pv_block<1, NV>, &pv_block<2, NV>,
                                     &pv_block<3, NV>, &pv_block<4, NV>, &pv_block<5, NV>};
  if (r < nq) kRest[nq - r](p + r, v, vs, keys(r, nq - r), alpha + r, o + r * hd, hd);
}

void pv_tile(const float* p, const float* v, int64_t vs, int64_t bc, const float* alpha, float* o,
             int64_t hd, int64_t nq, int64_t fh) {
  int64_t c = 0;
  for (; c + 64 <= hd; c += 64) pv_rows<4>(p, v + c, vs, bc, alpha, o + c, hd, nq, fh);
  switch ((hd - c) / 16) {
    case 3:
      pv_rows<3>(p, v + c, vs, bc, alpha, o + c, hd, nq, fh);
      break;
    case 2:
      pv_rows<2>(p, v + c, vs, bc, alpha, o + c, hd, nq, fh);
      break;
    case 1:
      pv_rows<1>(p, v + c, vs, bc, alpha, o + c, hd, nq, fh);
      break;
    default: break;
  }
}

// Causal mask on S^T: key j0+j is hidden from query q0+i when q0 + i + offset < j0 + j.
void mask_tile(float* s, int64_t bc, int64_t first_hidden_key_for_q0) {
  const __m512 ninf = _mm512_set1_ps(-__builtin_inff());
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int64_t j = 0; j < bc; ++j) {
    const int64_t thr = j - first_hidden_key_for_q0 + 1;  // queries i < thr cannot see key j
    if (thr <= 0) continue;
    for (int v = 0; v < 4; ++v) {
      const __mmask16 m = _mm512_cmplt_epi32_mask(
          _mm512_add_epi32(lane, _mm512_set1_epi32(16 * v)),
          _mm512_set1_epi32(static_cast<int>(thr < 64 ? thr : 64)));
      _mm512_mask_store_ps(s + j * QT + 16 * v, m, ninf);
    }
  }
}

// Online softmax step over a key tile: new max, P = 2^(S - max) in place, alpha = 2^(old - new).
void softmax_step(float* s, int64_t bc, float* m, float* l, float* alpha) {
  for (int v = 0; v < 4; ++v) {
    const __m512 old = _mm512_load_ps(m + 16 * v);
    // Four independent max chains: one chain over 64 keys waited on vmaxps' latency each step.
    __m512 mc[4] = {old, old, old, old};
    int64_t j4 = 0;
    for (; j4 + 4 <= bc; j4 += 4)
      for (int u = 0; u < 4; ++u)
        mc[u] = _mm512_max_ps(mc[u], _mm512_load_ps(s + (j4 + u) * QT + 16 * v));
    for (; j4 < bc; ++j4) mc[0] = _mm512_max_ps(mc[0], _mm512_load_ps(s + j4 * QT + 16 * v));
    const __m512 mx = _mm512_max_ps(_mm512_max_ps(mc[0], mc[1]), _mm512_max_ps(mc[2], mc[3]));
    const __m512 a = exp2_ps(_mm512_sub_ps(old, mx));
    __m512 sum = _mm512_setzero_ps();
    for (int64_t j = 0; j < bc; ++j) {
      const __m512 p = exp2_ps(_mm512_sub_ps(_mm512_load_ps(s + j * QT + 16 * v), mx));
      _mm512_store_ps(s + j * QT + 16 * v, p);
      sum = _mm512_add_ps(sum, p);
    }
    _mm512_store_ps(m + 16 * v, mx);
    _mm512_store_ps(alpha + 16 * v, a);
    _mm512_store_ps(l + 16 * v, _mm512_fmadd_ps(_mm512_load_ps(l + 16 * v), a, sum));
  }
}

}  // namespace

namespace {

// A tile's state before its first key tile: Q^T pre-scaled, O = 0, max = -inf, sum = 0. Q^T is
// built from 16 × 16 blocks transposed in registers: the 16 rows' loads of a block are
// independent, so the rows' misses overlap (a scalar element-by-element copy waited on them).
void start_tile(const FlashTile& t) {
  const int64_t hd = t.head_dim;
  float* qt = t.state;
  float* acc = qt + hd * QT;
  float* m = acc + hd * QT;
  float* l = m + QT;
  const __m512 scale = _mm512_set1_ps(t.scale_log2);
  for (int64_t i0 = 0; i0 < QT; i0 += 16)
    for (int64_t c0 = 0; c0 < hd; c0 += 16) {
      __m512i r[16];
      for (int64_t i = 0; i < 16; ++i)
        r[i] = i0 + i < t.nq ? _mm512_castps_si512(_mm512_mul_ps(
                                   _mm512_loadu_ps(t.q + (i0 + i) * t.q_stride + c0), scale))
                             : _mm512_setzero_si512();
      transpose16(r);
      for (int64_t c = 0; c < 16; ++c)
        _mm512_store_ps(qt + (c0 + c) * QT + i0, _mm512_castsi512_ps(r[c]));
    }
  for (int64_t i = 0; i < t.nq * hd; i += 16) _mm512_store_ps(acc + i, _mm512_setzero_ps());
  for (int64_t i = 0; i < QT; i += 16) {
    _mm512_store_ps(m + i, _mm512_set1_ps(-__builtin_inff()));
    _mm512_store_ps(l + i, _mm512_setzero_ps());
  }
}

// One key tile [j0, j0 + bc) of the packed rows kp, vp into tile t.
void key_tile_step(const FlashTile& t, int64_t j0, int64_t bc, const float* kp, const float* vp,
                   float* s, const NextRows& next) {
  const int64_t hd = t.head_dim;
  float* qt = t.state;
  float* acc = qt + hd * QT;
  float* m = acc + hd * QT;
  float* l = m + QT;
  float* alpha = l + QT;
  // First key (relative to j0) hidden from query q0: q0 + offset + 1 - j0 (bc: none hidden).
  const bool masked = t.causal && j0 + bc - 1 > t.q0 + t.causal_offset;
  const int64_t fh = masked ? t.q0 + t.causal_offset + 1 - j0 : bc;
  qk_tile(kp, hd, qt, hd, s, bc, fh, next);
  if (masked) mask_tile(s, bc, fh);
  softmax_step(s, bc, m, l, alpha);
  pv_tile(s, vp, hd, bc, alpha, acc, hd, t.nq, fh);
}

void finish_tile(const FlashTile& t) {
  const int64_t hd = t.head_dim;
  const float* acc = t.state + hd * QT;
  const float* l = acc + hd * QT + QT;
  for (int64_t i = 0; i < t.nq; ++i) {
    const __m512 inv = _mm512_set1_ps(1.f / l[i]);
    for (int64_t c = 0; c < hd; c += 16)
      _mm512_storeu_ps(t.o + i * t.q_stride + c, _mm512_mul_ps(_mm512_load_ps(acc + i * hd + c), inv));
  }
}

}  // namespace

void flash_prefill_group_avx512(const FlashTile* tiles, int count, float* shared) {
  const FlashTile& t0 = tiles[0];
  const int64_t hd = t0.head_dim, ks = t0.kv_stride;
  float* s = shared;                    // [64 keys][64 queries]
  float* kp = s + kFlashKeyTile * QT;   // [64 keys][hd]
  float* vp = kp + kFlashKeyTile * hd;  // [64 keys][hd]
  int64_t kend = 0;
  for (int i = 0; i < count; ++i) {
    start_tile(tiles[i]);
    kend = tiles[i].key_end() > kend ? tiles[i].key_end() : kend;
  }
  for (int64_t j0 = 0; j0 < kend; j0 += kFlashKeyTile) {
    const int64_t bc = kend - j0 < kFlashKeyTile ? kend - j0 : kFlashKeyTile;
    pack_rows(t0.k + j0 * ks, t0.v + j0 * ks, ks, bc, hd, kp, vp);
    // The next key tile's rows are prefetched in shares over the tiles that read this one.
    const int64_t n0 = j0 + kFlashKeyTile;
    const int64_t nbc = n0 >= kend ? 0 : (kend - n0 < kFlashKeyTile ? kend - n0 : kFlashKeyTile);
    int active = 0;
    for (int i = 0; i < count; ++i) active += tiles[i].key_end() > j0;
    NextRows next{nbc > 0 ? t0.k + n0 * ks : t0.k, nbc > 0 ? t0.v + n0 * ks : t0.v, ks, 0, 0, hd};
    for (int i = 0, a = 0; i < count; ++i) {
      const int64_t end = tiles[i].key_end();
      if (end <= j0) continue;
      next.r0 = nbc * a / active;
      next.r1 = nbc * (a + 1) / active;
      ++a;
      key_tile_step(tiles[i], j0, end - j0 < bc ? end - j0 : bc, kp, vp, s, next);
    }
  }
  for (int i = 0; i < count; ++i) finish_tile(tiles[i]);
}

}  // namespace llmroof::kernels
