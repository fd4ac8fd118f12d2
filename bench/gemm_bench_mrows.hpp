#pragma once
// Small-m sweep for gemm_bench (gemm_bench_mrows.cpp): the multi-row GEMV against the blocked GEMM
// it replaced for 2 <= m <= crossover, and against m = 1, on weights rotated over > 1 GiB.
#include "kernels/thread_pool.hpp"

// pool: the benchmark's pool; read_bytes_per_s: the STREAM-like read (2 MiB pages) measured first.
void register_gemv_mrows(llmroof::kernels::ThreadPool& (*pool)(), const double* read_bytes_per_s);
