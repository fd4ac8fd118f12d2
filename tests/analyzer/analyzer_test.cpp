// analyze() against the published Llama-2-7b / A6000 table and hand-derived totals.
#include "analyzer/analyzer.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "analyzer/model_stats.hpp"
#include "reports/analysis_report.hpp"
#include "reports/units.hpp"
#include "tests/analyzer/fixtures.hpp"

using namespace llmroof;
using reports::si;

namespace {

Settings roofline() {
  Settings s;
  s.mode = Mode::roofline;
  return s;
}

const LayerRow& row(const PhaseResult& p, const std::string& name) {
  for (const LayerRow& r : p.rows)
    if (r.name == name) return r;
  FAIL("no row " << name);
  return p.rows.front();
}

// One published row: OPs and bytes at the published significant digits, AI rounded as printed.
void check_published(const LayerRow& r, int digits, const char* ops, const char* bytes, double ai,
                     const char* perf, Bound bound) {
  INFO(r.name);
  CHECK(si(r.cost.ops, digits) == ops);
  CHECK(si(r.cost.bytes.total(), digits) == bytes);
  CHECK(std::round(r.arithmetic_intensity) == ai);
  CHECK(si(r.attainable_ops_per_s) == perf);
  CHECK(r.bound == bound);
}

}  // namespace

TEST_CASE("the published Llama-2-7b / A6000 projection rows are reproduced") {
  const Analysis a = analyze(test::llama2_7b(), test::a6000(), roofline());
  for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) {
    check_published(row(a.prefill, n), 2, "69G", "67M", 1024, "155T", Bound::compute);
    check_published(row(a.decode, n), 2, "34M", "34M", 1, "768G", Bound::memory);
  }
  for (const char* n : {"gate_proj", "up_proj", "down_proj"}) {
    check_published(row(a.prefill, n), 3, "185G", "152M", 1215, "155T", Bound::compute);
    check_published(row(a.decode, n), 2, "90M", "90M", 1, "768G", Bound::memory);
  }
}

TEST_CASE("prefill attention is causal and the MLP activation spans intermediate_size") {
  const Analysis a = analyze(test::llama2_7b(), test::a6000(), roofline());
  const double pairs = 2048.0 * 2049 / 2;
  CHECK(row(a.prefill, "qk_matmul").cost.ops == 2 * 32 * pairs * 128);  // table: 34G (full s^2)
  CHECK(row(a.prefill, "softmax").cost.ops == 5 * 32 * pairs);
  CHECK(row(a.prefill, "mlp_act").cost.ops == 5.0 * 2048 * 11008);
  CHECK(row(a.prefill, "mlp_act").cost.bytes.act_read == 2.0 * 2048 * 11008 * 2);
  // lm_head only for the last position, with 2 OPs per multiply-add.
  CHECK(row(a.prefill, "lm_head").cost.ops == 2.0 * 1 * 4096 * 32000);
  CHECK(row(a.prefill, "lm_head").count == 1);
  CHECK_FALSE(row(a.prefill, "lm_head").per_block);
}

TEST_CASE("decode rows sit at the mean context and TPOT is the exact mean over the steps") {
  Settings s = roofline();
  s.prompt_len = 300;
  s.gen_len = 9;
  s.batch = 3;
  for (bool flash : {false, true}) {
    s.flash_attention = flash;
    const Analysis a = analyze(test::llama2_70b(), test::a6000(), s);
    CHECK(a.decode.steps == 8);
    CHECK(a.decode.context_len == 304);
    // Brute force: each step j = 1..8 on its own (prompt 299 + j, one step of decode).
    double sum = 0;
    for (int j = 1; j <= 8; ++j) {
      Settings one = s;
      one.prompt_len = s.prompt_len + j - 1;
      one.gen_len = 2;
      const Analysis step = analyze(test::llama2_70b(), test::a6000(), one);
      CHECK(step.decode.context_len == s.prompt_len + j);
      sum += step.decode.time_s;
    }
    CHECK(a.decode.time_s == doctest::Approx(sum / 8).epsilon(1e-12));
    CHECK(a.totals.e2e_latency_s == doctest::Approx(a.totals.ttft_s + sum).epsilon(1e-12));
  }
}

