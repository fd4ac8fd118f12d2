#pragma once
// The AMX tile configuration of the GEMMs (gemm_amx_int8.cpp, gemm_amx_bf16.cpp) and calibrate's
// peak loops: palette 1, eight tiles of 16 rows x 64 bytes, the largest tdpbusd takes. (The
// decode splits, attention_decode_amx.cpp and attention_decode_amx_int8.cpp, configure narrower
// tiles per number of q heads.)
#include <cstdint>

namespace llmroof::kernels::detail {

// ldtilecfg's 64-byte operand. A constant in memory: GCC's _tile_loadconfig tells the compiler it
// reads 8 bytes only, so a config built on the stack could lose its stores.
struct alignas(64) AmxTileConfig {
  uint8_t palette, start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};
inline constexpr AmxTileConfig kAmxTileConfig = {
    1, 0, {}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};

}  // namespace llmroof::kernels::detail
