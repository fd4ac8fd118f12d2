// Decode attention on CUDA (fp32 KV cache): one block per (batch, q head), 8 warps. Lane l holds
// head_dim/32 elements of q and of the running output; warp w scores tokens w, w + 8, ... with an
// online softmax, and the 8 partial (max, sum, output) triples are merged in shared memory.
#include <cuda_runtime.h>

#include <stdexcept>

#include "kernels/cuda/cuda_kernels.hpp"

namespace llmroof::kernels::cuda {

namespace {
constexpr int kWarps = 8;
constexpr int kMaxPerLane = 8;  // head_dim <= 256

__global__ void decode_kernel(const float* q, const float* k, const float* v, float* o, int q_heads,
                              int kv_heads, int head_dim, int64_t kv_len, int64_t capacity,
                              float scale) {
  const int b = blockIdx.x / q_heads, h = blockIdx.x % q_heads, kvh = h / (q_heads / kv_heads);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, per = head_dim / 32;
  const float* qr = q + (static_cast<int64_t>(b) * q_heads + h) * head_dim;
  float qv[kMaxPerLane], acc[kMaxPerLane];
  for (int i = 0; i < per; ++i) {
    qv[i] = qr[lane + 32 * i] * scale;
    acc[i] = 0;
  }
  float m = -INFINITY, l = 0;
  const int64_t row = static_cast<int64_t>(kv_heads) * head_dim;
  const int64_t base = static_cast<int64_t>(b) * capacity * row + static_cast<int64_t>(kvh) * head_dim;
  for (int64_t t = warp; t < kv_len; t += kWarps) {
    const float* kr = k + base + t * row;
    float s = 0;
    for (int i = 0; i < per; ++i) s += qv[i] * kr[lane + 32 * i];
    for (int off = 16; off > 0; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
    const float mn = fmaxf(m, s), alpha = __expf(m - mn), p = __expf(s - mn);
    l = l * alpha + p;
    const float* vr = v + base + t * row;
    for (int i = 0; i < per; ++i) acc[i] = acc[i] * alpha + p * vr[lane + 32 * i];
    m = mn;
  }
  __shared__ float sm[kWarps], sl[kWarps], so[kWarps][256];
  if (lane == 0) {
    sm[warp] = m;
    sl[warp] = l;
  }
  for (int i = 0; i < per; ++i) so[warp][lane + 32 * i] = acc[i];
  __syncthreads();
  if (warp != 0) return;
  float mx = -INFINITY;
  for (int w = 0; w < kWarps; ++w) mx = fmaxf(mx, sm[w]);
  float sum = 0;
  for (int w = 0; w < kWarps; ++w) sum += sm[w] == -INFINITY ? 0.f : sl[w] * __expf(sm[w] - mx);
  float* orow = o + (static_cast<int64_t>(b) * q_heads + h) * head_dim;
  for (int i = 0; i < per; ++i) {
    float x = 0;
    for (int w = 0; w < kWarps; ++w)
      if (sm[w] != -INFINITY) x += so[w][lane + 32 * i] * __expf(sm[w] - mx);
    orow[lane + 32 * i] = x / sum;
  }
}
}  // namespace

void attention_decode(const float* q, const float* k, const float* v, float* o, int64_t batch,
                      int64_t q_heads, int64_t kv_heads, int64_t head_dim, int64_t kv_len,
                      int64_t capacity, float scale) {
  if (head_dim % 32 != 0 || head_dim > 32 * kMaxPerLane)
    throw std::invalid_argument("cuda attention_decode: head_dim must be a multiple of 32, <= 256");
  if (q_heads % kv_heads != 0) throw std::invalid_argument("cuda attention_decode: q_heads % kv_heads != 0");
  decode_kernel<<<static_cast<unsigned>(batch * q_heads), 32 * kWarps>>>(
      q, k, v, o, static_cast<int>(q_heads), static_cast<int>(kv_heads), static_cast<int>(head_dim),
      kv_len, capacity, scale);
  check_last_error("cuda attention_decode launch");
}

}  // namespace llmroof::kernels::cuda
