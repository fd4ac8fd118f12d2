// The short-prompt prefill attention factor by where Q, K, V and O are (analyzer/plan.cpp,
// HardwareSpec::Efficiency::attention_compute_short_onchip), against hand-derived working sets.
#include <doctest/doctest.h>

#include <string>

#include "analyzer/analyzer.hpp"

using namespace llmroof;

namespace {

// 4 heads of 128 (MHA), fp32: at 64 tokens Q, K, V and O are 64 x 8 x 128 x 4 B = 512 KiB.
ModelSpec four_heads() {
  ModelSpec m;
  m.name = "four";
  m.hidden_size = 512;
  m.num_layers = 1;
  m.num_attention_heads = 4;
  m.num_key_value_heads = 4;
  m.head_dim = 128;
  m.intermediate_size = 1024;
  m.vocab_size = 1000;
  return m;
}

HardwareSpec cpu(double onchip_total_bytes) {
  HardwareSpec hw;
  hw.name = "cpu";
  hw.kind = DeviceKind::cpu;
  hw.memory_bytes = 1e12;
  hw.memory_bandwidth_bytes_per_s = 10e9;
  hw.dense_ops_per_s[static_cast<int>(DType::fp32)] = 100e9;
  hw.onchip_bytes_total = onchip_total_bytes;
  hw.efficiency.attention_compute = 0.4;
  hw.efficiency.attention_compute_short = 0.15;
  hw.efficiency.attention_compute_short_onchip = 0.3;
  return hw;
}

Settings prefill(int64_t prompt) {
  Settings s;
  s.prompt_len = prompt;
  s.gen_len = 2;
  s.flash_attention = true;
  s.quant.weights = s.quant.activations = s.quant.kv_cache = DType::fp32;
  return s;
}

double attention_peak(const Analysis& a, bool decode = false) {
  for (const LayerRow& r : (decode ? a.decode : a.prefill).rows)
    if (r.name == "fused_attention") return r.peak_ops_per_s;
  FAIL("no fused_attention row");
  return 0;
}

}  // namespace

TEST_CASE("short prompt whose Q/K/V/O fit on chip: the on-chip short factor is the short end") {
  constexpr double kKiB = 1024;
  // 512 KiB <= 1 MiB on chip: e(64) = 0.3.
  CHECK(attention_peak(analyze(four_heads(), cpu(1024 * kKiB), prefill(64))) ==
        doctest::Approx(0.3 * 100e9));
  // The decode kernel is another kernel: its row keeps the prompt-length factor, 0.15.
  CHECK(attention_peak(analyze(four_heads(), cpu(1024 * kKiB), prefill(64)), true) ==
        doctest::Approx(0.15 * 100e9));
  // 512 KiB > 256 KiB: the beyond-the-L2 figure, 0.15.
  CHECK(attention_peak(analyze(four_heads(), cpu(256 * kKiB), prefill(64))) ==
        doctest::Approx(0.15 * 100e9));
  // 128 tokens (1 MiB <= 1 MiB): 1/e = 2.5 + (1/0.3 - 2.5) x 3/7 = 2.5 + 5/14 = 20/7.
  CHECK(attention_peak(analyze(four_heads(), cpu(1024 * kKiB), prefill(128))) ==
        doctest::Approx(7.0 / 20 * 100e9));
  // 256 tokens (2 MiB > 1 MiB): off chip, 1/e = 2.5 + (1/0.15 - 2.5) x (1/256 - 1/512) x 512 / 7
  // = 2.5 + 25/6 x 1/7 = 2.5 + 25/42 = 65/21.
  CHECK(attention_peak(analyze(four_heads(), cpu(1024 * kKiB), prefill(256))) ==
        doctest::Approx(21.0 / 65 * 100e9));
  // Without the on-chip figure, the short one applies on chip too.
  HardwareSpec hw = cpu(1024 * kKiB);
  hw.efficiency.attention_compute_short_onchip.reset();
  CHECK(attention_peak(analyze(four_heads(), hw, prefill(64))) == doctest::Approx(0.15 * 100e9));
  // Per device under tensor parallelism: tp 2 halves the heads (256 KiB at 64 tokens).
  Settings tp2 = prefill(64);
  tp2.tp = 2;
  HardwareSpec hw2 = cpu(256 * kKiB);
  hw2.interconnect_bandwidth_bytes_per_s = 1e9;
  CHECK(attention_peak(analyze(four_heads(), hw2, tp2)) == doctest::Approx(0.3 * 100e9));
}
