#include "reports/sweep_printers.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "reports/result_table.hpp"
#include "reports/units.hpp"
#include "tests/reports/fake_analysis.hpp"

using namespace llmroof;
using namespace llmroof::reports;
using namespace llmroof::testing;

namespace {
SweepResult tiny_sweep() {
  SweepAxes ax;
  ax.weights = {DType::int4};
  ax.tp = {2, 3};
  ax.prompt_len = {512};
  ax.gen_len = {128};
  ax.batch = {4};
  return run_sweep(fake_model(), {fake_hardware("gpu-a", 24e9, 8)}, ax, Settings{}, fake_analyze);
}
}  // namespace

namespace {
std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  for (char ch : line) {
    if (ch == ',')
      out.emplace_back();
    else
      out.back() += ch;
  }
  return out;
}
}  // namespace

TEST_CASE("sweep CSV: SI units, every field, empty cells for a refused row") {
  const std::string csv = sweep_csv(tiny_sweep());
  std::vector<std::string> lines;
  for (size_t p = 0, q; (q = csv.find('\n', p)) != std::string::npos; p = q + 1)
    lines.push_back(csv.substr(p, q - p));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] ==
        "model,hardware,weights,group_size,tp,batch,prompt_len,gen_len,ttft_s,tpot_s,e2e_latency_s,"
        "output_tokens_per_s,output_tokens_per_s_per_device,memory_per_device_bytes,capacity_bytes,"
        "fits,max_batch,error");
  // int4 tp2 batch 4: ttft 512e-4*4/2 = 0.1024 s, tpot (0.02*4/16 + 0.004)/2 = 0.0045 s,
  // e2e 0.1024 + 127 * 0.0045 = 0.6739 s, memory (5e9 + 4e9)/2 = 4.5e9 B, max batch
  // (24e9 - 2.5e9) / 0.5e9 = 43.
  const auto f = split_csv_line(lines[1]);
  REQUIRE(f.size() == 18);
  CHECK(std::vector<std::string>(f.begin(), f.begin() + 8) ==
        std::vector<std::string>{"toy-7b", "gpu-a", "int4", "128", "2", "4", "512", "128"});
  CHECK(std::stod(f[8]) == doctest::Approx(0.1024));
  CHECK(std::stod(f[9]) == doctest::Approx(0.0045));
  CHECK(std::stod(f[10]) == doctest::Approx(0.6739));
  CHECK(std::stod(f[11]) == doctest::Approx(4 / 0.0045));
  CHECK(std::stod(f[12]) == doctest::Approx(2 / 0.0045));
  CHECK(f[13] == "4500000000");  // plain digits, not 4.5e+09
  CHECK(f[14] == "24000000000");
  CHECK(f[15] == "true");
  CHECK(f[16] == "43");
  CHECK(f[17] == "");
  CHECK(lines[2] ==
        "toy-7b,gpu-a,int4,128,3,4,512,128,,,,,,,,,,tp 3 does not divide 32 attention heads");
}

TEST_CASE("sweep JSON: schema_version, SI values, null for missing") {
  const auto j = nlohmann::json::parse(sweep_json(tiny_sweep()));
  CHECK(j["schema_version"] == kSweepSchemaVersion);
  CHECK(j["kind"] == "llmroof.sweep");
  CHECK(j["model"] == "toy-7b");
  CHECK(j["hardware"][0]["memory_bytes"] == 24e9);
  CHECK(j["axes"]["tp"] == nlohmann::json::array({2, 3}));
  CHECK(j["axes"]["weights"] == nlohmann::json::array({"int4"}));
  REQUIRE(j["rows"].size() == 2);
  CHECK(j["rows"][0]["ttft_s"].get<double>() == doctest::Approx(0.1024));
  CHECK(j["rows"][0]["fits"] == true);
  CHECK(j["rows"][1]["ttft_s"].is_null());
  CHECK(j["rows"][1]["error"] == "tp 3 does not divide 32 attention heads");
  // Counts are JSON integers ("batch": 4, not 4.0); rates stay floating point.
  CHECK(j["rows"][0]["batch"].is_number_integer());
  CHECK(j["rows"][0]["tp"].is_number_integer());
  CHECK(j["rows"][0]["prompt_len"] == 512);
  CHECK(j["rows"][0]["group_size"] == 128);
  CHECK(j["rows"][0]["ttft_s"].is_number_float());
}

