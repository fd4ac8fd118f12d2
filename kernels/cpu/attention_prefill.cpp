// Flash-attention prefill driver: work items are (batch, q head, query tile), handed out dynamically
// (largest causal tiles first, so the last items are the cheap ones and threads finish together).
#include "kernels/cpu/attention_prefill.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "kernels/cpu/attention.hpp"

namespace llmroof::kernels {

namespace {
struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
std::unique_ptr<float, AlignedFree> aligned_floats(int64_t n) {
  const size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) / 64 * 64;
  return std::unique_ptr<float, AlignedFree>(static_cast<float*>(std::aligned_alloc(64, bytes)));
}
}  // namespace

void attention_prefill(const float* q, const float* k, const float* v, float* o,
                       const AttentionDims& d, ThreadPool& pool, Isa isa) {
  validate(d);
  KvCacheView kv;
  kv.k = k;
  kv.v = v;
  const Isa path = usable_isa(isa);  // avx512 or avx2 tiles; the reference otherwise
  if (attention_runs_reference(d, isa)) {
    attention_ref(q, kv, o, d);
    return;
  }
  if (d.q_len == 1) {  // one query sees every key either way: flash-decoding fills the lanes
    attention_decode(q, kv, o, d, pool, isa);
    return;
  }
  const int64_t tiles = (d.q_len + kFlashQueryTile - 1) / kFlashQueryTile;
  const int64_t heads = d.batch * d.q_heads, items = heads * tiles;
  const int64_t group = d.q_heads / d.kv_heads, cap = d.capacity(), hd = d.head_dim;
  const float scale_log2 = d.softmax_scale() * 1.4426950408889634f;
  std::atomic<int64_t> next{0};
  pool.run([&](int, int) {
    auto scratch = aligned_floats(flash_scratch_floats(hd));
    for (int64_t w = next.fetch_add(1); w < items; w = next.fetch_add(1)) {
      const int64_t tile = tiles - 1 - w / heads;  // causal cost grows with the tile index
      const int64_t b = (w % heads) / d.q_heads, h = (w % heads) % d.q_heads;
      FlashTile t;
      t.q_stride = d.q_heads * hd;
      t.kv_stride = d.kv_heads * hd;
      t.q0 = tile * kFlashQueryTile;
      t.nq = std::min(kFlashQueryTile, d.q_len - t.q0);
      t.q = q + (b * d.q_len + t.q0) * t.q_stride + h * hd;
      t.o = o + (b * d.q_len + t.q0) * t.q_stride + h * hd;
      t.k = k + b * cap * t.kv_stride + (h / group) * hd;
      t.v = v + b * cap * t.kv_stride + (h / group) * hd;
      t.head_dim = hd;
      t.kv_len = d.kv_len;
      t.causal_offset = d.kv_len - d.q_len;
      t.causal = d.causal;
      t.scale_log2 = scale_log2;
      t.scratch = scratch.get();
      if (path == Isa::avx512)
        flash_prefill_tile_avx512(t);
      else
        flash_prefill_tile_avx2(t);
    }
  });
}

}  // namespace llmroof::kernels
