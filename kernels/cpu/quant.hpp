#pragma once
// Scalar quantizers shared by weight packing (kernels/cpu/gemm_pack.cpp), the references and tests.
// Each states its round-trip bound (tested in tests/kernels/quant_test.cpp):
//   int8 per-channel symmetric:  |w - q*s| <= s/2,            s = max|w| / 127
//   int4 group-wise asymmetric:  |w - (q-z)*s| <= s/2,        s = fp16 rounded up of range / 15
//   fp8 e4m3:                    relative error <= 2^-4 (normal range), saturating at +-448
//   per-token int8 activations:  |x - q*s| <= s/2,            s = max|x| / 127
#include <cstdint>

namespace llmroof::kernels {

// IEEE binary16 <-> fp32. to_fp16 rounds to nearest even; to_fp16_up rounds toward +inf (used for
// scales so that 15 * scale still spans the group's range).
float fp16_to_float(uint16_t h);
uint16_t float_to_fp16(float f);
uint16_t float_to_fp16_up(float f);

// bf16: the upper half of an fp32, rounded to nearest even (NaN stays NaN).
uint16_t bf16_round(float f);
inline float bf16_widen(uint16_t b) {
  union {
    uint32_t u;
    float f;
  } v{static_cast<uint32_t>(b) << 16};
  return v.f;
}

// FP8 E4M3 (OCP "E4M3FN": bias 7, no infinities, 0x7F/0xFF are NaN, max finite 448).
uint8_t float_to_e4m3(float f);  // round to nearest even, saturates to +-448
float e4m3_to_float(uint8_t b);  // exact
inline constexpr float kE4M3Max = 448.f;

// Symmetric int8 for one column of `len` values at stride `stride`: q in [-127, 127]. Returns s.
float quantize_int8_symmetric(const float* w, int64_t len, int64_t stride, int8_t* q);

// Asymmetric int4 for one group of `len` values at stride `stride` (GPTQ/AWQ style): the range is
// widened to include 0 so the zero point is an integer in [0, 15]; q in [0, 15], w ~ (q - z) * s.
struct Int4Group {
  uint16_t scale_fp16 = 0;
  uint8_t zero = 0;
};
Int4Group quantize_int4_group(const float* w, int64_t len, int64_t stride, uint8_t* q);

// E4M3 with one scale per column: s = max|w| / 448, q = e4m3(w / s). Returns s (0 for a zero
// column).
float quantize_fp8_column(const float* w, int64_t len, int64_t stride, uint8_t* q);

// Dynamic per-token activation quantization (W8A8): s = max|x| / 127, q = nearbyint(x * (127/max))
// in fp32 arithmetic, exactly what the vector kernels compute. Returns s (0 for a zero row).
float quantize_row_int8(const float* x, int64_t len, int8_t* q);

}  // namespace llmroof::kernels
