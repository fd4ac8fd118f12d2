// AVX2 + FMA + F16C GEMV and blocked GEMM on the same 32-column packed panels as the AVX-512 path
// (docs/gemm.md, "AVX2 path"): the middle tier for CPUs without AVX-512. 16 ymm registers shape
// every kernel here:
//   GEMV (m = 1): one panel row = 4 ymm; two rows in flight = 8 accumulators + 4 decoded + x;
//     2 <= m <= 16: two rows of x per pass, k chunks (int4: the panel) reused from L1/L2.
//   GEMM (m > 1): a 6 x 16 register tile (12 accumulators, 2 B vectors, 1 broadcast), walked over
//     both 16-column halves of a panel; quantized weights are dequantized one kc x 32 block at a
//     time into L1-sized fp32 buffers, exactly like gemm_avx512.cpp.
// W8A8 (vpmaddubsw + vpmaddwd, a 4 x 16 integer tile) is in gemm_avx2_w8a8.cpp, the panel row
// decoders every format shares in gemm_avx2_decode.hpp.
// Compiled with a target pragma, never a global -march: gemm.cpp calls in only after
// avx2_usable(). Standard headers come before the pragma; the only weak symbol this file emits is
// std::vector<float>'s destructor, without vector instructions (checked with nm / objdump).
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm_internal.hpp"
#include "kernels/cpu_features.hpp"

#if defined(__x86_64__)  // whole file: x86-64 only (gemm.cpp dispatches here only there)
#pragma GCC push_options
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC target("avx2,fma,f16c")
#include "kernels/cpu/gemm_avx2_decode.hpp"  // panel row decoders (needs the pragma)
#include "kernels/cpu/gemm_blocked_loop.hpp"  // loop nest shared with gemm_avx512