TEST_CASE("the decode mean is exact across a compute/memory crossover and a sliding window") {
  ModelSpec m = test::llama2_7b();
  m.sliding_window = 40;
  HardwareSpec hw = test::a6000();
  // A slow compute unit so attention turns compute-bound as the context grows.
  hw.dense_ops_per_s[static_cast<int>(DType::fp16)] = 2e9;
  hw.dense_ops_per_s[static_cast<int>(DType::fp32)] = 2e9;
  Settings s = roofline();
  s.prompt_len = 10;
  s.gen_len = 60;
  const Analysis a = analyze(m, hw, s);
  double sum = 0;
  for (int j = 1; j < s.gen_len; ++j) {
    Settings one = s;
    one.prompt_len = s.prompt_len + j - 1;
    one.gen_len = 2;
    sum += analyze(m, hw, one).decode.time_s;
  }
  CHECK(a.decode.time_s == doctest::Approx(sum / (s.gen_len - 1)).epsilon(1e-12));
}

TEST_CASE("GQA decode reads K/V once per KV head") {
  Settings s = roofline();
  s.batch = 2;
  const Analysis a = analyze(test::llama2_70b(), test::a6000(), s);
  const int64_t L = a.decode.context_len;
  CHECK(row(a.decode, "qk_matmul").cost.bytes.kv_read == 2.0 * L * 8 * 128 * 2);
  CHECK(row(a.decode, "qk_matmul").cost.bytes.act_read == 2.0 * 64 * 128 * 2);
}

TEST_CASE("MoE: expected distinct experts under uniform top-k routing") {
  CHECK(expected_distinct_experts(8, 2, 1) == doctest::Approx(2));
  CHECK(expected_distinct_experts(8, 2, 2) == doctest::Approx(8 * (1 - 0.75 * 0.75)));
  CHECK(expected_distinct_experts(64, 8, 4096) == doctest::Approx(64));
  Settings s = roofline();
  s.batch = 1;
  const Analysis a = analyze(test::mixtral_8x7b(), test::a6000(), s);
  // Decode, one token: exactly 2 experts' weights read (gate, up, down of 4096 x 14336, fp16).
  CHECK(row(a.decode, "experts").cost.bytes.weights == doctest::Approx(2 * 3 * 4096.0 * 14336 * 2));
  // Prefill, 2048 tokens: all 8 touched (1 - 0.75^2048 rounds to 1).
  CHECK(row(a.prefill, "experts").cost.bytes.weights == doctest::Approx(8 * 3 * 4096.0 * 14336 * 2));
  CHECK(row(a.prefill, "router").cost.ops == 2.0 * 2048 * 4096 * 8 + 5.0 * 2048 * 8);
}

TEST_CASE("tensor parallelism: heads split and two ring all-reduces per block") {
  Settings s = roofline();
  s.tp = 4;
  const HardwareSpec hw = test::h100();
  const Analysis a = analyze(test::llama2_70b(), hw, s);
  const LayerRow& ar = row(a.prefill, "all_reduce");
  CHECK(ar.count == 160);
  CHECK(ar.bound == Bound::communication);
  const double msg = 2048.0 * 8192 * 2;
  CHECK(ar.time_s == doctest::Approx(2 * 3.0 / 4 * msg / 450e9 + 3e-6));  // latency once
  CHECK(ring_all_reduce_time_s(msg, 1, 450e9, 3e-6) == 0);
  CHECK(row(a.prefill, "q_proj").cost.bytes.weights == 8192.0 * 2048 * 2);  // 16 of 64 heads
  CHECK(row(a.decode, "qk_matmul").cost.bytes.kv_read == 1.0 * a.decode.context_len * 2 * 128 * 2);
}

TEST_CASE("memory: weights with embeddings and lm_head, KV at the final length, fit and max batch") {
  const Analysis a = analyze(test::llama2_7b(), test::a6000(), roofline());
  const double params = 32.0 * (4 * 4096.0 * 4096 + 3 * 4096.0 * 11008 + 2 * 4096) +
                        2 * 32000.0 * 4096 + 4096;
  CHECK(params == 6738415616.0);
  CHECK(a.memory.weights_bytes == params * 2);
  CHECK(a.memory.kv_cache_bytes == 2176.0 * 32 * 2 * 32 * 128 * 2);
  CHECK(a.memory.fits);
  CHECK(a.memory.total_bytes ==
        a.memory.weights_bytes + a.memory.kv_cache_bytes + a.memory.activation_peak_bytes);
  // Largest batch: (capacity - weights) / (KV + activations of one sequence), floored.
  const double per_seq = (a.memory.total_bytes - a.memory.weights_bytes);
  CHECK(a.memory.max_batch == static_cast<int64_t>((48e9 - params * 2) / per_seq));
  Settings big = roofline();
  big.batch = a.memory.max_batch + 1;
  CHECK_FALSE(analyze(test::llama2_7b(), test::a6000(), big).memory.fits);
  big.batch = a.memory.max_batch;
  CHECK(analyze(test::llama2_7b(), test::a6000(), big).memory.fits);
}

