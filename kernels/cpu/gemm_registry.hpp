#pragma once
// Registry entries for the GEMM/GEMV kernels (gemm_fp32, gemm_bf16, gemm_w8a16, gemm_w4a16,
// gemm_w8a8, gemm_fp8; each also as NAME_avx2, the AVX2 path forced with Isa::avx2).
// register_cpu_kernels() calls this; no static initialisers.
#include <cstdint>
#include <vector>

#include "kernels/cpu/gemm.hpp"
#include "kernels/registry.hpp"

namespace llmroof::kernels {

void register_gemm_kernels(KernelRegistry& r);

// Weights W in [n,k] layout (WeightLayout::nk) that the format's quantizer represents exactly:
// integers for fp32/bf16; q * 2^-3 with a +-127 in every column for int8/w8a8; (q - 8) * 2^-4 with
// both 0 and 15 in every group for int4; E4M3 values * 2^-6 with a 448 in every column for fp8.
// With integer activations every product is then exact, and most sums are too.
std::vector<float> exact_test_weights(WeightFormat f, int64_t k, int64_t n, int64_t group_size,
                                      uint64_t seed);

}  // namespace llmroof::kernels
