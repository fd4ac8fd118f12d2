// W8A8 with AVX-512 VNNI: per-token int8 quantization of x (max-finding pass), then vpdpbusd
// (u8 x s8 -> s32): m = 1 a streaming GEMV, 2 <= m <= 64 a multi-row GEMV that streams the weights
// once, larger m a 14 x 32 register tile over the whole k. vpdpbusd needs one unsigned
// operand: activations are stored as q + 128 (1..255) and the extra 128 * sum_k w[k][j] is
// subtracted once per output from the column sums made at pack time (docs/gemm.md).
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm_internal.hpp"

#if defined(__x86_64__)  // whole file: x86-64 only (gemm.cpp dispatches here only there)
#pragma GCC push_options
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 intrinsics headers (_mm512_undefined)
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#include <immintrin.h>

#include "kernels/cpu/gemm_avx512_w8a8_tile.hpp"

namespace llmroof::kernels::detail {

namespace {

constexpr int kMR = kGemmMR;
constexpr int64_t kKC = 1024;  // k per block: the A micro-panel is 14 KiB, a B block 32 KiB
constexpr int64_t kNC = 8;     // panels per group

// Quantizes one row into dst (k_padded bytes, 128 = q of 0 past k); returns the row scale.
// Same arithmetic as quantize_row_int8: s = amax/127, q = nearbyint(x * (127/amax)), clamp.
float quantize_row_u8(const float* x, int64_t k, int64_t k_padded, uint8_t* dst) {
  __m512 amax = _mm512_setzero_ps();
  for (int64_t i = 0; i < k; i += 16) {
    const __mmask16 m = first_lanes(k - i);
    amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_maskz_loadu_ps(m, x + i)));
  }
  const float mx = _mm512_reduce_max_ps(amax);
  if (!(mx > 0)) {
    std::memset(dst, 128, k_padded);
    return 0;
  }
  std::memset(dst + k, 128, k_padded - k);
  const __m512 inv = _mm512_set1_ps(127.f / mx);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127),
                off = _mm512_set1_epi32(128);
  for (int64_t i = 0; i < k; i += 16) {
    const __mmask16 m = first_lanes(k - i);
    __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
    q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, lo), hi), off);
    _mm512_mask_cvtepi32_storeu_epi8(dst + i, m, q);
  }
  return mx / 127.f;
}

// One kc block of the tile: acc[R x 32] = (first ? 0 : part) + sum_k u8[r][k] * w[k][c]. Between
// blocks the int32 partial sums live in `part` (exact); after the last block the epilogue
// (gemm_avx512_w8a8_tile.hpp).
template <int R>
void micro(const int32_t* a, const int8_t* b, int64_t steps, int32_t* part, bool first,
           const Epilogue* last) {
  __m512i c0[R], c1[R];
#pragma GCC unroll 14
  for (int r = 0; r < R; ++r) {
    c0[r] = first ? _mm512_setzero_si512() : _mm512_loadu_si512(part + r * 32);
    c1[r] = first ? _mm512_setzero_si512() : _mm512_loadu_si512(part + r * 32 + 16);
  }
  for (int64_t s = 0; s < steps; ++s) {
    const __m512i b0 = _mm512_loadu_si512(b + s * 128), b1 = _mm512_loadu_si512(b + s * 128 + 64);
#pragma GCC unroll 14
    for (int r = 0; r < R; ++r) {
      const __m512i av = _mm512_set1_epi32(a[s * kMR + r]);
      c0[r] = _mm512_dpbusd_epi32(c0[r], av, b0);
      c1[r] = _mm512_dpbusd_epi32(c1[r], av, b1);
    }
  }
  if (!last) {
#pragma GCC unroll 14
    for (int r = 0; r < R; ++r) {
      _mm512_storeu_si512(part + r * 32, c0[r]);
      _mm512_storeu_si512(part + r * 32 + 16, c1[r]);
    }
    return;
  }
  store_tile<R>(c0, c1, *last);
}

using MicroFn = void (*)(const int32_t*, const int8_t*, int64_t, int32_t*, bool, const Epilogue*);
template <int... R>
constexpr auto make_table(std::integer_sequence<int, R...>) {
  return std::array<MicroFn, sizeof...(R)>{&micro<R + 1>...};
}
constexpr auto kMicro = make_table(std::make_integer_sequence<int, kMR>{});