TEST_CASE("quantized weights: W4A16 reads int4 + scales and runs at the fp16 rate") {
  Settings s = roofline();
  s.quant.weights = DType::int4;
  s.quant.group_size = 128;
  const Analysis a = analyze(test::llama2_7b(), test::a6000(), s);
  const LayerRow& q = row(a.decode, "q_proj");
  CHECK(q.cost.bytes.weights == weight_bytes(4096, 4096, DType::int4, 128));
  CHECK(q.compute_dtype == DType::fp16);
  CHECK(q.cost.ops == 2.0 * 4096 * 4096 + 1.0 * 4096 * 4096);  // MACs + one conversion each
  CHECK(row(a.decode, "lm_head").cost.bytes.weights == 4096.0 * 32000 * 2);  // stays fp16
  s.quant.activations = DType::int8;
  CHECK(row(analyze(test::llama2_7b(), test::a6000(), s).prefill, "q_proj").compute_dtype ==
        DType::int8);
}

TEST_CASE("a format the hardware lacks falls back with a warning") {
  Settings s = roofline();
  s.quant.weights = DType::fp8;
  s.quant.activations = DType::fp8;
  const Analysis a = analyze(test::llama2_7b(), test::a6000(), s);
  CHECK(row(a.prefill, "q_proj").compute_dtype == DType::fp16);
  REQUIRE(!a.warnings.empty());
  CHECK(a.warnings[0].find("no fp8 peak") != std::string::npos);
  HardwareSpec bare = test::a6000();
  bare.dense_ops_per_s = {};
  CHECK_THROWS_AS(analyze(test::llama2_7b(), bare, s), AnalysisError);
}

TEST_CASE("realistic mode applies efficiencies and launch overheads") {
  HardwareSpec hw = test::a6000();
  hw.efficiency.memory = 0.8;
  hw.efficiency.compute = 0.7;
  hw.efficiency.communication = 0.9;
  hw.kernel_launch_overhead_s = 4e-6;
  Settings s;
  s.mode = Mode::realistic;
  const Analysis a = analyze(test::llama2_7b(), hw, s);
  const LayerRow& q = row(a.decode, "q_proj");
  CHECK(q.bandwidth_bytes_per_s == doctest::Approx(0.8 * 768e9));
  CHECK(q.peak_ops_per_s == doctest::Approx(0.7 * 154.8e12));
  CHECK(q.time_s == doctest::Approx(q.cost.bytes.total() / (0.8 * 768e9) + 4e-6));
  const Analysis r = analyze(test::llama2_7b(), hw, roofline());
  CHECK(a.totals.tpot_s > r.totals.tpot_s);
}

TEST_CASE("a per-dtype compute efficiency derates that dtype's peak only") {
  HardwareSpec hw = test::a6000();
  hw.efficiency.memory = 0.8;
  hw.efficiency.compute = 0.7;
  hw.efficiency.communication = 0.9;
  hw.efficiency.compute_by_dtype[static_cast<int>(DType::int8)] = 0.5;
  Settings s;
  s.mode = Mode::realistic;
  s.prompt_len = 512;
  s.quant.weights = DType::int8;
  s.quant.activations = DType::int8;  // W8A8: the linear layers run at the int8 peak
  const Analysis a = analyze(test::llama2_7b(), hw, s);
  const LayerRow& q = row(a.prefill, "q_proj");
  REQUIRE(q.compute_dtype == DType::int8);
  CHECK(q.peak_ops_per_s == doctest::Approx(0.5 * *hw.peak(DType::int8)));
  // The fp32 norms keep the general factor.
  CHECK(row(a.prefill, "attn_norm").peak_ops_per_s == doctest::Approx(0.7 * *hw.peak(DType::fp32)));
}

