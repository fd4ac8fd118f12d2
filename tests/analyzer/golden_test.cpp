// Golden files: the full JSON of analyze() for a handful of model x hardware x settings cases,
// compared exactly (the analyzer is deterministic). After an intended change, regenerate with
//   LLMROOF_UPDATE_GOLDEN=1 ctest --test-dir build/ci -R analyzer_golden_test
// and review the diff of tests/golden/ before committing.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "analyzer/analyzer.hpp"
#include "io/catalog.hpp"
#include "reports/analysis_report.hpp"

using namespace llmroof;

namespace {

struct GoldenCase {
  const char* file;
  const char* model;
  const char* hardware;
  Settings settings;
};

Settings make(int64_t batch, int64_t prompt, int64_t gen, DType w, DType a, DType kv, bool flash,
              int64_t tp, int64_t group = 0) {
  Settings s;
  s.batch = batch;
  s.prompt_len = prompt;
  s.gen_len = gen;
  s.quant.weights = w;
  s.quant.activations = a;
  s.quant.kv_cache = kv;
  s.quant.group_size = group;
  s.flash_attention = flash;
  s.tp = tp;
  return s;
}

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The first line where the two texts differ, for a readable failure.
std::string first_difference(const std::string& want, const std::string& got) {
  std::istringstream a(want), b(got);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ra = static_cast<bool>(std::getline(a, la));
    const bool rb = static_cast<bool>(std::getline(b, lb));
    if (!ra && !rb) return "identical";
    if (la != lb || ra != rb)
      return "line " + std::to_string(line) + ":\n  golden: " + la + "\n  now:    " + lb;
  }
}

}  // namespace

TEST_CASE("analyze() JSON matches the golden files") {
  const GoldenCase cases[] = {
      {"llama-2-7b_a6000_default.json", "llama-2-7b", "a6000", Settings{}},
      {"llama-2-70b_h100_tp4_w4a16_flash.json", "llama-2-70b", "h100-sxm",
       make(8, 2048, 256, DType::int4, DType::fp16, DType::fp16, true, 4, 128)},
      {"mixtral-8x7b_a100-80g.json", "mixtral-8x7b", "a100-80g-sxm",
       make(4, 1024, 256, DType::fp16, DType::fp16, DType::fp16, true, 2)},
      {"qwen2-57b-a14b_h200_decode.json", "qwen2-57b-a14b", "h200-sxm",
       make(32, 128, 1024, DType::fp8, DType::fp8, DType::fp16, true, 1)},
      {"llama-3-8b_l40s_gqa_int8kv.json", "llama-3-8b", "l40s",
       make(16, 4096, 512, DType::int8, DType::int8, DType::int8, false, 1)},
  };
  const Catalog catalog;
  const bool update = std::getenv("LLMROOF_UPDATE_GOLDEN") != nullptr;
  for (const GoldenCase& c : cases) {
    INFO(c.file);
    const Analysis a = analyze(catalog.model(c.model), catalog.hardware(c.hardware), c.settings);
    const std::string got = reports::analysis_json(a);
    const std::string path = std::string("tests/golden/") + c.file;
    if (update) {
      std::ofstream(path, std::ios::binary) << got;
      continue;
    }
    const std::string want = read(path);
    REQUIRE_MESSAGE(!want.empty(), "missing " << path << " (run with LLMROOF_UPDATE_GOLDEN=1)");
    CHECK_MESSAGE(want == got, first_difference(want, got));
  }
}

TEST_CASE("the table printer shows the published row values and a totals block") {
  const Catalog catalog;
  Settings s;
  s.mode = Mode::roofline;
  const Analysis a = analyze(catalog.model("llama-2-7b"), catalog.hardware("a6000"), s);
  const std::string t = reports::analysis_table(a);
  CHECK(t.find("q_proj") != std::string::npos);
  CHECK(t.find("68.7G") != std::string::npos);
  CHECK(t.find("155 TOPS") != std::string::npos);  // spaced with its unit, as in HTML and show
  CHECK(t.find("TTFT") != std::string::npos);
  CHECK(t.find("Max batch that fits") != std::string::npos);
  const std::string md = reports::analysis_markdown(a);
  CHECK(md.find("| q_proj | 32 | 68.7G | 67.1 MB | 1024 | fp16 | 155 TOPS | compute |") !=
        std::string::npos);
  const std::string csv = reports::analysis_csv(a);
  CHECK(csv.rfind("phase,name,per_block,count", 0) == 0);
  CHECK(csv.find("\nprefill,q_proj,true,32,1,68719476736,") != std::string::npos);
}