// m = 1: stream each panel once over the whole k, 8 independent accumulators, software prefetch
// (same scheme as the weight-only GEMVs in gemm_avx512.cpp).
void gemv_w8a8(const int32_t* a, float sx, const PackedWeights& w, float* y, int64_t p0,
               int64_t p1) {
  constexpr int64_t kPrefetchBytes = 8192;
  const int64_t steps = w.k_padded / 4;
  const int8_t* data = reinterpret_cast<const int8_t*>(w.data.data());
  for (int64_t p = p0; p < p1; ++p) {
    const int8_t* b = data + p * steps * 128;
    __m512i acc[8];
    for (auto& v : acc) v = _mm512_setzero_si512();
    int64_t s = 0;
    for (; s + 4 <= steps; s += 4) {
#pragma GCC unroll 4
      for (int u = 0; u < 4; ++u) {
        _mm_prefetch(reinterpret_cast<const char*>(b + (s + u) * 128) + kPrefetchBytes,
                     _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(b + (s + u) * 128) + kPrefetchBytes + 64,
                     _MM_HINT_T0);
        const __m512i av = _mm512_set1_epi32(a[(s + u) * kMR]);
        acc[2 * u] = _mm512_dpbusd_epi32(acc[2 * u], av, _mm512_loadu_si512(b + (s + u) * 128));
        acc[2 * u + 1] =
            _mm512_dpbusd_epi32(acc[2 * u + 1], av, _mm512_loadu_si512(b + (s + u) * 128 + 64));
      }
    }
    for (; s < steps; ++s) {
      const __m512i av = _mm512_set1_epi32(a[s * kMR]);
      acc[0] = _mm512_dpbusd_epi32(acc[0], av, _mm512_loadu_si512(b + s * 128));
      acc[1] = _mm512_dpbusd_epi32(acc[1], av, _mm512_loadu_si512(b + s * 128 + 64));
    }
    const __m512i c0 =
        _mm512_add_epi32(_mm512_add_epi32(acc[0], acc[2]), _mm512_add_epi32(acc[4], acc[6]));
    const __m512i c1 =
        _mm512_add_epi32(_mm512_add_epi32(acc[1], acc[3]), _mm512_add_epi32(acc[5], acc[7]));
    const Epilogue ep = panel_epilogue(&sx, w, y, 0, p);
    store_tile<1>(&c0, &c1, ep);
  }
}

// ---- 2 <= m <= gemv_rows_crossover(): multi-row GEMV (docs/gemm.md, "Small m") -----------------
// The m = 1 scheme with every loaded weight vector (4 k x 32 columns, two zmm) fed to up to kRows
// rows of x: R broadcasts + 2R vpdpbusd per 128 weight bytes. x is quantized per token first and
// interleaved in blocks of kRows rows (quantize_rows_u8_avx512), so one step's R broadcasts read
// one 32-byte run: with row-major rows (a 4 KiB stride at k = 4096) every row's bytes of a chunk
// fell into the same L1 sets (m = 16: 1.6-1.7x the m = 1 time, interleaved 1.3). For m > kRows the
// panel is walked in chunks of kChunkSteps that the row blocks reuse from L1, the int32 partial
// sums parked in `part` between chunks (exact, like the blocked GEMM's).
constexpr int kRows = kGemvRowsW8a8;     // 16 accumulators + 2 weight vectors + a broadcast
constexpr int64_t kChunkSteps = 256;     // 256 x 128 B = 32 KiB of weights per chunk
constexpr int64_t kRowsPrefetch = 8192;  // as gemv_w8a8

// Prefetch: per 2 steps, pf_step bytes from pf on (pf_step <= 256; every 64-byte line is touched
// when pf_step <= 128 or a multiple of 64), into L1 (to_l2 false) or L2.
struct RowsPrefetch {
  const char* pf;
  int64_t pf_step;
  bool to_l2;
};

