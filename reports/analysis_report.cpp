// Table / Markdown / JSON / CSV printers of an Analysis. Human units only in table and md.
#include "reports/analysis_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "reports/analysis_tables.hpp"
#include "reports/units.hpp"

namespace llmroof::reports {

namespace {

using json = nlohmann::ordered_json;

std::string str(std::string_view v) { return std::string(v); }

// Arithmetic intensity as the published table prints it: "1024", "114", "1.25", "0.99".
std::string intensity(double v) {
  if (v >= 1000) return fixed(v, 0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::vector<std::string> layer_cells(const LayerRow& r) {
  return {r.name + (r.per_block ? "" : " *"),
          std::to_string(r.count),
          si(r.cost.ops),
          bytes(r.cost.bytes.total()),
          intensity(r.arithmetic_intensity),
          str(to_string(r.compute_dtype)),
          ops_per_s(r.attainable_ops_per_s),
          str(to_string(r.bound)),
          seconds(r.time_s),
          seconds(r.time_s * static_cast<double>(r.count))};
}

const std::vector<std::string> kLayerHeader = {
    "Layer", "Count", "OPs", "Memory access", "Arithmetic intensity", "Dtype",
    "Max performance", "Bound", "Time", "Total time"};

std::string phase_title(const PhaseResult& p, const Settings& s) {
  if (p.phase == Phase::prefill)
    return "Prefill (" + std::to_string(s.prompt_len) + " tokens x batch " +
           std::to_string(s.batch) + ")";
  const std::string head =
      "Decode (one token per sequence, rows at KV length " + std::to_string(p.context_len) + "; ";
  // --gen-len 1: the prefill makes the only token; TPOT is what a next step would take.
  if (p.steps == 0) return head + "no decode step at --gen-len 1, time = the next step)";
  return head + "time = exact mean over " + std::to_string(p.steps) +
         (p.steps == 1 ? " step)" : " steps)");
}

std::string phase_footer(const PhaseResult& p) {
  return "  whole model: " + phase_totals_text(p) + (p.phase == Phase::decode ? " per step" : "") +
         "\n";
}

std::vector<std::pair<std::string, std::string>> totals_lines(const Analysis& a) {
  const Totals& t = a.totals;
  const MemoryResult& m = a.memory;
  return {{"TTFT", seconds(t.ttft_s)},
          {"TPOT (mean)", seconds(t.tpot_s)},
          {"End-to-end latency", seconds(t.e2e_latency_s)},
          {"Output tokens/s", fixed(t.output_tokens_per_s, 1)},
          {"Total tokens/s", fixed(t.total_tokens_per_s, 1)},
          {"Weights / device", bytes(m.weights_bytes)},
          {"KV cache / device", bytes(m.kv_cache_bytes)},
          {"Activation peak", bytes(m.activation_peak_bytes)},
          {"Memory / device", bytes(m.total_bytes) + " of " + bytes(m.capacity_bytes) +
                                  (m.fits ? " (fits)" : " (does NOT fit)")},
          {"Max batch that fits", std::to_string(m.max_batch)}};
}

std::string aligned(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  for (const auto& r : rows) {
    std::string line = "  ";
    for (size_t i = 0; i < r.size(); ++i) {
      const std::string pad(width[i] - r[i].size(), ' ');
      line += i == 0 ? r[i] + pad : pad + r[i];  // names left, numbers right
      if (i + 1 < r.size()) line += "  ";
    }
    out += line + "\n";
  }
  return out;
}

std::string markdown(const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    out += "|";
    for (const auto& c : rows[i]) out += " " + c + " |";
    out += "\n";
    if (i == 0) {
      out += "|";
      for (size_t j = 0; j < rows[0].size(); ++j) out += j == 0 ? "---|" : "---:|";
      out += "\n";
    }
  }
  return out;
}

std::vector<std::vector<std::string>> layer_grid(const PhaseResult& p) {
  std::vector<std::vector<std::string>> g = {kLayerHeader};
  for (const LayerRow& r : p.rows) g.push_back(layer_cells(r));
  return g;
}

std::string warnings_text(const Analysis& a, const char* bullet) {
  std::string out;
  for (const auto& w : a.warnings) out += bullet + w + "\n";
  for (const PhaseResult* p : {&a.prefill, &a.decode})
    for (const LayerRow& r : p->rows)
      for (const auto& w : r.warnings) out += bullet + r.name + ": " + w + "\n";
  return out;
}

json bytes_json(const Bytes& b) {
  return {{"weights_bytes", b.weights},   {"act_read_bytes", b.act_read},
          {"act_written_bytes", b.act_written}, {"kv_read_bytes", b.kv_read},
          {"kv_written_bytes", b.kv_written},   {"total_bytes", b.total()}};
}

json row_json_common(const LayerRow& r);

json row_json(const LayerRow& r) {
  json j = row_json_common(r);
  // Only with the cache-residency split (docs/cost-model.md), so other files print as before.
  if (r.traffic_split) {
    j["dram_bytes"] = r.dram_bytes;
    j["cache_bytes"] = r.cache_bytes;
  }
  return j;
}

json row_json_common(const LayerRow& r) {
  return {{"name", r.name},
          {"per_block", r.per_block},
          {"count", r.count},
          {"kernels", r.kernels},
          {"ops", r.cost.ops},
          {"bytes", bytes_json(r.cost.bytes)},
          {"arithmetic_intensity_ops_per_byte", r.arithmetic_intensity},
          {"compute_dtype", str(to_string(r.compute_dtype))},
          {"peak_ops_per_s", r.peak_ops_per_s},
          {"bandwidth_bytes_per_s", r.bandwidth_bytes_per_s},
          {"attainable_ops_per_s", r.attainable_ops_per_s},
          {"bound", str(to_string(r.bound))},
          {"time_s", r.time_s},
          {"total_time_s", r.time_s * static_cast<double>(r.count)},
          {"warnings", r.warnings}};
}

json phase_json(const PhaseResult& p) {
  json rows = json::array();
  for (const LayerRow& r : p.rows) rows.push_back(row_json(r));
  return {{"context_len_tokens", p.context_len},
          {"steps", p.steps},
          {"ops", p.ops},
          {"bytes", p.bytes},
          {"time_s", p.time_s},
          {"rows", rows}};
}

json settings_json(const Settings& s) {
  return {{"batch", s.batch},
          {"prompt_len_tokens", s.prompt_len},
          {"gen_len_tokens", s.gen_len},
          {"weights", str(to_string(s.quant.weights))},
          {"activations", str(to_string(s.quant.activations))},
          {"kv_cache", str(to_string(s.quant.kv_cache))},
          {"group_size", s.quant.group_size},
          {"flash_attention", s.flash_attention},
          {"tp", s.tp},
          {"mode", str(to_string(s.mode))}};
}

}  // namespace

std::optional<AnalysisFormat> analysis_format_from_string(std::string_view s) {
  if (s == "table") return AnalysisFormat::table;
  if (s == "md") return AnalysisFormat::md;
  if (s == "json") return AnalysisFormat::json;
  if (s == "csv") return AnalysisFormat::csv;
  return std::nullopt;
}

std::string settings_summary(const Settings& s) {
  return str(to_string(s.quant.weights)) + " weights, " + str(to_string(s.quant.activations)) +
         " activations, " + str(to_string(s.quant.kv_cache)) + " KV, batch " +
         std::to_string(s.batch) + ", prompt " + std::to_string(s.prompt_len) + ", gen " +
         std::to_string(s.gen_len) + ", tp " + std::to_string(s.tp) +
         (s.flash_attention ? ", FlashAttention" : "") + ", " + str(to_string(s.mode));
}

std::string analysis_table(const Analysis& a) {
  std::string out = a.model_name + " on " + a.hardware_name + " (" + settings_summary(a.settings) +
                    ")\nPer device, per occurrence; Count = occurrences in the model; * = model-level\n";
  for (const PhaseResult* p : {&a.prefill, &a.decode}) {
    out += '\n';
    out += phase_title(*p, a.settings);
    out += '\n';
    out += aligned(layer_grid(*p));
    out += phase_footer(*p);
  }
  std::vector<std::vector<std::string>> totals;
  for (auto& [k, v] : totals_lines(a)) totals.push_back({k, v});
  out += "\nTotals\n" + aligned(totals);
  const std::string w = warnings_text(a, "  - ");
  if (!w.empty()) out += "\nWarnings\n" + w;
  return out;
}

std::string analysis_markdown(const Analysis& a) {
  std::string out = "# " + a.model_name + " on " + a.hardware_name + "\n\n" +
                    settings_summary(a.settings) +
                    ". Per device, per occurrence; Count = occurrences in the model; * = "
                    "model-level.\n";
  for (const PhaseResult* p : {&a.prefill, &a.decode}) {
    out += "\n## " + phase_title(*p, a.settings) + "\n\n" + markdown(layer_grid(*p)) + "\n" +
           phase_footer(*p).substr(2);
  }
  std::vector<std::vector<std::string>> totals = {{"Total", "Value"}};
  for (auto& [k, v] : totals_lines(a)) totals.push_back({k, v});
  out += "\n## Totals\n\n" + markdown(totals);
  const std::string w = warnings_text(a, "- ");
  if (!w.empty()) out += "\n## Warnings\n\n" + w;
  return out;
}

std::string analysis_json(const Analysis& a) {
  const Totals& t = a.totals;
  const MemoryResult& m = a.memory;
  json j = {{"schema_version", kAnalysisSchemaVersion},
            {"model", a.model_name},
            {"hardware", a.hardware_name},
            {"settings", settings_json(a.settings)},
            {"prefill", phase_json(a.prefill)},
            {"decode", phase_json(a.decode)},
            {"totals",
             {{"ttft_s", t.ttft_s},
              {"tpot_s", t.tpot_s},
              {"e2e_latency_s", t.e2e_latency_s},
              {"output_tokens_per_s", t.output_tokens_per_s},
              {"total_tokens_per_s", t.total_tokens_per_s}}},
            {"memory",
             {{"weights_bytes", m.weights_bytes},
              {"kv_cache_bytes", m.kv_cache_bytes},
              {"activation_peak_bytes", m.activation_peak_bytes},
              {"total_bytes", m.total_bytes},
              {"capacity_bytes", m.capacity_bytes},
              {"fits", m.fits},
              {"max_batch", m.max_batch}}},
            {"warnings", a.warnings}};
  return j.dump(2) + "\n";
}

std::string analysis_csv(const Analysis& a) {
  std::ostringstream out;
  out.precision(17);
  out << "phase,name,per_block,count,kernels,ops,weights_bytes,act_read_bytes,act_written_bytes,"
         "kv_read_bytes,kv_written_bytes,total_bytes,arithmetic_intensity_ops_per_byte,"
         "compute_dtype,peak_ops_per_s,bandwidth_bytes_per_s,attainable_ops_per_s,bound,time_s,"
         "total_time_s\n";
  for (const PhaseResult* p : {&a.prefill, &a.decode}) {
    for (const LayerRow& r : p->rows) {
      const Bytes& b = r.cost.bytes;
      out << to_string(p->phase) << ',' << r.name << ',' << (r.per_block ? "true" : "false")
          << ',' << r.count << ',' << r.kernels << ',' << r.cost.ops << ',' << b.weights << ','
          << b.act_read << ',' << b.act_written << ',' << b.kv_read << ',' << b.kv_written << ','
          << b.total() << ',' << r.arithmetic_intensity << ',' << to_string(r.compute_dtype) << ','
          << r.peak_ops_per_s << ',' << r.bandwidth_bytes_per_s << ',' << r.attainable_ops_per_s
          << ',' << to_string(r.bound) << ',' << r.time_s << ','
          << r.time_s * static_cast<double>(r.count) << '\n';
    }
  }
  return out.str();
}

std::string render_analysis(const Analysis& a, AnalysisFormat f) {
  switch (f) {
    case AnalysisFormat::table: return analysis_table(a);
    case AnalysisFormat::md: return analysis_markdown(a);
    case AnalysisFormat::json: return analysis_json(a);
    case AnalysisFormat::csv: return analysis_csv(a);
  }
  return {};
}

}  // namespace llmroof::reports
