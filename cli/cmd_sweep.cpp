// `llmroof sweep MODEL HARDWARE[,HARDWARE...]`: every combination of the listed weight formats, tp
// degrees, prompt and generation lengths and batches, analyzed in parallel, one row each.
#include <algorithm>
#include <cstdio>

#include "analyzer/analyzer.hpp"
#include "cli/commands.hpp"
#include "cli/report_options.hpp"
#include "io/catalog.hpp"
#include "io/errors.hpp"
#include "reports/html_report.hpp"
#include "reports/option_lists.hpp"
#include "reports/output_file.hpp"
#include "reports/progress.hpp"
#include "reports/sweep.hpp"
#include "reports/sweep_printers.hpp"
#include "reports/xlsx_writer.hpp"

namespace llmroof::cli {

namespace {

struct SweepOptions {
  std::string model;
  std::string hardware;
  std::string batch = "1";
  std::string prompt_len = "2048";
  std::string gen_len = "128";
  std::string wbits = "16";
  std::string tp = "1";
  ReportOptions report;
};

void run_sweep(const SweepOptions& o, const Context& ctx) {
  check_format(o.report);
  reports::SweepAxes axes;
  axes.batch = reports::parse_int_list(o.batch, "--batch");
  axes.prompt_len = reports::parse_int_list(o.prompt_len, "--prompt-len");
  axes.gen_len = reports::parse_int_list(o.gen_len, "--gen-len");
  axes.tp = reports::parse_int_list(o.tp, "--tp");
  axes.weights = parse_weight_list(o.wbits, "--wbits");
  const Settings base = base_settings(o.report);
  const std::vector<std::string> hw_names = reports::parse_name_list(o.hardware, "HARDWARE");
  reports::sweep_size(axes, hw_names.size());  // reject a runaway grid before loading anything

  const Catalog catalog(ctx.search_paths);
  const ModelSpec model = catalog.model(o.model);
  std::vector<HardwareSpec> hws;
  for (const auto& name : hw_names) hws.push_back(catalog.hardware(name));

  reports::Progress progress("sweep", 0, reports::progress_wanted() ? stderr : nullptr);
  const reports::SweepResult r = reports::run_sweep(model, std::move(hws), axes, base, analyze,
                                                    {.threads = o.report.threads,
                                                     .group_size = group_size_option(o.report),
                                                     .progress = &progress});

  // Some refused rows are normal in a grid (tp 3 among 1,2,3,4); a grid with none left is a bad
  // request, and a CI job must see exit status 2 rather than a table of errors.
  const bool any_ok =
      std::any_of(r.rows.begin(), r.rows.end(), [](const auto& row) { return row.ok; });
  if (!r.rows.empty() && !any_ok)
    throw InputError("no configuration of the sweep could be analyzed; the first: " +
                     r.rows.front().error);

  emit_report(r, o.report,
              ResultPrinters<std::decay_t<decltype(r)>>{
                  reports::sweep_text, reports::sweep_markdown, reports::sweep_csv, reports::sweep_json,
                  reports::sweep_html, reports::write_sweep_xlsx});
}

}  // namespace

void add_sweep_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<SweepOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Analyze every combination of batch, lengths, weight format and tp on one or more "
      "hardware (lists: 1,2,4 or ranges 1-256:x2, 128-1024:+128; docs/reports.md)");
  cmd->add_option("model", opts->model, "Zoo name, model YAML or HF config.json")->required();
  cmd->add_option("hardware", opts->hardware, "Hardware db name(s), comma-separated")->required();
  cmd->add_option("--batch", opts->batch, "Batch sizes (list or range)")->capture_default_str();
  cmd->add_option("--prompt-len", opts->prompt_len, "Prompt lengths (list or range)")
      ->capture_default_str();
  cmd->add_option("--gen-len", opts->gen_len, "Generated tokens (list or range)")
      ->capture_default_str();
  cmd->add_option("--wbits", opts->wbits, "Weight formats, e.g. 16,8,4,fp8")->capture_default_str();
  cmd->add_option("--tp", opts->tp, "Tensor-parallel degrees (list or range)")
      ->capture_default_str();
  add_report_options(*cmd, opts->report);
  cmd->callback([opts, &ctx] { run_sweep(*opts, ctx); });
}

}  // namespace llmroof::cli
