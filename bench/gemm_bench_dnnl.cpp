#include "bench/gemm_bench_dnnl.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>

#include "kernels/check.hpp"
#include "kernels/huge_buffer.hpp"

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
namespace lk = llmroof::kernels;

// W8A8's per-call work before the int8 product, done the way our kernel does it (one pass for the
// row's absmax, one to quantize; AVX-512): s = max|x| / 127, u8 = nearbyint(x * 127 / max) + 128.
// cvtps_epi32 rounds to nearest even like nearbyint. On the calling thread, not in an OpenMP
// region: on this shared 2-core machine every extra fork/join that wakes a sleeping thread cost a 4
// ms scheduler tick (measured: 8 ms per pass in parallel vs 0.4 ms serial for 512 x 4096), while
// the serial pass plus scale_rows cost about 0.7 ms per call (3 % of the m = 512, n = 4096 matmul).
void quantize_rows_u8(const float* x, int64_t m, int64_t k, uint8_t* q, float* scale) {
  for (int64_t i = 0; i < m; ++i) {
    const float* r = x + i * k;
    uint8_t* o = q + i * k;
    __m512 vmax = _mm512_setzero_ps();
    int64_t j = 0;
    for (; j + 16 <= k; j += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(r + j)));
    float amax = _mm512_reduce_max_ps(vmax);
    for (; j < k; ++j) amax = std::max(amax, std::fabs(r[j]));
    const float inv = amax > 0 ? 127.f / amax : 0.f;
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512i bias = _mm512_set1_epi32(128);
    for (j = 0; j + 16 <= k; j += 16) {
      const __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(r + j), vinv));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + j),
                       _mm512_cvtepi32_epi8(_mm512_add_epi32(v, bias)));
    }
    for (; j < k; ++j)
      o[j] = static_cast<uint8_t>(static_cast<int>(std::nearbyint(r[j] * inv)) + 128);
    scale[i] = amax / 127.f;
  }
}

constexpr float kWeightScale = 1e-3f;

// y[i, :] *= sx[i]: the per-token scale. oneDNN 2.6 has no fast path for it (a binary-mul post-op
// with a [m, 1] operand selects ref_int8, ~1000x slower), so it is a pass of its own over y.
void scale_rows(float* y, int64_t m, int64_t n, const float* sx) {
  for (int64_t i = 0; i < m; ++i) {
    float* r = y + i * n;
    const __m512 s = _mm512_set1_ps(sx[i]);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(r + j, _mm512_mul_ps(_mm512_loadu_ps(r + j), s));
    for (; j < n; ++j) r[j] *= sx[i];
  }
}

bool is_int8(DnnlMatmul::Kind kind) {
  return kind == DnnlMatmul::Kind::u8s8 || kind == DnnlMatmul::Kind::u8s8_quant;
}

dnnl::matmul::primitive_desc make_pd(DnnlMatmul::Kind kind, int64_t m, int64_t k, int64_t n,
                                     const dnnl::engine& eng) {
  using Kind = DnnlMatmul::Kind;
  const dt src_dt = kind == Kind::f32 ? dt::f32 : kind == Kind::bf16 ? dt::bf16 : dt::u8;
  const dt w_dt = kind == Kind::f32 ? dt::f32 : kind == Kind::bf16 ? dt::bf16 : dt::s8;
  const dnnl::memory::desc src({m, k}, src_dt, tag::ab), w({k, n}, w_dt, tag::any),
      dst({m, n}, dt::f32, tag::ab);
  // Per-column weight scales are known at load time: constant output scales. (Runtime ones make
  // 2.6 fall back from brgemm to gemm:jit.)
  dnnl::primitive_attr attr;
  if (is_int8(kind)) attr.set_output_scales(1 << 1, std::vector<float>(n, kWeightScale));
  if (kind == Kind::u8s8_quant) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, w, dst), attr, eng);
}

}  // namespace

struct DnnlMatmul::Impl {
  Impl(Kind kind_, int64_t m_, int64_t k_, int64_t n_) : kind(kind_), m(m_), k(k_), n(n_) {}
  Kind kind;
  int64_t m, k, n;
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
  std::vector<float> x;                        // fp32 activations [m, k]
  std::vector<lk::HugeVector<uint8_t>> w_buf;  // weight copies, 2 MiB pages like ours
  std::vector<dnnl::memory> w_mem;
  std::unordered_map<int, dnnl::memory> args;  // everything but the weights
  std::vector<float> row_scale;                // u8s8_quant: sx per token, set by each call
  size_t next = 0;
};

