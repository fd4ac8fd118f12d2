// `llmroof plan MODEL --hardware H[,H2...] --prompt-len P --gen-len G --ttft-slo 500ms
// --tpot-slo 50ms [--rate R]`: the configurations that fit and meet both SLOs under continuous
// batching, ranked, with the Pareto set per hardware (docs/planner.md).
#include <cstdio>

#include "analyzer/analyzer.hpp"
#include "cli/commands.hpp"
#include "cli/report_options.hpp"
#include "io/catalog.hpp"
#include "io/errors.hpp"
#include "reports/html_report.hpp"
#include "reports/option_lists.hpp"
#include "reports/output_file.hpp"
#include "reports/planner.hpp"
#include "reports/progress.hpp"
#include "reports/sweep_printers.hpp"
#include "reports/xlsx_writer.hpp"

namespace llmroof::cli {

namespace {

struct PlanOptions {
  std::string model;
  std::string hardware;
  int64_t prompt_len = 2048;
  int64_t gen_len = 128;
  std::string ttft_slo = "500ms";
  std::string tpot_slo = "50ms";
  std::string rate;
  std::string wbits = "16,8,4";
  std::string tp = "1,2,4,8";
  std::string batch = "1-1024:x2";
  bool no_refine = false;
  ReportOptions report;
};

void run_plan(const PlanOptions& o, const Context& ctx) {
  check_format(o.report);
  if (o.prompt_len <= 0) throw InputError("--prompt-len must be a positive integer");
  if (o.gen_len <= 0) throw InputError("--gen-len must be a positive integer");
  reports::PlanRequest req;
  req.prompt_len = o.prompt_len;
  req.gen_len = o.gen_len;
  req.ttft_slo_s = reports::parse_duration_s(o.ttft_slo, "--ttft-slo");
  req.tpot_slo_s = reports::parse_duration_s(o.tpot_slo, "--tpot-slo");
  if (!o.rate.empty()) req.rate_requests_per_s = reports::parse_positive_number(o.rate, "--rate");
  req.weights = parse_weight_list(o.wbits, "--wbits");
  req.tp = reports::parse_int_list(o.tp, "--tp");
  req.batch = reports::parse_int_list(o.batch, "--batch");
  req.refine = !o.no_refine;
  req.group_size = group_size_option(o.report);
  req.base = base_settings(o.report);

  const Catalog catalog(ctx.search_paths);
  const ModelSpec model = catalog.model(o.model);
  std::vector<HardwareSpec> hws;
  for (const auto& name : reports::parse_name_list(o.hardware, "--hardware"))
    hws.push_back(catalog.hardware(name));

  reports::Progress progress("plan", 0, reports::progress_wanted() ? stderr : nullptr);
  const reports::PlanResult r = reports::plan(
      model, std::move(hws), req, analyze,
      {.threads = o.report.threads, .group_size = req.group_size, .progress = &progress});

  emit_report(r, o.report,
              ResultPrinters<std::decay_t<decltype(r)>>{
                  reports::plan_text, reports::plan_markdown, reports::plan_csv, reports::plan_json,
                  reports::plan_html, reports::write_plan_xlsx});
}

}  // namespace

void add_plan_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<PlanOptions>();
  CLI::App* cmd = app.add_subcommand(
      "plan",
      "Capacity planning under TTFT/TPOT SLOs with continuous batching: searches weight "
      "format x tp x concurrency per hardware, prints the Pareto set (docs/planner.md)");
  cmd->add_option("model", opts->model, "Zoo name, model YAML or HF config.json")->required();
  cmd->add_option("--hardware", opts->hardware, "Hardware db name(s), comma-separated")->required();
  cmd->add_option("--prompt-len", opts->prompt_len, "Prompt tokens per request")
      ->capture_default_str();
  cmd->add_option("--gen-len", opts->gen_len, "Generated tokens per request")
      ->capture_default_str();
  cmd->add_option("--ttft-slo", opts->ttft_slo, "Time-to-first-token SLO with a unit (500ms, 0.5s)")
      ->capture_default_str();
  cmd->add_option("--tpot-slo", opts->tpot_slo, "Time-per-output-token SLO with a unit (50ms)")
      ->capture_default_str();
  cmd->add_option("--rate", opts->rate,
                  "Request rate to serve (requests/s): ranks by devices needed");
  cmd->add_option("--wbits", opts->wbits, "Weight formats to try")->capture_default_str();
  cmd->add_option("--tp", opts->tp, "Tensor-parallel degrees to try")->capture_default_str();
  cmd->add_option("--batch", opts->batch, "Concurrency grid to try (list or range)")
      ->capture_default_str();
  cmd->add_flag("--no-refine", opts->no_refine,
                "Do not bisect between grid points for the largest feasible concurrency");
  add_report_options(*cmd, opts->report);
  cmd->callback([opts, &ctx] { run_plan(*opts, ctx); });
}

}  // namespace llmroof::cli
