#pragma once
// What the two AMX flash-decoding splits share (attention_decode_amx.cpp for bf16 caches,
// attention_decode_amx_int8.cpp for int8): the block length and tile size, the tile configuration
// builder and the compiler fence before tile loads. Internal linkage, like simd_avx512.hpp.
#include <cstdint>

#include "kernels/cpu/amx_tile_config.hpp"

namespace llmroof::kernels {
namespace {

constexpr int64_t kAmxSpan = 32;     // tokens per block: two 16-row K tiles, one P tile row
constexpr int64_t kAmxTileB = 1024;  // bytes of a full tile (16 rows x 64)

// Palette 1 with tiles 0..7 of rows[i] rows x colsb[i] bytes (0 x 0: unused), for the splits'
// constexpr tables of one configuration per number of q heads per tile.
constexpr detail::AmxTileConfig tile_config(const uint16_t (&colsb)[8], const uint8_t (&rows)[8]) {
  detail::AmxTileConfig c{};
  c.palette = 1;
  for (int i = 0; i < 8; ++i) {
    c.colsb[i] = colsb[i];
    c.rows[i] = rows[i];
  }
  return c;
}

// GCC's tileloadd is a volatile asm without a memory clobber: nothing stops the compiler from
// sinking the vector stores that fill a buffer (P, Vp, K, the rescaled o) past the tile load that
// reads it. This fence keeps them before it. (tilestored has the clobber, so loads of what a tile
// store wrote stay after it.)
inline void stores_before_tile_loads() {
  asm volatile("" ::: "memory");
}

}  // namespace
}  // namespace llmroof::kernels
