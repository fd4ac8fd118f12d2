// Flash-attention prefill tile on AVX2 + FMA (compiled with -mavx2 -mfma; see simd_avx2.hpp).
//
// The structure of attention_prefill_avx512.cpp with 8-lane vectors: scores kept transposed,
// S^T[key][query], with the 64 queries of the tile across 8 ymm of lanes, so the online-softmax
// max and sum over keys are vertical; Q^T is packed once per tile, K is read in place by
// broadcasts, and P·V broadcasts P[query][key] against rows of V. With 16 ymm registers both
// products use a 6 x 16 register block (12 accumulators, 2 vector loads + 6 broadcasts per 12 FMAs):
// QK takes 6 keys x 16 queries at a time, PV 6 query rows x 16 output columns.
#include "kernels/cpu/attention_prefill.hpp"
#include "kernels/cpu/simd_avx2.hpp"

namespace llmroof::kernels {

namespace {
using namespace avx2;
constexpr int64_t QT = kFlashQueryTile;

// S^T[j][q0 : q0+16] = sum_c K[j][c] · Q^T[c][q0 : q0+16] for JB keys (qt already offset by q0).
template <int JB>
inline void qk_block(const float* k, int64_t ks, const float* qt, int64_t hd, float* s) {
  __m256 acc[JB][2];
#pragma GCC unroll 6
  for (int j = 0; j < JB; ++j) acc[j][0] = acc[j][1] = _mm256_setzero_ps();
  for (int64_t c = 0; c < hd; ++c) {
    const __m256 q0 = _mm256_load_ps(qt + c * QT), q1 = _mm256_load_ps(qt + c * QT + 8);
#pragma GCC unroll 6
    for (int j = 0; j < JB; ++j) {
      const __m256 b = _mm256_broadcast_ss(k + j * ks + c);
      acc[j][0] = _mm256_fmadd_ps(b, q0, acc[j][0]);
      acc[j][1] = _mm256_fmadd_ps(b, q1, acc[j][1]);
    }
  }
#pragma GCC unroll 6
  for (int j = 0; j < JB; ++j) {
    _mm256_store_ps(s + j * QT, acc[j][0]);
    _mm256_store_ps(s + j * QT + 8, acc[j][1]);
  }
}

// Query chunks of 16 past nq are skipped (their rows of Q^T are zero and never read back).
void qk_tile(const float* k, int64_t ks, const float* qt, int64_t hd, float* s, int64_t bc,
             int64_t nq) {
  for (int64_t q0 = 0; q0 < nq; q0 += 16) {
    int64_t j = 0;
    for (; j + 6 <= bc; j += 6) qk_block<6>(k + j * ks, ks, qt + q0, hd, s + j * QT + q0);
    switch (bc - j) {
      case 5: qk_block<5>(k + j * ks, ks, qt + q0, hd, s + j * QT + q0); break;
      case 4: qk_block<4>(k + j * ks, ks, qt + q0, hd, s + j * QT + q0); break;
      case 3: qk_block<3>(k + j * ks, ks, qt + q0, hd, s + j * QT + q0); break;
      case 2: qk_block<2>(k + j * ks, ks, qt + q0, hd, s + j * QT + q0); break;
      case 1: qk_block<1>(k + j * ks, ks, qt + q0, hd, s + j * QT + q0); break;
      default: break;
    }
  }
}

// O[r][c0 : c0+16] = O·alpha[r] + sum_j P^T[j][r] · V[j][c0 : c0+16] for R rows.
template <int R>
inline void pv_block(const float* p, const float* v, int64_t vs, int64_t bc, const float* alpha,
                     float* o, int64_t hd) {
  __m256 acc[R][2];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    const __m256 a = _mm256_broadcast_ss(alpha + r);
    acc[r][0] = _mm256_mul_ps(_mm256_load_ps(o + r * hd), a);
    acc[r][1] = _mm256_mul_ps(_mm256_load_ps(o + r * hd + 8), a);
  }
  for (int64_t j = 0; j < bc; ++j) {
    const __m256 v0 = _mm256_loadu_ps(v + j * vs), v1 = _mm256_loadu_ps(v + j * vs + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 pr = _mm256_broadcast_ss(p + j * QT + r);
      acc[r][0] = _mm256_fmadd_ps(pr, v0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(pr, v1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    _mm256_store_ps(o + r * hd, acc[r][0]);
    _mm256_store_ps(o + r * hd + 8, acc[r][1]);
  }
}

void pv_tile(const float* p, const float* v, int64_t vs, int64_t bc, const float* alpha, float* o,
             int64_t hd, int64_t nq) {
  for (int64_t c = 0; c < hd; c += 16) {
    int64_t r = 0;
    for (; r + 6 <= nq; r += 6) pv_block<6>(p + r, v + c, vs, bc, alpha + r, o + r * hd + c, hd);
    switch (nq - r) {
      case 5: pv_block<5>(p + r, v + c, vs, bc, alpha + r, o + r * hd + c, hd); break;
      case 4: pv_block<4>(p + r, v + c, vs, bc, alpha + r, o + r * hd + c, hd); break;
      case 3: pv_block<3>(p + r, v + c, vs, bc, alpha + r, o + r * hd + c, hd); break;
      case 2: pv_block<2>(p + r, v + c, vs, bc, alpha + r, o + r * hd + c, hd); break;
      case 1: pv_block<1>(p + r, v + c, vs, bc, alpha + r, o + r * hd + c, hd); break;
      default: break;
    }
  }
}

// Causal mask on S^T: key j0+j is hidden from query q0+i when q0 + i + offset < j0 + j. Only the
// diagonal tiles get here, so plain stores are enough.
void mask_tile(float* s, int64_t bc, int64_t first_hidden_key_for_q0) {
  for (int64_t j = 0; j < bc; ++j) {
    const int64_t thr = j - first_hidden_key_for_q0 + 1;  // queries i < thr cannot see key j
    for (int64_t i = 0; i < (thr < QT ? thr : QT); ++i) s[j * QT + i] = -__builtin_inff();
  }
}

// Online softmax step over a key tile: new max, P = 2^(S - max) in place, alpha = 2^(old - new);
// only the nv vectors of queries that qk_tile wrote.
void softmax_step(float* s, int64_t bc, float* m, float* l, float* alpha, int64_t nv) {
  for (int64_t v = 0; v < nv; ++v) {
    __m256 mx = _mm256_load_ps(m + 8 * v);
    const __m256 old = mx;
    for (int64_t j = 0; j < bc; ++j) mx = _mm256_max_ps(mx, _mm256_load_ps(s + j * QT + 8 * v));
    const __m256 a = exp2_8(_mm256_sub_ps(old, mx));
    __m256 sum = _mm256_setzero_ps();
    for (int64_t j = 0; j < bc; ++j) {
      const __m256 p = exp2_8(_mm256_sub_ps(_mm256_load_ps(s + j * QT + 8 * v), mx));
      _mm256_store_ps(s + j * QT + 8 * v, p);
      sum = _mm256_add_ps(sum, p);
    }
    _mm256_store_ps(m + 8 * v, mx);
    _mm256_store_ps(alpha + 8 * v, a);
    _mm256_store_ps(l + 8 * v, _mm256_fmadd_ps(_mm256_load_ps(l + 8 * v), a, sum));
  }
}

}  // namespace

void flash_prefill_tile_avx2(const FlashTile& t, float* shared) {
  const int64_t hd = t.head_dim;
  float* qt = t.state;                // [hd][64]
  float* acc = qt + hd * QT;          // [64][hd]
  float* m = acc + hd * QT;           // [64]
  float* l = m + QT;
  float* alpha = l + QT;
  float* s = shared;  // [64 keys][64 queries]
  for (int64_t c = 0; c < hd; ++c)
    for (int64_t i = 0; i < QT; ++i)
      qt[c * QT + i] = i < t.nq ? t.q[i * t.q_stride + c] * t.scale_log2 : 0.f;
  for (int64_t i = 0; i < t.nq * hd; i += 8) _mm256_store_ps(acc + i, _mm256_setzero_ps());
  for (int64_t i = 0; i < QT; i += 8) {
    _mm256_store_ps(m + i, _mm256_set1_ps(-__builtin_inff()));
    _mm256_store_ps(l + i, _mm256_setzero_ps());
  }
  const int64_t kend = t.key_end();
  for (int64_t j0 = 0; j0 < kend; j0 += kFlashKeyTile) {
    const int64_t bc = kend - j0 < kFlashKeyTile ? kend - j0 : kFlashKeyTile;
    qk_tile(t.k + j0 * t.kv_stride, t.kv_stride, qt, hd, s, bc, t.nq);
    // First key (relative to j0) hidden from query q0: q0 + offset + 1 - j0.
    if (t.causal && j0 + bc - 1 > t.q0 + t.causal_offset)
      mask_tile(s, bc, t.q0 + t.causal_offset + 1 - j0);
    softmax_step(s, bc, m, l, alpha, (t.nq + 7) / 8);
    pv_tile(s, t.v + j0 * t.kv_stride, t.kv_stride, bc, alpha, acc, hd, t.nq);
  }
  for (int64_t i = 0; i < t.nq; ++i) {
    const __m256 inv = _mm256_set1_ps(1.f / l[i]);
    for (int64_t c = 0; c < hd; c += 8)
      _mm256_storeu_ps(t.o + i * t.q_stride + c,
                       _mm256_mul_ps(_mm256_load_ps(acc + i * hd + c), inv));
  }
}

}  // namespace llmroof::kernels