namespace llmroof::kernels::detail {

namespace {

constexpr int64_t kPrefetchBytes = 4096;  // software prefetch distance ahead of the weight stream

// Stores the first `cols` (may be < 32) of the 32 columns in v.
inline void store_cols(float* y, int64_t cols, const __m256* v) {
  if (cols >= 32) {
    for (int i = 0; i < 4; ++i) _mm256_storeu_ps(y + 8 * i, v[i]);
    return;
  }
  alignas(32) float t[32];
  for (int i = 0; i < 4; ++i) _mm256_store_ps(t + 8 * i, v[i]);
  std::memcpy(y, t, cols * sizeof(float));
}

// ---- GEMV -------------------------------------------------------------------------------------

// Sum over rows [0, len) of x[kk] * row(kk) into y[4]; two rows in flight (8 accumulators) hide
// the FMA latency, one prefetch per 64-byte line of the stream.
template <class Rows>
inline void dot_rows(const float* x, int64_t len, const Rows& rows, __m256* y) {
  __m256 acc[8];
  for (auto& a : acc) a = _mm256_setzero_ps();
  const char* pf = reinterpret_cast<const char*>(rows.p) + kPrefetchBytes;
  int64_t kk = 0;
  for (; kk + 2 <= len; kk += 2) {
    for (int off = 0; off < 2 * Rows::kRowBytes; off += 64)
      _mm_prefetch(pf + kk * Rows::kRowBytes + off, _MM_HINT_T0);
#pragma GCC unroll 2
    for (int u = 0; u < 2; ++u) {
      __m256 v[4];
      rows.get(kk + u, v);
      const __m256 xv = _mm256_set1_ps(x[kk + u]);
      for (int i = 0; i < 4; ++i) acc[4 * u + i] = _mm256_fmadd_ps(xv, v[i], acc[4 * u + i]);
    }
  }
  for (; kk < len; ++kk) {
    __m256 v[4];
    rows.get(kk, v);
    const __m256 xv = _mm256_set1_ps(x[kk]);
    for (int i = 0; i < 4; ++i) acc[i] = _mm256_fmadd_ps(xv, v[i], acc[i]);
  }
  for (int i = 0; i < 4; ++i) y[i] = _mm256_add_ps(acc[i], acc[4 + i]);
}

template <class Rows, class Elem>
void gemv_per_column(const float* x, const PackedWeights& w, float* y, int64_t p0, int64_t p1,
                     float extra, bool scaled) {
  const int64_t elems_per_row = Rows::kRowBytes / static_cast<int64_t>(sizeof(Elem));
  for (int64_t p = p0; p < p1; ++p) {
    const Rows rows{reinterpret_cast<const Elem*>(w.data.data()) + p * w.k * elems_per_row};
    __m256 v[4];
    dot_rows(x, w.k, rows, v);
    if (scaled) {
      __m256 s[4];
      column_scales(w, p, extra, s);
      for (int i = 0; i < 4; ++i) v[i] = _mm256_mul_ps(v[i], s[i]);
    }
    store_cols(y + p * 32, w.n - p * 32, v);
  }
}

// int4 GEMV, per group of rows: y += s * (sum x*q - z * sum x), so the inner loop never touches s
// or z; one 128-byte block (4 ymm, loaded once) feeds 8 rows x 32 columns; even and odd rows go
// to separate accumulators (8 in all). Nibble J of a dword is taken in place, q * 16^J = dword &
// (15 << 4J) (exact in fp32: 4 significant bits, < 2^28), and x of row J is pre-scaled by 16^-J
// (exact: a power of two), so each row costs and + convert + FMA per vector, no shift; the top
// nibble (J = 7, which would convert as negative) is one shift instead. The FMA's product
// (x 16^-J)(q 16^J) equals x q exactly, so sums are bit-identical to unscaled ones (unless x is
// below 2^-98, where the pre-scaled x loses bits to underflow).
template <int J>
inline void int4_row(const __m256i* v, const float* xb, __m256* acc) {
  const __m256 xv = _mm256_set1_ps(xb[J]);
  const __m256i mask = _mm256_set1_epi32(15 << (4 * J));
  for (int i = 0; i < 4; ++i) {
    const __m256i q = J == 7 ? _mm256_srli_epi32(v[i], 28) : _mm256_and_si256(v[i], mask);
    acc[(J % 2) * 4 + i] = _mm256_fmadd_ps(xv, _mm256_cvtepi32_ps(q), acc[(J % 2) * 4 + i]);
  }
}
template <int... J>
inline void int4_block(const __m256i* v, const float* xb, __m256* acc,
                       std::integer_sequence<int, J...>) {
  (int4_row<J>(v, xb, acc), ...);
}

void gemv_int4(const float* x, const PackedWeights& w, float* y, int64_t p0, int64_t p1) {
  const int64_t groups = w.groups(), gs = w.group_size;
  thread_local std::vector<float> xp;  // x * 16^-(kk % 8) (kk % 8 < 7), zero-padded to k_padded
  xp.assign(w.k_padded, 0.f);
  for (int64_t kk = 0; kk < w.k; ++kk)
    xp[kk] = kk % 8 == 7 ? x[kk] : x[kk] * (1.f / static_cast<float>(1 << (4 * (kk % 8))));
  std::vector<float> xsum(groups, 0.f);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t kk = g * gs; kk < std::min(w.k, (g + 1) * gs); ++kk) xsum[g] += x[kk];
  for (int64_t p = p0; p < p1; ++p) {
    const uint8_t* base = w.data.data() + p * w.k_padded * 16;
    __m256 ya[4];
    for (auto& v : ya) v = _mm256_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
      __m256 acc[8];
      for (auto& v : acc) v = _mm256_setzero_ps();
      const int64_t b1 = std::min(w.k_padded, (g + 1) * gs) / 8;
      for (int64_t b = g * gs / 8; b < b1; ++b) {
        const uint8_t* blk = base + b * 128;
        _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetchBytes, _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetchBytes + 64, _MM_HINT_T0);
        __m256i v[4];
        for (int i = 0; i < 4; ++i)
          v[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32 * i));
        int4_block(v, &xp[b * 8], acc, std::make_integer_sequence<int, 8>{});
      }
      __m256 z[4], s[4];
      int4_zeros(w.zeros.data() + (p * groups + g) * 16, z);
      int4_scales(w.scale16.data() + (p * groups + g) * 32, s);
      const __m256 xs = _mm256_set1_ps(xsum[g]);
      for (int i = 0; i < 4; ++i)
        ya[i] = _mm256_fmadd_ps(s[i], _mm256_fnmadd_ps(z[i], xs, _mm256_add_ps(acc[i], acc[4 + i])),
                                ya[i]);
    }
    store_cols(y + p * 32, w.n - p * 32, ya);
  }
}

