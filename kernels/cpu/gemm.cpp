// GEMM dispatch (AVX-512 when the CPU has it, else AVX2 + FMA + F16C, else portable loops) and the
// scalar reference.
#include "kernels/cpu/gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>

#include "kernels/cpu/gemm_internal.hpp"
#include "kernels/cpu/quant.hpp"
#include "kernels/cpu_features.hpp"

namespace llmroof::kernels {

namespace detail {

int64_t& gemv_rows_crossover() {
  static int64_t crossover = kGemvRowsCrossover;
  return crossover;
}

int64_t& gemv_rows_crossover_avx2() {
  static int64_t crossover = kGemvRowsCrossoverAvx2;
  return crossover;
}

#if defined(__x86_64__)
// (Here, not in gemm_amx_int8.cpp: code compiled with the AMX/AVX-512 target must not run before
// the CPU check.)
bool amx_int8_usable() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.avx512bw && f.avx512vl && f.amx_tile && f.amx_int8 && enable_amx();
}

bool& w8a8_amx_allowed() {
  static bool allowed = true;
  return allowed;
}

bool w8a8_uses_amx() {
  static const bool usable = amx_int8_usable();
  return usable && w8a8_amx_allowed();
}

bool amx_bf16_usable() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.avx512bw && f.avx512vl && f.avx512_bf16 && f.amx_tile && f.amx_bf16 &&
         enable_amx();
}

bool& bf16_amx_allowed() {
  static bool allowed = true;
  return allowed;
}

bool bf16_uses_amx() {
  static const bool usable = amx_bf16_usable();
  return usable && bf16_amx_allowed();
}
#endif

QuantizedRows quantize_rows_portable(const float* x, int64_t m, int64_t k, int64_t k_padded) {
  QuantizedRows r;
  r.u8.assign(m * k_padded, 128);
  r.scale.resize(m);
  std::vector<int8_t> q(k);
  for (int64_t i = 0; i < m; ++i) {
    r.scale[i] = quantize_row_int8(x + i * k, k, q.data());
    for (int64_t kk = 0; kk < k; ++kk) r.u8[i * k_padded + kk] = static_cast<uint8_t>(q[kk] + 128);
  }
  return r;
}

}  // namespace detail

namespace {

// Portable GEMM over output panels [p0, p1): dequantize a block of panel rows to fp32, then plain
// loops the compiler vectorizes for the baseline ISA.
void portable_panels(const float* x, int64_t m, const PackedWeights& w, float* y, int64_t p0,
                     int64_t p1) {
  constexpr int64_t kc = 256;
  std::vector<float> b(kc * kPanel), acc(m * kPanel);
  for (int64_t p = p0; p < p1; ++p) {
    std::fill(acc.begin(), acc.end(), 0.f);
    for (int64_t k0 = 0; k0 < w.k; k0 += kc) {
      const int64_t len = std::min(kc, w.k - k0);
      for (int64_t kk = 0; kk < len; ++kk)
        for (int64_t c = 0; c < kPanel; ++c)
          b[kk * kPanel + c] =
              p * kPanel + c < w.n ? dequantized_weight(w, k0 + kk, p * kPanel + c) : 0;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t kk = 0; kk < len; ++kk) {
          const float xv = x[i * w.k + k0 + kk];
          for (int64_t c = 0; c < kPanel; ++c) acc[i * kPanel + c] += xv * b[kk * kPanel + c];
        }
    }
    const int64_t cols = std::min(kPanel, w.n - p * kPanel);
    for (int64_t i = 0; i < m; ++i)
      std::memcpy(y + i * w.n + p * kPanel, &acc[i * kPanel], cols * sizeof(float));
  }
}

// Portable W8A8: integer dot products of the per-token quantized rows with the int8 weights.
void portable_w8a8(const detail::QuantizedRows& xq, int64_t m, const PackedWeights& w, float* y,
                   int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    const int8_t* base = reinterpret_cast<const int8_t*>(w.data.data()) + p * w.k_padded * kPanel;
    for (int64_t c = 0; c < kPanel && p * kPanel + c < w.n; ++c) {
      const int64_t j = p * kPanel + c;
      for (int64_t i = 0; i < m; ++i) {
        const uint8_t* a = &xq.u8[i * w.k_padded];
        int32_t acc = 0;
        for (int64_t kk = 0; kk < w.k_padded; ++kk)
          acc += a[kk] * base[(kk / 4) * 128 + c * 4 + kk % 4];
        y[i * w.n + j] = static_cast<float>(acc - 128 * w.col_sum[j]) * (xq.scale[i] * w.scale[j]);
      }
    }
  }
}

