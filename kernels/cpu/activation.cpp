#include "kernels/cpu/activation.hpp"

#include <cmath>

#include "kernels/cpu/rowwise_avx2.hpp"

namespace llmroof::kernels {

void silu_mul_ref(const float* gate, const float* up, float* out, int64_t rows, int64_t inter,
                  int64_t in_stride) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < inter; ++i) {
      const double g = gate[r * in_stride + i];
      out[r * inter + i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[r * in_stride + i]);
    }
}

void silu_mul(const float* gate, const float* up, float* out, int64_t rows, int64_t inter,
              int64_t in_stride, ThreadPool& pool, Isa isa) {
  const auto rows_fn = usable_isa(isa) == Isa::avx512 ? &silu_mul_rows_avx512 : &silu_mul_rows_avx2;
  if (usable_isa(isa) == Isa::scalar) {
    silu_mul_ref(gate, up, out, rows, inter, in_stride);
    return;
  }
  const int64_t grain = inter >= 16384 ? 1 : 16384 / inter;
  pool.parallel_for(rows, [&](int64_t r0, int64_t r1) {
    rows_fn(gate, up, out, r0, r1, inter, in_stride);
  }, grain);
}

}  // namespace llmroof::kernels
