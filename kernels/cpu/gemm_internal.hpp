#pragma once
// Internal to the GEMM implementation: the AVX-512 entry points (kernels/cpu/gemm_avx512*.cpp,
// compiled with target attributes) that gemm.cpp dispatches to after checking cpu_features().
#include <cstdint>
#include <vector>

#include "kernels/cpu/gemm.hpp"

namespace llmroof::kernels::detail {

// Per-row int8 quantization of x for W8A8, shared by all threads of one call: u8 = q + 128 (so
// vpdpbusd's unsigned operand is non-negative), padded to k_padded with 128 (q = 0).
struct QuantizedRows {
  std::vector<uint8_t> u8;   // [m][k_padded]
  std::vector<float> scale;  // [m]
};
QuantizedRows quantize_rows_portable(const float* x, int64_t m, int64_t k, int64_t k_padded);

#if defined(__x86_64__)
// In spin waits (a builtin: no target flags needed).
inline void cpu_pause() {
  __builtin_ia32_pause();
}
bool avx512_usable(WeightFormat f);  // CPU features the format's AVX-512 path needs
// y for output panels [p0, p1) (columns 32*p0 .. min(n, 32*p1)), m rows.
void gemv_avx512(const float* x, const PackedWeights& w, float* y, int64_t p0, int64_t p1);
// Multi-row GEMV (kernels/cpu/gemm_avx512_mrows.cpp): m >= 2 rows, weights streamed once, y for
// output panels [p0, p1). gemm() takes it for 2 <= m <= gemv_rows_crossover() (W8A8 has its own,
// gemv_rows_w8a8_avx512).
void gemv_rows_avx512(const float* x, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                      int64_t p1);
// Largest m the streaming multi-row GEMV takes; above it the blocked GEMM (docs/gemm.md, "Small
// m", measured crossover). A knob for benchmarks and tests only (set it to 1 to get the old
// blocked path for m >= 2); not synchronized: change it only while no gemm() call runs.
inline constexpr int64_t kGemvRowsCrossover = 64;
int64_t& gemv_rows_crossover();
// Blocked GEMM reads x packed by pack_a: row blocks of kGemmMR rows, [block][k][kGemmMR], zero rows
// past m. pack_a fills blocks [b0, b1).
inline constexpr int kGemmMR = 14;
void pack_a(const float* x, int64_t m, int64_t k, float* ap, int64_t b0, int64_t b1);
void gemm_avx512(const float* ap, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                 int64_t p1);
// W8A8: quantize rows of x per token and pack them for the VNNI tile: row blocks of kGemmMR rows,
// [block][k_padded/4][kGemmMR] dwords of 4 consecutive u8 (q + 128); scale[row]. Blocks [b0, b1).
void quantize_pack_rows_avx512(const float* x, int64_t m, int64_t k, int64_t k_padded, int32_t* a,
                               float* scale, int64_t b0, int64_t b1);
void gemm_w8a8_avx512(const int32_t* a, const float* scale, int64_t m, const PackedWeights& w,
                      float* y, int64_t p0, int64_t p1);
// W8A8 with 2 <= m <= gemv_rows_crossover() (multi-row GEMV, weights streamed once): rows
// quantized per token by quantize_rows_u8_avx512 into q as blocks of kGemvRowsW8a8 rows,
// [block][k_padded / 4][kGemvRowsW8a8] dwords of 4 consecutive u8 (q + 128, 128 past k; rows past
// m are not written), so one k step's broadcasts share a cache line; y for panels [p0, p1).
inline constexpr int kGemvRowsW8a8 = 8;
void quantize_rows_u8_avx512(const float* x, int64_t m, int64_t k, int64_t k_padded, int32_t* q,
                             float* scale);
void gemv_rows_w8a8_avx512(const int32_t* q, const float* scale, int64_t m, const PackedWeights& w,
                           float* y, int64_t p0, int64_t p1);

// W8A8 on AMX-INT8 tiles (kernels/cpu/gemm_amx_int8.cpp) for m >= kW8a8AmxMinRows: x quantized per
// token into row-major u8 rows (q + 128, 128 past k) of k_padded bytes (a multiple of 64) lda =
// amx_lda(k_padded) apart, rows [r0, r1) (rows >= m: 128, scale 0), by
// quantize_rows_rowmajor_avx512; a holds whole tiles of kGemmMRAmx rows.
inline constexpr int64_t kGemmMRAmx = 32;
// One cache line more than the row: with rows a multiple of 4 KiB apart an A tile's 16 rows fall
// into one L1 set (12 ways) and evict each other on every load.
inline constexpr int64_t amx_lda(int64_t k_padded) {
  return k_padded + 64;
}
void quantize_rows_rowmajor_avx512(const float* x, int64_t m, int64_t k, int64_t k_padded,
                                   int64_t lda, uint8_t* a, float* scale, int64_t r0, int64_t r1);
void gemm_w8a8_amx(const uint8_t* a, const float* scale, int64_t m, const PackedWeights& w,
                   float* y, int64_t p0, int64_t p1);
bool amx_int8_usable();  // AVX-512 BW/VL, AMX tile + int8, and the OS's permission (enable_amx)
// From 2 rows the AMX tile beats the multi-row VNNI GEMV, which streams the weights once too: on
// the 2-vCPU Xeon the AMX tile ran 1.06-1.66 x as fast at m = 2..64 (the gap growing with m as
// the GEMV turns compute-bound; docs/gemm.md, "W8A8 on AMX"). m = 1 stays on the VNNI GEMV.
inline constexpr int64_t kW8a8AmxMinRows = 2;
// Whether gemm() takes the AMX tile for W8A8 at m >= kW8a8AmxMinRows: this knob (default
// true: tests turn it off to cover the VNNI tiles on AMX CPUs) and amx_int8_usable(). Change the
// knob only while no gemm() call runs.
bool& w8a8_amx_allowed();
bool w8a8_uses_amx();

// bf16 weights on AMX-BF16 tiles (kernels/cpu/gemm_amx_bf16.cpp) for m >= kBf16AmxMinRows
// (gemm.hpp): x
// rounded to bf16 into row-major rows of amx_bf16_kp(k) elements (zero past k), amx_lda(2 kp)
// bytes apart, rows [r0, r1) (rows >= m: zero) by round_rows_bf16_avx512; a holds whole tiles of
// kGemmMRAmx rows. The weights stay in their panels (repacked per k block inside the kernel).
inline constexpr int64_t amx_bf16_kp(int64_t k) {
  return (k + 31) / 32 * 32;
}
void round_rows_bf16_avx512(const float* x, int64_t m, int64_t k, int64_t kp, int64_t lda,
                            uint16_t* a, int64_t r0, int64_t r1);
void gemm_bf16_amx(const uint16_t* a, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                   int64_t p1);
bool amx_bf16_usable();  // AVX-512 BW/VL/BF16, AMX tile + bf16, and the OS's permission
// Whether gemm() takes the AMX tile for bf16 weights at m >= kBf16AmxMinRows: this knob (default
// true; tests turn it off to cover the FMA paths on AMX CPUs) and amx_bf16_usable(). Change the
// knob only while no gemm() call runs.
bool& bf16_amx_allowed();
bool bf16_uses_amx();

// AVX2 + FMA + F16C path (kernels/cpu/gemm_avx2.cpp; W8A8 in gemm_avx2_w8a8.cpp), same packed
// weights, same split by panels.
bool avx2_usable();  // avx2 && fma && f16c
void gemv_avx2(const float* x, const PackedWeights& w, float* y, int64_t p0, int64_t p1);
// Multi-row GEMV on the AVX2 path: 2 rows of x per pass (16 ymm), every format but W8A8.
// gemm() takes it for 2 <= m <= gemv_rows_crossover_avx2() (a knob like
// gemv_rows_crossover(); docs/gemm.md, "Small m").
void gemv_rows_avx2(const float* x, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                    int64_t p1);
inline constexpr int64_t kGemvRowsCrossoverAvx2 = 16;
int64_t& gemv_rows_crossover_avx2();
inline bool gemv_rows_avx2_handles(WeightFormat f) {
  return f != WeightFormat::w8a8;
}
// Blocked GEMM: x packed by pack_a_avx2 as row blocks of kGemmMRAvx2 rows, [block][k][6].
inline constexpr int kGemmMRAvx2 = 6;
void pack_a_avx2(const float* x, int64_t m, int64_t k, float* ap, int64_t b0, int64_t b1);
void gemm_avx2(const float* ap, int64_t m, const PackedWeights& w, float* y, int64_t p0,
               int64_t p1);
// W8A8 (m >= 1): rows quantized by quantize_row_int8 (signed q; q + 128 with AVX-VNNI), packed as
// row blocks of kGemmMRW8a8Avx2 rows, [block][k_padded/4][4] dwords of 4 consecutive int8;
// scale[row].
inline constexpr int kGemmMRW8a8Avx2 = 4;
void quantize_pack_rows_avx2(const float* x, int64_t m, int64_t k, int64_t k_padded, int32_t* a,
                             float* scale, int64_t b0, int64_t b1);
void gemm_w8a8_avx2(const int32_t* a, const float* scale, int64_t m, const PackedWeights& w,
                    float* y, int64_t p0, int64_t p1);
// With AVX-VNNI (and this knob, default true: tests turn it off to cover the plain AVX2 tile) the
// W8A8 tile uses ymm vpdpbusd and stores activations as q + 128. Change the knob only while no
// gemm() call runs.
bool& w8a8_avx2_vnni_allowed();
bool w8a8_avx2_uses_vnni();  // allowed && cpu_features().avx_vnni
#endif

}  // namespace llmroof::kernels::detail
