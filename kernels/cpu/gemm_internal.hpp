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

// AVX2 + FMA + F16C path (kernels/cpu/gemm_avx2.cpp), same packed weights, same split by panels.
bool avx2_usable();  // avx2 && fma && f16c
void gemv_avx2(const float* x, const PackedWeights& w, float* y, int64_t p0, int64_t p1);
// Blocked GEMM: x packed by pack_a_avx2 as row blocks of kGemmMRAvx2 rows, [block][k][6].
inline constexpr int kGemmMRAvx2 = 6;
void pack_a_avx2(const float* x, int64_t m, int64_t k, float* ap, int64_t b0, int64_t b1);
void gemm_avx2(const float* ap, int64_t m, const PackedWeights& w, float* y, int64_t p0,
               int64_t p1);
// W8A8 (m >= 1): rows quantized by quantize_row_int8 (signed q, no +128 offset), packed as row
// blocks of kGemmMRW8a8Avx2 rows, [block][k_padded/4][4] dwords of 4 consecutive int8; scale[row].
inline constexpr int kGemmMRW8a8Avx2 = 4;
void quantize_pack_rows_avx2(const float* x, int64_t m, int64_t k, int64_t k_padded, int32_t* a,
                             float* scale, int64_t b0, int64_t b1);
void gemm_w8a8_avx2(const int32_t* a, const float* scale, int64_t m, const PackedWeights& w,
                    float* y, int64_t p0, int64_t p1);
#endif

}  // namespace llmroof::kernels::detail
