// AVX-512 GEMV (m = 1, streaming weights once) and blocked GEMM (m > 1: packed A, a 14x32 register
// tile, quantized weights dequantized one kc x 32 panel block at a time into L1). Compiled with
// target attributes, never a global -march: gemm.cpp calls in only after checking cpu_features().
#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm_internal.hpp"
#include "kernels/cpu/quant.hpp"
#include "kernels/cpu_features.hpp"

#if defined(__x86_64__)  // whole file: x86-64 only (gemm.cpp dispatches here only there)
#pragma GCC push_options
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 intrinsics headers (_mm512_undefined)
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")
#include "kernels/cpu/gemm_avx512_rows.hpp"
#include "kernels/cpu/gemm_blocked_loop.hpp"  // loop nest shared with gemm_avx2
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels::detail {

namespace {

constexpr int64_t kPrefetchBytes = 8192;  // software prefetch distance ahead of the weight stream

// Sum over rows [0, len) of x[kk] * row(kk) into (y0, y1); 8 independent accumulators hide the
// FMA latency, one prefetch per 64-byte line of the stream.
template <class Rows>
inline void dot_rows(const float* x, int64_t len, const Rows& rows, __m512& y0, __m512& y1) {
  __m512 acc[8];
  for (auto& a : acc) a = _mm512_setzero_ps();
  const char* pf = reinterpret_cast<const char*>(rows.p) + kPrefetchBytes;
  int64_t kk = 0;
  for (; kk + 4 <= len; kk += 4) {
    for (int off = 0; off < 4 * Rows::kRowBytes; off += 64)
      _mm_prefetch(pf + kk * Rows::kRowBytes + off, _MM_HINT_T0);
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) {
      __m512 a, b;
      rows.get(kk + u, a, b);
      const __m512 xv = _mm512_set1_ps(x[kk + u]);
      acc[2 * u] = _mm512_fmadd_ps(xv, a, acc[2 * u]);
      acc[2 * u + 1] = _mm512_fmadd_ps(xv, b, acc[2 * u + 1]);
    }
  }
  for (; kk < len; ++kk) {
    __m512 a, b;
    rows.get(kk, a, b);
    const __m512 xv = _mm512_set1_ps(x[kk]);
    acc[0] = _mm512_fmadd_ps(xv, a, acc[0]);
    acc[1] = _mm512_fmadd_ps(xv, b, acc[1]);
  }
  y0 = _mm512_add_ps(_mm512_add_ps(acc[0], acc[2]), _mm512_add_ps(acc[4], acc[6]));
  y1 = _mm512_add_ps(_mm512_add_ps(acc[1], acc[3]), _mm512_add_ps(acc[5], acc[7]));
}

using avx512::first_lanes;  // valid columns among 16

inline void store_cols(float* y, int64_t cols, __m512 a, __m512 b) {
  _mm512_mask_storeu_ps(y, first_lanes(cols), a);
  _mm512_mask_storeu_ps(y + 16, first_lanes(cols - 16), b);
}

// Per-column scale of a panel, times `extra` (fp8 folds its 2^8 here).
inline void column_scales(const PackedWeights& w, int64_t p, float extra, __m512& a, __m512& b) {
  a = _mm512_mul_ps(_mm512_loadu_ps(&w.scale[p * 32]), _mm512_set1_ps(extra));
  b = _mm512_mul_ps(_mm512_loadu_ps(&w.scale[p * 32 + 16]), _mm512_set1_ps(extra));
}

// GEMV for per-column formats: y = scale * sum_k x[k] * raw(k).
template <class Rows>
void gemv_per_column(const float* x, const PackedWeights& w, float* y, int64_t p0, int64_t p1,
                     float extra, bool scaled) {
  using Elem = std::remove_const_t<std::remove_pointer_t<decltype(Rows::p)>>;
  const int64_t elems_per_row = Rows::kRowBytes / static_cast<int64_t>(sizeof(Elem));
  for (int64_t p = p0; p < p1; ++p) {
    const Rows rows{reinterpret_cast<const Elem*>(w.data.data()) + p * w.k * elems_per_row};
    __m512 a, b;
    dot_rows(x, w.k, rows, a, b);
    if (scaled) {
      __m512 sa, sb;
      column_scales(w, p, extra, sa, sb);
      a = _mm512_mul_ps(a, sa);
      b = _mm512_mul_ps(b, sb);
    }
    store_cols(y + p * 32, w.n - p * 32, a, b);
  }
}

// Row J of an int4 block (columns 0..15 in v0, 16..31 in v1) into accumulator pair J % 4.
template <int J>
inline void int4_row(__m512i v0, __m512i v1, const float* xb, __m512 table, __m512* acc) {
  const __m512 xv = _mm512_set1_ps(xb[J]);
  acc[(J % 4) * 2] = _mm512_fmadd_ps(xv, int4_nibble<J>(v0, table), acc[(J % 4) * 2]);
  acc[(J % 4) * 2 + 1] = _mm512_fmadd_ps(xv, int4_nibble<J>(v1, table), acc[(J % 4) * 2 + 1]);
}
template <int... J>
inline void int4_block(__m512i v0, __m512i v1, const float* xb, __m512 table, __m512* acc,
                       std::integer_sequence<int, J...>) {
  (int4_row<J>(v0, v1, xb, table, acc), ...);
}

// int4 GEMV, per group of rows: y += s * (sum x*q - z * sum x), so the inner loop never touches s
// or z; one 128-byte load feeds 8 rows x 32 columns.
void gemv_int4(const float* x, const PackedWeights& w, float* y, int64_t p0, int64_t p1) {
  const int64_t groups = w.groups(), gs = w.group_size;
  thread_local std::vector<float> xp;  // x padded with zeros to k_padded (rows of 8)
  xp.assign(x, x + w.k);
  xp.resize(w.k_padded, 0.f);
  std::vector<float> xsum(groups, 0.f);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t kk = g * gs; kk < std::min(w.k, (g + 1) * gs); ++kk) xsum[g] += x[kk];
  const __m512 table = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int64_t p = p0; p < p1; ++p) {
    const uint8_t* base = w.data.data() + p * w.k_padded * 16;
    __m512 ya = _mm512_setzero_ps(), yb = _mm512_setzero_ps();
    for (int64_t g = 0; g < groups; ++g) {
      __m512 acc[8];
      for (auto& v : acc) v = _mm512_setzero_ps();
      const int64_t b1 = std::min(w.k_padded, (g + 1) * gs) / 8;
      for (int64_t b = g * gs / 8; b < b1; ++b) {
        const uint8_t* blk = base + b * 128;
        _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetchBytes, _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetchBytes + 64, _MM_HINT_T0);
        __m512i v0 = _mm512_loadu_si512(blk), v1 = _mm512_loadu_si512(blk + 64);
        __asm__("" : "+v"(v0), "+v"(v1));  // keep one load each: GCC would re-load per shift
        int4_block(v0, v1, &xp[b * 8], table, acc, std::make_integer_sequence<int, 8>{});
      }
      const __m512 s0 = _mm512_add_ps(_mm512_add_ps(acc[0], acc[2]), _mm512_add_ps(acc[4], acc[6]));
      const __m512 s1 = _mm512_add_ps(_mm512_add_ps(acc[1], acc[3]), _mm512_add_ps(acc[5], acc[7]));
      __m512 za, zb, sa, sb;
      int4_zeros(&w.zeros[(p * groups + g) * 16], za, zb);
      int4_scales(&w.scale16[(p * groups + g) * 32], sa, sb);
      const __m512 xs = _mm512_set1_ps(xsum[g]);
      ya = _mm512_fmadd_ps(sa, _mm512_fnmadd_ps(za, xs, s0), ya);
      yb = _mm512_fmadd_ps(sb, _mm512_fnmadd_ps(zb, xs, s1), yb);
    }
    store_cols(y + p * 32, w.n - p * 32, ya, yb);
  }
}

