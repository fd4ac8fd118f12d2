// The cache-residency model (analyzer/residency.cpp, docs/cost-model.md "Cache residency") against
// hand-derived DRAM / cache bytes and times on a small fp32 model whose activations are 1 MiB.
#include <doctest/doctest.h>

#include <algorithm>
#include <initializer_list>
#include <string>

#include "analyzer/analyzer.hpp"

using namespace llmroof;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// 256 tokens x 1024 hidden x 4 B = 1 MiB per hidden-sized tensor; q/k/v/o weights 4 MiB each,
// gate/up/down 8 MiB each (fp32); the MLP's intermediate tensors 2 MiB.
ModelSpec small_model() {
  ModelSpec m;
  m.name = "small";
  m.hidden_size = 1024;
  m.num_layers = 2;
  m.num_attention_heads = 8;
  m.num_key_value_heads = 8;
  m.head_dim = 128;
  m.intermediate_size = 2048;
  m.vocab_size = 1000;
  return m;
}

// 10 GB/s DRAM, a 4 MiB last-level cache read back at 40 GB/s, write-allocate; compute never binds
// (1 POP/s) and no launch cost, so every time is the memory term alone.
HardwareSpec cpu_with_cache() {
  HardwareSpec hw;
  hw.name = "cpu";
  hw.kind = DeviceKind::cpu;
  hw.memory_bytes = 1e12;
  hw.memory_bandwidth_bytes_per_s = 10e9;
  hw.dense_ops_per_s[static_cast<int>(DType::fp32)] = 1e15;
  hw.last_level_cache = HardwareSpec::LastLevelCache{4 * kMiB, 40e9};
  hw.write_allocate = true;
  return hw;
}

Settings fp32_prefill(Mode mode = Mode::realistic) {
  Settings s;
  s.mode = mode;
  s.prompt_len = 256;
  s.gen_len = 2;
  s.flash_attention = true;
  s.quant.weights = DType::fp32;
  s.quant.activations = DType::fp32;
  s.quant.kv_cache = DType::fp32;
  return s;
}

const LayerRow& row(const PhaseResult& p, const std::string& name) {
  for (const LayerRow& r : p.rows)
    if (r.name == name) return r;
  FAIL("no row " << name);
  return p.rows.front();
}

}  // namespace

TEST_CASE("mlp_norm: input just written by attn_add is cached, the cold output pays for ownership") {
  const Analysis a = analyze(small_model(), cpu_with_cache(), fp32_prefill());
  const LayerRow& r = row(a.prefill, "mlp_norm");
  // Touches gamma (4 KiB), hidden (1 MiB read), normed (1 MiB written): the bytes column is as
  // before. attn_add touched 3 MiB just before (D = 0, S = 3 MiB <= 4 MiB): hidden is resident.
  // normed was last touched by v_proj, with rope, attention, o_proj, attn_add since: far more than
  // 4 MiB, so its lines are read for ownership (1 MiB) before being written back (1 MiB).
  CHECK(r.cost.bytes.total() == 2 * kMiB + 4096);
  REQUIRE(r.traffic_split);
  CHECK(r.cache_bytes == doctest::Approx(kMiB));
  CHECK(r.dram_bytes == doctest::Approx(2 * kMiB + 4096));  // gamma + RFO + write-back
  CHECK(r.time_s == doctest::Approx((2 * kMiB + 4096) / 10e9 + kMiB / 40e9));
  // attn_norm reads the hidden state mlp_add (S = 3 MiB) updated just before: the same split.
  CHECK(row(a.prefill, "attn_norm").time_s == doctest::Approx(r.time_s));
}

TEST_CASE("attn_add: two thirds of o_proj's output are still cached, the residual is not") {
  const Analysis a = analyze(small_model(), cpu_with_cache(), fp32_prefill());
  const LayerRow& r = row(a.prefill, "attn_add");
  // o_proj touched S = 4 MiB weights + 1 MiB in + 1 MiB out = 6 MiB just before (D = 0): the
  // resident fraction of its output is (C - D) / S = 4 / 6. hidden was last read by attn_norm,
  // many MiB ago: from DRAM. The in-place update never reads for ownership; its 1 MiB is written
  // back. DRAM = 3 MiB - 2/3 MiB; cache = 2/3 MiB.
  REQUIRE(r.traffic_split);
  CHECK(r.cache_bytes == doctest::Approx(2.0 / 3 * kMiB));
  CHECK(r.dram_bytes == doctest::Approx(7.0 / 3 * kMiB));
  CHECK(r.time_s == doctest::Approx(7.0 / 3 * kMiB / 10e9 + 2.0 / 3 * kMiB / 40e9));
}

