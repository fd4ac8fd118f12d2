// The validation layer builder on tiny-test: every op runs, the output is finite, and the ops it
// times carry exactly the analyzer's row names (so prediction and measurement pair up). No timing
// assertions: only that a time was recorded.
#include "calibrate/model_runner.hpp"

#include <doctest/doctest.h>

#include <set>

#include "analyzer/analyzer.hpp"
#include "calibrate/validate.hpp"
#include "io/catalog.hpp"
#include "io/errors.hpp"
#include "kernels/cpu/gemm.hpp"

using namespace llmroof;
using namespace llmroof::calibrate;

namespace {

HardwareSpec test_cpu() {
  HardwareSpec hw;
  hw.name = "test-cpu";
  hw.kind = DeviceKind::cpu;
  hw.memory_bytes = 16e9;
  hw.memory_bandwidth_bytes_per_s = 30e9;
  hw.dense_ops_per_s[static_cast<int>(DType::fp32)] = 500e9;
  hw.dense_ops_per_s[static_cast<int>(DType::bf16)] = 1e12;
  hw.dense_ops_per_s[static_cast<int>(DType::int8)] = 2e12;
  hw.onchip_bytes_per_core = 1 << 20;
  hw.num_cores = 2;
  return hw;
}

std::set<std::string> row_names(const std::vector<LayerRow>& rows) {
  std::set<std::string> s;
  for (const auto& r : rows) s.insert(r.name);
  return s;
}

void check_format(kernels::WeightFormat w, kernels::KvFormat kv, DType wd, DType ad, DType kd) {
  const ModelSpec m = Catalog().model("tiny-test");
  Settings s;
  s.prompt_len = 24;
  s.gen_len = 4;
  s.quant.weights = wd;
  s.quant.activations = ad;
  s.quant.kv_cache = kd;
  std::vector<std::string> notes;
  const Settings cpu = cpu_kernel_settings(s, notes);
  const Analysis a = analyze(m, test_cpu(), cpu);

  kernels::ThreadPool pool(2);
  StackConfig cfg;
  cfg.weights = w;
  cfg.kv = kv;
  cfg.max_tokens = 24;
  cfg.max_context = 32;
  cfg.layers = m.num_layers;
  cfg.model_level = true;
  DecoderStack stack(m, cfg, pool);
  OpTimes pre, dec;
  stack.forward(24, 0, &pre);
  stack.set_tokens(stack.argmax_tokens());
  stack.forward(1, 24, &dec);
  CHECK(stack.output_ok());
  const auto tok = stack.argmax_tokens();
  REQUIRE(tok.size() == 1);
  CHECK(tok[0] >= 0);
  CHECK(tok[0] < m.vocab_size);

  for (const auto& [times, rows] : {std::pair{&pre, &a.prefill.rows}, {&dec, &a.decode.rows}}) {
    const auto names = row_names(*rows);
    CHECK(times->names().size() == names.size());
    for (const auto& n : times->names()) {
      CHECK_MESSAGE(names.count(n) == 1, "op '" << n << "' is not an analyzer row");
      const bool per_block = n != "embedding" && n != "final_norm" && n != "lm_head";
      CHECK(times->samples(n).size() == static_cast<size_t>(per_block ? m.num_layers : 1));
      for (double t : times->samples(n)) CHECK(t >= 0);
    }
  }
}

}  // namespace

TEST_CASE("tiny-test blocks run in every weight and KV format, named as the analyzer's rows") {
  using kernels::KvFormat;
  using kernels::WeightFormat;
  check_format(WeightFormat::fp32, KvFormat::fp32, DType::fp32, DType::fp32, DType::fp32);
  check_format(WeightFormat::bf16, KvFormat::bf16, DType::bf16, DType::fp32, DType::bf16);
  check_format(WeightFormat::int8, KvFormat::int8, DType::int8, DType::fp32, DType::int8);
  check_format(WeightFormat::int4, KvFormat::fp32, DType::int4, DType::fp32, DType::fp32);
  check_format(WeightFormat::w8a8, KvFormat::fp32, DType::int8, DType::int8, DType::fp32);
}

TEST_CASE("the settings the CPU kernels honour are stated, and impossible ones rejected") {
  Settings s;  // fp16 weights / activations / KV, no flash attention
  std::vector<std::string> notes;
  const Settings c = cpu_kernel_settings(s, notes);
  CHECK(c.quant.activations == DType::fp32);
  CHECK(c.quant.weights == DType::bf16);
  CHECK(c.quant.kv_cache == DType::bf16);
  CHECK(c.flash_attention);
  // (+1 on AMX-BF16 CPUs: the bf16 weights' products are bf16 there)
  const bool amx = llmroof::kernels::gemm_bf16_uses_amx();
  CHECK(notes.size() == (amx ? 5u : 4u));
  CHECK(c.quant.linear_math == (amx ? std::optional<DType>(DType::bf16) : std::nullopt));
  CHECK(c.quant.residual == DType::fp32);  // the kernels' residual stream is fp32
  {
    Settings w8a8 = s;
    w8a8.quant.weights = DType::int8;
    w8a8.quant.activations = DType::int8;
    std::vector<std::string> n8;
    CHECK(cpu_kernel_settings(w8a8, n8).quant.residual == DType::fp32);
    CHECK(n8.front().find("fp32 residual") != std::string::npos);
  }
  s.quant.kv_cache = DType::int4;
  CHECK_THROWS_AS(cpu_kernel_settings(s, notes), InputError);
  s.quant.kv_cache = DType::fp32;
  s.quant.activations = DType::int8;
  s.quant.weights = DType::int4;
  CHECK_THROWS_AS(cpu_kernel_settings(s, notes), InputError);
  CHECK(settings_summary(c).find("flash=on") != std::string::npos);
}

TEST_CASE("measured samples pair with analyzer rows; extra and missing ops are dispositioned") {
  std::vector<LayerRow> rows(2);
  rows[0].name = "q_proj";
  rows[0].count = 32;
  rows[0].time_s = 1e-3;
  rows[1].name = "router";
  rows[1].count = 32;
  rows[1].time_s = 1e-5;
  ValidationRun run;
  run.layers_total = 32;
  PhaseSamples ps{"decode", &rows, {{"q_proj", {1.0e-3, 1.2e-3, 1.1e-3}}, {"kv_store", {2e-6}}}};
  append_op_results(ps, 0.5, run);
  REQUIRE(run.ops.size() == 3);
  CHECK(run.ops[0].measured_s == doctest::Approx(1.1e-3));
  CHECK(run.ops[0].disposition == Disposition::passed);
  CHECK(run.ops[1].disposition == Disposition::unsupported);
  CHECK(run.ops[2].name == "kv_store");
  CHECK(run.ops[2].disposition == Disposition::skipped);
  // 32 x 1.1 ms + 32 x 2 us (the unsupported row contributes nothing measured).
  CHECK(measured_phase_time(run, "decode") == doctest::Approx(32 * 1.1e-3 + 32 * 2e-6));
}

TEST_CASE("noisy samples are mistrusted, not passed") {
  std::vector<LayerRow> rows(1);
  rows[0].name = "attn_add";
  rows[0].time_s = 1e-6;
  ValidationRun run;
  append_op_results({"decode", &rows, {{"attn_add", {1e-6, 1e-6, 5e-6, 9e-6, 9e-6}}}}, 0.5, run);
  CHECK(run.ops[0].disposition == Disposition::mistrusted);
}

