#pragma once
// Eigen 3.4's fp32 GEMM as a comparator for gemm_bench (its own TU: Eigen is compiled with AVX-512
// flags there, which the library never uses globally).
#include <cstdint>
#include <memory>
#include <string>

#include "kernels/thread_pool.hpp"

class EigenGemm {
 public:
  EigenGemm(int64_t m, int64_t k, int64_t n);
  ~EigenGemm();
  // y = x * w with `threads` single-threaded Eigen products on column blocks of w, one per pool
  // thread (this build has no OpenMP, so Eigen itself never starts threads).
  void run(llmroof::kernels::ThreadPool& pool, int threads);
  std::string describe(int threads) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