// Small problems run on the calling thread: waking a worker (tens of microseconds, much more on a
// loaded machine) costs more than a few microseconds of work.
bool is_small(int64_t m, const PackedWeights& w) {
  return w.bytes() < 256.0 * 1024 && 2.0 * static_cast<double>(m) * w.n * w.k < 4e6;
}

void split(ThreadPool& pool, bool small, int64_t n,
           const std::function<void(int64_t, int64_t)>& fn) {
  if (small)
    fn(0, n);
  else
    pool.parallel_for(n, fn);
}

bool use_avx512(WeightFormat f) {
#if defined(__x86_64__)
  return detail::avx512_usable(f);
#else
  (void)f;
  return false;
#endif
}

bool use_avx2() {
#if defined(__x86_64__)
  return detail::avx2_usable();
#else
  return false;
#endif
}

enum class Path { portable, avx2, avx512 };

// The requested ISA, lowered to what the CPU has and what the format's kernels need (a CPU with
// AVX-512F but no VNNI runs W8A8 on the AVX2 path, not the portable one).
Path path_for(WeightFormat f, Isa isa) {
  const Isa usable = usable_isa(isa);
  if (usable == Isa::avx512 && use_avx512(f)) return Path::avx512;
  if (usable != Isa::scalar && use_avx2()) return Path::avx2;
  return Path::portable;
}

#if defined(__x86_64__)
// Claims the next chunk of [0, total) for one of nt threads: guided sizes (a share of what is left,
// at most max_chunk, at least min_chunk), so the last chunks are small and the threads finish
// together; one thread takes max_chunk always. Returns the chunk's begin (total when nothing is
// left) and sets *end.
int64_t claim(std::atomic<int64_t>& next, int64_t total, int64_t min_chunk, int64_t max_chunk,
              int nt, int64_t* end) {
  int64_t b = next.load(std::memory_order_relaxed);
  for (;;) {
    if (b >= total) return total;
    const int64_t c =
        nt == 1 ? max_chunk : std::clamp<int64_t>((total - b) / (2 * nt), min_chunk, max_chunk);
    if (next.compare_exchange_weak(b, b + c, std::memory_order_relaxed)) {
      *end = std::min(total, b + c);
      return b;
    }
  }
}

// A GEMM that packs x first (W8A8: the VNNI tile at m > gemv_rows_crossover(), the AMX tile; bf16
// on AMX) as one pool job: the threads claim row blocks of x to pack (pack(b0, b1): quantize, or
// round to bf16), wait until all are packed, then claim chunks of output panels (tile(p0, p1)).
// Claiming instead of a fixed half per thread keeps both cores useful when one of them is shared
// (another process, or an OpenMP runtime still spinning after its own parallel region): with a
// fixed split the call lasts as long as the slower half (docs/gemm.md, "Threads").
template <typename Pack, typename Tile>
void run_claimed(int64_t blocks, int64_t panels, ThreadPool* pool, Pack&& pack, Tile&& tile) {
  // Chunks of 2..8 panels: 8 = the kernels' panel group (each A block reused 8 times); a single
  // panel re-reads all of A (from L3) for 1/8 of the work.
  constexpr int64_t kPanelChunk = 8;
  std::atomic<int64_t> next_block{0}, packed{0}, next_panel{0};
  const auto job = [&](int, int nt) {
    int64_t e = 0;
    for (int64_t b; (b = claim(next_block, blocks, 1, 4, nt, &e)) < blocks;) {
      pack(b, e);
      packed.fetch_add(e - b, std::memory_order_release);
    }
    while (packed.load(std::memory_order_acquire) < blocks) detail::cpu_pause();
    for (int64_t p; (p = claim(next_panel, panels, 2, kPanelChunk, nt, &e)) < panels;) tile(p, e);
  };
  if (pool)
    pool->run(job);
  else
    job(0, 1);
}

