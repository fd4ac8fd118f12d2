// Throughput of the AVX-512 instructions the decode and GEMM kernels are made of, alone and mixed,
// to tell which ones compete for the same execution pipes (docs/kernels.md, decode attention).
// Each benchmark runs one asm block (independent dependency chains, enough of them to cover the
// latency) 1000 times per iteration; `per_block` is the time of one block. A mix that takes the
// sum of its parts' times shares their pipes; one that takes the longer part's time does not.
// Registers only (no memory operands) except the load/store and vpmovsxbd rows, which stay in one
// L1-resident 512-byte buffer. The vfmadd231ps_x12 mixes ask the same of the fp32 P·V's int8 -> fp32
// conversion (vpmovsxbd from memory, vcvtdq2ps). column_reads (below) times L1 misses to one set.
// x86-64 with AVX-512 (VNNI for vpdpbusd) only; elsewhere each benchmark skips.
// Usage: isa_pipes_bench [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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
// 12 FMA chains (zmm0-11): the unit of the fp32 P·V mixes (how V's int8 -> fp32 conversion
// competes with the FMAs it feeds).
#define FMA12 FMA(0) FMA(1) FMA(2) FMA(3) FMA(4) FMA(5) FMA(6) FMA(7) FMA(8) FMA(9) FMA(10) FMA(11)
#define CVT(i) "vcvtdq2ps %%zmm30, %%zmm" #i "\n\t"
#define SRA(i) "vpsrad $24, %%zmm30, %%zmm" #i "\n\t"
#define EIGHT(X) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19)
#define ST(off) "vmovups %%zmm12, " #off "(%1)\n\t"
#define LD(i, off) "vmovups " #off "(%1), %%zmm" #i "\n\t"
#define STORES8 ST(0) ST(64) ST(128) ST(192) ST(256) ST(320) ST(384) ST(448)
// The same 512 bytes as 16 ymm stores (is the limit stores or bytes?).
#define YST(off) "vmovups %%ymm12, " #off "(%1)\n\t"
#define YSTORES16                                                                                 \
  YST(0) YST(32) YST(64) YST(96) YST(128) YST(160) YST(192) YST(224) YST(256) YST(288) YST(320) \
  YST(352) YST(384) YST(416) YST(448) YST(480)
#define SX(i, off) "vpmovsxbd " #off "(%1), %%zmm" #i "\n\t"
#define SXLOADS8 SX(12, 0) SX(13, 16) SX(14, 32) SX(15, 48) SX(16, 64) SX(17, 80) SX(18, 96) SX(19, 112)
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
BLOCK_FN(fma12, FMA12)
BLOCK_FN(sxload8, SXLOADS8)
BLOCK_FN(cvt8, EIGHT(CVT))
BLOCK_FN(sra8, EIGHT(SRA))
BLOCK_FN(fma12_sxload8, FMA12 SXLOADS8)
BLOCK_FN(fma12_cvt8, FMA12 EIGHT(CVT))
BLOCK_FN(fma12_unpck8, FMA12 EIGHT(UNPCK))
BLOCK_FN(fma12_sra8, FMA12 EIGHT(SRA))
BLOCK_FN(dp12_ystore16, DP12 YSTORES16)

bool runnable(bool vnni) {
  const auto& f = llmroof::kernels::cpu_features();
  return f.avx512f && (!vnni || f.avx512_vnni);
}
#else
bool runnable(bool) { return false; }
#endif

// Column reads: the lines of a 512 KiB buffer (L2-resident, 10x L1) read once each, down the
// columns of a [rows][stride] view, 4 rows at a time with independent loads: the access order of
// the GQA 1 decode's per-kv-head rows. At a stride that is a multiple of 2 KiB all the rows of a
// column fall into one L1 set (64 sets of 64 bytes); bytes_per_second says what that costs against
// a stride one line longer (interleave_heads in attention_decode_avx512.cpp).
#if defined(__x86_64__)
__attribute__((target("avx512f"), noinline)) int column_read(const char* b, int64_t stride, int64_t rows,
                                                              int64_t cols) {
  __m512i a0 = _mm512_set1_epi32(0), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t c = 0; c < cols; c += 64)
    for (int64_t r = 0; r + 4 <= rows; r += 4) {
      a0 = _mm512_add_epi32(a0, _mm512_load_si512(b + (r + 0) * stride + c));
      a1 = _mm512_add_epi32(a1, _mm512_load_si512(b + (r + 1) * stride + c));
      a2 = _mm512_add_epi32(a2, _mm512_load_si512(b + (r + 2) * stride + c));
      a3 = _mm512_add_epi32(a3, _mm512_load_si512(b + (r + 3) * stride + c));
    }
  alignas(64) int sum[16];
  _mm512_store_si512(sum, _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)));
  return sum[0];
}
#endif

void column_reads(benchmark::State& state) {
#if defined(__x86_64__)
  if (!llmroof::kernels::cpu_features().avx512f) {
    state.SkipWithError("needs x86-64 with AVX-512");
    return;
  }
  const int64_t stride = state.range(0), cols = stride < 4096 ? stride / 64 * 64 : 4096;
  const int64_t rows = (int64_t{512} << 10) / cols / 4 * 4;
  std::unique_ptr<char, decltype(&std::free)> buf(static_cast<char*>(std::aligned_alloc(4096, rows * stride + 4096)),
                                                  &std::free);
  for (int64_t i = 0; i < rows * stride; ++i) buf.get()[i] = static_cast<char>(i);
  for (auto _ : state) benchmark::DoNotOptimize(column_read(buf.get(), stride, rows, cols));
  state.SetBytesProcessed(state.iterations() * rows * cols);
#else
  state.SkipWithError("needs x86-64 with AVX-512");
#endif
}

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

BENCHMARK_CAPTURE(run_blocks, vfmadd231ps_x12, FN(fma12), false);
BENCHMARK_CAPTURE(run_blocks, vpmovsxbd_m128_x8, FN(sxload8), false);
BENCHMARK_CAPTURE(run_blocks, vcvtdq2ps_x8, FN(cvt8), false);
BENCHMARK_CAPTURE(run_blocks, vpsrad_x8, FN(sra8), false);
BENCHMARK_CAPTURE(run_blocks, vfmadd231ps_x12_vpmovsxbd_m128_x8, FN(fma12_sxload8), false);
BENCHMARK_CAPTURE(run_blocks, vfmadd231ps_x12_vcvtdq2ps_x8, FN(fma12_cvt8), false);
BENCHMARK_CAPTURE(run_blocks, vfmadd231ps_x12_vpunpcklbw_x8, FN(fma12_unpck8), false);
BENCHMARK_CAPTURE(run_blocks, vfmadd231ps_x12_vpsrad_x8, FN(fma12_sra8), false);
BENCHMARK(column_reads)->Arg(4096)->Arg(4160)->Arg(2048)->Arg(2112)->Arg(1024)->Arg(8192)->Arg(8256);

BENCHMARK_MAIN();
