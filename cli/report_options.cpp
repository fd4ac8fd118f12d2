#include "cli/report_options.hpp"

#include <algorithm>

#include "io/errors.hpp"
#include "reports/option_lists.hpp"
#include "reports/output_file.hpp"

namespace llmroof::cli {

void add_report_options(CLI::App& cmd, ReportOptions& o) {
  add_format_options(cmd, o.fixed);
  cmd.add_option("--threads", o.threads, "Worker threads (0 = all cores)")->capture_default_str();
  cmd.add_option("--format", o.format, "table|md|json|csv|xlsx|html")->capture_default_str();
  cmd.add_option("-o,--output", o.output, "Write to FILE instead of stdout (required for xlsx)");
}

Settings base_settings(const ReportOptions& o) { return to_settings(o.fixed); }

int64_t group_size_option(const ReportOptions& o) {
  return o.fixed.group_size == SettingsOptions::kAutoGroupSize ? -1
                                                               : base_settings(o).quant.group_size;
}

void check_format(const ReportOptions& o) {
  static const std::vector<std::string> kFormats = {"table", "md", "json", "csv", "xlsx", "html"};
  if (std::find(kFormats.begin(), kFormats.end(), o.format) == kFormats.end())
    throw InputError("--format: '" + o.format + "' is not a format (table|md|json|csv|xlsx|html)");
  if (o.format == "xlsx" && (o.output.empty() || o.output == "-"))
    throw InputError("--format xlsx: a workbook cannot go to stdout; give -o FILE.xlsx");
  if (o.threads < 0) throw InputError("--threads must be 0 (all cores) or positive");
  reports::check_output_path(o.output);
}

std::vector<DType> parse_weight_list(const std::string& text, const std::string& option) {
  std::vector<DType> out;
  for (const std::string& item : reports::parse_name_list(text, option)) {
    const DType d = parse_weight_bits(item, option);
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  }
  return out;
}

}  // namespace llmroof::cli
