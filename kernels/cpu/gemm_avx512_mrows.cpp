// AVX-512 multi-row GEMV (2 <= m <= detail::gemv_rows_crossover(), 64): batched decode, MoE
// experts with a few tokens each, short prompts. Memory-bound like m = 1, so the weights are
// streamed once: every decoded weight vector is multiplied into up to kRows rows of x held as
// broadcasts (docs/gemm.md, "Small m"). For m > kRows the panel is walked in k chunks of ~32 KiB
// and each chunk is reused from L1/L2 by the row blocks of kRows rows, so DRAM still sees each
// weight byte once.
#include <algorithm>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm_internal.hpp"

#if defined(__x86_64__)  // whole file: x86-64 only (gemm.cpp dispatches here only there)
#pragma GCC push_options
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 intrinsics headers (_mm512_undefined)
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")
#include "kernels/cpu/gemm_avx512_rows.hpp"

namespace llmroof::kernels::detail {

namespace {

// Rows of x per pass over a weight vector: 8 rows x 2 vectors = 16 accumulators, plus the two
// decoded weight vectors; x is broadcast from memory (embedded in the FMA).
constexpr int kRows = 8;
constexpr int64_t kChunkBytes = 32 * 1024;  // weight chunk reused by the row blocks (L1-sized)
constexpr int64_t kPrefetchBytes = 8192;    // as the m = 1 GEMV

// Calls f(std::integral_constant<int, r>) for the runtime row count r in [1, kRows].
template <int R = 1, class F>
inline void with_rows(int64_t r, F&& f) {
  if constexpr (R <= kRows) {
    if (r == R)
      f(std::integral_constant<int, R>{});
    else
      with_rows<R + 1>(r, f);
  }
}

inline __mmask16 mask_cols(int64_t cols) {
  return cols >= 16 ? __mmask16(0xFFFF) : cols <= 0 ? __mmask16(0) : __mmask16((1u << cols) - 1);
}

// y[r] (+)= s * acc[r] for R rows of one panel (cols valid columns of 32).
template <int R>
inline void store_rows(const __m512 (&acc)[R][2], __m512 sa, __m512 sb, float* y, int64_t ldy,
                       int64_t cols, bool accumulate) {
  const __mmask16 m0 = mask_cols(cols), m1 = mask_cols(cols - 16);
  for (int r = 0; r < R; ++r) {
    float* yr = y + r * ldy;
    const __m512 o0 = accumulate ? _mm512_maskz_loadu_ps(m0, yr) : _mm512_setzero_ps();
    const __m512 o1 = accumulate ? _mm512_maskz_loadu_ps(m1, yr + 16) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(yr, m0, _mm512_fmadd_ps(acc[r][0], sa, o0));
    _mm512_mask_storeu_ps(yr + 16, m1, _mm512_fmadd_ps(acc[r][1], sb, o1));
  }
}

// Per-column formats: R rows of x (stride ldx) times rows [0, len) of `rows`. With R < 4 there
// are too few accumulator chains for the FMA latency, so even/odd k steps use separate sets.
template <int R, class Rows>
void block_per_column(const float* x, int64_t ldx, int64_t len, const Rows& rows, float* y,
                      int64_t ldy, int64_t cols, __m512 sa, __m512 sb, bool accumulate) {
  constexpr int S = R >= 4 ? 1 : 2;
  __m512 acc[S][R][2];
  for (auto& s : acc)
    for (auto& r : s) r[0] = r[1] = _mm512_setzero_ps();
  const char* pf = reinterpret_cast<const char*>(rows.p) + kPrefetchBytes;
  int64_t kk = 0;
  for (; kk + 2 <= len; kk += 2) {
    for (int off = 0; off < 2 * Rows::kRowBytes; off += 64)
      _mm_prefetch(pf + kk * Rows::kRowBytes + off, _MM_HINT_T0);
#pragma GCC unroll 2
    for (int u = 0; u < 2; ++u) {
      __m512 a, b;
      rows.get(kk + u, a, b);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 xv = _mm512_set1_ps(x[r * ldx + kk + u]);
        acc[u % S][r][0] = _mm512_fmadd_ps(xv, a, acc[u % S][r][0]);
        acc[u % S][r][1] = _mm512_fmadd_ps(xv, b, acc[u % S][r][1]);
      }
    }
  }
  for (; kk < len; ++kk) {
    __m512 a, b;
    rows.get(kk, a, b);
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_set1_ps(x[r * ldx + kk]);
      acc[0][r][0] = _mm512_fmadd_ps(xv, a, acc[0][r][0]);
      acc[0][r][1] = _mm512_fmadd_ps(xv, b, acc[0][r][1]);
    }
  }
  if constexpr (S == 2)
    for (int r = 0; r < R; ++r) {
      acc[0][r][0] = _mm512_add_ps(acc[0][r][0], acc[1][r][0]);
      acc[0][r][1] = _mm512_add_ps(acc[0][r][1], acc[1][r][1]);
    }
  store_rows<R>(acc[0], sa, sb, y, ldy, cols, accumulate);
}