TEST_CASE("sweep table and Markdown: human units, numbers right-aligned") {
  const std::string text = sweep_text(tiny_sweep());
  CHECK(
      text.starts_with("sweep: toy-7b on gpu-a, 2 configurations; activations fp16; KV cache "
                       "fp16; FlashAttention off; mode realistic\n\n"));
  CHECK(text.find("gpu-a     int4/g128   2      4     512  128  102 ms  4.50 ms       889") !=
        std::string::npos);
  CHECK(text.find("  -  ") != std::string::npos);  // refused row shows "-"
  const std::string md = sweep_markdown(tiny_sweep());
  INFO(md);
  CHECK(md.find("| Hardware | Weights | TP | Batch | Prompt | Gen | TTFT | TPOT | Tokens/s | "
                "Tokens/s/device | Memory/device | Fits | Error |\n"
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n") !=
        std::string::npos);
  CHECK(
      md.find("| gpu-a | int4/g128 | 2 | 4 | 512 | 128 | 102 ms | 4.50 ms | 889 | 444 | 4.50 GB | "
              "yes |  |\n") != std::string::npos);
  CHECK(md.find("| - | - | tp 3 does not divide 32 attention heads |") != std::string::npos);
}

TEST_CASE("plan printers") {
  PlanRequest req;
  req.prompt_len = 1000;
  req.gen_len = 100;
  req.ttft_slo_s = 0.5;
  req.tpot_slo_s = 0.05;
  req.weights = {DType::fp16};
  req.tp = {1};
  req.batch = {1, 2, 4, 8};
  req.rate_requests_per_s = 3.0;
  const PlanResult r = plan(fake_model(), {fake_hardware("gpu-a", 24e9, 8)}, req, fake_analyze);
  const std::string text = plan_text(r);
  INFO(text);
  CHECK(
      text.starts_with("plan: toy-7b, prompt 1000 tokens, 100 generated; SLOs TTFT <= 500 ms, "
                       "TPOT <= 50.0 ms; rate 3.00 requests/s"));
  CHECK(text.find("gpu-a: 3 feasible of 4 configurations (1 no_fit)") != std::string::npos);
  // fp16 tp1 B4: TPOT 0.024 + 0.04 * 0.1 = 28 ms, 142.9 tokens/s, 1.43 requests/s -> 3 devices.
  CHECK(text.find("\ngpu-a        1  fp16      1            4  124 ms  28.0 ms              143"
                  "               143                1.43                 3        24.0 GB\n") !=
        std::string::npos);
  const auto j = nlohmann::json::parse(plan_json(r));
  CHECK(j["schema_version"] == kPlanSchemaVersion);
  CHECK(j["request"]["tpot_slo_s"] == 0.05);
  CHECK(j["candidates"].size() == 4);
  CHECK(j["candidates"][2]["devices_for_rate"] == 3);
  CHECK(j["candidates"][3]["verdict"] == "no_fit");
  CHECK(j["pareto"]["gpu-a"][0] == 2);
  const std::string csv = plan_csv(r);
  CHECK(csv.starts_with("model,hardware,rank,weights,group_size,tp,batch,ttft_s,tpot_s,"));
  CHECK(csv.find(",no_fit,false,\n") != std::string::npos);
}

TEST_CASE("rates and OP counts are spaced alike in every printer (units.hpp)") {
  // `show hardware` once printed "768GB/s" and "155TOPS" while the tables printed "768 GB/s".
  CHECK(bytes_per_s(768e9) == "768 GB/s");
  CHECK(ops_per_s(154.8e12) == "155 TOPS");
  CHECK(si_unit(27.6e12, "OPs") == "27.6 TOPs");
  CHECK(si_unit(336, "OPs") == "336 OPs");
  CHECK(rate_text(1.24e15, "OPS") == "1.24 POPS");
}

TEST_CASE("plan text: a hardware with every configuration refused shows the reason") {
  PlanRequest req;
  req.prompt_len = 1000;
  req.gen_len = 100;
  req.ttft_slo_s = 0.5;
  req.tpot_slo_s = 0.05;
  req.weights = {DType::fp16};
  req.tp = {3};
  req.batch = {1, 2};
  const PlanResult r = plan(fake_model(), {fake_hardware("gpu-a", 24e9, 8)}, req, fake_analyze);
  const std::string text = plan_text(r);
  CHECK(text.find("No configuration fits and meets both SLOs.\n"
                  "First refusal: tp 3 does not divide 32 attention heads\n") != std::string::npos);
}
