#pragma once
// GEMM / GEMV with pre-packed (and optionally quantized) weights: y[m,n] = x[m,k] · W[k,n].
//
// Raw API (stable; docs/gemm.md):
//   PackedWeights w = pack_weights(W, k, n, WeightFormat::int4, 128);   // once, at load time
//   gemm(x, m, w, y, pool);       // optimized: AVX-512 where the CPU has it, else AVX2, else
//                                 // portable loops
//   gemm_ref(x, m, w, y);         // scalar reference on the same quantized weights (double sums)
//
// x and y are fp32 row-major ([m,k] and [m,n], densely packed). W is fp32 row-major [k,n] by
// default (WeightLayout::kn); WeightLayout::nk takes PyTorch nn.Linear's [n,k] (out_features,
// in_features). Weights are packed in panels of 32 output columns; the per-format layout is in
// docs/gemm.md.
#include <cstdint>
#include <string_view>
#include <vector>

#include "analyzer/cost.hpp"
#include "kernels/cpu/dispatch.hpp"
#include "kernels/huge_buffer.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::kernels {

enum class WeightFormat {
  fp32,  // fp32 weights
  bf16,  // bf16 weights (round to nearest even), widened to fp32 in registers
  int8,  // W8A16: int8 per-output-channel symmetric, fp32 scale per column
  int4,  // W4A16: int4 group-wise asymmetric (group along k), fp16 scale + 4-bit zero per group
  fp8,   // FP8 E4M3 weight-only, fp32 scale per column
  w8a8,  // W8A8: int8 per-channel weights, activations quantized per token at run time (VNNI)
};
std::string_view to_string(WeightFormat f);

// The analyzer's dtype of the stored weight elements (w8a8 stores int8).
DType weight_dtype(WeightFormat f);

enum class WeightLayout { kn, nk };

// Panel width: every format packs 32 output columns together (two 16-lane fp32 vectors).
inline constexpr int64_t kPanel = 32;

struct PackedWeights {
  WeightFormat format = WeightFormat::fp32;
  int64_t k = 0, n = 0;
  int64_t group_size = 0;         // int4 only (rows of k per scale/zero); 0 otherwise
  int64_t panels = 0;             // ceil(n / 32); columns past n are zero padding
  int64_t k_padded = 0;           // k rounded up where the format needs it (w8a8: 64, int4: 8)
  // HugeVector: >= 2 MiB arrays sit in 2 MiB pages (fewer TLB misses when a GEMV streams them).
  HugeVector<uint8_t> data;      // packed weight elements, panel after panel
  HugeVector<float> scale;       // int8/fp8/w8a8: per column [panels*32]
  HugeVector<uint16_t> scale16;  // int4: fp16 scales [panels][groups][32]
  HugeVector<uint8_t> zeros;     // int4: zero points [panels][groups][16] (nibbles, like data)
  HugeVector<int32_t> col_sum;   // w8a8: sum over k of the int8 weights per column [panels*32]

  int64_t groups() const { return group_size > 0 ? (k + group_size - 1) / group_size : 1; }
  // Bytes the kernels read per call: weight elements + scales + zero points (no padding beyond
  // the 32-column panel round-up), the number benchmarks divide by time.
  double bytes() const;
  // The analyzer's view of this matrix (same cost function the predictor uses).
  GemmShape shape(int64_t m) const;
};

// Quantizes (where the format asks) and packs W. group_size is used by int4 only (a positive
// multiple of 8; InputError otherwise).
PackedWeights pack_weights(const float* W, int64_t k, int64_t n, WeightFormat fmt,
                           int64_t group_size = 128, WeightLayout layout = WeightLayout::kn);

// The weight value the kernels multiply by (dequantized), element (kk, j) of the logical [k,n].
float dequantized_weight(const PackedWeights& w, int64_t kk, int64_t j);

// Optimized kernel; threads over `pool`. m == 1 takes the streaming GEMV path; on the AVX-512
// path 2 <= m <= 64 a multi-row streaming GEMV (weights read once), larger m the blocked GEMM;
// W8A8 with m >= 2 on a CPU with AMX-INT8, and bf16 weights with m >= 9 on one with AMX-BF16,
// the AMX tile.
void gemm(const float* x, int64_t m, const PackedWeights& w, float* y, ThreadPool& pool);
// Portable path (no intrinsics): what gemm() runs on CPUs without AVX-512 or AVX2.
void gemm_portable(const float* x, int64_t m, const PackedWeights& w, float* y, ThreadPool& pool);
// Scalar reference on the same quantized weights: obvious loops, double accumulation. For w8a8 it
// quantizes x per token exactly as the kernel does, then sums integer products.
void gemm_ref(const float* x, int64_t m, const PackedWeights& w, float* y);

// The instruction set gemm() uses for this format on this CPU ("avx512_vnni", "portable", ...).
std::string_view gemm_isa(WeightFormat f);
// Whether gemm() runs W8A8 with m >= 2 on AMX-INT8 tiles on this CPU (calibrate then measures the
// int8 peak with tdpbusd).
bool gemm_w8a8_uses_amx();
// Whether gemm() runs bf16 weights with m >= kBf16AmxMinRows on AMX-BF16 tiles on this CPU: x is
// then rounded to bf16 before the products (docs/gemm.md, "bf16 on AMX"), and calibrate measures
// the bf16 peak with tdpbf16ps.
bool gemm_bf16_uses_amx();
// Whether a call with m rows takes that tile (the one place callers ask; gemm() decides the same).
bool gemm_bf16_uses_amx(int64_t m);
// Below 9 rows the multi-row FMA GEMV stays: both stream the weights once from DRAM, and on the
// 2-vCPU Xeon the AMX tile (which also repacks them) ran 0.88-0.92 x its speed at m = 2, 0.95-1.08
// x at m = 8, then 1.23-1.27 x at m = 12, 1.35-1.40 x at 16, 1.9 x at 32 and 4.2-4.3 x at 512
// (gemm_bench --benchmark_filter=amx_vs_fma; docs/gemm.md, "bf16 on AMX").
inline constexpr int64_t kBf16AmxMinRows = 9;

// Explicit path (tests and benchmarks run every path on one machine): Isa::avx512 is what gemm()
// does; Isa::avx2 takes the AVX2 + FMA + F16C kernels (docs/gemm.md, "AVX2 path"); Isa::scalar the
// portable loops. A request above what the CPU has is lowered (usable_isa), never obeyed.
void gemm(const float* x, int64_t m, const PackedWeights& w, float* y, ThreadPool& pool, Isa isa);
// The instruction set gemm(..., isa) uses for this format on this CPU.
std::string_view gemm_isa(WeightFormat f, Isa isa);

}  // namespace llmroof::kernels
