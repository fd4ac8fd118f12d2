#include "kernels/cpu/rope.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "kernels/cpu/rowwise_avx2.hpp"

namespace llmroof::kernels {

namespace {
double inv_freq(int64_t i, int64_t head_dim, double theta) {
  return std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
}

// Scalar rotation of one head with the angles' cos/sin given per pair.
template <typename CosSin>
void rotate_head(float* x, int64_t half, CosSin cs) {
  for (int64_t i = 0; i < half; ++i) {
    const auto [c, s] = cs(i);
    const double a = x[i], b = x[i + half];
    x[i] = static_cast<float>(a * c - b * s);
    x[i + half] = static_cast<float>(b * c + a * s);
  }
}
}  // namespace

RopeTable make_rope_table(int64_t head_dim, int64_t max_positions, double theta) {
  if (head_dim <= 0 || head_dim % 2 || max_positions <= 0)
    throw std::invalid_argument("rope table: head_dim must be positive and even, positions > 0");
  RopeTable t;
  t.head_dim = head_dim;
  t.max_positions = max_positions;
  t.theta = theta;
  const int64_t half = head_dim / 2;
  t.cos.resize(static_cast<size_t>(max_positions * half));
  t.sin.resize(t.cos.size());
  for (int64_t p = 0; p < max_positions; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const double a = static_cast<double>(p) * inv_freq(i, head_dim, theta);
      t.cos[p * half + i] = static_cast<float>(std::cos(a));
      t.sin[p * half + i] = static_cast<float>(std::sin(a));
    }
  return t;
}

void rope_ref(float* q, float* k, int64_t head_dim, double theta, int64_t batch, int64_t seq,
              int64_t q_heads, int64_t kv_heads, int64_t pos0) {
  const int64_t half = head_dim / 2;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < seq; ++s) {
      const double pos = static_cast<double>(pos0 + s);
      auto cs = [&](int64_t i) {
        const double a = pos * inv_freq(i, head_dim, theta);
        return std::pair<double, double>(std::cos(a), std::sin(a));
      };
      const int64_t tok = b * seq + s;
      for (int64_t h = 0; h < q_heads; ++h) rotate_head(q + (tok * q_heads + h) * head_dim, half, cs);
      for (int64_t h = 0; h < kv_heads; ++h) rotate_head(k + (tok * kv_heads + h) * head_dim, half, cs);
    }
}

void rope(float* q, float* k, const RopeTable& t, int64_t batch, int64_t seq, int64_t q_heads,
          int64_t kv_heads, int64_t pos0, ThreadPool& pool, Isa isa, const RopeKSink* k_sink) {
  if (pos0 < 0 || pos0 + seq > t.max_positions)
    throw std::invalid_argument("rope: positions " + std::to_string(pos0) + ".." +
                                std::to_string(pos0 + seq - 1) + " exceed the table's " +
                                std::to_string(t.max_positions));
  const int64_t d = t.head_dim, half = d / 2;
  const Isa path = usable_isa(isa);
  const auto token_fn = path == Isa::avx512 ? &rope_token_avx512 : &rope_token_avx2;
  // One task = one token (q_heads + kv_heads heads): tokens are contiguous in both tensors.
  const int64_t grain = std::max<int64_t>(1, 4096 / ((q_heads + kv_heads) * d));
  pool.parallel_for(batch * seq, [&](int64_t t0, int64_t t1) {
    for (int64_t tok = t0; tok < t1; ++tok) {
      const int64_t pos = pos0 + tok % seq;
      const float* c = t.cos.data() + pos * half;
      const float* s = t.sin.data() + pos * half;
      float* qt = q + tok * q_heads * d;
      float* kt = k + tok * kv_heads * d;
      if (path != Isa::scalar) {
        token_fn(qt, q_heads, d, c, s);
        token_fn(kt, kv_heads, d, c, s);
      } else {
        auto cs = [&](int64_t i) { return std::pair<double, double>(c[i], s[i]); };
        for (int64_t h = 0; h < q_heads; ++h) rotate_head(qt + h * d, half, cs);
        for (int64_t h = 0; h < kv_heads; ++h) rotate_head(kt + h * d, half, cs);
      }
      if (k_sink) (*k_sink)(tok, kt);
    }
  }, grain);
}

}  // namespace llmroof::kernels
