// W8A8 on the AVX2 path (docs/gemm.md, "AVX2 path"): x quantized per token by the reference's own
// quantizer (signed q, no +128 offset), then vpmaddubsw + vpmaddwd with the sign trick (see
// micro_w8a8) on a 4 x 16 int32 tile over all of k, so the sums are final (no column-sum
// correction, no partial sums). Where the CPU has AVX-VNNI, ymm vpdpbusd instead (q + 128, the
// AVX-512 path's scheme; micro_w8a8_vnni). Compiled with a target pragma like gemm_avx2.cpp;
// standard headers come before it.
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm_internal.hpp"
#include "kernels/cpu/quant.hpp"
#include "kernels/cpu_features.hpp"

#if defined(__x86_64__)  // whole file: x86-64 only (gemm.cpp dispatches here only there)
#pragma GCC push_options
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>

namespace llmroof::kernels::detail {

namespace {

constexpr int kMR8 = kGemmMRW8a8Avx2;  // 4 rows x 16 columns of int32 accumulators

// One 16-column half of a panel, R rows, all of k: acc[r][c] = sum_k q_x[r][k] * q_w[k][c].
// Weights are [k/4][32 columns][4 k] bytes (one dword = 4 consecutive k of a column), activations
// a dword of 4 consecutive k of one row, broadcast. vpmaddubsw multiplies unsigned by signed bytes
// and adds adjacent pairs into int16 WITH saturation; the sign trick keeps it exact:
// maddubs(|w|, sign(x, w)) = pairs of |w| * (x * sign w) = x * w, with |w| <= 127 (the symmetric
// quantizers never produce -128; even |w| = 128, read unsigned, would stay in range) and |x| <= 127
// (quantize_row_int8 clamps), so a pair sums to at most 2 * 128 * 127 = 32512 < 32767: no
// saturation. vpmaddwd with ones then adds the pairs into the int32 lanes, exact while
// k * 127^2 < 2^31 (k < 133,000).
template <int R>
void micro_w8a8(const int32_t* a, const int8_t* b, int64_t steps, int32_t* acc_out) {
  __m256i c0[R], c1[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t s = 0; s < steps; ++s) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + s * 128));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + s * 128 + 32));
    const __m256i u0 = _mm256_abs_epi8(b0), u1 = _mm256_abs_epi8(b1);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256i av = _mm256_set1_epi32(a[s * kMR8 + r]);
      c0[r] = _mm256_add_epi32(
          c0[r], _mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(av, b0)), ones));
      c1[r] = _mm256_add_epi32(
          c1[r], _mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(av, b1)), ones));
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc_out + r * 16), c0[r]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc_out + r * 16 + 8), c1[r]);
  }
}

// The same tile with AVX-VNNI (CPUs that have it without AVX-512: Alder Lake and later clients):
// vpdpbusd on ymm does u8 x s8 -> s32 for 32 MACs in one instruction (the sign trick above takes
// four). Activations are then stored as q + 128 (u8, like the AVX-512 path), and the caller
// subtracts 128 * col_sum[c]; exact in int32 (|acc| <= 255 * 127 * k).
template <int R>
__attribute__((target("avx2,fma,f16c,avxvnni"))) void micro_w8a8_vnni(const int32_t* a,
                                                                      const int8_t* b,
                                                                      int64_t steps,
                                                                      int32_t* acc_out) {
  __m256i c0[R], c1[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_si256();
  for (int64_t s = 0; s < steps; ++s) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + s * 128));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + s * 128 + 32));
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256i av = _mm256_set1_epi32(a[s * kMR8 + r]);
      c0[r] = _mm256_dpbusd_avx_epi32(c0[r], av, b0);
      c1[r] = _mm256_dpbusd_avx_epi32(c1[r], av, b1);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc_out + r * 16), c0[r]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc_out + r * 16 + 8), c1[r]);
  }
}