TEST_CASE("a resident destination is read for ownership from the cache") {
  HardwareSpec hw = cpu_with_cache();
  hw.last_level_cache->capacity_bytes = 1024 * kMiB;  // every tensor stays resident
  const Analysis a = analyze(small_model(), hw, fp32_prefill());
  const LayerRow& r = row(a.prefill, "mlp_norm");
  // hidden (1 MiB) read from the cache; normed's lines (1 MiB) are read for ownership from the
  // cache too; the 1 MiB written and the gamma move at DRAM bandwidth (write_back_cost 1).
  CHECK(r.cache_bytes == doctest::Approx(2 * kMiB));
  CHECK(r.dram_bytes == doctest::Approx(kMiB + 4096));
  CHECK(r.time_s == doctest::Approx((kMiB + 4096) / 10e9 + 2 * kMiB / 40e9));
  // In place (attn_add): no read for ownership at all, from anywhere.
  const LayerRow& add = row(a.prefill, "attn_add");
  CHECK(add.cache_bytes == doctest::Approx(2 * kMiB));
  // Without write-allocate a store reads nothing.
  hw.write_allocate = false;
  const LayerRow& plain = row(analyze(small_model(), hw, fp32_prefill()).prefill, "mlp_norm");
  CHECK(plain.cache_bytes == doctest::Approx(kMiB));
}

TEST_CASE("write-allocate alone (no cache): every out-of-place write moves twice") {
  HardwareSpec hw = cpu_with_cache();
  hw.last_level_cache.reset();
  const Analysis a = analyze(small_model(), hw, fp32_prefill());
  const LayerRow& norm = row(a.prefill, "mlp_norm");
  CHECK(norm.cache_bytes == 0);
  CHECK(norm.dram_bytes == doctest::Approx(3 * kMiB + 4096));
  const LayerRow& add = row(a.prefill, "attn_add");  // in place: no read-for-ownership
  CHECK(add.dram_bytes == doctest::Approx(3 * kMiB));
  // mlp_act reads gate and up (2 MiB each) and writes act (2 MiB) out of place: 8 MiB.
  CHECK(row(a.prefill, "mlp_act").dram_bytes == doctest::Approx(8 * kMiB));
}

TEST_CASE("the attention rows and the roofline mode are never split") {
  const Analysis a = analyze(small_model(), cpu_with_cache(), fp32_prefill());
  CHECK_FALSE(row(a.prefill, "fused_attention").traffic_split);
  CHECK_FALSE(row(a.decode, "fused_attention").traffic_split);
  const Analysis roof = analyze(small_model(), cpu_with_cache(), fp32_prefill(Mode::roofline));
  for (const LayerRow& r : roof.prefill.rows) CHECK_FALSE(r.traffic_split);
  const LayerRow& n = row(roof.prefill, "mlp_norm");
  CHECK(n.time_s == doctest::Approx(n.cost.bytes.total() / 10e9));
}

TEST_CASE("without cache fields the times are the plain bytes / bandwidth") {
  HardwareSpec hw = cpu_with_cache();
  hw.last_level_cache.reset();
  hw.write_allocate = false;
  const Analysis a = analyze(small_model(), hw, fp32_prefill());
  for (const LayerRow& r : a.prefill.rows) CHECK_FALSE(r.traffic_split);
  const LayerRow& n = row(a.prefill, "mlp_norm");
  CHECK(n.time_s == doctest::Approx(n.cost.bytes.total() / 10e9));
}

TEST_CASE("write_back_cost scales the written-back bytes only") {
  HardwareSpec hw = cpu_with_cache();
  hw.write_back_cost = 0.25;
  const Analysis a = analyze(small_model(), hw, fp32_prefill());
  const LayerRow& r = row(a.prefill, "mlp_norm");
  // Same split as above; of its DRAM bytes (gamma, RFO, write-back) the 1 MiB written back costs
  // a quarter of a read byte: (2 MiB + 4 KiB - 0.75 MiB) / 10 GB/s + 1 MiB / 40 GB/s.
  CHECK(r.dram_bytes == doctest::Approx(2 * kMiB + 4096));
  CHECK(r.dram_write_bytes == doctest::Approx(kMiB));
  CHECK(r.time_s == doctest::Approx((1.25 * kMiB + 4096) / 10e9 + kMiB / 40e9));
}

