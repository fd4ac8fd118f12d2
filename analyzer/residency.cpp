// Cache residency of a decoder block's activations and write-allocate: which of a row's bytes a real
// kernel moves from DRAM and which from the last-level cache (docs/cost-model.md, "Cache
// residency"). Only the time changes; the rows' cost bytes keep meaning "bytes the op touches".
#include <algorithm>
#include <array>
#include <cmath>

#include "analyzer/plan.hpp"

namespace llmroof::detail {

namespace {

constexpr int kTensors = static_cast<int>(Tensor::act) + 1;

// The rows run in order, each touching cost.bytes.total() bytes; the ledger remembers, per tensor,
// where in that stream of bytes the row that last touched it ended and how many bytes it touched.
//
// LRU reuse distance: a tensor last touched by row L (S_L bytes in all), with D bytes touched by
// the rows since, has its part touched a fraction f into L's traffic at distance D + (1 - f) S_L
// (L's accesses spread evenly over its traffic). It is still cached where that is at most the
// capacity C, so the resident fraction is clamp((C - D) / S_L, 0, 1).
class Ledger {
 public:
  explicit Ledger(double capacity_bytes) : capacity_(capacity_bytes) {}

  double resident(Tensor t) const {
    const Touch& l = last_[static_cast<int>(t)];
    if (!l.seen || l.span <= 0) return 0;
    return std::clamp((capacity_ - (pos_ - l.end)) / l.span, 0.0, 1.0);
  }

  // How warm a small op finds the tensor (cost_small_row): 1 when last touched at most
  // `hot_distance` bytes ago, 0 from the capacity on (or never seen), linear in between.
  double warmth(Tensor t, double hot_distance) const {
    const Touch& l = last_[static_cast<int>(t)];
    if (!l.seen) return 0;
    const double d = pos_ - l.end;
    if (d <= hot_distance) return 1;
    if (capacity_ <= hot_distance) return 0;
    return std::clamp((capacity_ - d) / (capacity_ - hot_distance), 0.0, 1.0);
  }

  void touch(const LayerRow& r) {
    const double s = r.cost.bytes.total();
    pos_ += s;
    for (const TensorUse& u : r.activations) last_[static_cast<int>(u.tensor)] = {pos_, s, true};
  }