template <int R>
void rows_block(const int32_t* xq, const int8_t* b, int64_t steps, int32_t* part, bool first,
                const Epilogue* last, const RowsPrefetch& pre) {
  // R < 4 gives fewer than 8 vpdpbusd chains, too few to hide the latency: even and odd steps
  // then go to separate sets (summed at the end; integer sums, so the order changes nothing).
  constexpr int S = R >= 4 ? 1 : 2;
  __m512i c0[S][R], c1[S][R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    c0[0][r] = first ? _mm512_setzero_si512() : _mm512_loadu_si512(part + r * 32);
    c1[0][r] = first ? _mm512_setzero_si512() : _mm512_loadu_si512(part + r * 32 + 16);
    if constexpr (S == 2) c0[1][r] = c1[1][r] = _mm512_setzero_si512();
  }
  int64_t s = 0;
  for (; s + 2 <= steps; s += 2) {
    const char* q = pre.pf + (s / 2) * pre.pf_step;
    for (int64_t off = 0; off < pre.pf_step; off += 64)
      if (pre.to_l2)
        _mm_prefetch(q + off, _MM_HINT_T1);
      else
        _mm_prefetch(q + off, _MM_HINT_T0);
#pragma GCC unroll 2
    for (int u = 0; u < 2; ++u) {
      const __m512i b0 = _mm512_loadu_si512(b + (s + u) * 128);
      const __m512i b1 = _mm512_loadu_si512(b + (s + u) * 128 + 64);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512i av = _mm512_set1_epi32(xq[(s + u) * kRows + r]);
        c0[u % S][r] = _mm512_dpbusd_epi32(c0[u % S][r], av, b0);
        c1[u % S][r] = _mm512_dpbusd_epi32(c1[u % S][r], av, b1);
      }
    }
  }
  if (s < steps) {
    const __m512i b0 = _mm512_loadu_si512(b + s * 128), b1 = _mm512_loadu_si512(b + s * 128 + 64);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512i av = _mm512_set1_epi32(xq[s * kRows + r]);
      c0[0][r] = _mm512_dpbusd_epi32(c0[0][r], av, b0);
      c1[0][r] = _mm512_dpbusd_epi32(c1[0][r], av, b1);
    }
  }
  if constexpr (S == 2)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      c0[0][r] = _mm512_add_epi32(c0[0][r], c0[1][r]);
      c1[0][r] = _mm512_add_epi32(c1[0][r], c1[1][r]);
    }
  if (last) {
    store_tile<R>(c0[0], c1[0], *last);
    return;
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_si512(part + r * 32, c0[0][r]);
    _mm512_storeu_si512(part + r * 32 + 16, c1[0][r]);
  }
}

using RowsFn = void (*)(const int32_t*, const int8_t*, int64_t, int32_t*, bool, const Epilogue*,
                        const RowsPrefetch&);
template <int... R>
constexpr auto make_rows_table(std::integer_sequence<int, R...>) {
  return std::array<RowsFn, sizeof...(R)>{&rows_block<R + 1>...};
}
constexpr auto kRowsBlock = make_rows_table(std::make_integer_sequence<int, kRows>{});

}  // namespace

void quantize_rows_u8_avx512(const float* x, int64_t m, int64_t k, int64_t k_padded, int32_t* q,
                             float* scale) {
  thread_local std::vector<int32_t> row;
  const int64_t steps = k_padded / 4;
  row.resize(steps);
  for (int64_t i = 0; i < m; ++i) {
    scale[i] = quantize_row_u8(x + i * k, k, k_padded, reinterpret_cast<uint8_t*>(row.data()));
    int32_t* dst = q + (i / kRows) * steps * kRows + i % kRows;
    for (int64_t s = 0; s < steps; ++s) dst[s * kRows] = row[s];
  }
}

void quantize_rows_rowmajor_avx512(const float* x, int64_t m, int64_t k, int64_t k_padded,
                                   int64_t lda, uint8_t* a, float* scale, int64_t r0, int64_t r1) {
  for (int64_t i = r0; i < r1; ++i) {
    if (i < m) {
      scale[i] = quantize_row_u8(x + i * k, k, k_padded, a + i * lda);
    } else {
      scale[i] = 0;
      std::memset(a + i * lda, 128, k_padded);
    }
  }
}

