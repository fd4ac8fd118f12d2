// Cache residency of a decoder block's activations and write-allocate: which of a row's bytes a real
// kernel moves from DRAM and which from the last-level cache (docs/cost-model.md, "Cache
// residency"). Only the time changes; the rows' cost bytes keep meaning "bytes the op touches".
#include <algorithm>
#include <array>

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
// bytes/bandwidth. A prefill row is split however small its tensors: a short prompt's are what the
// op before it has just written, and costing them at DRAM bandwidth put qwen2-0.5b's 64-token
// norms and adds at 2-2.5x their measured time (docs/cost-model.md, "Cache residency").
bool splits(const Plan& p, const LayerRow& r, bool one_token_per_sequence) {
  if (r.grows_with_context || r.rates == RateClass::communication) return false;
  if (!one_token_per_sequence) return true;
  double activation_bytes = 0;
  for (const TensorUse& u : r.activations) activation_bytes += u.bytes;
  return activation_bytes > p.onchip_bytes;
}

}  // namespace

void split_traffic(const Plan& p, std::vector<LayerRow>& rows, bool one_token_per_sequence) {
  Ledger ledger(p.llc_bytes);
  const auto visit = [&](LayerRow& r, bool keep) {
    if (keep && splits(p, r, one_token_per_sequence)) split_row(p, ledger, r);
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
