#pragma once
// The AMX tiles' inner loop, shared by the W8A8 (tdpbusd, gemm_amx_int8.cpp) and bf16
// (tdpbf16ps, gemm_amx_bf16.cpp) GEMMs. Include only after the including file's AMX target pragma
// and <immintrin.h> (internal linkage: each file compiles its own copy).
//
// Both instructions see their operands the same way in bytes: a "step" of 4 bytes per row of x
// (4 k of u8, or 2 k of bf16), and a 128-byte step of B holding that step's 4 bytes for each of a
// panel's 32 columns (column c in bytes 4c..4c+3). 16 steps are one tile's k: A = 16 rows x 64
// bytes at the row stride lda, B = 16 steps at stride 128 (columns 0-15; at +64 columns 16-31).
#include <cstdint>
#include <type_traits>

namespace llmroof::kernels::detail {
namespace {

// One k block of a 16- (Two false) or 32-row tile: part ([32][32] Acc: int32 sums for tdpbusd,
// fp32 for tdpbf16ps) = (first ? 0 : part) + the block's products. tmm0..3 are the four 16 x 16
// quarters of the 32 x 32 tile, tmm4/5 its two A row halves, tmm6/7 the two B column halves: 4
// dot products per 4 tile loads. a: the tile's first row at the block's k, lda its row stride; b:
// the block's first step (steps a multiple of 16). Far: B is also prefetched kFarSteps steps ahead
// into L2 (when B streams from DRAM with little math per byte to hide it).
template <class Acc, bool Two, bool Far, int64_t kFarSteps = 64>
void amx_tile_block(const uint8_t* a, int64_t lda, const uint8_t* b, int64_t steps, Acc* part,
                    bool first) {
  static_assert(std::is_same_v<Acc, int32_t> || std::is_same_v<Acc, float>);
  constexpr bool kBf16 = std::is_same_v<Acc, float>;
  constexpr long kC = 32 * 4;  // bytes per row of part
  // GCC's tileloadd is a volatile asm with no memory operand or clobber, so nothing else keeps the
  // caller's vector stores into B (the bf16 repack) or part before the tile loads that read them.
  asm volatile("" ::: "memory");
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
    if constexpr (kBf16) {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
    } else {
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 4, 7);
    }
    if constexpr (Two) {
      _tile_loadd(5, a + 16 * lda + 4 * s, lda);
      if constexpr (kBf16) {
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      } else {
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
      }
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
}  // namespace llmroof::kernels::detail
