#include "kernels/cpu/softmax.hpp"

#include <cmath>
#include <vector>

#include "kernels/cpu/rowwise_avx2.hpp"

namespace llmroof::kernels {

void softmax_ref(const float* x, float* y, int64_t rows, int64_t cols) {
  std::vector<double> e(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < cols; ++i) mx = std::fmax(mx, x[r * cols + i]);
    for (int64_t i = 0; i < cols; ++i) sum += e[i] = std::exp(x[r * cols + i] - mx);
    for (int64_t i = 0; i < cols; ++i) y[r * cols + i] = static_cast<float>(e[i] / sum);
  }
}

void softmax(const float* x, float* y, int64_t rows, int64_t cols, ThreadPool& pool, Isa isa) {
  const auto rows_fn = usable_isa(isa) == Isa::avx512 ? &softmax_rows_avx512 : &softmax_rows_avx2;
  if (usable_isa(isa) == Isa::scalar) {
    softmax_ref(x, y, rows, cols);
    return;
  }
  const int64_t grain = cols >= 16384 ? 1 : 16384 / cols;
  pool.parallel_for(rows, [&](int64_t r0, int64_t r1) { rows_fn(x, y, r0, r1, cols); },
                    grain);
}

}  // namespace llmroof::kernels
