// bf16-weight GEMM on AMX tiles (AMX-BF16: Intel Xeon from Sapphire Rapids on) for m >=
// kBf16AmxMinRows. One tdpbf16ps multiplies a 16 x 32 bf16 tile of the activations by a 32 x 16
// bf16 tile of the weights into a 16 x 16 fp32 tile: 8192 multiply-adds, the work of 512 zmm
// vfmadd231ps in the fp32 FMA paths that run the same weights below that m.
//
// What changes for the user: x is rounded to bf16 (round to nearest even) before the products, as
// every bf16 inference engine's activations are; the weights are the same bf16 values, each product
// of two bf16 is exact in fp32, and the sums are fp32. So the result differs from the fp32 paths'
// by x's rounding only (relative 2^-9 per element: docs/gemm.md, "bf16 on AMX").
//
// Layouts (docs/gemm.md):
//  - x: row-major bf16 rows of kp = k rounded up to 32 (zero past k), amx_lda(2 kp) bytes apart;
//    an A tile = 16 rows x 32 consecutive k (64 bytes);
//  - W: the bf16 panels keep the layout the fp32-FMA paths read (one 64-byte row of 32 columns per
//    k, permuted for vpunpck: gemm_pack.cpp). AMX wants B as pairs: a 128-byte step holds k 2s and
//    2s+1 of the panel's 32 columns, column c in bytes 4c..4c+3 (even k in the low half). Two rows
//    turn into one step with one vpunpcklwd (columns 0-15) and one vpunpckhwd (16-31), because
//    the packing put columns 4L..4L+3 and 16+4L..16+4L+3 in 128-bit lane L: repack_block does that
//    per k block into a buffer in L2 that every row tile then reads. No second copy of the
//    weights, and the repack (a few instructions per 64 bytes) hides behind the stream from DRAM.
#include <algorithm>
#include <vector>

#include "kernels/cpu/amx_tile_config.hpp"
#include "kernels/cpu/gemm_internal.hpp"

#if defined(__x86_64__)  // whole file: x86-64 only
#pragma GCC push_options
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 intrinsics headers (_mm512_undefined)
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,amx-tile,amx-bf16")
#include <immintrin.h>

#include "kernels/cpu/amx_tile_block.hpp"
#include "kernels/cpu/simd_avx512.hpp"

