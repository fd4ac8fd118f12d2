// Throughput of the AVX-512 instructions the decode and GEMM kernels are made of, alone and mixed,
// to tell which ones compete for the same execution pipes (docs/kernels.md, decode attention).
// Each benchmark runs one asm block (independent dependency chains, enough of them to cover the
// latency) 1000 times per iteration; `per_block` is the time of one block. A mix that takes the
// sum of its parts' times shares their pipes; one that takes the longer part's time does not.
// Registers only (no memory operands) except the load/store rows, which stay in one L1-resident
// 512-byte buffer. x86-64 with AVX-512 (VNNI for vpdpbusd) only; elsewhere each benchmark skips.
// Usage: isa_pipes_bench [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdint>

#include "kernels/cpu_features.hpp"

namespace {

constexpr int kBlocks = 1000;

#if defined(__x86_64__)
// 12 vpdpbusd chains (zmm0-11), the unit every mix is measured against.
#define DP(i) "vpdpbusd %%zmm31, %%zmm30, %%zmm" #i "\n\t"
#define DP12 DP(0) DP(1) DP(2) DP(3) DP(4) DP(5) DP(6) DP(7) DP(8) DP(9) DP(10) DP(11)
// 8 chains each of the others (zmm12-19).
#define UNPCK(i) "vpunpcklbw %%zmm30, %%zmm" #i ", %%zmm" #i "\n\t"
#define SHUF(i) "vshufi64x2 $0x44, %%zmm30, %%zmm" #i ", %%zmm" #i "\n\t"
#define FMA(i) "vfmadd231ps %%zmm31, %%zmm30, %%zmm" #i "\n\t"
#define EIGHT(X) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19)
#define ST(off) "vmovups %%zmm12, " #off "(%1)\n\t"
#define LD(i, off) "vmovups " #off "(%1), %%zmm" #i "\n\t"
#define STORES8 ST(0) ST(64) ST(128) ST(192) ST(256) ST(320) ST(384) ST(448)
// The same 512 bytes as 16 ymm stores (is the limit stores or bytes?).
#define YST(off) "vmovups %%ymm12, " #off "(%1)\n\t"
#define YSTORES16                                                                                 \
  YST(0) YST(32) YST(64) YST(96) YST(128) YST(160) YST(192) YST(224) YST(256) YST(288) YST(320) \
  YST(352) YST(384) YST(416) YST(448) YST(480)
#define LOADS8 LD(12, 0) LD(13, 64) LD(14, 128) LD(15, 192) LD(16, 256) LD(17, 320) LD(18, 384) LD(19, 448)
#define CLOBBERS                                                                                        \
  "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
      "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm30", "xmm31"
// Zeroed sources (no denormals: integer zeros are +0.0f), then the block n times.
#define BLOCK_FN(name, body)                                                                      \
  __attribute__((target("avx512f"), noinline)) void name(int64_t n, float* buf) {                 \
    asm volatile("vpxord %%zmm30, %%zmm30, %%zmm30\n\tvpxord %%zmm31, %%zmm31, %%zmm31\n\t"        \
                 "1:\n\t" body "dec %0\n\tjnz 1b"                                                 \
                 : "+r"(n)                                                                        \
                 : "r"(buf)                                                                       \
                 : CLOBBERS);                                                                     \
  }

BLOCK_FN(dp12, DP12)
BLOCK_FN(unpck8, EIGHT(UNPCK))
BLOCK_FN(shuf8, EIGHT(SHUF))
BLOCK_FN(fma8, EIGHT(FMA))
BLOCK_FN(dp12_unpck8, DP12 EIGHT(UNPCK))
BLOCK_FN(dp12_shuf8, DP12 EIGHT(SHUF))
BLOCK_FN(dp12_fma8, DP12 EIGHT(FMA))
BLOCK_FN(store8, STORES8)
BLOCK_FN(load8, LOADS8)
BLOCK_FN(dp12_store8, DP12 STORES8)
BLOCK_FN(dp12_load8, DP12 LOADS8)
BLOCK_FN(fma8_store8, EIGHT(FMA) STORES8)
BLOCK_FN(unpck8_store8, EIGHT(UNPCK) STORES8)
BLOCK_FN(ystore16, YSTORES16)
BLOCK_FN(dp12_ystore16, DP12 YSTORES16)

bool runnable(bool vnni) {
  const auto& f = llmroof::kernels::cpu_features();
  return f.avx512f && (!vnni || f.avx512_vnni);
}
#else
bool runnable(bool) { return false; }
#endif

using BlockFn = void (*)(int64_t, float*);

void run_blocks(benchmark::State& state, BlockFn fn, bool vnni) {
  if (!runnable(vnni) || fn == nullptr) {
    state.SkipWithError("needs x86-64 with AVX-512 (and VNNI for vpdpbusd)");
    return;
  }
  alignas(64) float buf[128] = {};
  for (auto _ : state) {
    fn(kBlocks, buf);
    benchmark::ClobberMemory();
  }
  state.counters["per_block"] = benchmark::Counter(
      kBlocks, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

#if defined(__x86_64__)
#define FN(x) x
#else
#define FN(x) nullptr
#endif

}  // namespace

BENCHMARK_CAPTURE(run_blocks, vpdpbusd_x12, FN(dp12), true);
BENCHMARK_CAPTURE(run_blocks, vpunpcklbw_x8, FN(unpck8), false);
BENCHMARK_CAPTURE(run_blocks, vshufi64x2_x8, FN(shuf8), false);
BENCHMARK_CAPTURE(run_blocks, vfmadd231ps_x8, FN(fma8), false);
BENCHMARK_CAPTURE(run_blocks, vpdpbusd_x12_vpunpcklbw_x8, FN(dp12_unpck8), true);
BENCHMARK_CAPTURE(run_blocks, vpdpbusd_x12_vshufi64x2_x8, FN(dp12_shuf8), true);
BENCHMARK_CAPTURE(run_blocks, vpdpbusd_x12_vfmadd231ps_x8, FN(dp12_fma8), true);
BENCHMARK_CAPTURE(run_blocks, zmm_store_x8, FN(store8), false);
BENCHMARK_CAPTURE(run_blocks, zmm_load_x8, FN(load8), false);
BENCHMARK_CAPTURE(run_blocks, vpdpbusd_x12_zmm_store_x8, FN(dp12_store8), true);
BENCHMARK_CAPTURE(run_blocks, vpdpbusd_x12_zmm_load_x8, FN(dp12_load8), true);
BENCHMARK_CAPTURE(run_blocks, vfmadd231ps_x8_zmm_store_x8, FN(fma8_store8), false);
BENCHMARK_CAPTURE(run_blocks, vpunpcklbw_x8_zmm_store_x8, FN(unpck8_store8), false);
BENCHMARK_CAPTURE(run_blocks, ymm_store_x16, FN(ystore16), false);
BENCHMARK_CAPTURE(run_blocks, vpdpbusd_x12_ymm_store_x16, FN(dp12_ystore16), true);

BENCHMARK_MAIN();