// W8A8 at m >= kW8a8AmxMinRows on the AMX tile: x as row-major u8 rows (whole 32-row tiles).
void run_w8a8_amx(const float* x, int64_t m, const PackedWeights& w, float* y, ThreadPool* pool) {
  constexpr int64_t mt = detail::kGemmMRAmx;
  const int64_t blocks = (m + mt - 1) / mt;
  thread_local std::vector<uint8_t> a;
  thread_local std::vector<float> sx;
  a.resize(std::max<size_t>(a.size(), blocks * mt * detail::amx_lda(w.k_padded)));
  sx.resize(std::max<size_t>(sx.size(), blocks * mt));
  // (thread_locals are not captured: the workers must see this thread's buffers)
  uint8_t* ap = a.data();
  float* s = sx.data();
  run_claimed(
      blocks, w.panels, pool,
      [&](int64_t b0, int64_t b1) {
        detail::quantize_rows_rowmajor_avx512(x, m, w.k, w.k_padded, detail::amx_lda(w.k_padded),
                                              ap, s, b0 * mt, b1 * mt);
      },
      [&](int64_t p0, int64_t p1) { detail::gemm_w8a8_amx(ap, s, m, w, y, p0, p1); });
}

// bf16 weights at m >= kBf16AmxMinRows on the AMX tile: x rounded to bf16 rows (whole 32-row
// tiles), the same claimed split as W8A8's.
void run_bf16_amx(const float* x, int64_t m, const PackedWeights& w, float* y, ThreadPool* pool) {
  constexpr int64_t mt = detail::kGemmMRAmx;
  const int64_t blocks = (m + mt - 1) / mt, kp = detail::amx_bf16_kp(w.k);
  const int64_t lda = detail::amx_lda(2 * kp);
  thread_local std::vector<uint16_t> a;
  a.resize(std::max<size_t>(a.size(), blocks * mt * lda / 2));
  uint16_t* ap = a.data();  // (thread_locals are not captured: the workers must see this one)
  run_claimed(
      blocks, w.panels, pool,
      [&](int64_t b0, int64_t b1) {
        detail::round_rows_bf16_avx512(x, m, w.k, kp, lda, ap, b0 * mt, b1 * mt);
      },
      [&](int64_t p0, int64_t p1) { detail::gemm_bf16_amx(ap, m, w, y, p0, p1); });
}

