// A 100,000-configuration sweep (issue 6: "finishes in a few seconds"): Llama-2-7b on two GPUs,
// 2 weight formats x 5 tp x 10 prompt lengths x 5 generation lengths x 100 batches, evaluated by
// reports::run_sweep with 1 thread and with every core; plus the CSV printing of the result.
//   build/<dir>/bench/sweep_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <thread>

#include "analyzer/analyzer.hpp"
#include "io/catalog.hpp"
#include "reports/sweep.hpp"
#include "reports/sweep_printers.hpp"

namespace {

using namespace llmroof;

reports::SweepAxes axes_100k() {
  reports::SweepAxes ax;
  ax.weights = {DType::fp16, DType::int4};
  ax.tp = {1, 2, 4, 8, 16};
  ax.prompt_len.clear();
  for (int64_t p = 128; p <= 1280; p += 128) ax.prompt_len.push_back(p);
  ax.gen_len = {32, 64, 128, 256, 512};
  ax.batch.clear();
  for (int64_t b = 1; b <= 100; ++b) ax.batch.push_back(b);
  return ax;
}

struct Fixture {
  Catalog catalog;
  ModelSpec model = catalog.model("llama-2-7b");
  std::vector<HardwareSpec> hws = {catalog.hardware("a6000"), catalog.hardware("a100-80g-sxm")};
  reports::SweepAxes axes = axes_100k();
};

void BM_sweep_100k(benchmark::State& state) {
  const Fixture f;
  const int threads = static_cast<int>(state.range(0));
  size_t rows = 0;
  for (auto _ : state) {
    const auto r =
        reports::run_sweep(f.model, f.hws, f.axes, Settings{}, analyze, {.threads = threads});
    rows = r.rows.size();
    benchmark::DoNotOptimize(r.rows.back().tpot_s);
  }
  state.counters["configs"] = static_cast<double>(rows);
  state.counters["configs_per_s"] =
      benchmark::Counter(static_cast<double>(rows) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

void BM_sweep_100k_csv(benchmark::State& state) {
  const Fixture f;
  const auto r = reports::run_sweep(f.model, f.hws, f.axes, Settings{}, analyze);
  for (auto _ : state) {
    std::string csv = reports::sweep_csv(r);
    benchmark::DoNotOptimize(csv.data());
  }
}

}  // namespace

BENCHMARK(BM_sweep_100k)
    ->Arg(1)
    ->Arg(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_sweep_100k_csv)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
