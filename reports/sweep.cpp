#include "reports/sweep.hpp"

#include "analyzer/analyzer.hpp"
#include "io/errors.hpp"
#include "reports/parallel.hpp"
#include "reports/progress.hpp"

namespace llmroof::reports {

int64_t default_group_size(DType weights) { return weights == DType::int4 ? 128 : 0; }

int64_t sweep_size(const SweepAxes& axes, size_t num_hardware) {
  const int64_t sizes[] = {
      static_cast<int64_t>(num_hardware),        static_cast<int64_t>(axes.weights.size()),
      static_cast<int64_t>(axes.tp.size()),      static_cast<int64_t>(axes.prompt_len.size()),
      static_cast<int64_t>(axes.gen_len.size()), static_cast<int64_t>(axes.batch.size())};
  int64_t n = 1;
  for (int64_t s : sizes) {
    if (s == 0) throw InputError("sweep: an option's list is empty, so there is nothing to sweep");
    if (n > kMaxSweepRows / s)
      throw InputError("sweep: the lists expand to more than " + std::to_string(kMaxSweepRows) +
                       " configurations; shorten --batch/--prompt-len/--gen-len/--wbits/--tp");
    n *= s;
  }
  return n;
}

Settings sweep_settings(const Settings& base, const SweepAxes& axes, int64_t group_size,
                        size_t num_hardware, int64_t index, int* hardware_index) {
  // Mixed radix with batch as the fastest digit: consecutive rows differ in batch first, which is
  // the order the curves and tables read best in.
  Settings s = base;
  auto digit = [&index](size_t radix) {
    const int64_t d = index % static_cast<int64_t>(radix);
    index /= static_cast<int64_t>(radix);
    return static_cast<size_t>(d);
  };
  s.batch = axes.batch[digit(axes.batch.size())];
  s.gen_len = axes.gen_len[digit(axes.gen_len.size())];
  s.prompt_len = axes.prompt_len[digit(axes.prompt_len.size())];
  s.tp = axes.tp[digit(axes.tp.size())];
  s.quant.weights = axes.weights[digit(axes.weights.size())];
  s.quant.group_size = group_size >= 0 ? group_size : default_group_size(s.quant.weights);
  const int hw = static_cast<int>(digit(num_hardware));
  if (hardware_index) *hardware_index = hw;
  return s;
}

SweepRow summarize(const Analysis& a, int hardware_index, const Settings& s) {
  SweepRow r;
  r.hardware = hardware_index;
  r.settings = s;
  r.ok = true;
  r.ttft_s = a.totals.ttft_s;
  r.tpot_s = a.totals.tpot_s;
  r.e2e_latency_s = a.totals.e2e_latency_s;
  r.output_tokens_per_s = a.totals.output_tokens_per_s;
  // The analysis is per device of a TP group: the group produces the tokens, each device costs.
  r.output_tokens_per_s_per_device = a.totals.output_tokens_per_s / static_cast<double>(s.tp);
  r.memory_per_device_bytes = a.memory.total_bytes;
  r.capacity_bytes = a.memory.capacity_bytes;
  r.fits = a.memory.fits;
  r.max_batch = a.memory.max_batch;
  return r;
}

SweepResult run_sweep(const ModelSpec& model, std::vector<HardwareSpec> hardware,
                      const SweepAxes& axes, const Settings& base, const AnalyzeFn& analyze,
                      const SweepOptions& options) {
  SweepResult result;
  result.model_name = model.name;
  result.hardware = std::move(hardware);
  result.base = base;
  result.axes = axes;
  const int64_t n = sweep_size(axes, result.hardware.size());
  result.rows.resize(static_cast<size_t>(n));
  if (options.progress) options.progress->set_total(n);

  parallel_for_index(
      n, options.threads,
      [&](int64_t i) {
        int hw = 0;
        const Settings s =
            sweep_settings(base, axes, options.group_size, result.hardware.size(), i, &hw);
        SweepRow& row = result.rows[static_cast<size_t>(i)];
        try {
          row = summarize(analyze(model, result.hardware[hw], s), hw, s);
        } catch (const AnalysisError& e) {  // this configuration is impossible; the rest go on
          row = SweepRow{.hardware = hw, .settings = s, .error = e.what()};
        } catch (const InputError& e) {
          row = SweepRow{.hardware = hw, .settings = s, .error = e.what()};
        }
      },
      options.progress);
  return result;
}

}  // namespace llmroof::reports
