#include "analyzer/dtype.hpp"

#include <array>

namespace llmroof {

namespace {
constexpr std::array<std::string_view, kNumDTypes> kNames = {"fp32", "tf32", "fp16", "bf16",
                                                              "fp8",  "int8", "int4"};
}

std::string_view to_string(DType t) { return kNames[static_cast<int>(t)]; }

std::optional<DType> dtype_from_string(std::string_view s) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (kNames[i] == s) return static_cast<DType>(i);
  return std::nullopt;
}

}  // namespace llmroof
