#pragma once
// AVX-512 decoders for one packed panel row (32 output columns) -> two fp32 vectors (columns 0..15
// and 16..31). Include only from AVX-512 translation units, after their `#pragma GCC target`.
// Each decoder returns the *raw* value (q for integer formats, 2^-8 * e4m3 for fp8); the
// per-column / per-group scale is applied by the caller (docs/gemm.md).
#include <immintrin.h>

#include <cstdint>

namespace llmroof::kernels::detail {
namespace {

struct Fp32Rows {
  static constexpr int kRowBytes = 128;
  const float* p;
  void get(int64_t kk, __m512& a, __m512& b) const {
    a = _mm512_loadu_ps(p + kk * 32);
    b = _mm512_loadu_ps(p + kk * 32 + 16);
  }
};

// bf16 rows are stored permuted (gemm_pack.cpp: bf16_slot) so that interleaving with zero words
// puts each bf16 in the upper half of a dword, i.e. an exact fp32, in column order.
struct Bf16Rows {
  static constexpr int kRowBytes = 64;
  const uint16_t* p;
  void get(int64_t kk, __m512& a, __m512& b) const {
    const __m512i v = _mm512_loadu_si512(p + kk * 32), z = _mm512_setzero_si512();
    a = _mm512_castsi512_ps(_mm512_unpacklo_epi16(z, v));
    b = _mm512_castsi512_ps(_mm512_unpackhi_epi16(z, v));
  }
};

struct Int8Rows {
  static constexpr int kRowBytes = 32;
  const int8_t* p;
  // two 16-byte loads fold into vpmovsxbd's memory operand (one 32-byte load + extract does not)
  void get(int64_t kk, __m512& a, __m512& b) const {
    const auto* q = reinterpret_cast<const __m128i*>(p + kk * 32);
    a = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(q)));
    b = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(q + 1)));
  }
};

// E4M3 -> fp16 bits: sign-extend the byte to 16 bits, shift left 7 (exponent and mantissa land in
// fp16's fields, bias 15 instead of 7), clear bit 14 (a copy of the sign). vcvtph2ps is exact, also
// for subnormals; the result is 2^-8 times the E4M3 value.
struct Fp8Rows {
  static constexpr int kRowBytes = 32;
  const uint8_t* p;
  void get(int64_t kk, __m512& a, __m512& b) const {
    const __m512i w =
        _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kk * 32)));
    const __m512i h =
        _mm512_and_si512(_mm512_slli_epi16(w, 7), _mm512_set1_epi16(static_cast<short>(0xBFFF)));
    a = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
    b = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
  }
};

// int4 (GEMM dequantization): blocks of 8 rows, dword c of a 128-byte block = the 8 nibbles of
// column c, row 8b+i in bits 4i..4i+3 (gemm_pack.cpp). Row kk: shift, mask, convert.
struct Int4Rows {
  const uint8_t* p;  // panel base
  void get(int64_t kk, __m512& a, __m512& b) const {
    const uint8_t* blk = p + (kk / 8) * 128;
    const __m128i sh = _mm_cvtsi32_si128(static_cast<int>(4 * (kk % 8)));
    const __m512i f = _mm512_set1_epi32(15);
    a = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srl_epi32(_mm512_loadu_si512(blk), sh), f));
    b = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srl_epi32(_mm512_loadu_si512(blk + 64), sh), f));
  }
};

// int4 (GEMV): nibble J of every dword as a float. vpermps reads only the low 4 bits of each index,
// so one shift and one permute of a 0..15 table convert 16 nibbles (no mask, no convert).
template <int J>
inline __m512 int4_nibble(__m512i v, __m512 table) {
  return _mm512_permutexvar_ps(J == 0 ? v : _mm512_srli_epi32(v, 4 * J), table);
}

// Zero points of one int4 group (16 bytes, nibble pairs like the data) as two fp32 vectors.
inline void int4_zeros(const uint8_t* z16, __m512& a, __m512& b) {
  const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(z16)));
  a = _mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32(15)));
  b = _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4));
}

// fp16 scales of one int4 group (32 of them) as two fp32 vectors.
inline void int4_scales(const uint16_t* s32, __m512& a, __m512& b) {
  a = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s32)));
  b = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s32 + 16)));
}

}  // namespace
}  // namespace llmroof::kernels::detail