// ---- multi-row GEMV (2 <= m <= gemv_rows_crossover_avx2(); docs/gemm.md, "Small m") -----------
// 16 ymm allow 2 rows of x per pass over a panel row (8 accumulators + 4 decoded + a broadcast);
// more rows walk the panel in ~32 KiB k chunks that the 2-row blocks reuse from L1/L2.

constexpr int64_t kChunkBytes = 32 * 1024;

// y[0..cols) (+)= s * v, for `cols` <= 32 (the tail panel) or all 32.
inline void scale_store_cols(float* y, int64_t cols, const __m256* v, const __m256* s,
                             bool accumulate) {
  alignas(32) float t[32];
  for (int i = 0; i < 4; ++i) _mm256_store_ps(t + 8 * i, _mm256_mul_ps(v[i], s[i]));
  const int64_t c = std::min<int64_t>(cols, 32);
  for (int64_t j = 0; j < c; ++j) y[j] = accumulate ? y[j] + t[j] : t[j];
}

// Two rows of x (x0, x1) times rows [0, len) of `rows`: sums into y0[4], y1[4].
template <class Rows>
inline void dot_rows2(const float* x0, const float* x1, int64_t len, const Rows& rows, __m256* y0,
                      __m256* y1) {
  __m256 a0[4], a1[4];
  for (int i = 0; i < 4; ++i) a0[i] = a1[i] = _mm256_setzero_ps();
  const char* pf = reinterpret_cast<const char*>(rows.p) + kPrefetchBytes;
  for (int64_t kk = 0; kk < len; ++kk) {
    if (kk % 2 == 0)
      for (int off = 0; off < 2 * Rows::kRowBytes; off += 64)
        _mm_prefetch(pf + kk * Rows::kRowBytes + off, _MM_HINT_T0);
    __m256 v[4];
    rows.get(kk, v);
    const __m256 b0 = _mm256_set1_ps(x0[kk]), b1 = _mm256_set1_ps(x1[kk]);
    for (int i = 0; i < 4; ++i) {
      a0[i] = _mm256_fmadd_ps(b0, v[i], a0[i]);
      a1[i] = _mm256_fmadd_ps(b1, v[i], a1[i]);
    }
  }
  for (int i = 0; i < 4; ++i) {
    y0[i] = a0[i];
    y1[i] = a1[i];
  }
}

template <class Rows, class Elem>
void gemv_rows_per_column(const float* x, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                          int64_t p1, float extra, bool scaled) {
  const int64_t elems_per_row = Rows::kRowBytes / static_cast<int64_t>(sizeof(Elem));
  const int64_t kc = m <= 2 ? w.k : kChunkBytes / Rows::kRowBytes;
  for (int64_t p = p0; p < p1; ++p) {
    __m256 s[4];
    if (scaled)
      column_scales(w, p, extra, s);
    else
      for (auto& v : s) v = _mm256_set1_ps(1.f);
    const Elem* panel = reinterpret_cast<const Elem*>(w.data.data()) + p * w.k * elems_per_row;
    for (int64_t k0 = 0; k0 < w.k; k0 += kc) {
      const int64_t len = std::min(kc, w.k - k0);
      const Rows rows{panel + k0 * elems_per_row};
      for (int64_t i = 0; i < m; i += 2) {
        float* yi = y + i * w.n + p * 32;
        __m256 v0[4], v1[4];
        if (i + 1 < m) {
          dot_rows2(x + i * w.k + k0, x + (i + 1) * w.k + k0, len, rows, v0, v1);
          scale_store_cols(yi + w.n, w.n - p * 32, v1, s, k0 > 0);
        } else {
          dot_rows(x + i * w.k + k0, len, rows, v0);
        }
        scale_store_cols(yi, w.n - p * 32, v0, s, k0 > 0);
      }
    }
  }
}

