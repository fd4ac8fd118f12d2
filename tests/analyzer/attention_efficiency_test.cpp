// efficiency.attention_memory / attention_compute (applied to fused_attention only) and the
// residual-format setting, against hand-derived times.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "analyzer/analyzer.hpp"
#include "tests/analyzer/fixtures.hpp"

using namespace llmroof;

namespace {

const LayerRow& row(const PhaseResult& p, const std::string& name) {
  for (const LayerRow& r : p.rows)
    if (r.name == name) return r;
  FAIL("no row " << name);
  return p.rows.front();
}

Settings realistic_flash() {
  Settings s;
  s.mode = Mode::realistic;
  s.flash_attention = true;
  s.prompt_len = 512;
  s.gen_len = 128;
  return s;
}

HardwareSpec derated() {
  HardwareSpec hw = test::a6000();
  hw.efficiency.memory = 0.8;
  hw.efficiency.compute = 0.7;  // no launch overhead: times are pure roofline terms
  return hw;
}

}  // namespace

TEST_CASE("attention_memory at half of memory doubles the decode fused_attention time") {
  const HardwareSpec base = derated();
  HardwareSpec hw = base;
  hw.efficiency.attention_memory = 0.4;
  const Settings s = realistic_flash();
  const Analysis a0 = analyze(test::llama2_7b(), base, s);
  const Analysis a1 = analyze(test::llama2_7b(), hw, s);
  const LayerRow& f0 = row(a0.decode, "fused_attention");
  const LayerRow& f1 = row(a1.decode, "fused_attention");
  REQUIRE(f0.bound == Bound::memory);  // fp16 decode attention: ~1 OP/byte
  CHECK(f1.bandwidth_bytes_per_s == doctest::Approx(0.4 * 768e9));
  CHECK(f1.time_s == doctest::Approx(2 * f0.time_s).epsilon(1e-12));
  // Other rows keep the general factor.
  CHECK(row(a1.decode, "q_proj").time_s == row(a0.decode, "q_proj").time_s);
  CHECK(row(a1.decode, "attn_add").time_s == row(a0.decode, "attn_add").time_s);
  // TPOT (the exact sum over steps): attention is affine in L and memory-bound at every step, so
  // its mean over L = 513..639 is its value at the mean 576 = the row's context; the extra per
  // step is 32 layers x one more row time.
  REQUIRE(a0.decode.context_len == 576);
  CHECK(a1.totals.tpot_s - a0.totals.tpot_s == doctest::Approx(32 * f0.time_s).epsilon(1e-9));
}

TEST_CASE("attention_memory_<kv dtype> applies when --kvbits picks that format") {
  HardwareSpec hw = derated();
  hw.efficiency.attention_memory = 0.6;
  hw.efficiency.attention_memory_by_dtype[static_cast<int>(DType::int8)] = 0.3;
  Settings s = realistic_flash();
  const Analysis a16 = analyze(test::llama2_7b(), hw, s);  // fp16 KV: the general attention factor
  CHECK(row(a16.decode, "fused_attention").bandwidth_bytes_per_s == doctest::Approx(0.6 * 768e9));
  s.quant.kv_cache = DType::int8;
  const Analysis a8 = analyze(test::llama2_7b(), hw, s);
  const LayerRow& f = row(a8.decode, "fused_attention");
  CHECK(f.bandwidth_bytes_per_s == doctest::Approx(0.3 * 768e9));
  REQUIRE(f.bound == Bound::memory);
  CHECK(f.time_s == doctest::Approx(f.cost.bytes.total() / (0.3 * 768e9)));
  CHECK(row(a8.decode, "q_proj").bandwidth_bytes_per_s == doctest::Approx(0.8 * 768e9));
}

TEST_CASE("attention_compute derates the fused prefill peak only") {
  HardwareSpec hw = derated();
  hw.efficiency.attention_compute = 0.35;
  hw.efficiency.attention_memory = 0.5;
  const Analysis a = analyze(test::llama2_7b(), hw, realistic_flash());
  const LayerRow& f = row(a.prefill, "fused_attention");
  CHECK(f.peak_ops_per_s == doctest::Approx(0.35 * 154.8e12));
  CHECK(f.bandwidth_bytes_per_s == doctest::Approx(0.5 * 768e9));
  CHECK(f.time_s == doctest::Approx(std::max(f.cost.ops / (0.35 * 154.8e12),
                                             f.cost.bytes.total() / (0.5 * 768e9))));
  CHECK(row(a.prefill, "q_proj").peak_ops_per_s == doctest::Approx(0.7 * 154.8e12));
  // Roofline mode ignores every efficiency.
  Settings r = realistic_flash();
  r.mode = Mode::roofline;
  CHECK(row(analyze(test::llama2_7b(), hw, r).prefill, "fused_attention").peak_ops_per_s ==
        doctest::Approx(154.8e12));
}

TEST_CASE("unfused attention rows keep the general factors") {
  HardwareSpec hw = derated();
  hw.efficiency.attention_memory = 0.4;
  hw.efficiency.attention_compute = 0.35;
  Settings s = realistic_flash();
  s.flash_attention = false;
  const Analysis a = analyze(test::llama2_7b(), hw, s);
  for (const char* n : {"qk_matmul", "softmax", "sv_matmul"}) {
    INFO(n);
    CHECK(row(a.decode, n).bandwidth_bytes_per_s == doctest::Approx(0.8 * 768e9));
  }
  CHECK(row(a.prefill, "qk_matmul").peak_ops_per_s == doctest::Approx(0.7 * 154.8e12));
}

