#include "cli/report_options.hpp"

#include <algorithm>

#include "io/errors.hpp"
#include "reports/option_lists.hpp"

namespace llmroof::cli {

void add_report_options(CLI::App& cmd, ReportOptions& o) {
  SettingsOptions& s = o.fixed;
  cmd.add_option("--abits", s.abits, "Activations at the linear layers: 32|16|bf16|8|fp8")
      ->capture_default_str();
  cmd.add_option("--kvbits", s.kvbits, "KV cache: 32|16|bf16|8|4|fp8")->capture_default_str();
  cmd.add_option("--group-size", s.group_size,
                 "Group size of quantized weights along k (default: 128 for 4-bit, per-channel for "
                 "8-bit)");
  cmd.add_flag("--flash-attn", s.flash_attention, "Fused FlashAttention instead of qk/softmax/sv");
  cmd.add_option("--mode", s.mode,
                 "roofline: pure bound; realistic: hardware efficiencies and launch overheads")
      ->capture_default_str();
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