void gemv_rows_w8a8_avx512(const int32_t* q, const float* scale, int64_t m, const PackedWeights& w,
                           float* y, int64_t p0, int64_t p1) {
  const int64_t steps = w.k_padded / 4, blocks = (m + kRows - 1) / kRows;
  const int64_t chunk = m <= kRows ? steps : kChunkSteps;
  const int8_t* data = reinterpret_cast<const int8_t*>(w.data.data());
  thread_local std::vector<int32_t> part;
  part.resize(blocks * kRows * 32);
  for (int64_t p = p0; p < p1; ++p) {
    const int8_t* panel = data + p * steps * 128;
    for (int64_t s0 = 0; s0 < steps; s0 += chunk) {
      const int64_t ns = std::min(chunk, steps - s0);
      const bool first = s0 == 0, is_last = s0 + ns == steps;
      const int8_t* b = panel + s0 * 128;
      for (int64_t ib = 0; ib < blocks; ++ib) {
        const int64_t rows = std::min<int64_t>(kRows, m - ib * kRows);
        const Epilogue ep = panel_epilogue(scale + ib * kRows, w, y, ib * kRows, p);
        // One block: the stream itself, 8 KiB ahead. Several: each block fetches its 1/blocks
        // share of the next chunk into L2, so DRAM stays busy while the later blocks re-read
        // this chunk from L1 (with block 0 alone fetching, DRAM idled during the others).
        const RowsPrefetch pre =
            blocks == 1
                ? RowsPrefetch{reinterpret_cast<const char*>(b) + kRowsPrefetch, 256, false}
                : RowsPrefetch{reinterpret_cast<const char*>(b + ns * 128) + ib * ns * 128 / blocks,
                               256 / blocks, true};
        kRowsBlock[rows - 1](q + (ib * steps + s0) * kRows, b, ns, &part[ib * kRows * 32], first,
                             is_last ? &ep : nullptr, pre);
      }
    }
  }
}

void quantize_pack_rows_avx512(const float* x, int64_t m, int64_t k, int64_t k_padded, int32_t* a,
                               float* scale, int64_t b0, int64_t b1) {
  // Each row is quantized into its own row buffer while x's row is still in L1, then the block's
  // rows are interleaved dword by dword into the tile's layout with sequential stores (a strided
  // copy per row, row after row, cost 1.5 ms per 512 x 4096 call here; this costs ~0.4 ms).
  thread_local std::vector<uint32_t> rows;
  const int64_t steps = k_padded / 4;
  rows.resize(kMR * steps);
  for (int64_t ib = b0; ib < b1; ++ib) {
    const int64_t nrows = std::min<int64_t>(kMR, m - ib * kMR);
    for (int64_t r = 0; r < kMR; ++r) {
      const int64_t i = ib * kMR + r;
      uint8_t* row = reinterpret_cast<uint8_t*>(rows.data() + r * steps);
      if (r < nrows) {
        scale[i] = quantize_row_u8(x + i * k, k, k_padded, row);
      } else {
        scale[i] = 0;
        std::memset(row, 128, k_padded);
      }
    }
    uint32_t* dst = reinterpret_cast<uint32_t*>(a + ib * steps * kMR);
    const uint32_t* src = rows.data();
    for (int64_t s = 0; s < steps; ++s) {
#pragma GCC unroll 14
      for (int r = 0; r < kMR; ++r) dst[s * kMR + r] = src[r * steps + s];
    }
  }
}

// Same loop order as the fp32 GEMM (gemm_avx512.cpp): groups of kNC panels, kc blocks of k, the
// A micro-panel (kMR x kKC bytes) in L1 while the tile walks the group's panels.
void gemm_w8a8_avx512(const int32_t* a, const float* scale, int64_t m, const PackedWeights& w,
                      float* y, int64_t p0, int64_t p1) {
  if (m == 1) {
    gemv_w8a8(a, scale[0], w, y, p0, p1);
    return;
  }
  const int64_t steps = w.k_padded / 4;
  const int8_t* data = reinterpret_cast<const int8_t*>(w.data.data());
  w8a8_tile_loop<kMR, kNC, kKC>(scale, m, w, y, p0, p1,
                                [&](int64_t ib, int64_t rows, int64_t s0, int64_t ns, int64_t p,
                                    int32_t* part, bool first, const Epilogue* last) {
                                  kMicro[rows - 1](a + (ib * steps + s0) * kMR,
                                                   data + (p * steps + s0) * 128, ns, part, first,
                                                   last);
                                });
}

}  // namespace llmroof::kernels::detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // __x86_64__
