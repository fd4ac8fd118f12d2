#pragma once
// Internal interface between the flash-attention prefill driver (attention_prefill.cpp: threads,
// scheduling, scratch) and its AVX-512 tile kernel (attention_prefill_avx512.cpp). The public API is
// attention_prefill() in kernels/cpu/attention.hpp.
#include <cstdint>

namespace llmroof::kernels {

inline constexpr int64_t kFlashQueryTile = 64;  // queries per tile (4 zmm of lanes)
inline constexpr int64_t kFlashKeyTile = 64;    // keys per online-softmax step

// One query tile of one (batch, q head): pointers already offset to that batch row and head.
struct FlashTile {
  const float* q;         // query q0 of this head; rows q_stride floats apart
  const float* k;         // key 0 of the kv head; rows kv_stride floats apart
  const float* v;
  float* o;               // output row q0 of this head; rows q_stride floats apart
  int64_t q_stride, kv_stride;
  int64_t head_dim;       // multiple of 16
  int64_t q0, nq;         // first query of the tile and how many (<= kFlashQueryTile)
  int64_t kv_len, causal_offset;  // query i sees keys j <= i + causal_offset (if causal)
  bool causal;
  float scale_log2;       // softmax scale · log2(e): scores live in the exp2 domain
  float* scratch;         // flash_scratch_floats(head_dim) floats, 64-byte aligned
};
inline int64_t flash_scratch_floats(int64_t head_dim) {
  return 2 * head_dim * kFlashQueryTile + kFlashKeyTile * kFlashQueryTile + 3 * kFlashQueryTile;
}
void flash_prefill_tile_avx512(const FlashTile& t);
// The same tile on AVX2 + FMA (attention_prefill_avx2.cpp), same scratch layout.
void flash_prefill_tile_avx2(const FlashTile& t);

}  // namespace llmroof::kernels
