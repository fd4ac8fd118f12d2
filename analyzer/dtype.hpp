#pragma once
// Numeric formats shared by the analyzer, the hardware description and the kernels.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmroof {

// Arithmetic / storage formats. tf32 is a compute format only (fp32 storage).
enum class DType { fp32, tf32, fp16, bf16, fp8, int8, int4 };
inline constexpr int kNumDTypes = 7;

constexpr double dtype_bits(DType t) {
  switch (t) {
    case DType::fp32: case DType::tf32: return 32;
    case DType::fp16: case DType::bf16: return 16;
    case DType::fp8: case DType::int8: return 8;
    case DType::int4: return 4;
  }
  return 0;
}
constexpr double dtype_bytes(DType t) { return dtype_bits(t) / 8.0; }

std::string_view to_string(DType t);
std::optional<DType> dtype_from_string(std::string_view s);

}  // namespace llmroof
