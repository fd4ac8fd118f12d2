#include "kernels/cpu/rmsnorm.hpp"

#include <cmath>

#include "kernels/cpu/rowwise_avx2.hpp"

namespace llmroof::kernels {

namespace {
// Rows per task: at least ~64 KiB of work so the pool's hand-off cost stays negligible.
int64_t row_grain(int64_t dim) { return dim >= 16384 ? 1 : 16384 / dim; }
}  // namespace

void rmsnorm_ref(const float* x, const float* gamma, float* y, int64_t rows, int64_t dim,
                 float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(x[r * dim + i]) * x[r * dim + i];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(dim) + eps);
    for (int64_t i = 0; i < dim; ++i)
      y[r * dim + i] = static_cast<float>(x[r * dim + i] * inv * gamma[i]);
  }
}

void add_rmsnorm_ref(const float* x, float* residual, const float* gamma, float* y, int64_t rows,
                     int64_t dim, float eps) {
  for (int64_t i = 0; i < rows * dim; ++i) residual[i] += x[i];
  rmsnorm_ref(residual, gamma, y, rows, dim, eps);
}

void rmsnorm(const float* x, const float* gamma, float* y, int64_t rows, int64_t dim, float eps,
             ThreadPool& pool, Isa isa) {
  const auto rows_fn = usable_isa(isa) == Isa::avx512 ? &rmsnorm_rows_avx512 : &rmsnorm_rows_avx2;
  if (usable_isa(isa) == Isa::scalar) {
    rmsnorm_ref(x, gamma, y, rows, dim, eps);
    return;
  }
  pool.parallel_for(rows, [&](int64_t r0, int64_t r1) { rows_fn(x, gamma, y, r0, r1, dim, eps); },
                    row_grain(dim));
}

void add_rmsnorm(const float* x, float* residual, const float* gamma, float* y, int64_t rows,
                 int64_t dim, float eps, ThreadPool& pool, Isa isa) {
  const auto rows_fn = usable_isa(isa) == Isa::avx512 ? &add_rmsnorm_rows_avx512 : &add_rmsnorm_rows_avx2;
  if (usable_isa(isa) == Isa::scalar) {
    add_rmsnorm_ref(x, residual, gamma, y, rows, dim, eps);
    return;
  }
  pool.parallel_for(rows, [&](int64_t r0, int64_t r1) {
    rows_fn(x, residual, gamma, y, r0, r1, dim, eps);
  }, row_grain(dim));
}

}  // namespace llmroof::kernels