// int4, two rows of x (a, b pre-scaled as in gemv_int4): row J of a block into both rows' sums.
// The block's 4 ymm are re-read from L1 per J (the loads fold into vpand), which keeps 8
// accumulators + 2 broadcasts + 1 decoded vector in registers.
template <int J>
inline void int4_row2(const uint8_t* blk, const float* a, const float* b, __m256 (*acc)[4]) {
  const __m256 va = _mm256_set1_ps(a[J]), vb = _mm256_set1_ps(b[J]);
  const __m256i mask = _mm256_set1_epi32(15 << (4 * J));
  for (int i = 0; i < 4; ++i) {
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32 * i));
    const __m256 q =
        _mm256_cvtepi32_ps(J == 7 ? _mm256_srli_epi32(d, 28) : _mm256_and_si256(d, mask));
    acc[0][i] = _mm256_fmadd_ps(va, q, acc[0][i]);
    acc[1][i] = _mm256_fmadd_ps(vb, q, acc[1][i]);
  }
}
template <int... J>
inline void int4_block2(const uint8_t* blk, const float* a, const float* b, __m256 (*acc)[4],
                        std::integer_sequence<int, J...>) {
  (int4_row2<J>(blk, a, b, acc), ...);
}

// int4 for m >= 2: per panel, pairs of rows (the panel's k/2 x 32 bytes stay in L2 for the next
// pair; an odd last row is paired with itself and stored once). Same math as gemv_int4.
void gemv_rows_int4(const float* x, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                    int64_t p1) {
  const int64_t groups = w.groups(), gs = w.group_size, kp = w.k_padded;
  thread_local std::vector<float> xp, xs;
  xp.assign(m * kp, 0.f);
  xs.assign(m * groups, 0.f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t kk = 0; kk < w.k; ++kk) {
      const float v = x[i * w.k + kk];
      xp[i * kp + kk] = kk % 8 == 7 ? v : v * (1.f / static_cast<float>(1 << (4 * (kk % 8))));
      xs[i * groups + kk / gs] += v;
    }
  for (int64_t p = p0; p < p1; ++p) {
    const uint8_t* base = w.data.data() + p * kp * 16;
    for (int64_t i = 0; i < m; i += 2) {
      const int64_t j = std::min(i + 1, m - 1);  // the second row (= i when m is odd at the end)
      const float *a = &xp[i * kp], *b = &xp[j * kp];
      __m256 ya[2][4];
      for (auto& r : ya)
        for (auto& v : r) v = _mm256_setzero_ps();
      for (int64_t g = 0; g < groups; ++g) {
        __m256 acc[2][4];
        for (auto& r : acc)
          for (auto& v : r) v = _mm256_setzero_ps();
        const int64_t b1 = std::min(kp, (g + 1) * gs) / 8;
        for (int64_t blk = g * gs / 8; blk < b1; ++blk) {
          const uint8_t* q = base + blk * 128;
          _mm_prefetch(reinterpret_cast<const char*>(q) + kPrefetchBytes, _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(q) + kPrefetchBytes + 64, _MM_HINT_T0);
          int4_block2(q, a + blk * 8, b + blk * 8, acc, std::make_integer_sequence<int, 8>{});
        }
        __m256 z[4], s[4];
        int4_zeros(w.zeros.data() + (p * groups + g) * 16, z);
        int4_scales(w.scale16.data() + (p * groups + g) * 32, s);
        const __m256 xa = _mm256_set1_ps(xs[i * groups + g]),
                     xb = _mm256_set1_ps(xs[j * groups + g]);
        for (int c = 0; c < 4; ++c) {
          ya[0][c] = _mm256_fmadd_ps(s[c], _mm256_fnmadd_ps(z[c], xa, acc[0][c]), ya[0][c]);
          ya[1][c] = _mm256_fmadd_ps(s[c], _mm256_fnmadd_ps(z[c], xb, acc[1][c]), ya[1][c]);
        }
      }
      store_cols(y + i * w.n + p * 32, w.n - p * 32, ya[0]);
      if (j > i) store_cols(y + j * w.n + p * 32, w.n - p * 32, ya[1]);
    }
  }
}