template <class Rows>
void mrows_per_column(const float* x, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                      int64_t p1, float extra, bool scaled) {
  using Elem = std::remove_const_t<std::remove_pointer_t<decltype(Rows::p)>>;
  const int64_t elems_per_row = Rows::kRowBytes / static_cast<int64_t>(sizeof(Elem));
  // One row block: one pass over all of k. More: chunks the row blocks reuse from L1.
  const int64_t kc = m <= kRows ? w.k : kChunkBytes / Rows::kRowBytes;
  for (int64_t p = p0; p < p1; ++p) {
    __m512 sa = _mm512_set1_ps(1.f), sb = sa;
    if (scaled) {
      sa = _mm512_mul_ps(_mm512_loadu_ps(&w.scale[p * 32]), _mm512_set1_ps(extra));
      sb = _mm512_mul_ps(_mm512_loadu_ps(&w.scale[p * 32 + 16]), _mm512_set1_ps(extra));
    }
    const Elem* panel = reinterpret_cast<const Elem*>(w.data.data()) + p * w.k * elems_per_row;
    for (int64_t k0 = 0; k0 < w.k; k0 += kc) {
      const int64_t len = std::min(kc, w.k - k0);
      const Rows rows{panel + k0 * elems_per_row};
      for (int64_t i0 = 0; i0 < m; i0 += kRows) {
        const int64_t r = std::min<int64_t>(kRows, m - i0);
        with_rows(r, [&](auto R) {
          block_per_column<R.value>(x + i0 * w.k + k0, w.k, len, rows, y + i0 * w.n + p * 32, w.n,
                                    w.n - p * 32, sa, sb, k0 > 0);
        });
      }
    }
  }
}

// ---- int4 -------------------------------------------------------------------------------------

