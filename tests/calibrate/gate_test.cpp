// The regression gate driven by injected measurements (never by timings).
#include <doctest/doctest.h>

#include "calibrate/gate.hpp"
#include "calibrate/validation.hpp"
#include "calibrate/validation_json.hpp"
#include "io/errors.hpp"

using namespace llmroof::calibrate;

namespace {
ValidationRun make_run(double q_measured, double tok_s_measured) {
  ValidationRun r;
  r.llmroof_version = "0.1.0";
  r.model = "llama-2-7b";
  r.hardware = "host";
  r.cpu = "AMD EPYC";
  r.settings = "batch=1 prompt=512 gen=128 w=fp32 a=fp32 kv=fp32";
  r.layers_run = 4;
  r.layers_total = 32;
  r.decode_context = 576;
  r.ops = {{"decode", "q_proj", 32, 1.0e-3, q_measured, 0.02, Disposition::passed, ""},
           {"decode", "attn_norm", 32, 2.0e-6, 3.0e-6, 0.05, Disposition::passed, ""},
           {"prefill", "q_proj", 32, 40e-3, 44e-3, 0.01, Disposition::passed, ""}};
  r.predicted = {1.5, 0.05, 20.0};
  r.measured = {1.6, 0.05, tok_s_measured};
  return r;
}
}  // namespace

TEST_CASE("disposition strings round trip and reject unknown names") {
  for (auto d : {Disposition::passed, Disposition::failed, Disposition::skipped,
                 Disposition::unsupported, Disposition::mistrusted})
    CHECK(disposition_from_string(to_string(d)) == d);
  CHECK(to_string(Disposition::mistrusted) == "mistrusted");
  CHECK_FALSE(disposition_from_string("pass").has_value());
}

TEST_CASE("identical runs pass the gate") {
  const auto base = make_run(1.1e-3, 18.0);
  const auto r = compare_with_baseline(base, base, 0.15);
  CHECK_FALSE(r.tripped());
  CHECK(r.failures() == 0);
  CHECK(format_gate_report(r).find("gate: ok") != std::string::npos);
}

TEST_CASE("an op whose ratio drifted beyond the tolerance trips the gate and is named") {
  const auto base = make_run(1.0e-3, 18.0);  // ratio 1.0
  const auto cur = make_run(1.2e-3, 18.0);   // ratio 1.2: +20 %
  const auto r = compare_with_baseline(cur, base, 0.15);
  REQUIRE(r.tripped());
  CHECK(r.failures() == 1);
  const auto text = format_gate_report(r);
  CHECK(text.find("FAILED decode/q_proj") != std::string::npos);
  CHECK(text.find("+20.0 %") != std::string::npos);
  // Within tolerance at 25 %.
  CHECK_FALSE(compare_with_baseline(cur, base, 0.25).tripped());
}

TEST_CASE("a drop of end-to-end throughput trips the gate") {
  const auto base = make_run(1.0e-3, 18.0);
  const auto cur = make_run(1.0e-3, 14.0);  // -22 % tokens/s
  const auto r = compare_with_baseline(cur, base, 0.15);
  REQUIRE(r.failures() == 1);
  bool found = false;
  for (const auto& e : r.entries)
    if (e.name == "output_tokens_per_s") {
      found = true;
      CHECK(e.disposition == Disposition::failed);
      CHECK(e.drift == doctest::Approx(14.0 / 18.0 - 1));
    }
  CHECK(found);
}

TEST_CASE("mistrusted ops are not gated; missing ops fail; new ops are skipped") {
  const auto base = make_run(1.0e-3, 18.0);
  auto cur = make_run(2.0e-3, 18.0);
  cur.ops[0].disposition = Disposition::mistrusted;
  CHECK_FALSE(compare_with_baseline(cur, base, 0.15).tripped());
  cur = make_run(1.0e-3, 18.0);
  cur.ops.pop_back();
  cur.ops.push_back({"decode", "mlp_act", 32, 1e-6, 1e-6, 0, Disposition::passed, ""});
  const auto r = compare_with_baseline(cur, base, 0.15);
  CHECK(r.failures() == 1);
  CHECK(format_gate_report(r).find("FAILED prefill/q_proj: in the baseline but missing") !=
        std::string::npos);
}

TEST_CASE("ops shorter than the minimum time are not gated") {
  const auto base = make_run(1.0e-3, 18.0);
  auto cur = make_run(1.0e-3, 18.0);
  cur.ops[1].measured_s = 9.0e-6;  // attn_norm: ratio 1.5 -> 4.5
  CHECK(compare_with_baseline(cur, base, 0.15).tripped());
  CHECK_FALSE(compare_with_baseline(cur, base, 0.15, 20e-6).tripped());
  CHECK(compare_with_baseline(cur, base, 0.15, 5e-6).tripped());  // 9 us is above 5 us
}