TEST_CASE("the residual format: fp16 by default with W8A8, fp32 when set") {
  Settings s = realistic_flash();
  s.mode = Mode::roofline;
  s.quant.weights = DType::int8;
  s.quant.activations = DType::int8;
  s.quant.group_size = 0;
  const Analysis a16 = analyze(test::llama2_7b(), test::a6000(), s);
  s.quant.residual = DType::fp32;
  const Analysis a32 = analyze(test::llama2_7b(), test::a6000(), s);
  // attn_add reads two and writes one T x h tensor: 3 x 512 x 4096 elements.
  CHECK(row(a16.prefill, "attn_add").cost.bytes.total() == 3.0 * 512 * 4096 * 2);
  CHECK(row(a32.prefill, "attn_add").cost.bytes.total() == 3.0 * 512 * 4096 * 4);
  CHECK(row(a16.prefill, "fused_attention").compute_dtype == DType::fp16);
  CHECK(row(a32.prefill, "fused_attention").compute_dtype == DType::fp32);
  CHECK(row(a32.prefill, "fused_attention").peak_ops_per_s == doctest::Approx(38.7e12));
  // The linear layers are untouched: still int8.
  CHECK(row(a32.prefill, "q_proj").compute_dtype == DType::int8);
  s.quant.residual = DType::int8;
  CHECK_THROWS_WITH_AS(analyze(test::llama2_7b(), test::a6000(), s),
                       "residual format int8 is not supported (use fp32, fp16 or bf16)",
                       AnalysisError);
}

TEST_CASE("linear_math: the linear layers' peak changes, their bytes do not") {
  // fp32 activations with bf16 weights, products in bf16 (the CPU kernels on AMX-BF16 tiles).
  Settings s = realistic_flash();
  s.mode = Mode::roofline;
  s.quant.weights = DType::bf16;
  s.quant.activations = DType::fp32;
  s.quant.residual = DType::fp32;
  const Analysis fp = analyze(test::llama2_7b(), test::a6000(), s);
  s.quant.linear_math = DType::bf16;
  const Analysis bf = analyze(test::llama2_7b(), test::a6000(), s);
  for (const char* name : {"q_proj", "o_proj", "gate_proj", "down_proj"}) {
    CAPTURE(name);
    CHECK(row(fp.prefill, name).compute_dtype == DType::fp32);
    CHECK(row(bf.prefill, name).compute_dtype == DType::bf16);
    CHECK(row(bf.prefill, name).peak_ops_per_s ==
          doctest::Approx(*test::a6000().peak(DType::bf16)));
    CHECK(row(bf.prefill, name).cost.bytes.total() == row(fp.prefill, name).cost.bytes.total());
  }
  // attention and lm_head follow the residual, not the linear layers
  CHECK(row(bf.prefill, "fused_attention").compute_dtype == DType::fp32);
  CHECK(row(bf.decode, "lm_head").compute_dtype == DType::fp32);
  s.quant.linear_math = DType::int8;
  CHECK_THROWS_WITH_AS(analyze(test::llama2_7b(), test::a6000(), s),
                       "linear-layer math format int8 is not supported (use fp32, fp16 or bf16)",
                       AnalysisError);
}

TEST_CASE("attention_compute_short: 1/efficiency affine in 1/prompt between 64 and 512 tokens") {
  HardwareSpec::Efficiency e;
  CHECK(!e.attention_compute_at(64));  // no attention factor at all
  e.attention_compute = 0.4;
  CHECK(*e.attention_compute_at(64) == 0.4);  // no short figure: the long one at any length
  e.attention_compute_short = 0.15;
  CHECK(*e.attention_compute_at(512) == doctest::Approx(0.4));
  CHECK(*e.attention_compute_at(64) == doctest::Approx(0.15));
  // 1/e(128) = 2.5 + (1/0.15 - 2.5) x (1/128 - 1/512) / (1/64 - 1/512) = 2.5 + 25/6 x 3/7
  //          = 2.5 + 25/14 = 30/7.
  CHECK(*e.attention_compute_at(128) == doctest::Approx(7.0 / 30));
  // Past 512 the per-row part keeps shrinking: 1/e(inf) = 2.5 - 25/6 x (1/512) / (7/512)
  // = 5/2 - 25/42 = 40/21.
  CHECK(*e.attention_compute_at(1 << 30) == doctest::Approx(21.0 / 40).epsilon(1e-6));
  // A short figure at or above the long one (noise) adds no slope.
  e.attention_compute_short = 0.5;
  CHECK(*e.attention_compute_at(64) == doctest::Approx(0.4));
  CHECK(*e.attention_compute_at(4096) == doctest::Approx(0.4));
}

TEST_CASE("the prefill fused_attention row uses the efficiency at the prompt's length") {
  HardwareSpec hw = derated();
  hw.efficiency.attention_compute = 0.4;
  hw.efficiency.attention_compute_short = 0.15;
  Settings s = realistic_flash();
  s.prompt_len = 64;
  const Analysis a = analyze(test::llama2_7b(), hw, s);
  CHECK(row(a.prefill, "fused_attention").peak_ops_per_s == doctest::Approx(0.15 * 154.8e12));
  CHECK(row(a.prefill, "q_proj").peak_ops_per_s == doctest::Approx(0.7 * 154.8e12));
  s.prompt_len = 128;
  CHECK(row(analyze(test::llama2_7b(), hw, s).prefill, "fused_attention").peak_ops_per_s ==
        doctest::Approx(7.0 / 30 * 154.8e12));
}
