#pragma once
// Options shared by `llmroof sweep` and `llmroof plan`: the settings that are not swept (--abits
// --kvbits --group-size --flash-attn --mode, converted by cli/settings_options), --threads,
// --format and -o, and the output dispatch for text formats, XLSX and HTML.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "analyzer/dtype.hpp"
#include "cli/settings_options.hpp"

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
// "16,8,4" -> weight formats through cli::parse_weight_bits (same spellings as analyze --wbits).
std::vector<DType> parse_weight_list(const std::string& text, const std::string& option);

}  // namespace llmroof::cli
