#pragma once
// Which code path a row-wise or attention kernel takes. The default is the best the CPU supports;
// tests and benchmarks pass a lower one explicitly to exercise every path on one machine (a request
// above what the CPU has is lowered, never obeyed).
#include <string_view>

namespace llmroof::kernels {

enum class Isa { scalar, avx2, avx512 };
std::string_view to_string(Isa isa);

Isa best_isa();                 // avx512 (avx512f+f16c), else avx2 (avx2+fma), else scalar
Isa usable_isa(Isa requested);  // min(requested, best_isa())

}  // namespace llmroof::kernels