namespace llmroof::kernels::detail {

namespace {

constexpr int64_t kMT = kGemmMRAmx;  // rows per tile (two A tiles)
constexpr int64_t kKC = 2048;  // k per block: one panel's repacked B block 128 KiB, a group's 1 MiB
constexpr int64_t kNC = 8;     // panels per group (each repacked block read by every row tile)

// repack_block prefetches its source rows this many bytes (16 k) ahead into L1: at m = 2..32
// (the weights streaming from DRAM) 5-15 % faster than without; 512 B, 2, 4 and 16 KiB ahead were
// slower than 1 KiB (gemm_bench --benchmark_filter=amx_vs_fma, docs/gemm.md).
constexpr int64_t kRepackAhead = 1024;

using avx512::first_lanes;

// Steps [s0, s0 + ns) (k = 2s, 2s + 1) of panel p into b as the B tiles' pairs; rows at or past k
// are zero (tdpbf16ps then adds 0 * x = 0 for the zero-padded x).
void repack_block(const PackedWeights& w, int64_t p, int64_t s0, int64_t ns, uint16_t* b) {
  const uint16_t* src = reinterpret_cast<const uint16_t*>(w.data.data()) + p * w.k * kPanel;
  const int64_t full = std::clamp<int64_t>(w.k / 2 - s0, 0, ns);  // steps with both rows < k
  for (int64_t s = 0; s < full; ++s) {
    const uint16_t* r = src + 2 * (s0 + s) * kPanel;
    _mm_prefetch(reinterpret_cast<const char*>(r) + kRepackAhead, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(r) + kRepackAhead + 64, _MM_HINT_T0);
    const __m512i r0 = _mm512_loadu_si512(r), r1 = _mm512_loadu_si512(r + kPanel);
    _mm512_storeu_si512(b + 64 * s, _mm512_unpacklo_epi16(r0, r1));
    _mm512_storeu_si512(b + 64 * s + 32, _mm512_unpackhi_epi16(r0, r1));
  }
  for (int64_t s = full; s < ns; ++s) {
    const int64_t k0 = 2 * (s0 + s);
    const __m512i zero = _mm512_setzero_si512();
    const __m512i r0 = k0 < w.k ? _mm512_loadu_si512(src + k0 * kPanel) : zero;
    _mm512_storeu_si512(b + 64 * s, _mm512_unpacklo_epi16(r0, zero));
    _mm512_storeu_si512(b + 64 * s + 32, _mm512_unpackhi_epi16(r0, zero));
  }
}

// `rows` rows of fp32 sums (32 per row) into y, `cols` columns.
void store_rows(const float* part, int64_t rows, float* y, int64_t ldy, int64_t cols) {
  const __mmask16 m0 = first_lanes(cols), m1 = first_lanes(cols - 16);
  for (int64_t r = 0; r < rows; ++r) {
    _mm512_mask_storeu_ps(y + r * ldy, m0, _mm512_loadu_ps(part + 32 * r));
    _mm512_mask_storeu_ps(y + r * ldy + 16, m1, _mm512_loadu_ps(part + 32 * r + 16));
  }
}

}  // namespace

void round_rows_bf16_avx512(const float* x, int64_t m, int64_t k, int64_t kp, int64_t lda,
                            uint16_t* a, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    uint16_t* d = reinterpret_cast<uint16_t*>(reinterpret_cast<uint8_t*>(a) + r * lda);
    const float* xr = x + r * k;
    for (int64_t i = 0; i < kp; i += 16) {
      const __mmask16 mk = r < m ? first_lanes(k - i) : __mmask16(0);
      const __m256bh v = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mk, xr + i));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), reinterpret_cast<const __m256i&>(v));
    }
  }
}

// Groups of kNC panels; per k block of kKC the group's blocks are repacked once (read from DRAM,
// written to L2), then each 32-row tile walks them (its A block, 32 rows x 4 KiB, in L2 and
// prefetched into L1 by amx_tile_block). The sums stay fp32 in `part` between k blocks.
void gemm_bf16_amx(const uint16_t* a, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                   int64_t p1) {
  const int64_t kp = amx_bf16_kp(w.k), steps = kp / 2, lda = amx_lda(2 * kp);
  const int64_t blocks = (m + kMT - 1) / kMT;
  const auto* abytes = reinterpret_cast<const uint8_t*>(a);
  thread_local std::vector<float> part;
  thread_local std::vector<uint16_t> bbuf;
  part.resize(kNC * blocks * kMT * 32);
  bbuf.resize(kNC * (kKC / 2) * 64);
  _tile_loadconfig(&kAmxTileConfig);
  for (int64_t g0 = p0; g0 < p1; g0 += kNC) {
    const int64_t gn = std::min(kNC, p1 - g0);
    for (int64_t s0 = 0; s0 < steps; s0 += kKC / 2) {
      const int64_t ns = std::min(kKC / 2, steps - s0);  // a multiple of 16: kp is of 32
      const bool first = s0 == 0, last = s0 + ns == steps;
      for (int64_t j = 0; j < gn; ++j) repack_block(w, g0 + j, s0, ns, &bbuf[j * ns * 64]);
      for (int64_t ib = 0; ib < blocks; ++ib) {
        const int64_t rows = std::min(kMT, m - ib * kMT);
        const auto block =
            rows > 16 ? amx_tile_block<float, true, false> : amx_tile_block<float, false, false>;
        for (int64_t j = 0; j < gn; ++j) {
          const int64_t p = g0 + j;
          float* pj = &part[(j * blocks + ib) * kMT * 32];
          block(abytes + ib * kMT * lda + 4 * s0, lda,
                reinterpret_cast<const uint8_t*>(&bbuf[j * ns * 64]), ns, pj, first);
          if (last) store_rows(pj, rows, y + ib * kMT * w.n + p * kPanel, w.n, w.n - p * kPanel);
        }
      }
    }
  }
  _tile_release();
}

}  // namespace llmroof::kernels::detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // __x86_64__
