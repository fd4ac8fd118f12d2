// W8A8 GEMM on AMX tiles (AMX-INT8: Intel Xeon from Sapphire Rapids on) for m >= kW8a8AmxMinRows
// (2: from there it beats the multi-row VNNI GEMV too; docs/gemm.md). One tdpbusd multiplies a 16 x
// 64 u8 tile of the activations by a 64 x 16 s8 tile of the weights into a 16 x 16 int32 tile: 16
// 384 MACs, 256 times a zmm vpdpbusd's 64. The operands are those of the VNNI tile
// (gemm_avx512_int8.cpp): rows of x quantized per token to u8 = q + 128, weights in their packed
// panels, the 128 * colsum correction in the same epilogue (gemm_avx512_w8a8_tile.hpp), so the
// int32 sums are the same exact integers on both paths.
//
// Layouts (docs/gemm.md, "AMX"). A tile is 16 rows of 64 bytes loaded with a stride:
//  - x: row-major u8 rows of k_padded bytes (a multiple of 64), amx_lda(k_padded) apart
//    (quantize_rows_rowmajor_avx512), an A tile = 16 rows x 64 consecutive k;
//  - W: a panel's 128-byte step s holds k 4s..4s+3 of its 32 columns, column c in bytes 4c..4c+3:
//    the "VNNI" order AMX wants for B (a B row = 4 consecutive k of 16 columns). 16 steps at
//    stride 128 are the B tile of columns 0-15, the same at +64 that of columns 16-31; no
//    repacking.
// The tile: 32 rows x 32 columns, tmm0..3 the four 16 x 16 int32 quarters, tmm4/5 the two A row
// halves, tmm6/7 the two B column halves: 4 tdpbusd per 4 tile loads.
#include <algorithm>
#include <vector>

#include "kernels/cpu/amx_tile_config.hpp"
#include "kernels/cpu/gemm_internal.hpp"

#if defined(__x86_64__)  // whole file: x86-64 only
#pragma GCC push_options
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 intrinsics headers (_mm512_undefined)
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,amx-tile,amx-int8")
#include <immintrin.h>

#include "kernels/cpu/gemm_avx512_w8a8_tile.hpp"

namespace llmroof::kernels::detail {

namespace {

constexpr int64_t kMT = kGemmMRAmx;  // rows per tile (two A tiles)
constexpr int64_t kKC = 4096;  // k per block: one panel's B block 128 KiB, a group's 1 MiB (L2)
constexpr int64_t kNC = 8;     // panels per group (each A block reused 8 times)
// With at most two row tiles (m <= 64: batched decode) the weights stream from DRAM through the
// first tile's k steps with little math to hide them: B is also prefetched this many steps ahead
// into L2 (+5-9 % at m = 8 and 64; at m = 512 the extra prefetches cost 4-8 %: docs/gemm.md).
constexpr int64_t kFarSteps = 64;
constexpr int64_t kFarMaxRows = 2 * kMT;

// One kc block of a 16- (Two false) or 32-row tile: acc (part, [32][32] int32) = (first ? 0 :
// part) + the block's products. a: the tile's first row at the block's k, lda its row stride; b:
// the panel's block (steps 128-byte steps, a multiple of 16).
template <bool Two, bool Far>
void tile_block(const uint8_t* a, int64_t lda, const int8_t* b, int64_t steps, int32_t* part,
                bool first) {
  constexpr long kC = 32 * 4;  // bytes per row of part
  if (first) {
    _tile_zero(0);
    _tile_zero(1);
    if constexpr (Two) {
      _tile_zero(2);
      _tile_zero(3);
    }
  } else {
    _tile_loadd(0, part, kC);
    _tile_loadd(1, part + 16, kC);
    if constexpr (Two) {
      _tile_loadd(2, part + 16 * 32, kC);
      _tile_loadd(3, part + 16 * 32 + 16, kC);
    }
  }
  for (int64_t s = 0; s < steps; s += 16) {
    // The next k step's A rows and B lines into L1 (prefetches do not fault past the block's end).
    const char* pa = reinterpret_cast<const char*>(a) + 4 * (s + 16);
    const char* pb = reinterpret_cast<const char*>(b) + 128 * (s + 16);
    for (int r = 0; r < (Two ? 32 : 16); ++r) _mm_prefetch(pa + r * lda, _MM_HINT_T0);
    for (int r = 0; r < 32; ++r) _mm_prefetch(pb + 64 * r, _MM_HINT_T0);
    if constexpr (Far) {
      const char* fb = reinterpret_cast<const char*>(b) + 128 * (s + kFarSteps);
      for (int r = 0; r < 32; ++r) _mm_prefetch(fb + 64 * r, _MM_HINT_T1);
    }
    _tile_loadd(4, a + 4 * s, lda);
    _tile_loadd(6, b + 128 * s, 128);
    _tile_loadd(7, b + 128 * s + 64, 128);
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    if constexpr (Two) {
      _tile_loadd(5, a + 16 * lda + 4 * s, lda);
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    }
  }
  _tile_stored(0, part, kC);
  _tile_stored(1, part + 16, kC);
  if constexpr (Two) {
    _tile_stored(2, part + 16 * 32, kC);
    _tile_stored(3, part + 16 * 32 + 16, kC);
  }
}

}  // namespace

// The VNNI GEMM's loop nest (w8a8_tile_loop) with k blocks of 4096: the tile's A block (32 rows x
// 4 KiB) and the group's B blocks stay in L2 and reach L1 through tile_block's prefetch (smaller k
// blocks that fit L1 lost to the partial sums' tile loads and stores: docs/gemm.md).
void gemm_w8a8_amx(const uint8_t* a, const float* scale, int64_t m, const PackedWeights& w,
                   float* y, int64_t p0, int64_t p1) {
  const int64_t steps = w.k_padded / 4, lda = amx_lda(w.k_padded);
  const int8_t* data = reinterpret_cast<const int8_t*>(w.data.data());
  const bool far = m <= kFarMaxRows;
  _tile_loadconfig(&kAmxTileConfig);
  w8a8_tile_loop<kMT, kNC, kKC>(scale, m, w, y, p0, p1,
                                [&](int64_t ib, int64_t rows, int64_t s0, int64_t ns, int64_t p,
                                    int32_t* part, bool first, const Epilogue* last) {
                                  const uint8_t* ablk = a + ib * kMT * lda + 4 * s0;
                                  const int8_t* b = data + (p * steps + s0) * 128;
                                  const auto block =
                                      rows > 16
                                          ? (far ? tile_block<true, true> : tile_block<true, false>)
                                          : (far ? tile_block<false, true>
                                                 : tile_block<false, false>);
                                  block(ablk, lda, b, ns, part, first);
                                  if (last) store_rows(part, rows, *last);
                                });
  _tile_release();
}

}  // namespace llmroof::kernels::detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // __x86_64__
