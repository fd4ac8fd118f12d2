#include "bench/gemm_bench_eigen.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <span>

#include "kernels/check.hpp"

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct EigenGemm::Impl {
  RowMat x, w, y;
};

EigenGemm::EigenGemm(int64_t m, int64_t k, int64_t n)
    : impl_(new Impl{RowMat(m, k), RowMat(k, n), RowMat(m, n)}) {
  llmroof::kernels::fill_uniform({impl_->x.data(), static_cast<size_t>(m * k)}, 5);
  llmroof::kernels::fill_uniform({impl_->w.data(), static_cast<size_t>(k * n)}, 17, -0.05f, 0.05f);
  Eigen::setNbThreads(1);
}
EigenGemm::~EigenGemm() = default;

void EigenGemm::run(llmroof::kernels::ThreadPool& pool, int threads) {
  const int64_t n = impl_->w.cols();
  pool.run([&](int t, int nt) {
    const int used = std::min(nt, threads);
    if (t >= used) return;
    const int64_t j0 = n * t / used / 16 * 16,
                  j1 = t + 1 == used ? n : n * (t + 1) / used / 16 * 16;
    impl_->y.middleCols(j0, j1 - j0).noalias() = impl_->x * impl_->w.middleCols(j0, j1 - j0);
  });
}

std::string EigenGemm::describe(int threads) const {
  return "eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
         std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION) + ", " +
         std::to_string(threads) + " thread(s), SIMD " + Eigen::SimdInstructionSetsInUse();
}