// Groups [g0, g1) of panel p for R rows of xp (zero-padded to k_padded, stride ldx) and their
// per-group sums xs[r * groups + g]: y += s * (sum x*q - z * sum x), as the m = 1 GEMV.
template <int R>
void block_int4(const float* xp, int64_t ldx, const float* xs, const PackedWeights& w, int64_t p,
                int64_t g0, int64_t g1, float* y, int64_t ldy, bool accumulate) {
  constexpr int S = R >= 4 ? 1 : 2;
  const int64_t groups = w.groups(), gs = w.group_size;
  const __m512 table = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const uint8_t* base = w.data.data() + p * w.k_padded * 16;
  __m512 ya[R][2];
  for (auto& r : ya) r[0] = r[1] = _mm512_setzero_ps();
  for (int64_t g = g0; g < g1; ++g) {
    __m512 acc[S][R][2];
    for (auto& s : acc)
      for (auto& r : s) r[0] = r[1] = _mm512_setzero_ps();
    const int64_t b1 = std::min(w.k_padded, (g + 1) * gs) / 8;
    for (int64_t b = g * gs / 8; b < b1; ++b) {
      const uint8_t* blk = base + b * 128;
      _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetchBytes, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetchBytes + 64, _MM_HINT_T0);
      __m512i v0 = _mm512_loadu_si512(blk), v1 = _mm512_loadu_si512(blk + 64);
      __asm__("" : "+v"(v0), "+v"(v1));  // keep one load each (as gemv_int4)
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        const __m128i sh = _mm_cvtsi32_si128(4 * j);
        const __m512 n0 = _mm512_permutexvar_ps(_mm512_srl_epi32(v0, sh), table);
        const __m512 n1 = _mm512_permutexvar_ps(_mm512_srl_epi32(v1, sh), table);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m512 xv = _mm512_set1_ps(xp[r * ldx + b * 8 + j]);
          acc[j % S][r][0] = _mm512_fmadd_ps(xv, n0, acc[j % S][r][0]);
          acc[j % S][r][1] = _mm512_fmadd_ps(xv, n1, acc[j % S][r][1]);
        }
      }
    }
    __m512 za, zb, sa, sb;
    int4_zeros(&w.zeros[(p * groups + g) * 16], za, zb);
    int4_scales(&w.scale16[(p * groups + g) * 32], sa, sb);
    for (int r = 0; r < R; ++r) {
      __m512 s0 = acc[0][r][0], s1 = acc[0][r][1];
      if constexpr (S == 2) {
        s0 = _mm512_add_ps(s0, acc[1][r][0]);
        s1 = _mm512_add_ps(s1, acc[1][r][1]);
      }
      const __m512 xsum = _mm512_set1_ps(xs[r * groups + g]);
      ya[r][0] = _mm512_fmadd_ps(sa, _mm512_fnmadd_ps(za, xsum, s0), ya[r][0]);
      ya[r][1] = _mm512_fmadd_ps(sb, _mm512_fnmadd_ps(zb, xsum, s1), ya[r][1]);
    }
  }
  const __m512 one = _mm512_set1_ps(1.f);
  store_rows<R>(ya, one, one, y, ldy, w.n - p * 32, accumulate);
}

void mrows_int4(const float* x, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                int64_t p1) {
  const int64_t groups = w.groups(), gs = w.group_size, kp = w.k_padded;
  thread_local std::vector<float> xp, xs;  // x padded to k_padded; per-row group sums
  xp.assign(m * kp, 0.f);
  xs.assign(m * groups, 0.f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t kk = 0; kk < w.k; ++kk) {
      xp[i * kp + kk] = x[i * w.k + kk];
      xs[i * groups + kk / gs] += x[i * w.k + kk];
    }
  // groups per chunk: ~kChunkBytes of packed nibbles (16 bytes per row of 32 columns)
  const int64_t gc = m <= kRows ? groups : std::max<int64_t>(1, kChunkBytes / (16 * gs));
  for (int64_t p = p0; p < p1; ++p)
    for (int64_t g0 = 0; g0 < groups; g0 += gc) {
      const int64_t g1 = std::min(groups, g0 + gc);
      for (int64_t i0 = 0; i0 < m; i0 += kRows) {
        const int64_t r = std::min<int64_t>(kRows, m - i0);
        with_rows(r, [&](auto R) {
          block_int4<R.value>(&xp[i0 * kp], kp, &xs[i0 * groups], w, p, g0, g1,
                              y + i0 * w.n + p * 32, w.n, g0 > 0);
        });
      }
    }
}

}  // namespace

void gemv_rows_avx512(const float* x, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                      int64_t p1) {
  switch (w.format) {
    case WeightFormat::fp32:
      mrows_per_column<Fp32Rows>(x, m, w, y, p0, p1, 1.f, false);
      break;
    case WeightFormat::bf16:
      mrows_per_column<Bf16Rows>(x, m, w, y, p0, p1, 1.f, false);
      break;
    case WeightFormat::int8:
      mrows_per_column<Int8Rows>(x, m, w, y, p0, p1, 1.f, true);
      break;
    case WeightFormat::fp8:
      mrows_per_column<Fp8Rows>(x, m, w, y, p0, p1, 256.f, true);
      break;
    case WeightFormat::int4:
      mrows_int4(x, m, w, y, p0, p1);
      break;
    case WeightFormat::w8a8:
      break;  // gemm_w8a8_avx512
  }
}

}  // namespace llmroof::kernels::detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // __x86_64__