// ---- blocked GEMM -----------------------------------------------------------------------------

constexpr int kMR = kGemmMRAvx2;  // 6 rows x 16 columns: 12 accumulators
constexpr int64_t kKC = 256;      // k per block: A micro-panel 6 KiB, one B block (kc x 32) 32 KiB
constexpr int64_t kNC = 16;       // panels per group: 16 B blocks (512 KiB) stay in L2

// C[R x 16] (+)= A[kc x kMR] (first R rows) * B[kc x 16 of a 32-wide row]; `cols` valid columns.
template <int R>
void micro(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, bool accumulate,
           int64_t cols) {
  __m256 c0[R], c1[R];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_ps();
  for (int64_t kk = 0; kk < kc; ++kk) {
    const __m256 b0 = _mm256_loadu_ps(b + kk * 32), b1 = _mm256_loadu_ps(b + kk * 32 + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + kk * kMR + r);
      c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);
    }
  }
  if (cols >= 16) {
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      float* cr = c + r * ldc;
      if (accumulate) {
        c0[r] = _mm256_add_ps(c0[r], _mm256_loadu_ps(cr));
        c1[r] = _mm256_add_ps(c1[r], _mm256_loadu_ps(cr + 8));
      }
      _mm256_storeu_ps(cr, c0[r]);
      _mm256_storeu_ps(cr + 8, c1[r]);
    }
    return;
  }
  // Last panel, fewer than 16 columns left. The tile goes through a buffer in an unrolled loop
  // (a rolled loop indexing c0[r] would make GCC keep the accumulators in memory in the k loop).
  alignas(32) float t[R][16];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    _mm256_store_ps(t[r], c0[r]);
    _mm256_store_ps(t[r] + 8, c1[r]);
  }
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    for (int64_t j = 0; j < cols; ++j) cr[j] = accumulate ? cr[j] + t[r][j] : t[r][j];
  }
}

using MicroFn = void (*)(const float*, const float*, int64_t, float*, int64_t, bool, int64_t);
template <int... R>
constexpr auto make_micro_table(std::integer_sequence<int, R...>) {
  return std::array<MicroFn, sizeof...(R)>{&micro<R + 1>...};
}
constexpr auto kMicro = make_micro_table(std::make_integer_sequence<int, kMR>{});

// Dequantizes rows [k0, k0+kc) of panel p into out[kc][32] (fp32, scales applied).
template <class Rows>
void emit_rows(const Rows& rows, int64_t k0, int64_t kc, const __m256* s, const __m256* z,
               float* out) {
  for (int64_t kk = 0; kk < kc; ++kk) {
    __m256 v[4];
    rows.get(k0 + kk, v);
    for (int i = 0; i < 4; ++i)
      _mm256_storeu_ps(out + kk * 32 + 8 * i, _mm256_mul_ps(_mm256_sub_ps(v[i], z[i]), s[i]));
  }
}