// ---- blocked GEMM ---------------------------------------------------------------------------

constexpr int kMR = kGemmMR;  // rows per register tile: 14 x 32 = 28 accumulators
constexpr int64_t kKC = 512;  // k per block: the A micro-panel (14 x 512 fp32) is 28 KiB (L1)
constexpr int64_t kNC =
    16;  // panels per group: 16 B blocks of 64 KiB stream from L2 (docs/gemm.md)

// B's lines are prefetched into L1 16 k steps (2 KiB) ahead: the B block (kc x 32 floats, 64 KiB)
// streams from L2 on every call, and on the Xeon host (Sapphire Rapids class) the loads' waits
// took about a sixth of the time without it. m = 512, n = k = 4096, fp32: 129-130 -> 137-138
// GFLOP/s on 1 thread, 261 -> 282-283 on 2; 1 KiB ahead +3-4 %, 4 KiB the same as 2 (docs/gemm.md).
constexpr int64_t kBPrefetchFloats = 512;

// C[R x 32] (+)= A[kc x kMR] (first R rows) * B[kc x 32].
template <int R>
void micro(const float* a, const float* b, int64_t kc, float* c, int64_t ldc, bool accumulate,
           int64_t cols) {
  __m512 c0[R], c1[R];
#pragma GCC unroll 14
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < kc; ++kk) {
    const __m512 b0 = _mm512_loadu_ps(b + kk * 32), b1 = _mm512_loadu_ps(b + kk * 32 + 16);
    _mm_prefetch(reinterpret_cast<const char*>(b + kk * 32 + kBPrefetchFloats), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + kk * 32 + kBPrefetchFloats + 16), _MM_HINT_T0);
