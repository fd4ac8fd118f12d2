#include "calibrate/peak_amx.hpp"

#include "kernels/cpu/amx_tile_config.hpp"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("amx-tile,amx-int8,amx-bf16")
#include <immintrin.h>

namespace llmroof::calibrate {

namespace {

// Zeroes all eight tiles, then runs the loop with four independent accumulators (tmm0-3) and
// operands that stay in registers (tmm4-7).
static_assert(kTdpbusdPerIteration == kTdpbf16psPerIteration);

template <bool Bf16>
void amx_peak_loop(int64_t iters) {
  _tile_loadconfig(&kernels::detail::kAmxTileConfig);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_zero(4);
  _tile_zero(5);
  _tile_zero(6);
  _tile_zero(7);
  for (int64_t i = 0; i < iters; ++i)
    for (int r = 0; r < kTdpbusdPerIteration / 4; ++r) {
      if constexpr (Bf16) {
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      } else {
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
      }
    }
  _tile_release();
}

}  // namespace

// Four accumulators cover the dot products' latency: the 2-vCPU Xeon (Sapphire Rapids class)
// issued one tdpbusd every 16 cycles from this loop, 6.25 TOP/s on one core (docs/gemm.md, "W8A8
// on AMX"). (GCC's tile intrinsics are volatile asm: the loop is not optimized away.)
void tdpbusd_peak_loop(int64_t iters) {
  amx_peak_loop<false>(iters);
}

void tdpbf16ps_peak_loop(int64_t iters) {
  amx_peak_loop<true>(iters);
}

}  // namespace llmroof::calibrate

#pragma GCC pop_options
#else
namespace llmroof::calibrate {
void tdpbusd_peak_loop(int64_t) {}
void tdpbf16ps_peak_loop(int64_t) {}
}  // namespace llmroof::calibrate
#endif
