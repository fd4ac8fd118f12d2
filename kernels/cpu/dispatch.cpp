#include "kernels/cpu/dispatch.hpp"

#include "kernels/cpu_features.hpp"

namespace llmroof::kernels {

std::string_view to_string(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512f";
  }
  return "?";
}

Isa best_isa() {
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.f16c) return Isa::avx512;
  if (f.avx2 && f.fma) return Isa::avx2;
  return Isa::scalar;
}

Isa usable_isa(Isa requested) {
  const Isa best = best_isa();
  return static_cast<int>(requested) < static_cast<int>(best) ? requested : best;
}

}  // namespace llmroof::kernels