#pragma GCC unroll 14
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[kk * kMR + r]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
  const __mmask16 m0 = first_lanes(cols), m1 = first_lanes(cols - 16);
#pragma GCC unroll 14
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    if (accumulate) {
      c0[r] = _mm512_add_ps(c0[r], _mm512_maskz_loadu_ps(m0, cr));
      c1[r] = _mm512_add_ps(c1[r], _mm512_maskz_loadu_ps(m1, cr + 16));
    }
    _mm512_mask_storeu_ps(cr, m0, c0[r]);
    _mm512_mask_storeu_ps(cr + 16, m1, c1[r]);
  }
}

using MicroFn = void (*)(const float*, const float*, int64_t, float*, int64_t, bool, int64_t);
template <int... R>
constexpr auto make_micro_table(std::integer_sequence<int, R...>) {
  return std::array<MicroFn, sizeof...(R)>{&micro<R + 1>...};
}
constexpr auto kMicro = make_micro_table(std::make_integer_sequence<int, kMR>{});

// Dequantizes rows [k0, k0+kc) of panel p into out[kc][32] (fp32, scales applied).
void dequant_block(const PackedWeights& w, int64_t p, int64_t k0, int64_t kc, float* out) {
  __m512 sa = _mm512_set1_ps(1.f), sb = sa, za = _mm512_setzero_ps(), zb = za;
  auto emit = [&](int64_t kk, const auto& rows) {
    __m512 a, b;
    rows.get(k0 + kk, a, b);
    _mm512_storeu_ps(out + kk * 32, _mm512_mul_ps(_mm512_sub_ps(a, za), sa));
    _mm512_storeu_ps(out + kk * 32 + 16, _mm512_mul_ps(_mm512_sub_ps(b, zb), sb));
  };
  const uint8_t* d = w.data.data();
  switch (w.format) {
    case WeightFormat::bf16: {
      const Bf16Rows rows{reinterpret_cast<const uint16_t*>(d) + p * w.k * 32};
      for (int64_t kk = 0; kk < kc; ++kk) emit(kk, rows);
      break;
    }
    case WeightFormat::int8: {
      column_scales(w, p, 1.f, sa, sb);
      const Int8Rows rows{reinterpret_cast<const int8_t*>(d) + p * w.k * 32};
      for (int64_t kk = 0; kk < kc; ++kk) emit(kk, rows);
      break;
    }
    case WeightFormat::fp8: {
      column_scales(w, p, 256.f, sa, sb);
      const Fp8Rows rows{d + p * w.k * 32};
      for (int64_t kk = 0; kk < kc; ++kk) emit(kk, rows);
      break;
    }
    case WeightFormat::int4: {
      const Int4Rows rows{d + p * w.k_padded * 16};
      const int64_t groups = w.groups();
      int64_t g_loaded = -1;
      for (int64_t kk = 0; kk < kc; ++kk) {
        const int64_t g = (k0 + kk) / w.group_size;
        if (g != g_loaded) {
          int4_zeros(&w.zeros[(p * groups + g) * 16], za, zb);
          int4_scales(&w.scale16[(p * groups + g) * 32], sa, sb);
          g_loaded = g;
        }
        emit(kk, rows);
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace

bool avx512_usable(WeightFormat f) {
  const CpuFeatures& c = cpu_features();
  const bool base = c.avx512f && c.avx512bw && c.avx512vl;
  return f == WeightFormat::w8a8 ? base && c.avx512_vnni : base;
}

void gemv_avx512(const float* x, const PackedWeights& w, float* y, int64_t p0, int64_t p1) {
  switch (w.format) {
    case WeightFormat::fp32:
      gemv_per_column<Fp32Rows>(x, w, y, p0, p1, 1.f, false);
      break;
    case WeightFormat::bf16:
      gemv_per_column<Bf16Rows>(x, w, y, p0, p1, 1.f, false);
      break;
    case WeightFormat::int8:
      gemv_per_column<Int8Rows>(x, w, y, p0, p1, 1.f, true);
      break;
    case WeightFormat::fp8:
      gemv_per_column<Fp8Rows>(x, w, y, p0, p1, 256.f, true);
      break;
    case WeightFormat::int4:
      gemv_int4(x, w, y, p0, p1);
      break;
    case WeightFormat::w8a8:
      break;  // gemm_w8a8_avx512
  }
}

void pack_a(const float* x, int64_t m, int64_t k, float* ap, int64_t b0, int64_t b1) {
  pack_a_blocks<kMR>(x, m, k, ap, b0, b1);
}

// The 14 x 32 tile covers a whole panel: one micro-kernel call per (row block, panel, kc block).
void gemm_avx512(const float* ap, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                 int64_t p1) {
  blocked_gemm_loop<kMR, kNC, kKC, 32>(ap, m, w, y, p0, p1, dequant_block, kMicro);
}

}  // namespace llmroof::kernels::detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // __x86_64__
