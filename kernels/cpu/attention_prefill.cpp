// Flash-attention prefill driver. A work item is a group of query tiles that read the same K and V
// (attention_prefill.hpp: up to kFlashGroupTiles tiles of one kv head of one batch row: the q heads
// of its GQA group, then consecutive query tiles), handed out dynamically, the most expensive
// causal tiles first, so the last items are the cheap ones and threads finish together.
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

FlashPlan flash_prefill_plan(const AttentionDims& d, int threads) {
  const int64_t tiles = (d.q_len + kFlashQueryTile - 1) / kFlashQueryTile;
  const int64_t group = d.q_heads / d.kv_heads;
  const int64_t heads = std::min<int64_t>(group, kFlashGroupTiles);
  const int64_t chunks = (group + heads - 1) / heads;
  const int64_t per_span = d.batch * d.kv_heads * chunks;  // items per span of query tiles
  int64_t span = std::max<int64_t>(1, kFlashGroupTiles / heads);
  while (span > 1 && per_span * ((tiles + span - 1) / span) < 8 * int64_t{threads}) --span;
  return {heads, chunks, span};
}

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
  const int64_t group = d.q_heads / d.kv_heads, cap = d.capacity(), hd = d.head_dim;
  const auto [heads, chunks, span] = flash_prefill_plan(d, pool.size());
  const int64_t per_span = d.batch * d.kv_heads * chunks;  // items per span of query tiles
  const int64_t spans = (tiles + span - 1) / span, items = per_span * spans;
  const float scale_log2 = d.softmax_scale() * 1.4426950408889634f;
  const int64_t state = flash_state_floats(hd);
  std::atomic<int64_t> next{0};
  pool.run([&](int, int) {
    auto scratch = aligned_floats(kFlashGroupTiles * state + flash_shared_floats(hd));
    float* shared = scratch.get() + kFlashGroupTiles * state;
    FlashTile group_tiles[kFlashGroupTiles];
    for (int64_t w = next.fetch_add(1); w < items; w = next.fetch_add(1)) {
      const int64_t sp = spans - 1 - w / per_span;  // causal cost grows with the tile index
      const int64_t b = (w % per_span) / (d.kv_heads * chunks);
      const int64_t kvh = (w % per_span) / chunks % d.kv_heads, chunk = w % chunks;
      const int64_t h0 = kvh * group + chunk * heads;
      const int64_t h1 = std::min(h0 + heads, (kvh + 1) * group);
      int count = 0;
      for (int64_t tile = sp * span; tile < std::min(tiles, (sp + 1) * span); ++tile)
        for (int64_t h = h0; h < h1; ++h) {
          FlashTile& t = group_tiles[count];
          t.q_stride = d.q_heads * hd;
          t.kv_stride = d.kv_heads * hd;
          t.q0 = tile * kFlashQueryTile;
          t.nq = std::min(kFlashQueryTile, d.q_len - t.q0);
          t.q = q + (b * d.q_len + t.q0) * t.q_stride + h * hd;
          t.o = o + (b * d.q_len + t.q0) * t.q_stride + h * hd;
          t.k = k + b * cap * t.kv_stride + kvh * hd;
          t.v = v + b * cap * t.kv_stride + kvh * hd;
          t.head_dim = hd;
          t.kv_len = d.kv_len;
          t.causal_offset = d.kv_len - d.q_len;
          t.causal = d.causal;
          t.scale_log2 = scale_log2;
          t.state = scratch.get() + count * state;
          ++count;
        }
      if (path == Isa::avx512)
        flash_prefill_group_avx512(group_tiles, count, shared);
      else
        for (int i = 0; i < count; ++i) flash_prefill_tile_avx2(group_tiles[i], shared);
    }
  });
}

}  // namespace llmroof::kernels
