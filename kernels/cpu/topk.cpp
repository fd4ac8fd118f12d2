#include "kernels/cpu/topk.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/cpu/attention.hpp"
#include "kernels/cpu_features.hpp"

namespace llmroof::kernels {

float RouterWeights::at(int64_t row, int64_t col) const {
  const size_t i = static_cast<size_t>(row * k + col);
  return bf16 ? bf16_to_float(b16[i]) : f32[i];
}

RouterWeights pack_router(const float* w, int64_t n, int64_t k, bool bf16) {
  RouterWeights r;
  r.n = n;
  r.k = k;
  r.bf16 = bf16;
  const size_t count = static_cast<size_t>(n * k);
  if (bf16) {
    r.b16.resize(count);
    float_to_bf16_row(w, r.b16.data(), static_cast<int64_t>(count));
  } else {
    r.f32.assign(w, w + count);
  }
  return r;
}

namespace {

// bf16 -> fp32 is a 16-bit left shift of the zero-extended halves.
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline __m512 widen(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// Horizontal sum. (GCC 12's _mm512_reduce_add_ps made the tile loops below keep every
// accumulator in memory as well, one store per FMA.)
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) inline float hsum(__m512 v) {
  const __m256 lo = _mm512_castps512_ps256(v);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  const __m256 s8 = _mm256_add_ps(lo, hi);
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
  return _mm_cvtss_f32(s4);
}

// Sixteen lanes of weight row `wrow` from element i (masked), widened to fp32.
template <bool kBf16>
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) inline __m512 load_w16(
    const void* wrow, int64_t i, __mmask16 m) {
  if constexpr (kBf16)
    return widen(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(wrow) + i));
  else
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(wrow) + i);
}

// Four tokens x C expert rows. One step over 16 elements of k; `kMasked` only for the tail: GCC 12
// treats the masked-load builtins as possibly aliasing the accumulator arrays and then stores every
// accumulator on every iteration (3.5x slower).
// `pf` (or null): the next tile's C rows, prefetched at the same column (see logits_avx512).
template <bool kBf16, int C, bool kMasked>
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) inline void tile4_step(
    const float* x, int64_t k, const char* wb, int64_t row_bytes, int64_t i, __mmask16 m,
    __m512 (&a)[4][C], const char* pf) {
  if (pf)
    for (int c = 0; c < C; ++c)
      _mm_prefetch(pf + c * row_bytes + i * (kBf16 ? 2 : 4), _MM_HINT_T1);
  __m512 wv[C], xv[4];
  for (int c = 0; c < C; ++c) {
    if constexpr (kMasked)
      wv[c] = load_w16<kBf16>(wb + c * row_bytes, i, m);
    else if constexpr (kBf16)
      wv[c] = widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(
          reinterpret_cast<const uint16_t*>(wb + c * row_bytes) + i)));
    else
      wv[c] = _mm512_loadu_ps(reinterpret_cast<const float*>(wb + c * row_bytes) + i);
  }
  for (int r = 0; r < 4; ++r)
    xv[r] = kMasked ? _mm512_maskz_loadu_ps(m, x + r * k + i) : _mm512_loadu_ps(x + r * k + i);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < C; ++c) a[r][c] = _mm512_fmadd_ps(xv[r], wv[c], a[r][c]);
}

template <bool kBf16, int C>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void dot_tile4_avx512(
    const float* x, int64_t k, const void* w, int64_t w_stride, float* out, int64_t out_stride,
    const char* pf = nullptr) {
  const auto* wb = static_cast<const char*>(w);
  const int64_t row_bytes = w_stride * (kBf16 ? 2 : 4);
  __m512 a[4][C];
  for (auto& row : a)
    for (auto& v : row) v = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) tile4_step<kBf16, C, false>(x, k, wb, row_bytes, i, 0xFFFF, a, pf);
  if (i < k)
    tile4_step<kBf16, C, true>(x, k, wb, row_bytes, i, static_cast<__mmask16>((1u << (k - i)) - 1),
                               a, pf);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < C; ++c) out[r * out_stride + c] = hsum(a[r][c]);
}

