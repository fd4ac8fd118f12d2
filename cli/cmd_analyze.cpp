// `llmroof analyze [MODEL] [HARDWARE] [options]`: the per-layer roofline table and totals.

#include "analyzer/analyzer.hpp"
#include "cli/commands.hpp"
#include "cli/settings_options.hpp"
#include "io/catalog.hpp"
#include "io/errors.hpp"
#include "reports/analysis_report.hpp"
#include "reports/html_report.hpp"
#include "reports/output_file.hpp"
#include "reports/xlsx_writer.hpp"

namespace llmroof::cli {

namespace {

struct AnalyzeOptions {
  std::string model = "llama-2-7b";
  std::string hardware = "a6000";
  SettingsOptions settings;
  std::string format = "table";
  std::string output;
};

void run_analyze(const AnalyzeOptions& o, const Context& ctx) {
  const auto format = reports::analysis_format_from_string(o.format);
  // xlsx and html come from reports/xlsx_writer and reports/html_report (issue 6).
  const bool rich = o.format == "xlsx" || o.format == "html";
  if (!format && !rich)
    throw InputError("--format: '" + o.format + "' is not a format (table|md|json|csv|xlsx|html)");
  if (o.format == "xlsx" && (o.output.empty() || o.output == "-"))
    throw InputError("--format xlsx: a workbook cannot go to stdout; give -o FILE.xlsx");
  reports::check_output_path(o.output);
  const Settings settings = to_settings(o.settings);
  const Catalog catalog(ctx.search_paths);
  const ModelSpec model = catalog.model(o.model);
  const HardwareSpec hw = catalog.hardware(o.hardware);
  const Analysis a = analyze(model, hw, settings);
  if (o.format == "xlsx") return reports::write_analysis_xlsx(a, hw, o.output);
  const std::string text =
      o.format == "html" ? reports::analysis_html(a, hw) : reports::render_analysis(a, *format);
  reports::write_text_output(text, o.output);
}

}  // namespace

void add_analyze_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<AnalyzeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Per-layer roofline of prefill and decode, TTFT/TPOT/throughput and memory");
  cmd->add_option("model", opts->model, "Zoo name, model YAML or HF config.json")
      ->capture_default_str();
  cmd->add_option("hardware", opts->hardware, "Hardware db name or YAML")->capture_default_str();
  add_settings_options(*cmd, opts->settings);
  cmd->add_option("--format", opts->format, "table|md|json|csv|xlsx|html")->capture_default_str();
  cmd->add_option("-o,--output", opts->output, "Write to FILE instead of stdout");
  cmd->callback([opts, &ctx] { run_analyze(*opts, ctx); });
}

}  // namespace llmroof::cli
