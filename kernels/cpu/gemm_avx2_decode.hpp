#pragma once
// AVX2 decoders for one packed panel row (32 output columns) -> four fp32 ymm, shared by the AVX2
// GEMV, multi-row GEMV and GEMM dequantization (gemm_avx2.cpp). Include only from AVX2 translation
// units, after their `#pragma GCC target("avx2,fma,f16c")` (like gemm_avx512_rows.hpp for AVX-512).
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/gemm.hpp"

namespace llmroof::kernels::detail {
namespace {

// ---- panel row decoders: 32 columns -> v[0..3] = columns 0-7, 8-15, 16-23, 24-31 (raw values:
// q for the integer formats, 2^-8 * e4m3 for fp8; scales are applied by the caller) -------------

struct Fp32Rows {
  static constexpr int kRowBytes = 128;
  const float* p;
  void get(int64_t kk, __m256* v) const {
    for (int i = 0; i < 4; ++i) v[i] = _mm256_loadu_ps(p + kk * 32 + 8 * i);
  }
};

// bf16 rows are stored permuted for AVX-512 (gemm_pack.cpp: bf16_slot): 128-bit lane L holds
// columns 4L..4L+3, then 16+4L..16+4L+3. vpunpck{l,h}wd works per 128-bit lane, so on a 256-bit
// load of lanes 0-1 the low words give columns 0-7 in order and the high words 16-23; lanes 2-3
// give 8-15 and 24-31. Interleaving with zero puts each bf16 in the top half of a dword: exact.
struct Bf16Rows {
  static constexpr int kRowBytes = 64;
  const uint16_t* p;
  void get(int64_t kk, __m256* v) const {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kk * 32));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kk * 32 + 16));
    const __m256i z = _mm256_setzero_si256();
    v[0] = _mm256_castsi256_ps(_mm256_unpacklo_epi16(z, lo));
    v[2] = _mm256_castsi256_ps(_mm256_unpackhi_epi16(z, lo));
    v[1] = _mm256_castsi256_ps(_mm256_unpacklo_epi16(z, hi));
    v[3] = _mm256_castsi256_ps(_mm256_unpackhi_epi16(z, hi));
  }
};

struct Int8Rows {
  static constexpr int kRowBytes = 32;
  const int8_t* p;
  // 8-byte loads fold into vpmovsxbd's memory operand
  void get(int64_t kk, __m256* v) const {
    for (int i = 0; i < 4; ++i)
      v[i] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + kk * 32 + 8 * i))));
  }
};

// E4M3 -> fp16 bits as in gemm_avx512_rows.hpp: sign-extend to 16 bits, shift left 7, clear bit 14
// (a copy of the sign); vcvtph2ps is exact, also for subnormals; the result is 2^-8 * e4m3.
struct Fp8Rows {
  static constexpr int kRowBytes = 32;
  const uint8_t* p;
  void get(int64_t kk, __m256* v) const {
    const __m256i keep = _mm256_set1_epi16(static_cast<short>(0xBFFF));
    for (int h = 0; h < 2; ++h) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + kk * 32 + 16 * h));
      const __m256i w = _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(b), 7), keep);
      v[2 * h] = _mm256_cvtph_ps(_mm256_castsi256_si128(w));
      v[2 * h + 1] = _mm256_cvtph_ps(_mm256_extracti128_si256(w, 1));
    }
  }
};

// int4: blocks of 8 rows; dword c of a 128-byte block holds the 8 nibbles of column c, row 8b+i in
// bits 4i..4i+3 (gemm_pack.cpp), so the block is 4 ymm in column order. Row kk: shift, mask, cvt.
struct Int4Rows {
  const uint8_t* p;  // panel base
  void get(int64_t kk, __m256* v) const {
    const uint8_t* blk = p + (kk / 8) * 128;
    const __m128i sh = _mm_cvtsi32_si128(static_cast<int>(4 * (kk % 8)));
    const __m256i f = _mm256_set1_epi32(15);
    for (int i = 0; i < 4; ++i) {
      const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32 * i));
      v[i] = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srl_epi32(d, sh), f));
    }
  }
};

// Zero points of one int4 group (16 bytes: byte j = column j low nibble, column j+16 high).
inline void int4_zeros(const uint8_t* z16, __m256* z) {
  const __m256i f = _mm256_set1_epi32(15);
  for (int h = 0; h < 2; ++h) {
    const __m256i b =
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(z16 + 8 * h)));
    z[h] = _mm256_cvtepi32_ps(_mm256_and_si256(b, f));
    z[h + 2] = _mm256_cvtepi32_ps(_mm256_srli_epi32(b, 4));
  }
}

// fp16 scales of one int4 group (32 of them).
inline void int4_scales(const uint16_t* s32, __m256* s) {
  for (int i = 0; i < 4; ++i)
    s[i] = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s32 + 8 * i)));
}

// Per-column scale of a panel times `extra` (fp8 folds its 2^8 here).
inline void column_scales(const PackedWeights& w, int64_t p, float extra, __m256* s) {
  for (int i = 0; i < 4; ++i)
    s[i] = _mm256_mul_ps(_mm256_loadu_ps(w.scale.data() + p * 32 + 8 * i), _mm256_set1_ps(extra));
}

}  // namespace
}  // namespace llmroof::kernels::detail
