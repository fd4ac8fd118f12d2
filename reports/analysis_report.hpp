#pragma once
// Printers for one Analysis: `table` (like the published roofline table, human units, a totals
// block), `md` (GitHub Markdown), `json` (versioned schema, SI units, every field; docs/cost-model.md
// lists the fields) and `csv` (one row per layer and phase, SI units). Deterministic output.
#include <optional>
#include <string>
#include <string_view>

#include "analyzer/analysis.hpp"

namespace llmroof::reports {

// Bumped whenever a JSON field is renamed, removed or changes meaning (adding one does not).
inline constexpr int kAnalysisSchemaVersion = 1;

enum class AnalysisFormat { table, md, json, csv };
std::optional<AnalysisFormat> analysis_format_from_string(std::string_view s);

std::string analysis_table(const Analysis& a);
std::string analysis_markdown(const Analysis& a);
std::string analysis_json(const Analysis& a);  // pretty-printed, 2-space indent, trailing newline
std::string analysis_csv(const Analysis& a);
std::string render_analysis(const Analysis& a, AnalysisFormat f);

// "fp16 weights, fp16 activations, fp16 KV, batch 1, prompt 2048, gen 128, tp 1, realistic"
std::string settings_summary(const Settings& s);

}  // namespace llmroof::reports