TEST_CASE("rows whose activations fit on chip (decode vectors) are not split") {
  HardwareSpec hw = cpu_with_cache();
  hw.onchip_bytes_per_core = 1 * kMiB;
  const Analysis a = analyze(small_model(), hw, fp32_prefill());
  // Decode: hidden-sized vectors of 4 KiB. Prefill: mlp_norm touches 2 MiB of activations.
  for (const LayerRow& r : a.decode.rows) CHECK_FALSE(r.traffic_split);
  const LayerRow& d = row(a.decode, "mlp_norm");
  CHECK(d.time_s == doctest::Approx(d.cost.bytes.total() / 10e9));
  CHECK(row(a.prefill, "mlp_norm").traffic_split);
  // Prefill splits every row, however small: the lm_head's one 4 KiB row per sequence was just
  // written by final_norm and is read back from the cache.
  const LayerRow& head = row(a.prefill, "lm_head");
  CHECK(head.traffic_split);
  CHECK(head.cache_bytes == 4096);
}

TEST_CASE("a short prompt's prefill rows are split even when their tensors fit on chip") {
  HardwareSpec hw = cpu_with_cache();
  hw.onchip_bytes_per_core = 4 * kMiB;  // every prefill tensor (1-2 MiB) fits
  const Analysis on = analyze(small_model(), hw, fp32_prefill());
  hw.onchip_bytes_per_core = 0;
  const Analysis off = analyze(small_model(), hw, fp32_prefill());
  for (const char* n : {"attn_norm", "rope", "attn_add", "mlp_norm", "mlp_act", "mlp_add"}) {
    INFO(n);
    CHECK(row(on.prefill, n).traffic_split);
    CHECK(row(on.prefill, n).time_s == row(off.prefill, n).time_s);
  }
  for (const LayerRow& r : on.decode.rows) CHECK_FALSE(r.traffic_split);
}

namespace {

// Decode of a model whose block weights are 256-512 KiB (hidden 256, 2 heads of 128, intermediate
// 512, fp32): its vectors (1-2 KiB) stay in a 4 MiB LLC between uses. On chip 1 MiB, so every
// decode row but the linear layers' is "small" (costed whole), and fixed costs of 2 us cold and
// 0.2 us hot (hot distance 4 MiB / 8 = 512 KiB).
ModelSpec tiny_model() {
  ModelSpec m = small_model();
  m.hidden_size = 256;
  m.num_attention_heads = 2;
  m.num_key_value_heads = 2;
  m.intermediate_size = 512;
  return m;
}

HardwareSpec cpu_with_hot_cost() {
  HardwareSpec hw = cpu_with_cache();
  hw.onchip_bytes_per_core = kMiB;
  hw.kernel_launch_overhead_s = 2e-6;
  hw.kernel_launch_overhead_hot_s = 0.2e-6;
  return hw;
}

double bytes_of(const PhaseResult& p, std::initializer_list<const char*> names) {
  double b = 0;
  for (const char* n : names) b += row(p, n).cost.bytes.total();
  return b;
}

}  // namespace

TEST_CASE("decode mlp_add: the hot and cold fixed costs weighted by its streams' reuse distance") {
  const Analysis a = analyze(tiny_model(), cpu_with_hot_cost(), fp32_prefill());
  const LayerRow& r = row(a.decode, "mlp_add");
  // Reads proj_out (1 KiB) that down_proj has just written: warmth 1. Updates hidden (1 KiB read,
  // 1 KiB written), last touched by mlp_norm: D = the bytes of gate_proj, up_proj, mlp_act and
  // down_proj since (~1.5 MiB), warmth w = (4 MiB - D) / (4 MiB - 0.5 MiB).
  const double kib = 1024, c = 4 * kMiB, hot_d = c / 8;
  const double d = bytes_of(a.decode, {"gate_proj", "up_proj", "mlp_act", "down_proj"});
  const double w = (c - d) / (c - hot_d);
  REQUIRE(w > 0.6);
  REQUIRE(w < 0.8);
  CHECK(r.cost.bytes.total() == 3 * kib);
  const double f = (1 * kib + w * 2 * kib) / (3 * kib);  // warm share of the bytes
  // The coldest stream sets the fixed cost: hidden, (1 - w) x 1 page / 2 (a stream pays by the
  // pages it touches, all of it from two on); proj_out is warm and there are no other bytes.
  REQUIRE(HardwareSpec::kColdStreamFullPages == 2);
  const double g = 1 - (1 - w) * 0.5;
  CHECK(r.hot_fraction == doctest::Approx(g));
  REQUIRE(r.traffic_split);
  CHECK(r.cache_bytes == doctest::Approx(f * 3 * kib));
  CHECK(r.dram_bytes == doctest::Approx((1 - f) * 3 * kib));
  CHECK(r.time_s == doctest::Approx((1 - f) * 3 * kib / 10e9 + f * 3 * kib / 40e9 +
                                    (1 - g) * 2e-6 + g * 0.2e-6));
}