TEST_CASE("a per-weight-format memory efficiency applies to the linear layers only") {
  HardwareSpec hw = test::a6000();
  hw.efficiency.memory = 0.8;
  hw.efficiency.compute = 0.7;
  hw.efficiency.communication = 0.9;
  hw.efficiency.memory_by_dtype[static_cast<int>(DType::int4)] = 0.6;
  Settings s;
  s.mode = Mode::realistic;
  s.quant.weights = DType::int4;
  s.quant.group_size = 128;
  const Analysis a = analyze(test::llama2_7b(), hw, s);
  for (const char* name : {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
    CHECK(row(a.decode, name).bandwidth_bytes_per_s == doctest::Approx(0.6 * 768e9));
  // Norms, the lm_head (fp16 weights) and attention keep the general factor.
  for (const char* name : {"attn_norm", "lm_head", "mlp_add"})
    CHECK(row(a.decode, name).bandwidth_bytes_per_s == doctest::Approx(0.8 * 768e9));
  s.quant.weights = DType::fp16;  // another format: the general factor everywhere
  CHECK(row(analyze(test::llama2_7b(), hw, s).decode, "q_proj").bandwidth_bytes_per_s ==
        doctest::Approx(0.8 * 768e9));
}

TEST_CASE("W8A8's linear layers take efficiency.memory_w8a8; W8A16's take memory_int8") {
  HardwareSpec hw = test::a6000();
  hw.efficiency.memory = 0.8;
  hw.efficiency.memory_by_dtype[static_cast<int>(DType::int8)] = 0.9;
  hw.efficiency.memory_w8a8 = 0.7;
  Settings s;
  s.mode = Mode::realistic;
  s.quant.weights = DType::int8;
  s.quant.group_size = 0;
  s.quant.activations = DType::int8;
  const Analysis w8a8 = analyze(test::llama2_7b(), hw, s);
  CHECK(row(w8a8.decode, "down_proj").bandwidth_bytes_per_s == doctest::Approx(0.7 * 768e9));
  CHECK(row(w8a8.decode, "attn_norm").bandwidth_bytes_per_s == doctest::Approx(0.8 * 768e9));
  s.quant.activations = DType::fp16;
  const Analysis w8a16 = analyze(test::llama2_7b(), hw, s);
  CHECK(row(w8a16.decode, "down_proj").bandwidth_bytes_per_s == doctest::Approx(0.9 * 768e9));
}

TEST_CASE("bad settings name what is wrong") {
  Settings s = roofline();
  s.batch = 0;
  CHECK_THROWS_WITH_AS(analyze(test::llama2_7b(), test::a6000(), s), "batch must be positive (got 0)",
                       AnalysisError);
  s = roofline();
  s.tp = 3;
  CHECK_THROWS_AS(analyze(test::llama2_7b(), test::a6000(), s), AnalysisError);
  s.tp = 2;
  HardwareSpec nolink = test::a6000();
  nolink.interconnect_bandwidth_bytes_per_s = 0;
  CHECK_THROWS_AS(analyze(test::llama2_7b(), nolink, s), AnalysisError);
  s = roofline();
  s.quant.activations = DType::int8;  // int8 x with fp16 weights: no such kernel
  CHECK_THROWS_AS(analyze(test::llama2_7b(), test::a6000(), s), AnalysisError);
}

TEST_CASE("analysis is deterministic") {
  Settings s;
  s.flash_attention = true;
  s.tp = 2;
  const Analysis a = analyze(test::mixtral_8x7b(), test::a6000(), s);
  const Analysis b = analyze(test::mixtral_8x7b(), test::a6000(), s);
  CHECK(a.totals.tpot_s == b.totals.tpot_s);
  CHECK(a.prefill.time_s == b.prefill.time_s);
  CHECK(a.memory.total_bytes == b.memory.total_bytes);
}

TEST_CASE("16-bit weights at tp 1 equal model_stats' parameter count x 2") {
  ModelSpec biased = test::llama2_7b();
  biased.qkv_bias = true;
  biased.norm = NormType::layernorm;
  biased.positional_encoding = PositionalEncoding::learned;
  biased.tied_embeddings = true;
  ModelSpec shared = test::mixtral_8x7b();
  shared.moe->num_shared_experts = 1;
  shared.moe->shared_expert_intermediate_size = 5632;
  shared.moe->shared_expert_gate = true;
  shared.moe->first_sparse_layer = 1;
  for (const ModelSpec& m : {test::llama2_7b(), test::mixtral_8x7b(), biased, shared}) {
    INFO(m.name);
    const Analysis a = analyze(m, test::h100(), roofline());
    CHECK(a.memory.weights_bytes == model_stats(m).weight_bytes_16bit);
  }
}

TEST_CASE("the KV cache grows: decode attention traffic and TPOT rise with the generated length") {
  Settings s = roofline();
  s.prompt_len = 1000;
  s.gen_len = 2;
  const Analysis short_gen = analyze(test::llama2_7b(), test::a6000(), s);
  s.gen_len = 2000;
  const Analysis long_gen = analyze(test::llama2_7b(), test::a6000(), s);
  CHECK(long_gen.decode.context_len == 2000);
  CHECK(row(long_gen.decode, "sv_matmul").cost.bytes.kv_read == 2000.0 * 32 * 128 * 2);
  CHECK(long_gen.totals.tpot_s > short_gen.totals.tpot_s);
  CHECK(long_gen.memory.kv_cache_bytes == 3000.0 * 32 * 2 * 32 * 128 * 2);
  // A sliding window caps both the keys read and the cache.
  ModelSpec m = test::llama2_7b();
  m.sliding_window = 512;
  const Analysis w = analyze(m, test::a6000(), s);
  CHECK(row(w.decode, "sv_matmul").cost.bytes.kv_read == 512.0 * 32 * 128 * 2);
  CHECK(w.memory.kv_cache_bytes == 512.0 * 32 * 2 * 32 * 128 * 2);
}

TEST_CASE("settings past the int64-safe bounds are refused, not overflowed") {
  // batch 2^63-1 once wrapped to negative OPs and an exit status of 0.
  Settings s = roofline();
  s.batch = kMaxBatch + 1;
  CHECK_THROWS_WITH_AS(analyze(test::llama2_7b(), test::a6000(), s),
                       "batch must be at most 1048576 (got 1048577)", AnalysisError);
  s = roofline();
  s.prompt_len = kMaxSequenceTokens;
  CHECK_THROWS_WITH_AS(analyze(test::llama2_7b(), test::a6000(), s),
                       "prompt + generated tokens must be at most 16777216 (got 16777344)",
                       AnalysisError);
  s = roofline();
  s.batch = kMaxBatch;  // the bound itself is accepted and gives finite, positive figures
  const Analysis a = analyze(test::llama2_7b(), test::a6000(), s);
  CHECK(a.prefill.ops > 0);
  CHECK(std::isfinite(a.totals.tpot_s));
}

TEST_CASE("analysis printers: human units in table/md as in HTML, SI in CSV/JSON") {
  const Analysis a = analyze(test::llama2_7b(), test::a6000(), roofline());
  const std::string table = reports::analysis_table(a);
  // q_proj at 2048 tokens: 67.1 MB moved, compute bound at the 154.8 TOPS fp16 peak. The table
  // once printed "67.1MB" and "155T" while the HTML report printed "67.1 MB" and "155 TOPS".
  CHECK(table.find("  q_proj           32  68.7G        67.1 MB                  1024   fp16         "
                   "155 TOPS  compute") != std::string::npos);
  CHECK(table.find("  whole model: 27.6 TOPs, 54.7 GB moved, 212 ms\n") != std::string::npos);
  CHECK(reports::analysis_markdown(a).find("| q_proj | 32 | 68.7G | 67.1 MB | 1024 | fp16 | "
                                           "155 TOPS | compute |") != std::string::npos);
  const std::string csv = reports::analysis_csv(a);
  CHECK(csv.starts_with("phase,name,per_block,count,kernels,ops,weights_bytes,"));
  CHECK(reports::analysis_json(a).find("\"schema_version\": 1,") != std::string::npos);
}

TEST_CASE("--gen-len 1: the decode title says there is no decode step") {
  Settings s = roofline();
  s.gen_len = 1;
  const std::string t = reports::analysis_table(analyze(test::llama2_7b(), test::a6000(), s));
  // Once "time = exact mean over 0 steps".
  CHECK(t.find("rows at KV length 2049; no decode step at --gen-len 1, time = the next step)") !=
        std::string::npos);
}
