#pragma once
// The AMX peak loops (calibrate/peak_amx.cpp, compiled for AMX): what `llmroof calibrate` reports
// as the int8 peak where the W8A8 GEMM runs on AMX tiles (kernels::gemm_w8a8_uses_amx()), and as
// the bf16 peak where the bf16-weight GEMM does (kernels::gemm_bf16_uses_amx()).
#include <cstdint>

namespace llmroof::calibrate {

// 16 tdpbusd per iteration into four independent 16 x 16 int32 accumulator tiles (tmm0-3; the
// operands tmm4-7 are zero and stay in registers): no memory traffic, as the SIMD peak loops.
// Call only where kernels::gemm_w8a8_uses_amx() is true (the CPU has AMX-INT8 and the OS has
// granted this process the tile state).
void tdpbusd_peak_loop(int64_t iters);
inline constexpr int kTdpbusdPerIteration = 16;
// One tdpbusd: a 16 x 64 u8 tile times a 64 x 16 s8 tile = 16 x 16 x 64 multiply-adds, 2 ops each.
inline constexpr double kTdpbusdOps = 16.0 * 16 * 64 * 2;

// The same loop with tdpbf16ps. Call only where kernels::gemm_bf16_uses_amx() is true.
void tdpbf16ps_peak_loop(int64_t iters);
inline constexpr int kTdpbf16psPerIteration = 16;
// One tdpbf16ps: a 16 x 32 bf16 tile times a 32 x 16 bf16 tile = 16 x 16 x 32 multiply-adds.
inline constexpr double kTdpbf16psOps = 16.0 * 16 * 32 * 2;

}  // namespace llmroof::calibrate
