#pragma once
// The flash-decoding splits' prefetch of the next block (attention_decode_avx512.cpp and the AMX
// split, attention_decode_amx.cpp). Volatile asm, not _mm_prefetch: GCC 12 deems a function made
// only of __builtin_prefetch free of side effects and deletes the calls to it. Internal linkage,
// like simd_avx512.hpp: the including files are compiled with different ISA flags.
#include <cstdint>

namespace llmroof::kernels {
namespace {

// Streams the next block's K and V rows into the caches a few lines per call, in address order,
// from every PV token step as well as every QK step, so the prefetches are spread over the whole
// block's compute instead of coming in bursts during QK (see block()).
// Paced (PacedPrefetcher): the QK kernels call step() about once per 16 FMAs too (qk_heads: per
// 16-wide chunk; qk_heads_pairs: 2·U·GB/16 times per 32-wide chunk), not once per 4 tokens, so QK
// and PV get prefetches in proportion to their work and the lines go out at an even rate: DRAM
// does not idle while QK computes, nor do the misses pile up while PV runs. `per` comes from the
// step count of the previous full block (the first block uses block()'s estimate). Where it is
// used: paced_prefetch. ToL2: prefetcht1 (into L2) instead of prefetcht0 (the AMX split: its tile
// loads read L2).
template <bool Paced, bool ToL2 = false>
struct PrefetcherT {
  static constexpr bool kSpread = true;
  static constexpr bool kPaced = Paced;
  const char* k = nullptr;
  const char* v = nullptr;
  int64_t pos = 0, end = 0, per = 0;  // bytes; lines of K (and of V) per step
  int64_t steps = 0;                  // step() calls so far (paced: sizes `per` of the next block)
  inline void step() {
    if constexpr (Paced) ++steps;
    for (int64_t i = 0; i < per && pos < end; ++i, pos += 64) line(pos);
  }
  inline void rest() {
    for (; pos < end; pos += 64) line(pos);
  }
  inline void line(int64_t at) const {
    if constexpr (ToL2) {
      asm volatile("prefetcht1 %0" : : "m"(k[at]));
      asm volatile("prefetcht1 %0" : : "m"(v[at]));
    } else {
      asm volatile("prefetcht0 %0" : : "m"(k[at]));
      asm volatile("prefetcht0 %0" : : "m"(v[at]));
    }
  }
};
}  // namespace
}  // namespace llmroof::kernels
