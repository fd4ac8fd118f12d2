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
// does not idle while QK computes, nor do the misses pile up while PV runs. The plan() of a block
// counts the step() calls of the previous full block (the first block uses block()'s estimate).
// Where it is used: paced_prefetch. ToL2: prefetcht1 (into L2) instead of prefetcht0 (the AMX
// split: its tile loads read L2).
template <bool Paced, bool ToL2 = false>
struct PrefetcherT {
  static constexpr bool kSpread = true;
  static constexpr bool kPaced = Paced;
  const char* k = nullptr;
  const char* v = nullptr;
  int64_t pos = 0, end = 0;  // bytes of K (and of V) prefetched so far, and in all
  int64_t steps = 0;         // step() calls so far (paced: the plan of the next block)
  // lines / planned lines of K (and of V) per step, as a fraction: after step i (from 1) the first
  // ceil(i · lines / planned) lines are out, so they go out evenly over the planned steps. A whole
  // number per step, ceil(lines / planned), ended early and left memory idle for the rest of the
  // block: the int8 GQA 4 split (8 kv heads) issued its 256th line at step 256 of 288, so its last
  // kv head ran with none (docs/kernels.md, "Prefetch spread evenly").
  int64_t lines = 0, planned = 1, credit = 0;
  inline void plan(int64_t bytes, int64_t planned_steps) {
    end = bytes;
    lines = (bytes + 63) / 64;
    planned = planned_steps > 0 ? planned_steps : 1;
    credit = planned - 1;  // the first step issues a line
  }
  inline void step() {
    if constexpr (Paced) ++steps;
    for (credit += lines; credit >= planned && pos < end; credit -= planned, pos += 64) line(pos);
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