// One token against one expert row, four accumulators (four FMA chains in flight). A decode step
// walks the experts' rows in order: one contiguous stream the prefetchers follow (a 1 x 4 tile
// reads four short 8 KiB streams at once and ran at half the DRAM rate).
template <bool kBf16>
__attribute__((target("avx512f,avx512bw,avx512vl"))) float dot1_avx512(const float* x, int64_t k,
                                                                       const void* wrow) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 64 <= k; i += 64) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), load_w16<kBf16>(wrow, i, 0xFFFF), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), load_w16<kBf16>(wrow, i + 16, 0xFFFF), a1);
    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), load_w16<kBf16>(wrow, i + 32, 0xFFFF), a2);
    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), load_w16<kBf16>(wrow, i + 48, 0xFFFF), a3);
  }
  for (; i < k; i += 16) {
    const __mmask16 m = k - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (k - i)) - 1);
    a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), load_w16<kBf16>(wrow, i, m), a0);
  }
  return hsum(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

// Tokens in groups of four x experts [j0, j1) in 4 x 4 tiles (8 loads feed 16 FMAs: prefill runs
// at the FMA rate, not the load rate; the expert rows stay in L2 across groups) and 4 x 1 tiles;
// the remaining tokens (all of them in decode) one expert row after the other.
// The first group reads the rows from DRAM, four 4 KiB (Qwen1.5-MoE bf16) rows at a time, each
// its own page, where the hardware prefetcher stops and starts over: with W cold that group took
// 30 us of a 105 us 64-token call (W warm: 75 us), against 7 us for its bytes at DRAM bandwidth.
// So the first group prefetches the next tile's rows while it computes this one.
template <bool kBf16>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void logits_avx512(const float* x,
                                                                        int64_t rows, const void* w,
                                                                        int64_t k, int64_t n,
                                                                        int64_t j0, int64_t j1,
                                                                        float* logits) {
  const auto* wb = static_cast<const char*>(w);
  const int64_t row_bytes = k * (kBf16 ? 2 : 4);
  const int64_t groups = rows / 4 * 4;
  for (int64_t r = 0; r < groups; r += 4) {
    int64_t j = j0;
    for (; j + 4 <= j1; j += 4) {
      const char* next = r == 0 && j + 8 <= j1 ? wb + (j + 4) * row_bytes : nullptr;
      dot_tile4_avx512<kBf16, 4>(x + r * k, k, wb + j * row_bytes, k, logits + r * n + j, n, next);
    }
    for (; j < j1; ++j)
      dot_tile4_avx512<kBf16, 1>(x + r * k, k, wb + j * row_bytes, k, logits + r * n + j, n);
  }
  for (int64_t r = groups; r < rows; ++r)
    for (int64_t j = j0; j < j1; ++j)
      logits[r * n + j] = dot1_avx512<kBf16>(x + r * k, k, wb + j * row_bytes);
}

// Portable: eight partial sums so the compiler can keep them in vector registers.
float dot_portable(const float* x, const RouterWeights& w, int64_t row) {
  float acc[8] = {};
  const int64_t k = w.k;
  int64_t i = 0;
  for (; i + 8 <= k; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += x[i + j] * w.at(row, i + j);
  for (; i < k; ++i) acc[0] += x[i] * w.at(row, i);
  return std::accumulate(acc, acc + 8, 0.0f);
}

__attribute__((target("avx512f"))) void axpy_avx512(float a, const float* x, float* y, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

}  // namespace

void router_logits(const float* x, int64_t rows, const RouterWeights& w, float* logits,
                   ThreadPool& pool) {
  const CpuFeatures& f = cpu_features();
  const bool simd = w.bf16 ? (f.avx512f && f.avx512bw && f.avx512vl) : f.avx512f;
  const int64_t k = w.k, n = w.n;
  // Threads split the experts (whole 4-row groups): each weight row is read from memory once.
  pool.parallel_for(
      n,
      [&](int64_t j0, int64_t j1) {
        if (simd && w.bf16) {
          logits_avx512<true>(x, rows, w.b16.data(), k, n, j0, j1, logits);
        } else if (simd) {
          logits_avx512<false>(x, rows, w.f32.data(), k, n, j0, j1, logits);
        } else {
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = j0; j < j1; ++j) logits[r * n + j] = dot_portable(x + r * k, w, j);
        }
      },
      4);
}

void router_logits_ref(const float* x, int64_t rows, const RouterWeights& w, float* logits) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < w.n; ++j) {
      double acc = 0;
      for (int64_t i = 0; i < w.k; ++i) acc += static_cast<double>(x[r * w.k + i]) * w.at(j, i);
      logits[r * w.n + j] = static_cast<float>(acc);
    }
}

void softmax_top_k(const float* logits, int64_t rows, int64_t n, int64_t top_k, bool renormalize,
                   int32_t* ids, float* weights) {
  const bool simd = cpu_features().avx512f;
  for (int64_t r = 0; r < rows; ++r) {
    const float* l = logits + r * n;
    int32_t* id = ids + r * top_k;
    float* wt = weights + r * top_k;
    // Top-k of the logits by insertion (k <= 8 typically): softmax is monotonic, so the experts
    // are the same, and only the k winners' probabilities are needed beyond the sum.
    int64_t have = 0;
    for (int64_t j = 0; j < n; ++j) {
      if (have == top_k && l[j] <= l[id[top_k - 1]]) continue;
      int64_t pos = std::min(have, top_k - 1);
      while (pos > 0 && l[id[pos - 1]] < l[j]) {
        id[pos] = id[pos - 1];
        --pos;
      }
      id[pos] = static_cast<int32_t>(j);
      have = std::min(have + 1, top_k);
    }
    const float mx = l[id[0]];
    float sum = 0;
    if (simd) {
      sum = exp_sum_avx512(l, n, mx);
    } else {
      for (int64_t j = 0; j < n; ++j) sum += std::exp(l[j] - mx);
    }
    float picked = 0;
    for (int64_t i = 0; i < top_k; ++i) picked += (wt[i] = std::exp(l[id[i]] - mx));
    const float scale = 1.0f / (renormalize ? picked : sum);
    for (int64_t i = 0; i < top_k; ++i) wt[i] *= scale;
  }
}

void softmax_top_k_ref(const float* logits, int64_t rows, int64_t n, int64_t top_k,
                       bool renormalize, int32_t* ids, float* weights) {
  std::vector<int32_t> order(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    const float* l = logits + r * n;
    double mx = l[0], sum = 0;
    for (int64_t j = 0; j < n; ++j) mx = std::max(mx, static_cast<double>(l[j]));
    for (int64_t j = 0; j < n; ++j) sum += std::exp(l[j] - mx);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
    double picked = 0;
    for (int64_t i = 0; i < top_k; ++i) picked += std::exp(l[order[static_cast<size_t>(i)]] - mx);
    for (int64_t i = 0; i < top_k; ++i) {
      const int32_t e = order[static_cast<size_t>(i)];
      ids[r * top_k + i] = e;
      weights[r * top_k + i] =
          static_cast<float>(std::exp(l[e] - mx) / (renormalize ? picked : sum));
    }
  }
}

void axpy(float a, const float* x, float* y, int64_t n) {
  if (cpu_features().avx512f) {
    axpy_avx512(a, x, y, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace llmroof::kernels