void dequant_block(const PackedWeights& w, int64_t p, int64_t k0, int64_t kc, float* out) {
  __m256 s[4], z[4];
  for (int i = 0; i < 4; ++i) {
    s[i] = _mm256_set1_ps(1.f);
    z[i] = _mm256_setzero_ps();
  }
  const uint8_t* d = w.data.data();
  switch (w.format) {
    case WeightFormat::bf16:
      emit_rows(Bf16Rows{reinterpret_cast<const uint16_t*>(d) + p * w.k * 32}, k0, kc, s, z, out);
      break;
    case WeightFormat::int8:
      column_scales(w, p, 1.f, s);
      emit_rows(Int8Rows{reinterpret_cast<const int8_t*>(d) + p * w.k * 32}, k0, kc, s, z, out);
      break;
    case WeightFormat::fp8:
      column_scales(w, p, 256.f, s);
      emit_rows(Fp8Rows{d + p * w.k * 32}, k0, kc, s, z, out);
      break;
    case WeightFormat::int4: {
      const Int4Rows rows{d + p * w.k_padded * 16};
      const int64_t groups = w.groups();
      // runs of rows inside one group share its scales and zero points
      for (int64_t kk = 0; kk < kc;) {
        const int64_t g = (k0 + kk) / w.group_size;
        const int64_t run = std::min(kc - kk, (g + 1) * w.group_size - (k0 + kk));
        int4_zeros(w.zeros.data() + (p * groups + g) * 16, z);
        int4_scales(w.scale16.data() + (p * groups + g) * 32, s);
        emit_rows(rows, k0 + kk, run, s, z, out + kk * 32);
        kk += run;
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace

bool avx2_usable() {
  const CpuFeatures& c = cpu_features();
  return c.avx2 && c.fma && c.f16c;
}

void gemv_avx2(const float* x, const PackedWeights& w, float* y, int64_t p0, int64_t p1) {
  switch (w.format) {
    case WeightFormat::fp32:
      gemv_per_column<Fp32Rows, float>(x, w, y, p0, p1, 1.f, false);
      break;
    case WeightFormat::bf16:
      gemv_per_column<Bf16Rows, uint16_t>(x, w, y, p0, p1, 1.f, false);
      break;
    case WeightFormat::int8:
      gemv_per_column<Int8Rows, int8_t>(x, w, y, p0, p1, 1.f, true);
      break;
    case WeightFormat::fp8:
      gemv_per_column<Fp8Rows, uint8_t>(x, w, y, p0, p1, 256.f, true);
      break;
    case WeightFormat::int4:
      gemv_int4(x, w, y, p0, p1);
      break;
    case WeightFormat::w8a8:
      break;  // gemm_w8a8_avx2
  }
}

void gemv_rows_avx2(const float* x, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                    int64_t p1) {
  switch (w.format) {
    case WeightFormat::fp32:
      gemv_rows_per_column<Fp32Rows, float>(x, m, w, y, p0, p1, 1.f, false);
      break;
    case WeightFormat::bf16:
      gemv_rows_per_column<Bf16Rows, uint16_t>(x, m, w, y, p0, p1, 1.f, false);
      break;
    case WeightFormat::int8:
      gemv_rows_per_column<Int8Rows, int8_t>(x, m, w, y, p0, p1, 1.f, true);
      break;
    case WeightFormat::fp8:
      gemv_rows_per_column<Fp8Rows, uint8_t>(x, m, w, y, p0, p1, 256.f, true);
      break;
    case WeightFormat::int4:
      gemv_rows_int4(x, m, w, y, p0, p1);
      break;
    case WeightFormat::w8a8:
      break;  // gemm_w8a8_avx2 (gemv_rows_avx2_handles)
  }
}

void pack_a_avx2(const float* x, int64_t m, int64_t k, float* ap, int64_t b0, int64_t b1) {
  pack_a_blocks<kMR>(x, m, k, ap, b0, b1);
}

// The 6 x 16 tile walks both halves of every 32-column panel (gemm_blocked_loop.hpp).
void gemm_avx2(const float* ap, int64_t m, const PackedWeights& w, float* y, int64_t p0,
               int64_t p1) {
  blocked_gemm_loop<kMR, kNC, kKC, 16>(ap, m, w, y, p0, p1, dequant_block, kMicro);
}

}  // namespace llmroof::kernels::detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // __x86_64__
