#pragma once
// AVX-512 helpers for the *_avx512.cpp files, which are the only files compiled with AVX-512 flags
// (kernels/CMakeLists.txt). Everything here has internal linkage, and these files include no
// standard-library templates, so no AVX-512 copy of an inline function can leak into generic code
// through the linker (the classic ODR trap of per-file ISA flags).
#include <immintrin.h>

#include <cstdint>

namespace llmroof::kernels::avx512 {
namespace {

inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }
inline float hmax(__m512 v) { return _mm512_reduce_max_ps(v); }

// Mask of the first n (< 16) lanes.
inline __mmask16 tail_mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
// Mask of the first n lanes for any n: none for n <= 0, all 16 for n >= 16 (the live lanes of a
// chunk with n elements left).
inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : n <= 0 ? static_cast<__mmask16>(0) : tail_mask(n);
}

// 2^x for x in lanes; x < -126 (incl. -inf) gives exactly 0, so masked scores contribute nothing and
// no denormal reaches an FMA. x = n + f, f in [-0.5, 0.5]; 2^f by a degree-6 minimax polynomial
// (rel. error < 2e-7, about 1 ulp), 2^n applied with vscalefps.
inline __m512 exp2_ps(__m512 x) {
  const __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-126.f), _CMP_GE_OQ);
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-126.f)), _mm512_set1_ps(127.f));
  const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(x, n);
  __m512 p = _mm512_set1_ps(1.535336188319500e-4f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_maskz_mov_ps(live, _mm512_scalef_ps(p, n));
}

// e^x = 2^(x·log2 e).
inline __m512 exp_ps(__m512 x) { return exp2_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.4426950408889634f))); }

// bf16 -> fp32: the bf16 bits are the top half of the fp32 bits.
inline __m512 load_bf16(const uint16_t* p) {
  const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

// int8 -> fp32 (16 values).
inline __m512 load_i8(const int8_t* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b));
}

// x[i] *= a for i < n (n a multiple of 16): the online softmax's rescale of an output row.
inline void scale_row(float* x, int64_t n, __m512 a) {
  for (int64_t c = 0; c < n; c += 16)
    _mm512_storeu_ps(x + c, _mm512_mul_ps(_mm512_loadu_ps(x + c), a));
}

// Every 32 floats of o[0, n) (n a multiple of 32) through a two-vector permute: output i of the
// first half is input first[i] of the 32, output i of the second half input second[i]. Used to
// put the flash-decoding output rows back in order after a P·V that kept its own channel order.
inline void permute_rows32(float* o, int64_t n, __m512i first, __m512i second) {
  for (int64_t c = 0; c < n; c += 32) {
    const __m512 a = _mm512_loadu_ps(o + c), b = _mm512_loadu_ps(o + c + 16);
    _mm512_storeu_ps(o + c, _mm512_permutex2var_ps(a, first, b));
    _mm512_storeu_ps(o + c + 16, _mm512_permutex2var_ps(a, second, b));
  }
}

// 16 × 16 transpose of dwords: on return lane t of r[j] is what lane j of r[t] was. Unpacks of
// dwords and qwords build 4 × 4 blocks inside each 128-bit lane; two rounds of 128-bit shuffles
// then move the blocks (64 shuffles in all).
inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  __m512i u[4][4];  // u[G][e], 128-bit lane k: element 4k + e of rows 4G .. 4G + 3
  for (int G = 0; G < 4; ++G) {
    u[G][0] = _mm512_unpacklo_epi64(t[4 * G], t[4 * G + 2]);
    u[G][1] = _mm512_unpackhi_epi64(t[4 * G], t[4 * G + 2]);
    u[G][2] = _mm512_unpacklo_epi64(t[4 * G + 1], t[4 * G + 3]);
    u[G][3] = _mm512_unpackhi_epi64(t[4 * G + 1], t[4 * G + 3]);
  }
  for (int e = 0; e < 4; ++e) {
    const __m512i x0 = _mm512_shuffle_i32x4(u[0][e], u[1][e], 0x44),
                  x1 = _mm512_shuffle_i32x4(u[0][e], u[1][e], 0xEE);
    const __m512i y0 = _mm512_shuffle_i32x4(u[2][e], u[3][e], 0x44),
                  y1 = _mm512_shuffle_i32x4(u[2][e], u[3][e], 0xEE);
    r[e] = _mm512_shuffle_i32x4(x0, y0, 0x88);
    r[4 + e] = _mm512_shuffle_i32x4(x0, y0, 0xDD);
    r[8 + e] = _mm512_shuffle_i32x4(x1, y1, 0x88);
    r[12 + e] = _mm512_shuffle_i32x4(x1, y1, 0xDD);
  }
}

}  // namespace
}  // namespace llmroof::kernels::avx512
