#pragma once
// What an attention kernel's output may differ from attention_ref's, for `llmroof kernels check`
// (cases_attention.cpp) and the tests: one definition, so both hold the kernels to the same bound.
#include "kernels/check.hpp"
#include "kernels/cpu/attention.hpp"

namespace llmroof::kernels {

// max |o - ref| / max |ref| <= 1e-4: fp32 dot products of up to 512 terms and fp32 running sums
// over up to 4K keys against the double reference; q rounded the kernels' way in both (attention.hpp).
inline constexpr Tolerance kAttentionTolerance{Metric::max_norm, 1e-4};

// Where the decode rounds its probabilities to bf16 (decode_bf16_dot_products), a bound on the
// normalised mean squared error instead, Σ (o - ref)^2 / Σ ref^2 <= 1e-5. Why: rounding weight w_j
// to bf16 (8 significant bits) moves it by δ_j w_j, |δ_j| <= 2^-8, so Δo = Σ δ_j w_j v_j / Σ w.
// The absolute rounding error is spread evenly over ±2^-8 of the weight's power of two and the
// mantissa over [1, 2), so E[δ^2] ≈ 2^-16 / 3 · E[1 / mantissa^2] ≈ 2^-16 / 6 = 2.5e-6; with the δ_j
// independent of V, E[Δo^2] = E[δ^2] · Σ w_j^2 v_j^2 / (Σ w)^2, and for V of zero mean E[o^2] =
// Σ w_j^2 v_j^2 / (Σ w)^2: an NMSE of about 2.5e-6 whatever the context length (measured 1.1e-6 to
// 2.4e-6 over 66 shapes and seeds of `kernels bench attention_decode_bf16 --check`; the weight 2^0
// of each running maximum is exact). A max-norm bound would have to
// allow 2^-8 · max|v| / max|o|, up to 0.08 at 4K keys, where one missing key of 4K moves o by about
// 0.005 of max|o|; that key's NMSE, about 1 / 4K = 2.4e-4, fails 1e-5.
inline constexpr Tolerance kBf16ProbabilityTolerance{Metric::nmse, 1e-5};

inline Tolerance decode_tolerance(const KvCacheView& kv, const AttentionDims& d, Isa isa = best_isa()) {
  return decode_bf16_dot_products(kv, d, isa) ? kBf16ProbabilityTolerance : kAttentionTolerance;
}

}  // namespace llmroof::kernels