using MicroW8a8Fn = void (*)(const int32_t*, const int8_t*, int64_t, int32_t*);
template <int... R>
constexpr auto make_w8a8_table(std::integer_sequence<int, R...>) {
  return std::array<MicroW8a8Fn, sizeof...(R)>{&micro_w8a8<R + 1>...};
}
template <int... R>
constexpr auto make_w8a8_vnni_table(std::integer_sequence<int, R...>) {
  return std::array<MicroW8a8Fn, sizeof...(R)>{&micro_w8a8_vnni<R + 1>...};
}
constexpr auto kMicroW8a8 = make_w8a8_table(std::make_integer_sequence<int, kMR8>{});
constexpr auto kMicroW8a8Vnni = make_w8a8_vnni_table(std::make_integer_sequence<int, kMR8>{});

}  // namespace

bool& w8a8_avx2_vnni_allowed() {
  static bool allowed = true;
  return allowed;
}

bool w8a8_avx2_uses_vnni() {
  return w8a8_avx2_vnni_allowed() && cpu_features().avx_vnni;
}

void quantize_pack_rows_avx2(const float* x, int64_t m, int64_t k, int64_t k_padded, int32_t* a,
                             float* scale, int64_t b0, int64_t b1) {
  std::vector<int8_t> row(k_padded);
  const int64_t steps = k_padded / 4;
  const bool vnni = w8a8_avx2_uses_vnni();
  for (int64_t ib = b0; ib < b1; ++ib) {
    int32_t* dst = a + ib * steps * kMR8;
    for (int64_t r = 0; r < kMR8; ++r) {
      const int64_t i = ib * kMR8 + r;
      std::fill(row.begin(), row.end(), int8_t{0});
      // the scalar quantizer the reference uses: identical q, so the integer sums match exactly
      scale[i] = i < m ? quantize_row_int8(x + i * k, k, row.data()) : 0.f;
      if (vnni)  // u8 = q + 128 (flipping the top bit of a two's complement byte adds 128)
        for (auto& q : row) q = static_cast<int8_t>(q ^ 0x80);
      for (int64_t s = 0; s < steps; ++s) std::memcpy(&dst[s * kMR8 + r], &row[s * 4], 4);
    }
  }
}

// Groups of kNC8 panels (their int8 weights, kNC8 x k x 32 bytes, stay in L2); per row block of 4
// rows (k bytes each, in L1) the tile walks both halves of each panel over all of k, so the int32
// sums are final: y = s_x[r] * s_w[c] * acc (no column-sum correction: activations are signed;
// with AVX-VNNI they are q + 128 and acc - 128 * col_sum[c] is scaled instead).
void gemm_w8a8_avx2(const int32_t* a, const float* scale, int64_t m, const PackedWeights& w,
                    float* y, int64_t p0, int64_t p1) {
  constexpr int64_t kNC8 = 4;
  const int64_t steps = w.k_padded / 4, blocks = (m + kMR8 - 1) / kMR8;
  const int8_t* data = reinterpret_cast<const int8_t*>(w.data.data());
  alignas(32) int32_t acc[kMR8 * 16];
  const bool vnni = w8a8_avx2_uses_vnni();
  const auto& micro = vnni ? kMicroW8a8Vnni : kMicroW8a8;
  for (int64_t g0 = p0; g0 < p1; g0 += kNC8) {
    const int64_t gn = std::min(kNC8, p1 - g0);
    for (int64_t ib = 0; ib < blocks; ++ib) {
      const int rows = static_cast<int>(std::min<int64_t>(kMR8, m - ib * kMR8));
      for (int64_t p = g0; p < g0 + gn; ++p)
        for (int64_t h = 0; h < 2; ++h) {
          const int64_t c0 = p * 32 + h * 16, cols = std::min<int64_t>(16, w.n - c0);
          if (cols <= 0) break;
          micro[rows - 1](a + ib * steps * kMR8, data + p * steps * 128 + h * 64, steps, acc);
          for (int r = 0; r < rows; ++r) {
            const float sx = scale[ib * kMR8 + r];
            float* yr = y + (ib * kMR8 + r) * w.n + c0;
            for (int64_t j = 0; j < cols; ++j) {
              const int32_t z = vnni ? 128 * w.col_sum.data()[c0 + j] : 0;
              yr[j] = static_cast<float>(acc[r * 16 + j] - z) * (sx * w.scale.data()[c0 + j]);
            }
          }
        }
    }
  }
}

}  // namespace llmroof::kernels::detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // __x86_64__