 private:
  struct Touch {
    double end = 0, span = 0;
    bool seen = false;
  };
  double capacity_ = 0;
  double pos_ = 0;
  std::array<Touch, kTensors> last_{};
};

// Resident reads come from the cache. Everything else moves to or from DRAM: reads that missed,
// every write (the dirty lines are written back sooner or later; costed x write_back_cost), the
// bytes no tensor names (weights, KV cache, tables, scores: they stream), and with write-allocate
// once more each out-of-place write whose destination is not resident (read for ownership before
// the store: a read, costed in full).
void split_row(const Plan& p, const Ledger& l, LayerRow& r) {
  const Bytes& b = r.cost.bytes;
  double cache = 0, written_in_cache = 0, rfo_cache = 0;
  for (const TensorUse& u : r.activations) {
    const double f = l.resident(u.tensor);
    if (u.access == Access::write) {
      written_in_cache += f * u.bytes;
      // A resident destination is still read for ownership, from the cache: at the read-back
      // rate (qwen2-0.5b's 64-token norms write 224 KiB into lines the L3 holds; without this
      // term they measured 1.4-2.3x the prediction).
      if (p.write_allocate) rfo_cache += f * u.bytes;
    } else {
      cache += f * u.bytes;
      // An in-place update stores into lines the row has just read: never a read-for-ownership.
      if (u.access == Access::update) written_in_cache += u.bytes;
    }
  }
  const double written = b.act_written + b.kv_written;
  const double rfo = p.write_allocate ? std::max(0.0, written - written_in_cache) : 0.0;
  r.traffic_split = true;
  r.cache_bytes = cache + rfo_cache;
  r.dram_bytes = b.total() - cache + rfo;
  r.dram_write_bytes = written;
}

// The attention rows keep their own measured factors (efficiency.attention_*, taken on total
// bytes) and the all-reduce moves over the link: neither is split, though both touch the ledger.
// Nor is a decode row whose activations fit on chip (a decode step's vectors): those live in
// L1/L2, and kernel_launch_overhead -- calibrated from such ops started cold with their cost bytes
// at DRAM bandwidth (docs/calibrate.md, "Small ops") -- already holds what they pay beyond
// bytes/bandwidth started cold; with kernel_launch_overhead_hot, cost_small_row below weighs the
// two by how warm the row's tensors are. A prefill row is split however small its tensors: a short prompt's are what the
// op before it has just written, and costing them at DRAM bandwidth put qwen2-0.5b's 64-token
// norms and adds at 2-2.5x their measured time (docs/cost-model.md, "Cache residency").
bool splits(const Plan& p, const LayerRow& r, bool one_token_per_sequence) {
  if (r.grows_with_context || r.rates == RateClass::communication) return false;
  if (!one_token_per_sequence) return true;
  double activation_bytes = 0;
  for (const TensorUse& u : r.activations) activation_bytes += u.bytes;
  return activation_bytes > p.onchip_bytes;
}

// The rows that qualify: decode rows at the general rates whose bytes all fit on chip (norms,
// adds, activation, rope, embedding, final_norm: what calibrate's probe runs). The linear layers
// and lm_head stream their weights, and the attention rows keep their own factors.
bool small_row(const Plan& p, const LayerRow& r, bool one_token_per_sequence) {
  return one_token_per_sequence && r.rates == RateClass::general && !r.grows_with_context &&
         r.cost.bytes.total() <= p.onchip_bytes;
}

// A decode row costed whole (not split above), where the hardware gives the fixed cost of a
// small kernel started with its inputs in the last-level cache (kernel_launch_overhead_hot).
// calibrate measures the two ends -- inputs cold (last touched >= 8x the LLC earlier), bytes
// costed at DRAM bandwidth; inputs last touched kHotReuseDistanceOfLlc of the LLC earlier, bytes
// costed at its read-back rate. In between a tensor is warm in proportion to how far its reuse
// distance D is from the capacity C: w = (C - D) / (C - D_hot), clamped to [0, 1]. An exact LRU
// would keep everything up to C; the host's L3 (a victim cache shared with other cores) does not:
// the probe's ops, at a small model's shapes, took 0.14-0.9 us with D = C/8, 0.56-1.2 us with
// D = C/2 and ~1.8 us more than their bytes cold. With the byte-weighted warmth f of the row's
// bytes (weights and other unnamed bytes count as cold) and the warmth g of its streams:
//   time = (1 - f) bytes / bandwidth + f bytes / llc_read + (1 - g) cold + g hot
// i.e. (1 - f) of the bytes at DRAM and f of them at the cache's read-back rate -- every DRAM
// byte at full cost, as the cold calibration timed them (no write_back_cost, no separate
// read-for-ownership: both are in the cold figure) -- and the kernels' fixed cost weighted by g
// (time_row). The fixed cost is latency (TLB walks, DRAM latency before a stream is prefetched).
// A kernel's streams run side by side, so the coldest one sets it: 1 - g is the largest coldness
// over the row's streams -- each named tensor one stream, and the weights, the KV cache read and
// written, and any other activation bytes one cold stream each -- where a stream's coldness is
// (1 - warmth) x min(1, pages / kColdStreamFullPages), pages = the 4 KiB pages it touches: the
// latency is paid per page (a TLB walk, and misses before the prefetcher, which stops at a page's
// end, runs ahead), not per byte, so a stream of a few lines pays as much as a page.
// Evidence (validate, 1 thread, 2026-11-21): llama-2-7b's decode norms and adds read one vector
// just written and others cold, and measured as the cold figure predicts (0.9-1.7x); the mean
// warmth of their streams put them at 1.3-2.5x. qwen2-0.5b's norms (a 3.5 KiB cold gamma, one
// page, beside cached vectors) measured 0.5-1.1 us against 2.1 us costed cold, and its rope
// (q and k cached; cold: a 256 B cos/sin row and a 256 B K-cache row, a page each) ~1 us; scaled
// by bytes (/ 16 KiB) that rope was costed at 0.18 us, 5.5x too fast. Qwen1.5-MoE's norms and adds
// (a cold 8 KiB hidden vector, two pages) measured at the full cold figure (0.67-1.01x), and 1.1-1.8x
// with half of it. Caveat: with the caches flushed, most of that latency is fetching the kernel's
// code, not its data rows (a rope whose code ran just before took 0.11 us with its table row still
// cold: docs/calibrate.md, "Pages, not bytes"); the ledger does not track code, so a row whose
// kernel ran a few MiB earlier (qwen2-0.5b's mlp_norm after attn_norm) is costed too slow.
void cost_small_row(const Plan& p, const Ledger& l, LayerRow& r) {
  const Bytes& b = r.cost.bytes;
  const double total = b.total();
  if (total <= 0) return;
  const double hot_distance = HardwareSpec::kHotReuseDistanceOfLlc * p.llc_bytes;
  const auto coldness = [](double warmth, double bytes) {
    // Pages touched; a sub-byte remainder of the byte bookkeeping is no stream.
    const double pages = bytes < 0.5 ? 0.0 : std::ceil(bytes / HardwareSpec::kPageBytes);
    return (1 - warmth) * std::min(1.0, pages / HardwareSpec::kColdStreamFullPages);
  };
  double warm_bytes = 0, named_act = 0, coldest = 0;
  for (const TensorUse& u : r.activations) {
    const double w = l.warmth(u.tensor, hot_distance);
    // An in-place update's bytes are read and written (twice in cost.bytes), both in cache.
    const double bytes = u.bytes * (u.access == Access::update ? 2 : 1);
    warm_bytes += w * bytes;
    named_act += bytes;
    coldest = std::max(coldest, coldness(w, u.bytes));
  }
  for (double cold : {b.weights, b.kv_read, b.kv_written, b.act_read + b.act_written - named_act})
    coldest = std::max(coldest, coldness(0, std::max(0.0, cold)));
  const double f = std::clamp(warm_bytes / total, 0.0, 1.0);
  if (f <= 0) return;
  r.traffic_split = true;
  r.cache_bytes = f * total;
  r.dram_bytes = total - r.cache_bytes;
  r.dram_write_bytes = 0;
  r.hot_fraction = 1 - coldest;
}

}  // namespace

void split_traffic(const Plan& p, std::vector<LayerRow>& rows, bool one_token_per_sequence) {
  Ledger ledger(p.llc_bytes);
  const auto visit = [&](LayerRow& r, bool keep) {
    if (keep && splits(p, r, one_token_per_sequence))
      split_row(p, ledger, r);
    else if (keep && p.hot_small_rows && small_row(p, r, one_token_per_sequence))
      cost_small_row(p, ledger, r);
    ledger.touch(r);
  };
  const auto is_block = [](const LayerRow& r) { return r.per_block; };
  const auto first = std::find_if(rows.begin(), rows.end(), is_block);
  const auto last = std::find_if_not(first, rows.end(), is_block);
  for (auto it = rows.begin(); it != first; ++it) visit(*it, true);
  // The block twice: the first pass stands in for the previous block (whose mlp_add wrote the
  // hidden state the next attn_norm reads); the rows keep the second, steady-state pass.
  for (auto it = first; it != last; ++it) visit(*it, false);
  for (auto it = first; it != last; ++it) visit(*it, true);
  for (auto it = last; it != rows.end(); ++it) visit(*it, true);
}

}  // namespace llmroof::detail