DnnlMatmul::DnnlMatmul(Kind kind, int64_t m, int64_t k, int64_t n, int64_t weight_copies)
    : impl_(std::make_unique<Impl>(kind, m, k, n)) {
  Impl& s = *impl_;
  s.pd = make_pd(kind, m, k, n, s.eng);
  s.prim = dnnl::matmul(s.pd);
  // Weights: fp32 [k, n] (or s8 integers for int8), reordered into the blocked layout per copy.
  std::vector<float> wf(static_cast<size_t>(k * n));
  if (is_int8(kind)) {
    lk::fill_integers(wf, 17, -127, 127);
  } else {
    lk::fill_uniform(wf, 17, -0.05f, 0.05f);
  }
  std::vector<int8_t> w8(is_int8(kind) ? wf.size() : 0);
  for (size_t i = 0; i < w8.size(); ++i) w8[i] = static_cast<int8_t>(wf[i]);
  dnnl::memory user = is_int8(kind) ? dnnl::memory({{k, n}, dt::s8, tag::ab}, s.eng, w8.data())
                                    : dnnl::memory({{k, n}, dt::f32, tag::ab}, s.eng, wf.data());
  for (int64_t c = 0; c < std::max<int64_t>(1, weight_copies); ++c) {
    s.w_buf.emplace_back(s.pd.weights_desc().get_size());
    s.w_mem.emplace_back(s.pd.weights_desc(), s.eng, s.w_buf.back().data());
    dnnl::reorder(user, s.w_mem.back()).execute(s.strm, user, s.w_mem.back());
  }
  // Activations, destination and the attribute arguments.
  s.x.resize(static_cast<size_t>(m * k));
  lk::fill_uniform(s.x, 5);
  dnnl::memory src(s.pd.src_desc(), s.eng);
  if (kind == Kind::f32) {
    std::copy(s.x.begin(), s.x.end(), static_cast<float*>(src.get_data_handle()));
  } else if (kind == Kind::bf16) {
    dnnl::memory xf({{m, k}, dt::f32, tag::ab}, s.eng, s.x.data());
    dnnl::reorder(xf, src).execute(s.strm, xf, src);
  }
  s.args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dnnl::memory(s.pd.dst_desc(), s.eng)}};
  if (is_int8(kind)) {
    s.row_scale.resize(static_cast<size_t>(m));
    quantize_rows_u8(s.x.data(), m, k, static_cast<uint8_t*>(src.get_data_handle()),
                     s.row_scale.data());
  }
  if (kind == Kind::u8s8_quant) {  // u8 = q + 128: the runtime src zero point takes the 128 off
    dnnl::memory zp({{1}, dt::s32, tag::a}, s.eng);
    *static_cast<int32_t*>(zp.get_data_handle()) = 128;
    s.args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC] = zp;
  }
  s.strm.wait();
}

DnnlMatmul::~DnnlMatmul() = default;

void DnnlMatmul::run() {
  Impl& s = *impl_;
  const bool quant = s.kind == Kind::u8s8_quant;
  if (quant)
    quantize_rows_u8(s.x.data(), s.m, s.k,
                     static_cast<uint8_t*>(s.args[DNNL_ARG_SRC].get_data_handle()),
                     s.row_scale.data());
  s.args[DNNL_ARG_WEIGHTS] = s.w_mem[s.next];
  s.prim.execute(s.strm, s.args);
  s.strm.wait();
  if (quant)
    scale_rows(static_cast<float*>(s.args[DNNL_ARG_DST].get_data_handle()), s.m, s.n,
               s.row_scale.data());
  s.next = (s.next + 1) % s.w_mem.size();
}

double DnnlMatmul::weight_bytes() const {
  return static_cast<double>(impl_->pd.weights_desc().get_size());
}

std::string DnnlMatmul::describe() const {
  const dnnl_version_t* v = dnnl::version();
  return "onednn " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " " + impl_->pd.impl_info_str() + ", " +
         std::to_string(omp_get_max_threads()) + " OpenMP thread(s)";
}

void DnnlMatmul::set_threads(int threads) {
  omp_set_num_threads(threads);
}
