// One analyze() call (prefill + decode rows, exact decode average, memory) for Llama-2-70b.
// Target: <= 5 us per call on the 2-core dev machine; the Python LLM-Viewer takes ~60 us.
//   build/<dir>/bench/analyze_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include "analyzer/analyzer.hpp"
#include "io/catalog.hpp"

namespace {

using namespace llmroof;

void run(benchmark::State& state, const char* model, const char* hardware, Settings s) {
  const Catalog catalog;
  const ModelSpec m = catalog.model(model);
  const HardwareSpec hw = catalog.hardware(hardware);
  for (auto _ : state) {
    Analysis a = analyze(m, hw, s);
    benchmark::DoNotOptimize(a.totals.tpot_s);
  }
}

void BM_analyze_llama2_70b_h100(benchmark::State& state) { run(state, "llama-2-70b", "h100-sxm", {}); }

void BM_analyze_llama2_70b_tp4_flash(benchmark::State& state) {
  Settings s;
  s.tp = 4;
  s.flash_attention = true;
  s.quant.weights = DType::int4;
  run(state, "llama-2-70b", "h100-sxm", s);
}

void BM_analyze_mixtral_a100(benchmark::State& state) {
  run(state, "mixtral-8x7b", "a100-80g-sxm", {});
}

}  // namespace

BENCHMARK(BM_analyze_llama2_70b_h100);
BENCHMARK(BM_analyze_llama2_70b_tp4_flash);
BENCHMARK(BM_analyze_mixtral_a100);
BENCHMARK_MAIN();
