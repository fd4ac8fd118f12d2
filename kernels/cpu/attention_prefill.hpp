#pragma once
// Internal interface between the flash-attention prefill driver (attention_prefill.cpp: threads,
// scheduling, scratch) and its AVX-512 tile kernel (attention_prefill_avx512.cpp). The public API is
// attention_prefill() in kernels/cpu/attention.hpp.
#include <cstdint>

#include "kernels/cpu/attention.hpp"

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
  float* state;           // flash_state_floats(head_dim) floats, 64-byte aligned: this tile's own
  // Keys past the last query's horizon are never visited: the end of this tile's key range.
  int64_t key_end() const {
    return causal && q0 + nq + causal_offset < kv_len ? q0 + nq + causal_offset : kv_len;
  }
};
// A tile's running state: Q^T [hd][64] (pre-scaled), O [64][hd], and max, sum, alpha [64] each.
inline int64_t flash_state_floats(int64_t head_dim) {
  return 2 * head_dim * kFlashQueryTile + 3 * kFlashQueryTile;
}
// Scratch shared by the tiles of a group: the scores S^T [64 keys][64 queries] and the key tile's
// K and V rows, packed [64 keys][hd] each.
inline int64_t flash_shared_floats(int64_t head_dim) {
  return kFlashKeyTile * kFlashQueryTile + 2 * kFlashKeyTile * head_dim;
}

// Up to kFlashGroupTiles query tiles that read the same K and V (one kv head of one batch row: the
// q heads of a GQA group, then consecutive query tiles of a head). Each key tile is read from
// memory once for all of them: with the tiles one at a time, every tile re-read its key range
// from the L3, which on the development host is no faster than DRAM (docs/kernels.md, "Flash
// prefill: query tiles in groups").
inline constexpr int kFlashGroupTiles = 8;
// Work items of attention_prefill(d) on `threads` threads: `heads` q heads of one kv head (one of
// the `chunks` its GQA group is cut into) × `span` consecutive query tiles, heads × span <=
// kFlashGroupTiles. The span shrinks while there would be fewer than 8 items per thread (short
// prompts, batch 1).
struct FlashPlan {
  int64_t heads, chunks, span;
};
FlashPlan flash_prefill_plan(const AttentionDims& d, int threads);
// tiles[0..count) share k, v, kv_stride, head_dim, kv_len, causal_offset, causal and scale_log2.
void flash_prefill_group_avx512(const FlashTile* tiles, int count, float* shared);
// One tile on AVX2 + FMA (attention_prefill_avx2.cpp); shared: flash_shared_floats(head_dim).
void flash_prefill_tile_avx2(const FlashTile& t, float* shared);

}  // namespace llmroof::kernels