TEST_CASE("decode rope: the cold cos/sin and KV-cache rows pay by the page, not by the byte") {
  const Analysis a = analyze(tiny_model(), cpu_with_hot_cost(), fp32_prefill());
  const LayerRow& r = row(a.decode, "rope");
  // Streams: q (updated in place, written by q_proj: D = k_proj + v_proj, just over 512 KiB ->
  // warmth just under 1), k (read, written by k_proj: D = v_proj < 512 KiB -> warm), the cos/sin
  // rows (activation bytes no tensor names) and the K written into the cache, both cold.
  const double c = 4 * kMiB, hot_d = c / 8;
  const double wq = std::min(1.0, (c - bytes_of(a.decode, {"k_proj", "v_proj"})) / (c - hot_d));
  REQUIRE(wq > 0.99);
  const double q = 256 * 4, k = 256 * 4;
  const Bytes& b = r.cost.bytes;
  const double cos_sin = b.act_read + b.act_written - (2 * q + k);
  REQUIRE(cos_sin > 0);
  REQUIRE(b.kv_written == k);  // fp32 cache
  // Each cold stream touches one page (cos/sin 1 KiB, K 1 KiB): half the cold fixed cost, however
  // few its bytes (q's coldness, (1 - wq) x 1/2, is smaller). Scaled by bytes instead, it was
  // 1/16 and qwen2-0.5b's rope was costed 5.5x too fast.
  REQUIRE(cos_sin <= HardwareSpec::kPageBytes);
  CHECK(r.hot_fraction == doctest::Approx(0.5));
  CHECK(r.time_s > 0.5 * 2e-6);
  CHECK(r.cache_bytes == doctest::Approx(2 * q * wq + k));
}

TEST_CASE("decode attn_norm, 4096 wide: a cold hidden-sized stream pays all the cold cost") {
  ModelSpec m = small_model();
  m.hidden_size = 4096;
  m.num_attention_heads = m.num_key_value_heads = 32;
  const Analysis a = analyze(m, cpu_with_hot_cost(), fp32_prefill());
  const LayerRow& r = row(a.decode, "attn_norm");
  // hidden (16 KiB) was just updated by mlp_add: warm. gamma (16 KiB, weights) streams, and normed
  // (16 KiB written) was last read by up_proj, a 32 MiB down_proj ago: both cold, and 16 KiB is
  // the cold probe's stream size, so the fixed cost is the cold one.
  const double v = 16384, bytes = 3 * v, f = 1.0 / 3;
  CHECK(r.cost.bytes.total() == bytes);
  CHECK(r.hot_fraction == 0);
  CHECK(r.cache_bytes == doctest::Approx(f * bytes));
  CHECK(r.time_s == doctest::Approx((1 - f) * bytes / 10e9 + f * bytes / 40e9 + 2e-6));
}

TEST_CASE("decode attn_add, 2048 wide: a cold two-page stream pays all the cold cost") {
  ModelSpec m = small_model();
  m.hidden_size = 2048;
  m.num_attention_heads = m.num_key_value_heads = 16;
  const Analysis a = analyze(m, cpu_with_hot_cost(), fp32_prefill());
  const LayerRow& r = row(a.decode, "attn_add");
  // proj_out (8 KiB) was just written by o_proj: warm. hidden (8 KiB, updated) was last touched by
  // attn_norm, 4 x 16 MiB of q/k/v/o weights ago: cold, and two pages (Qwen1.5-MoE's vectors).
  const double v = 8192;
  CHECK(r.cost.bytes.total() == 3 * v);
  CHECK(r.hot_fraction == 0);
  REQUIRE(r.traffic_split);
  CHECK(r.cache_bytes == doctest::Approx(v));
  CHECK(r.time_s == doctest::Approx(2 * v / 10e9 + v / 40e9 + 2e-6));
}

TEST_CASE("decode small rows without kernel_launch_overhead_hot: costed whole and cold") {
  HardwareSpec hw = cpu_with_hot_cost();
  hw.kernel_launch_overhead_hot_s.reset();
  const Analysis a = analyze(tiny_model(), hw, fp32_prefill());
  const LayerRow& r = row(a.decode, "mlp_add");
  CHECK_FALSE(r.traffic_split);
  CHECK(r.hot_fraction == 0);
  CHECK(r.time_s == doctest::Approx(3 * 1024 / 10e9 + 2e-6));
  // Nor does a linear layer change with the key: its weights stream.
  CHECK_FALSE(row(analyze(tiny_model(), cpu_with_hot_cost(), fp32_prefill()).decode, "o_proj")
                  .traffic_split);
}
