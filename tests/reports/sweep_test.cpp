#include "reports/sweep.hpp"

#include <doctest/doctest.h>

#include <atomic>

#include "io/errors.hpp"
#include "reports/progress.hpp"
#include "tests/reports/fake_analysis.hpp"

using namespace llmroof;
using namespace llmroof::reports;
using llmroof::testing::fake_analyze;
using llmroof::testing::fake_hardware;
using llmroof::testing::fake_model;

namespace {
SweepAxes small_axes() {
  SweepAxes ax;
  ax.weights = {DType::fp16, DType::int4};
  ax.tp = {1, 2, 3};
  ax.prompt_len = {512, 2048};
  ax.gen_len = {128};
  ax.batch = {1, 4, 16};
  return ax;
}
}  // namespace

TEST_CASE("sweep: every combination, batch fastest, hardware slowest") {
  std::vector<HardwareSpec> hws = {fake_hardware("gpu-a", 24e9, 8),
                                   fake_hardware("gpu-b", 48e9, 8)};
  const SweepResult r = run_sweep(fake_model(), hws, small_axes(), Settings{}, fake_analyze);
  REQUIRE(r.rows.size() == 2 * 2 * 3 * 2 * 1 * 3);
  CHECK(r.rows[0].hardware == 0);
  CHECK(r.rows[0].settings.batch == 1);
  CHECK(r.rows[1].settings.batch == 4);
  CHECK(r.rows[2].settings.batch == 16);
  CHECK(r.rows[3].settings.prompt_len == 2048);
  CHECK(r.rows[3].settings.batch == 1);
  CHECK(r.rows[6].settings.tp == 2);
  CHECK(r.rows[18].settings.quant.weights == DType::int4);
  CHECK(r.rows[18].settings.quant.group_size == 128);  // int4 default group
  CHECK(r.rows[0].settings.quant.group_size == 0);
  CHECK(r.rows[36].hardware == 1);
  CHECK(r.rows.back().settings.batch == 16);
  CHECK(r.rows.back().settings.tp == 3);
}

TEST_CASE("sweep: row values come from the analysis, per-device divides by tp") {
  std::vector<HardwareSpec> hws = {fake_hardware("gpu-a", 24e9, 8)};
  const SweepResult r = run_sweep(fake_model(), hws, small_axes(), Settings{}, fake_analyze);
  // Row 7: fp16, tp 2, prompt 512, batch 4.
  const SweepRow& row = r.rows[7];
  REQUIRE(row.ok);
  CHECK(row.settings.tp == 2);
  CHECK(row.settings.prompt_len == 512);
  CHECK(row.settings.batch == 4);
  CHECK(row.ttft_s == doctest::Approx(512 * 1e-4 * 4 / 2));  // 0.1024 s
  CHECK(row.tpot_s == doctest::Approx((0.02 + 0.004) / 2));  // 0.012 s
  CHECK(row.output_tokens_per_s == doctest::Approx(4 / 0.012));
  CHECK(row.output_tokens_per_s_per_device == doctest::Approx(4 / 0.012 / 2));
  CHECK(row.memory_per_device_bytes == doctest::Approx((20e9 + 4e9) / 2));
  CHECK(row.fits);
  CHECK(row.capacity_bytes == 24e9);
  // fp16, tp 1, batch 16 needs 36 GB on a 24 GB device.
  CHECK_FALSE(r.rows[2].fits);
}

TEST_CASE("sweep: refused configurations become error rows, the rest go on") {
  std::vector<HardwareSpec> hws = {fake_hardware("gpu-a", 24e9, 8)};
  const SweepResult r = run_sweep(fake_model(), hws, small_axes(), Settings{}, fake_analyze);
  int errors = 0;
  for (const auto& row : r.rows) {
    CHECK(row.ok == (row.settings.tp != 3));
    if (!row.ok) {
      ++errors;
      CHECK(row.error == "tp 3 does not divide 32 attention heads");
      CHECK_FALSE(row.fits);
    }
  }
  CHECK(errors == 2 * 2 * 3);
}

TEST_CASE("sweep: results do not depend on the thread count") {
  std::vector<HardwareSpec> hws = {fake_hardware("gpu-a", 24e9, 8),
                                   fake_hardware("gpu-b", 80e9, 8)};
  SweepAxes ax = small_axes();
  ax.batch = {1, 2, 3, 5, 8, 13, 21, 34, 55};
  const SweepResult one =
      run_sweep(fake_model(), hws, ax, Settings{}, fake_analyze, {.threads = 1});
  const SweepResult many =
      run_sweep(fake_model(), hws, ax, Settings{}, fake_analyze, {.threads = 7});
  REQUIRE(one.rows.size() == many.rows.size());
  for (size_t i = 0; i < one.rows.size(); ++i) {
    CHECK(one.rows[i].settings.batch == many.rows[i].settings.batch);
    CHECK(one.rows[i].hardware == many.rows[i].hardware);
    CHECK(one.rows[i].tpot_s == many.rows[i].tpot_s);
  }
}

TEST_CASE("sweep: progress counts every row; other exceptions propagate") {
  std::vector<HardwareSpec> hws = {fake_hardware("gpu-a", 24e9, 8)};
  Progress progress("sweep", 0, nullptr);
  run_sweep(fake_model(), hws, small_axes(), Settings{}, fake_analyze,
            {.threads = 3, .progress = &progress});
  CHECK(progress.done() == 36);
  CHECK(progress.total() == 36);

  std::atomic<int> calls{0};
  AnalyzeFn broken = [&](const ModelSpec&, const HardwareSpec&, const Settings&) -> Analysis {
    ++calls;
    throw std::runtime_error("out of memory");
  };
  CHECK_THROWS_WITH_AS(run_sweep(fake_model(), hws, small_axes(), Settings{}, broken),
                       "out of memory", std::runtime_error);
}

TEST_CASE("sweep: an explicit group size applies to every quantized format") {
  std::vector<HardwareSpec> hws = {fake_hardware("gpu-a", 24e9, 8)};
  const SweepResult r =
      run_sweep(fake_model(), hws, small_axes(), Settings{}, fake_analyze, {.group_size = 64});
  CHECK(r.rows[18].settings.quant.group_size == 64);
}

TEST_CASE("sweep: size limits") {
  SweepAxes ax;
  CHECK(sweep_size(ax, 1) == 1);
  ax.batch = {};
  CHECK_THROWS_AS(sweep_size(ax, 1), InputError);
  ax.batch.assign(10000, 1);
  ax.prompt_len.assign(10000, 1);
  CHECK_THROWS_WITH_AS(sweep_size(ax, 1), doctest::Contains("more than 10000000 configurations"),
                       InputError);
}

TEST_CASE("progress bar text") {
  CHECK(Progress::render("sweep", 5, 10, 10) == "sweep [#####     ] 50% 5/10");
  CHECK(Progress::render("plan", 0, 0, 4) == "plan [    ] 0% 0/0");
  CHECK(Progress::render("plan", 12, 10, 4) == "plan [####] 100% 12/10");
}