void run_avx512(const float* x, int64_t m, const PackedWeights& w, float* y, ThreadPool& pool) {
  const bool small = is_small(m, w);
  const int64_t blocks = (m + detail::kGemmMR - 1) / detail::kGemmMR;
  thread_local std::vector<float> ap;  // packed x, reused across calls (no page faults per call)
  if (w.format == WeightFormat::w8a8 && m >= detail::kW8a8AmxMinRows && detail::w8a8_uses_amx()) {
    run_w8a8_amx(x, m, w, y, small ? nullptr : &pool);  // its own x layout and buffers
  } else if (w.format == WeightFormat::bf16 && m >= kBf16AmxMinRows && detail::bf16_uses_amx()) {
    run_bf16_amx(x, m, w, y, small ? nullptr : &pool);
  } else if (w.format == WeightFormat::w8a8) {
    thread_local std::vector<float> sx;
    // rows as the tile's blocks of 14 or the multi-row GEMV's blocks of 8, whichever is more
    constexpr int64_t r8 = detail::kGemvRowsW8a8;
    const int64_t rows = std::max(blocks * detail::kGemmMR, (m + r8 - 1) / r8 * r8);
    const int64_t words = rows * (w.k_padded / 4);
    ap.resize(std::max<size_t>(ap.size(), words));
    sx.resize(std::max<size_t>(sx.size(), blocks * detail::kGemmMR));
    // (thread_locals are not captured: the workers must see this thread's buffers)
    int32_t* a = reinterpret_cast<int32_t*>(ap.data());
    float* s = sx.data();
    if (m == 1) {
      detail::quantize_pack_rows_avx512(x, m, w.k, w.k_padded, a, s, 0, 1);
      split(pool, small, w.panels,
            [&](int64_t p0, int64_t p1) { detail::gemm_w8a8_avx512(a, s, m, w, y, p0, p1); });
    } else if (m <= detail::gemv_rows_crossover()) {
      // (<= 64 rows: quantized on the calling thread, a few microseconds against the GEMV's
      // streaming of all weights)
      detail::quantize_rows_u8_avx512(x, m, w.k, w.k_padded, a, s);
      split(pool, small, w.panels,
            [&](int64_t p0, int64_t p1) { detail::gemv_rows_w8a8_avx512(a, s, m, w, y, p0, p1); });
    } else {
      run_claimed(
          blocks, w.panels, small ? nullptr : &pool,
          [&](int64_t b0, int64_t b1) {
            detail::quantize_pack_rows_avx512(x, m, w.k, w.k_padded, a, s, b0, b1);
          },
          [&](int64_t p0, int64_t p1) { detail::gemm_w8a8_avx512(a, s, m, w, y, p0, p1); });
    }
  } else if (m == 1) {
    split(pool, small, w.panels,
          [&](int64_t p0, int64_t p1) { detail::gemv_avx512(x, w, y, p0, p1); });
  } else if (m <= detail::gemv_rows_crossover()) {
    split(pool, small, w.panels,
          [&](int64_t p0, int64_t p1) { detail::gemv_rows_avx512(x, m, w, y, p0, p1); });
  } else {
    ap.resize(std::max<size_t>(ap.size(), blocks * w.k * detail::kGemmMR));
    float* a = ap.data();
    split(pool, small, blocks,
          [&](int64_t b0, int64_t b1) { detail::pack_a(x, m, w.k, a, b0, b1); });
    split(pool, small, w.panels,
          [&](int64_t p0, int64_t p1) { detail::gemm_avx512(a, m, w, y, p0, p1); });
  }
}

// Same driver shape as run_avx512 with the AVX2 kernels' row blocks (6 fp32 rows, 4 int8 rows).
void run_avx2(const float* x, int64_t m, const PackedWeights& w, float* y, ThreadPool& pool) {
  const bool small = is_small(m, w);
  thread_local std::vector<float> ap2;  // packed x (fp32 or int8 dwords), reused across calls
  if (w.format == WeightFormat::w8a8) {
    constexpr int64_t mr = detail::kGemmMRW8a8Avx2;
    const int64_t blocks = (m + mr - 1) / mr;
    thread_local std::vector<float> sx2;
    ap2.resize(std::max<size_t>(ap2.size(), blocks * (w.k_padded / 4) * mr));
    sx2.resize(std::max<size_t>(sx2.size(), blocks * mr));
    int32_t* a = reinterpret_cast<int32_t*>(ap2.data());
    float* s = sx2.data();
    split(pool, small, blocks, [&](int64_t b0, int64_t b1) {
      detail::quantize_pack_rows_avx2(x, m, w.k, w.k_padded, a, s, b0, b1);
    });
    split(pool, small, w.panels,
          [&](int64_t p0, int64_t p1) { detail::gemm_w8a8_avx2(a, s, m, w, y, p0, p1); });
  } else if (m == 1) {
    split(pool, small, w.panels,
          [&](int64_t p0, int64_t p1) { detail::gemv_avx2(x, w, y, p0, p1); });
  } else if (m <= detail::gemv_rows_crossover_avx2() && detail::gemv_rows_avx2_handles(w.format)) {
    split(pool, small, w.panels,
          [&](int64_t p0, int64_t p1) { detail::gemv_rows_avx2(x, m, w, y, p0, p1); });
  } else {
    constexpr int64_t mr = detail::kGemmMRAvx2;
    const int64_t blocks = (m + mr - 1) / mr;
    ap2.resize(std::max<size_t>(ap2.size(), blocks * w.k * mr));
    float* a = ap2.data();
    split(pool, small, blocks,
          [&](int64_t b0, int64_t b1) { detail::pack_a_avx2(x, m, w.k, a, b0, b1); });
    split(pool, small, w.panels,
          [&](int64_t p0, int64_t p1) { detail::gemm_avx2(a, m, w, y, p0, p1); });
  }
}
#endif

}  // namespace