TEST_CASE("a baseline for other settings is an input error") {
  const auto base = make_run(1.0e-3, 18.0);
  auto cur = base;
  cur.settings = "batch=2 prompt=512 gen=128 w=fp32 a=fp32 kv=fp32";
  CHECK_THROWS_AS(compare_with_baseline(cur, base, 0.15), llmroof::InputError);
  CHECK_THROWS_AS(compare_with_baseline(base, base, -1), llmroof::InputError);
}

TEST_CASE("baseline JSON round trip keeps every field") {
  auto run = make_run(1.25e-3, 17.5);
  run.ops[1].disposition = Disposition::unsupported;
  run.ops[1].detail = "no kernel";
  const auto text = validation_to_json(run);
  CHECK(text.find("\"schema_version\": 1") != std::string::npos);
  const auto back = validation_from_json(text, "base.json");
  CHECK(back.model == run.model);
  CHECK(back.settings == run.settings);
  CHECK(back.layers_run == 4);
  CHECK(back.extrapolated());
  REQUIRE(back.ops.size() == run.ops.size());
  for (size_t i = 0; i < run.ops.size(); ++i) {
    CHECK(back.ops[i].name == run.ops[i].name);
    CHECK(back.ops[i].measured_s == run.ops[i].measured_s);
    CHECK(back.ops[i].predicted_s == run.ops[i].predicted_s);
    CHECK(back.ops[i].disposition == run.ops[i].disposition);
  }
  CHECK(back.ops[1].detail == "no kernel");
  CHECK(back.measured.output_tokens_per_s == 17.5);
  CHECK_FALSE(compare_with_baseline(back, run, 0.0).tripped());
}

TEST_CASE("malformed baselines name the problem") {
  CHECK_THROWS_WITH_AS(validation_from_json("{", "b.json"), doctest::Contains("b.json: not valid"),
                       llmroof::InputError);
  CHECK_THROWS_WITH_AS(validation_from_json(R"({"schema_version": 99})", "b.json"),
                       doctest::Contains("schema_version 99"), llmroof::InputError);
  auto text = validation_to_json(make_run(1e-3, 18));
  const auto pos = text.find("\"passed\"");
  text.replace(pos, 8, "\"great\"");
  CHECK_THROWS_WITH_AS(validation_from_json(text, "b.json"),
                       doctest::Contains("b.json: ops[0]: unknown disposition 'great'"),
                       llmroof::InputError);
}

TEST_CASE("median absolute error ignores unmeasured ops") {
  auto run = make_run(1.2e-3, 18);  // errors: 0.2, 0.5, 0.1
  CHECK(median_abs_error(run) == doctest::Approx(0.2));
  run.ops[1].disposition = Disposition::skipped;  // errors 0.2, 0.1
  CHECK(median_abs_error(run) == doctest::Approx(0.15));
}

TEST_CASE("the device check round-trips, old baselines without it load, and a change is noted") {
  auto base = make_run(1.0e-3, 20.0);
  base.device = {40e9, 38e9, 36e9};  // mean 37 GB/s: -7.5 % off the spec
  CHECK(base.device.drift() == doctest::Approx(-0.075));
  const auto back = validation_from_json(validation_to_json(base), "base.json");
  CHECK(back.device.read_before_bytes_per_s == 38e9);
  CHECK(back.device.read_after_bytes_per_s == 36e9);
  CHECK(back.device.spec_bandwidth_bytes_per_s == 40e9);

  auto text = validation_to_json(base);
  const auto at = text.find(",\n  \"device\"");
  REQUIRE(at != std::string::npos);
  text.erase(at, text.find('}', at) + 1 - at);  // a baseline saved before the check existed
  const auto old = validation_from_json(text, "old.json");
  CHECK_FALSE(old.device.measured());
  CHECK(old.device.drift() == 0);

  auto cur = base;
  cur.device = {40e9, 29.6e9, 29.6e9};  // 20 % below the baseline run's 37 GB/s
  const auto report = compare_with_baseline(cur, base, 0.15);
  CHECK(report.device_bandwidth_change == doctest::Approx(-0.2));
  CHECK_FALSE(report.tripped());  // noted, never gated
  CHECK(format_gate_report(report).find("DRAM read bandwidth was -20.0 %") != std::string::npos);
  CHECK(format_gate_report(compare_with_baseline(base, base, 0.15)).find("DRAM") ==
        std::string::npos);
  CHECK(compare_with_baseline(cur, old, 0.15).device_bandwidth_change == 0);
}
