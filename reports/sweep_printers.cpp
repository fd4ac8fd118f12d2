#include "reports/sweep_printers.hpp"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "reports/units.hpp"

namespace llmroof::reports {

namespace {

using nlohmann::ordered_json;

Cell num(double v) { return Cell{v}; }
Cell num(int64_t v) { return Cell{static_cast<double>(v)}; }
Cell text(std::string_view s) { return Cell{std::string(s)}; }

// Counts (batch, tp, tokens, group size) are JSON integers: a consumer reading "batch": 8.0 gets a
// float where it indexes or compares with an int.
ordered_json cell_json(const Cell& c, Unit u) {
  if (auto s = std::get_if<std::string>(&c)) return *s;
  if (auto b = std::get_if<bool>(&c)) return *b;
  if (auto d = std::get_if<double>(&c)) {
    if (u == Unit::count && std::nearbyint(*d) == *d && std::abs(*d) < 0x1p53)
      return static_cast<int64_t>(*d);
    return *d;
  }
  return nullptr;
}

ordered_json table_json(const ResultTable& t) {
  ordered_json rows = ordered_json::array();
  for (const auto& row : t.rows) {
    ordered_json o = ordered_json::object();
    for (size_t i = 0; i < t.columns.size(); ++i) o[t.columns[i].key] = cell_json(row[i], t.columns[i].unit);
    rows.push_back(std::move(o));
  }
  return rows;
}

ordered_json settings_json(const Settings& s) {
  return {{"activations", to_string(s.quant.activations)},
          {"kv_cache", to_string(s.quant.kv_cache)},
          {"flash_attention", s.flash_attention},
          {"mode", to_string(s.mode)}};
}

ordered_json hardware_json(const std::vector<HardwareSpec>& hws) {
  ordered_json out = ordered_json::array();
  for (const auto& hw : hws)
    out.push_back({{"name", hw.name},
                   {"memory_bytes", hw.memory_bytes},
                   {"memory_bandwidth_bytes_per_s", hw.memory_bandwidth_bytes_per_s},
                   {"devices_per_node", hw.devices_per_node}});
  return out;
}

std::string quant_label(const Settings& s) {
  std::string w = std::string(to_string(s.quant.weights));
  if (s.quant.group_size > 0 && (s.quant.weights == DType::int4 || s.quant.weights == DType::int8))
    w += "/g" + std::to_string(s.quant.group_size);
  return w;
}

std::string sweep_header(const SweepResult& r) {
  std::string hw;
  for (const auto& h : r.hardware) append_joined(hw, ", ", h.name);
  std::string line = "sweep: " + r.model_name + " on " + hw + ", " + std::to_string(r.rows.size()) +
                     " configurations";
  for (const auto& [k, v] : shared_settings(r.base)) line += "; " + k + " " + v;
  return line + "\n";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> shared_settings(const Settings& s) {
  return {{"activations", std::string(to_string(s.quant.activations))},
          {"KV cache", std::string(to_string(s.quant.kv_cache))},
          {"FlashAttention", s.flash_attention ? "on" : "off"},
          {"mode", std::string(to_string(s.mode))}};
}

ResultTable sweep_table(const SweepResult& r, Audience a) {
  const bool m = a == Audience::machine;
  bool any_error = false;
  for (const auto& row : r.rows) any_error |= !row.ok;
  ResultTable t;
  if (m) t.columns.push_back({"model", "Model", Unit::text});
  t.columns.insert(t.columns.end(),
                   {{"hardware", "Hardware", Unit::text}, {"weights", "Weights", Unit::text}});
  if (m) t.columns.push_back({"group_size", "Group size", Unit::count});
  t.columns.insert(t.columns.end(), {{"tp", "TP", Unit::count},
                                     {"batch", "Batch", Unit::count},
                                     {"prompt_len", "Prompt", Unit::count},
                                     {"gen_len", "Gen", Unit::count},
                                     {"ttft_s", "TTFT", Unit::seconds},
                                     {"tpot_s", "TPOT", Unit::seconds}});
  if (m) t.columns.push_back({"e2e_latency_s", "End-to-end", Unit::seconds});
  t.columns.insert(t.columns.end(),
                   {{"output_tokens_per_s", "Tokens/s", Unit::tokens_per_s},
                    {"output_tokens_per_s_per_device", "Tokens/s/device", Unit::tokens_per_s},
                    {"memory_per_device_bytes", "Memory/device", Unit::bytes}});
  if (m) t.columns.push_back({"capacity_bytes", "Capacity", Unit::bytes});
  t.columns.push_back({"fits", "Fits", Unit::flag});
  if (m) t.columns.push_back({"max_batch", "Max batch", Unit::count});
  if (m || any_error) t.columns.push_back({"error", "Error", Unit::text});

  t.rows.reserve(r.rows.size());
  for (const auto& row : r.rows) {
    const Settings& s = row.settings;
    std::vector<Cell> c;
    c.reserve(t.columns.size());
    auto val = [&](double v) { return row.ok ? num(v) : Cell{}; };
    if (m) c.push_back(text(r.model_name));
    c.push_back(text(r.hardware[row.hardware].name));
    c.push_back(text(m ? std::string(to_string(s.quant.weights)) : quant_label(s)));
    if (m) c.push_back(num(s.quant.group_size));
    c.insert(c.end(), {num(s.tp), num(s.batch), num(s.prompt_len), num(s.gen_len), val(row.ttft_s),
                       val(row.tpot_s)});
    if (m) c.push_back(val(row.e2e_latency_s));
    c.insert(c.end(), {val(row.output_tokens_per_s), val(row.output_tokens_per_s_per_device),
                       val(row.memory_per_device_bytes)});
    if (m) c.push_back(val(row.capacity_bytes));
    c.push_back(row.ok ? Cell{row.fits} : Cell{});
    if (m) c.push_back(row.ok ? num(row.max_batch) : Cell{});
    if (m || any_error) c.push_back(text(row.error));
    t.rows.push_back(std::move(c));
  }
  return t;
}

std::string sweep_text(const SweepResult& r) {
  return sweep_header(r) + "\n" + to_text(sweep_table(r, Audience::human));
}
std::string sweep_markdown(const SweepResult& r) {
  return "# " + sweep_header(r) + "\n" + to_markdown(sweep_table(r, Audience::human));
}
std::string sweep_csv(const SweepResult& r) { return to_csv(sweep_table(r, Audience::machine)); }

std::string sweep_json(const SweepResult& r) {
  ordered_json j;
  j["schema_version"] = kSweepSchemaVersion;
  j["kind"] = "llmroof.sweep";
  j["model"] = r.model_name;
  j["hardware"] = hardware_json(r.hardware);
  j["settings"] = settings_json(r.base);
  ordered_json axes;
  ordered_json w = ordered_json::array();
  for (DType d : r.axes.weights) w.push_back(to_string(d));
  axes["weights"] = w;
  axes["tp"] = r.axes.tp;
  axes["prompt_len"] = r.axes.prompt_len;
  axes["gen_len"] = r.axes.gen_len;
  axes["batch"] = r.axes.batch;
  j["axes"] = axes;
  j["rows"] = table_json(sweep_table(r, Audience::machine));
  return j.dump(2) + "\n";
}

// ---- plan ----

ResultTable plan_table(const PlanResult& r, Audience a, bool pareto_only) {
  const bool m = a == Audience::machine;
  const bool rate = r.request.rate_requests_per_s.has_value();
  ResultTable t;
  if (m) t.columns.push_back({"model", "Model", Unit::text});
  t.columns.insert(t.columns.end(), {{"hardware", "Hardware", Unit::text},
                                     {"rank", "Rank", Unit::count},
                                     {"weights", "Weights", Unit::text}});
  if (m) t.columns.push_back({"group_size", "Group size", Unit::count});
  t.columns.insert(t.columns.end(),
                   {{"tp", "TP", Unit::count},
                    {"batch", "Concurrency", Unit::count},
                    {"ttft_s", "TTFT", Unit::seconds},
                    {"tpot_s", "TPOT", Unit::seconds},
                    {"output_tokens_per_s_per_device", "Tokens/s/device", Unit::tokens_per_s},
                    {"output_tokens_per_s", "Tokens/s/replica", Unit::tokens_per_s},
                    {"requests_per_s", "Requests/s/replica", Unit::requests_per_s}});
  if (rate) t.columns.push_back({"devices_for_rate", "Devices for rate", Unit::count});
  t.columns.push_back({"memory_per_device_bytes", "Memory/device", Unit::bytes});
  if (m)
    t.columns.insert(t.columns.end(), {{"capacity_bytes", "Capacity", Unit::bytes},
                                       {"prefill_s", "Prefill (1 prompt)", Unit::seconds},
                                       {"decode_step_s", "Decode step", Unit::seconds},
                                       {"verdict", "Verdict", Unit::text},
                                       {"pareto", "Pareto", Unit::flag},
                                       {"error", "Error", Unit::text}});

  auto add = [&](const PlanCandidate& c) {
    const Settings& s = c.settings;
    const bool evaluated =
        c.verdict != PlanVerdict::refused && c.verdict != PlanVerdict::tp_exceeds_node;
    auto val = [&](double v) { return evaluated ? num(v) : Cell{}; };
    std::vector<Cell> row;
    if (m) row.push_back(text(r.model_name));
    row.push_back(text(r.hardware[c.hardware].name));
    row.push_back(c.rank > 0 ? num(static_cast<int64_t>(c.rank)) : Cell{});
    row.push_back(text(m ? std::string(to_string(s.quant.weights)) : quant_label(s)));
    if (m) row.push_back(num(s.quant.group_size));
    row.insert(row.end(), {num(s.tp), num(s.batch), val(c.ttft_s), val(c.tpot_s),
                           val(c.output_tokens_per_s_per_device), val(c.output_tokens_per_s),
                           val(c.requests_per_s)});
    if (rate) row.push_back(evaluated ? num(c.devices_for_rate) : Cell{});
    row.push_back(val(c.memory_per_device_bytes));
    if (m)
      row.insert(row.end(), {val(c.capacity_bytes), val(c.prefill_s), val(c.decode_step_s),
                             text(to_string(c.verdict)), Cell{c.pareto}, text(c.error)});
    t.rows.push_back(std::move(row));
  };
  if (pareto_only) {
    for (const auto& set : r.pareto)
      for (size_t i : set) add(r.candidates[i]);
  } else {
    for (const auto& c : r.candidates) add(c);
  }
  return t;
}

namespace {

std::string plan_header(const PlanResult& r) {
  const PlanRequest& q = r.request;
  std::string line = "plan: " + r.model_name + ", prompt " + std::to_string(q.prompt_len) +
                     " tokens, " + std::to_string(q.gen_len) +
                     " generated; SLOs TTFT <= " + seconds(q.ttft_slo_s) +
                     ", TPOT <= " + seconds(q.tpot_slo_s);
  if (q.rate_requests_per_s) line += "; rate " + si(*q.rate_requests_per_s) + " requests/s";
  for (const auto& [k, v] : shared_settings(q.base)) line += "; " + k + " " + v;
  return line;
}

}  // namespace

std::string plan_verdict_summary(const PlanResult& r, int hw) {
  std::map<PlanVerdict, int> counts;
  int total = 0;
  for (const auto& c : r.candidates)
    if (c.hardware == hw) {
      ++counts[c.verdict];
      ++total;
    }
  std::string s = std::to_string(counts[PlanVerdict::feasible]) + " feasible of " +
                  std::to_string(total) + " configurations";
  std::string why;
  for (const auto& [v, n] : counts)
    if (v != PlanVerdict::feasible && n > 0)
      append_joined(why, ", ", std::to_string(n) + " " + std::string(to_string(v)));
  return why.empty() ? s : s + " (" + why + ")";
}

namespace {

std::string plan_report(const PlanResult& r, bool markdown) {
  std::string out = markdown ? "# " + plan_header(r) + "\n\n" : plan_header(r) + "\n";
  const std::string by = r.request.rate_requests_per_s
                             ? "fewest devices for the rate, then tokens/s per device"
                             : "tokens/s per device";
  for (size_t h = 0; h < r.hardware.size(); ++h) {
    PlanResult one = r;  // the Pareto table of this hardware only
    for (size_t o = 0; o < one.pareto.size(); ++o)
      if (o != h) one.pareto[o].clear();
    const std::string title =
        r.hardware[h].name + ": " + plan_verdict_summary(r, static_cast<int>(h));
    out += markdown ? "\n## " + title + "\n\n" : "\n" + title + "\n";
    if (r.pareto[h].empty()) {
      out += "No configuration fits and meets both SLOs.\n";
      // "33 refused" alone does not say what to change; the analyzer's reason does.
      for (const auto& c : r.candidates)
        if (static_cast<size_t>(c.hardware) == h && c.verdict == PlanVerdict::refused) {
          out += "First refusal: " + c.error + "\n";
          break;
        }
      continue;
    }
    out += "Pareto set (tokens/s per device vs TPOT), ranked by " + by + ":\n" +
           std::string(markdown ? "\n" : "");
    const ResultTable t = plan_table(one, Audience::human, true);
    out += markdown ? to_markdown(t) : to_text(t);
  }
  return out;
}

}  // namespace

std::string plan_text(const PlanResult& r) { return plan_report(r, false); }
std::string plan_markdown(const PlanResult& r) { return plan_report(r, true); }
std::string plan_csv(const PlanResult& r) {
  return to_csv(plan_table(r, Audience::machine, false));
}

std::string plan_json(const PlanResult& r) {
  const PlanRequest& q = r.request;
  ordered_json j;
  j["schema_version"] = kPlanSchemaVersion;
  j["kind"] = "llmroof.plan";
  j["model"] = r.model_name;
  j["hardware"] = hardware_json(r.hardware);
  j["settings"] = settings_json(q.base);
  j["request"] = {{"prompt_len", q.prompt_len},
                  {"gen_len", q.gen_len},
                  {"ttft_slo_s", q.ttft_slo_s},
                  {"tpot_slo_s", q.tpot_slo_s},
                  {"rate_requests_per_s",
                   q.rate_requests_per_s ? ordered_json(*q.rate_requests_per_s) : ordered_json()}};
  j["serving_model"] = "continuous batching; docs/planner.md";
  j["candidates"] = table_json(plan_table(r, Audience::machine, false));
  ordered_json pareto = ordered_json::object();
  for (size_t h = 0; h < r.hardware.size(); ++h) pareto[r.hardware[h].name] = r.pareto[h];
  j["pareto"] = pareto;  // indices into candidates, best rank first
  return j.dump(2) + "\n";
}

}  // namespace llmroof::reports