std::string_view gemm_isa(WeightFormat f, Isa isa) {
  switch (path_for(f, isa)) {
    case Path::portable:
      return "portable";
    case Path::avx2:
#if defined(__x86_64__)
      if (f == WeightFormat::w8a8 && detail::w8a8_avx2_uses_vnni()) return "avx2+avx_vnni";
#endif
      return "avx2+fma+f16c";
    case Path::avx512:
      break;
  }
  switch (f) {
    case WeightFormat::w8a8:
#if defined(__x86_64__)
      if (detail::w8a8_uses_amx()) return "avx512_vnni+amx_int8";  // AMX for m >= 2
#endif
      return "avx512_vnni";
    case WeightFormat::bf16:
#if defined(__x86_64__)
      if (detail::bf16_uses_amx()) return "avx512bw+amx_bf16";  // AMX for m >= 9
#endif
      return "avx512bw";
    case WeightFormat::fp8:
      return "avx512f+f16c";
    default:
      return "avx512f";
  }
}

std::string_view gemm_isa(WeightFormat f) { return gemm_isa(f, Isa::avx512); }

bool gemm_w8a8_uses_amx() {
#if defined(__x86_64__)
  return path_for(WeightFormat::w8a8, Isa::avx512) == Path::avx512 && detail::w8a8_uses_amx();
#else
  return false;
#endif
}

bool gemm_bf16_uses_amx() {
#if defined(__x86_64__)
  return path_for(WeightFormat::bf16, Isa::avx512) == Path::avx512 && detail::bf16_uses_amx();
#else
  return false;
#endif
}

bool gemm_bf16_uses_amx(int64_t m) {
  return m >= kBf16AmxMinRows && gemm_bf16_uses_amx();
}

void gemm_portable(const float* x, int64_t m, const PackedWeights& w, float* y, ThreadPool& pool) {
  const bool small = is_small(m, w);
  if (w.format == WeightFormat::w8a8) {
    const auto xq = detail::quantize_rows_portable(x, m, w.k, w.k_padded);
    split(pool, small, w.panels,
          [&](int64_t p0, int64_t p1) { portable_w8a8(xq, m, w, y, p0, p1); });
    return;
  }
  split(pool, small, w.panels,
        [&](int64_t p0, int64_t p1) { portable_panels(x, m, w, y, p0, p1); });
}

void gemm(const float* x, int64_t m, const PackedWeights& w, float* y, ThreadPool& pool, Isa isa) {
  if (m <= 0) return;
  switch (path_for(w.format, isa)) {
#if defined(__x86_64__)
    case Path::avx512:
      return run_avx512(x, m, w, y, pool);
    case Path::avx2:
      return run_avx2(x, m, w, y, pool);
#endif
    default:
      return gemm_portable(x, m, w, y, pool);
  }
}

// Isa::avx512 is lowered to the best path this CPU and format allow.
void gemm(const float* x, int64_t m, const PackedWeights& w, float* y, ThreadPool& pool) {
  gemm(x, m, w, y, pool, Isa::avx512);
}

void gemm_ref(const float* x, int64_t m, const PackedWeights& w, float* y) {
  if (w.format == WeightFormat::w8a8) {
    std::vector<int8_t> q(w.k);
    for (int64_t i = 0; i < m; ++i) {
      const double sx = quantize_row_int8(x + i * w.k, w.k, q.data());
      for (int64_t j = 0; j < w.n; ++j) {
        const int8_t* wq =
            reinterpret_cast<const int8_t*>(w.data.data()) + (j / kPanel) * w.k_padded * kPanel;
        int64_t acc = 0;
        for (int64_t kk = 0; kk < w.k; ++kk)
          acc += q[kk] * static_cast<int64_t>(wq[(kk / 4) * 128 + (j % kPanel) * 4 + kk % 4]);
        y[i * w.n + j] = static_cast<float>(sx * w.scale[j] * static_cast<double>(acc));
      }
    }
    return;
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < w.n; ++j) {
      double acc = 0;
      for (int64_t kk = 0; kk < w.k; ++kk)
        acc += static_cast<double>(x[i * w.k + kk]) * dequantized_weight(w, kk, j);
      y[i * w.n + j] = static_cast<float>(acc);
    }
}

}  // namespace llmroof::kernels
