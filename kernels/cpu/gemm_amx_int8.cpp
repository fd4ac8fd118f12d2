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

#include "kernels/cpu/amx_tile_block.hpp"
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

}  // namespace

// The VNNI GEMM's loop nest (w8a8_tile_loop) with k blocks of 4096: the tile's A block (32 rows x
// 4 KiB) and the group's B blocks stay in L2 and reach L1 through amx_tile_block's prefetch
// (smaller k blocks that fit L1 lost to the partial sums' tile loads and stores: docs/gemm.md).
void gemm_w8a8_amx(const uint8_t* a, const float* scale, int64_t m, const PackedWeights& w,
                   float* y, int64_t p0, int64_t p1) {
  const int64_t steps = w.k_padded / 4, lda = amx_lda(w.k_padded);
  const uint8_t* data = w.data.data();
  const bool far = m <= kFarMaxRows;
  _tile_loadconfig(&kAmxTileConfig);
  w8a8_tile_loop<kMT, kNC, kKC>(scale, m, w, y, p0, p1,
                                [&](int64_t ib, int64_t rows, int64_t s0, int64_t ns, int64_t p,
                                    int32_t* part, bool first, const Epilogue* last) {
                                  const uint8_t* ablk = a + ib * kMT * lda + 4 * s0;
                                  const uint8_t* b = data + (p * steps + s0) * 128;
                                  const auto block =
                                      rows > 16
                                          ? (far ? amx_tile_block<int32_t, true, true, kFarSteps>
                                                 : amx_tile_block<int32_t, true, false>)
                                          : (far ? amx_tile_block<int32_t, false, true, kFarSteps>
                                                 : amx_tile_block<int32_t, false, false>);
                                  block(ablk, lda, b, ns, part, first);
                                  if (last) store_rows(part, rows, *last);
                                });
  _tile_release();
}

}  // namespace llmroof::kernels::detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // __x86_64__
