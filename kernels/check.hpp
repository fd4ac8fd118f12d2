#pragma once
// Shared checking utilities for kernel tests, `llmroof kernels check` and benchmarks: deterministic
// inputs that make a comparison mean something, and one comparison routine that states its metric,
// counts NaN/Inf and refuses to pass an output that is mostly zeros.
#include <cstdint>
#include <span>
#include <string_view>

#include "kernels/registry.hpp"

namespace llmroof::kernels {

// splitmix64: tiny, deterministic across platforms (std::mt19937 distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next();
  double uniform();                   // [0, 1)
  int64_t integer(int64_t lo, int64_t hi);  // [lo, hi] inclusive
 private:
  uint64_t s_;
};

// Integer values in [lo, hi]: sums and products of a few of them are exact in fp32, so a GEMM or an
// add can be compared exactly. Zero is included but rare when the range is wide.
void fill_integers(std::span<float> x, uint64_t seed, int lo = -4, int hi = 4);
// Uniform in [lo, hi] with |v| >= 1e-3 (never denormal, never exactly zero): data for ops whose
// result cannot be exact (norms, exp, attention) and for benchmarks (denormals slow FMAs 30x).
void fill_uniform(std::span<float> x, uint64_t seed, float lo = -1.f, float hi = 1.f);

enum class Metric {
  max_abs,   // max |got - ref|
  max_norm,  // max |got - ref| / max |ref|   (error relative to the output's scale)
  nmse,      // sum (got - ref)^2 / sum ref^2 (ggml's max_nmse_err)
};
std::string_view to_string(Metric m);

struct Tolerance {
  Metric metric = Metric::max_norm;
  double bound = 1e-5;
  // Mistrust the check when more than this fraction of reference outputs is exactly zero: a kernel
  // that writes nothing would "pass" against it.
  double max_zero_fraction = 0.5;
};

struct ErrorStats {
  int64_t n = 0, nan = 0, inf = 0, ref_zeros = 0, got_zeros = 0;
  double max_abs = 0, max_ref = 0, sq_err = 0, sq_ref = 0;
  int64_t worst_index = -1;  // index of max |got - ref|
  double value(Metric m) const;
};

ErrorStats error_stats(std::span<const float> got, std::span<const float> ref);
// passed / failed (NaN/Inf in got, size mismatch, error above bound) / mistrusted (mostly zeros,
// or NaN/Inf in the reference itself).
CheckResult check_close(std::span<const float> got, std::span<const float> ref, const Tolerance& tol);
// Combine two checks of one case (e.g. a fused op's two outputs): the worse disposition wins.
CheckResult worse_of(const CheckResult& a, const CheckResult& b);

}  // namespace llmroof::kernels
