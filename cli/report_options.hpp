#pragma once
// Options shared by `llmroof sweep` and `llmroof plan`: the settings that are not swept (--abits
// --kvbits --group-size --flash-attn --mode, converted by cli/settings_options), --threads,
// --format and -o, and the output dispatch for text formats, XLSX and HTML.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "analyzer/dtype.hpp"
#include "cli/settings_options.hpp"
#include "reports/output_file.hpp"

namespace llmroof::cli {

struct ReportOptions {
  SettingsOptions fixed;  // only abits/kvbits/group-size/flash-attn/mode are bound
  int threads = 0;
  std::string format = "table";
  std::string output;
};

void add_report_options(CLI::App& cmd, ReportOptions& o);
// Base settings (batch/lengths/tp/weights at their defaults; the caller sets them per row).
Settings base_settings(const ReportOptions& o);
// -1 (each format's default) unless --group-size was given.
int64_t group_size_option(const ReportOptions& o);
// --format must be one of table|md|json|csv|xlsx|html; xlsx needs -o FILE.
void check_format(const ReportOptions& o);
// One result type's printers, so sweep and plan dispatch --format the same way.
template <class Result>
struct ResultPrinters {
  std::string (*text)(const Result&);
  std::string (*markdown)(const Result&);
  std::string (*csv)(const Result&);
  std::string (*json)(const Result&);
  std::string (*html)(const Result&);
  void (*xlsx)(const Result&, const std::string& path);
};

// Writes `r` in --format to -o (or stdout); check_format() has already accepted the pair.
template <class Result>
void emit_report(const Result& r, const ReportOptions& o, const ResultPrinters<Result>& p) {
  const std::string& f = o.format;
  if (f == "xlsx") return p.xlsx(r, o.output);
  const std::string text = f == "json"   ? p.json(r)
                           : f == "csv"  ? p.csv(r)
                           : f == "md"   ? p.markdown(r)
                           : f == "html" ? p.html(r)
                                         : p.text(r);
  reports::write_text_output(text, o.output);
}

// "16,8,4" -> weight formats through cli::parse_weight_bits (same spellings as analyze --wbits).
std::vector<DType> parse_weight_list(const std::string& text, const std::string& option);

}  // namespace llmroof::cli
