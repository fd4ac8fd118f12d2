#include "reports/analysis_tables.hpp"

#include "reports/units.hpp"

namespace llmroof::reports {

namespace {

Cell num(double v) { return Cell{v}; }
Cell text(std::string_view s) { return Cell{std::string(s)}; }

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) append_joined(out, "; ", s);
  return out;
}

}  // namespace

std::string phase_totals_text(const PhaseResult& p) {
  return si_unit(p.ops, "OPs") + ", " + bytes(p.bytes) + " moved, " + seconds(p.time_s);
}

ResultTable layer_table(const PhaseResult& phase) {
  ResultTable t;
  // Per-layer quantities are small: the spreadsheet shows them in MOP, MB and microseconds.
  const Column mops{"ops", "OPs", Unit::ops, "MOP", 1e-6};
  auto mb = [](std::string key, std::string title) {
    return Column{std::move(key), std::move(title), Unit::bytes, "MB", 1e-6};
  };
  auto us = [](std::string key, std::string title) {
    return Column{std::move(key), std::move(title), Unit::seconds, "us", 1e6};
  };
  t.columns = {{"layer", "Layer", Unit::text},
               {"count", "Count", Unit::count},
               mops,
               mb("weights_bytes", "Weights"),
               mb("act_read_bytes", "Act. read"),
               mb("act_written_bytes", "Act. written"),
               mb("kv_read_bytes", "KV read"),
               mb("kv_written_bytes", "KV written"),
               mb("bytes", "Memory access"),
               {"arithmetic_intensity", "Intensity", Unit::ops_per_byte},
               {"compute_dtype", "Math", Unit::text},
               {"attainable_ops_per_s", "Attainable", Unit::ops_per_s},
               {"bound", "Bound", Unit::text},
               us("time_s", "Time each"),
               us("total_time_s", "Time all")};
  bool warned = false;
  for (const LayerRow& r : phase.rows) warned |= !r.warnings.empty();
  if (warned) t.columns.push_back({"warnings", "Warnings", Unit::text});
  for (const LayerRow& r : phase.rows) {
    const Bytes& b = r.cost.bytes;
    t.rows.push_back(
        {text(r.name), num(static_cast<double>(r.count)), num(r.cost.ops), num(b.weights),
         num(b.act_read), num(b.act_written), num(b.kv_read), num(b.kv_written), num(b.total()),
         num(r.arithmetic_intensity), text(to_string(r.compute_dtype)), num(r.attainable_ops_per_s),
         text(to_string(r.bound)), num(r.time_s), num(r.time_s * static_cast<double>(r.count))});
    if (warned) t.rows.back().push_back(text(join(r.warnings)));
  }
  return t;
}

std::vector<Fact> totals_facts(const Analysis& a) {
  std::vector<Fact> f;
  auto add = [&](std::string name, Cell v, Unit u) {
    f.push_back({"Totals", std::move(name), std::move(v), u, ""});
  };
  add("TTFT", num(a.totals.ttft_s), Unit::seconds);
  add("TPOT (mean)", num(a.totals.tpot_s), Unit::seconds);
  add("End-to-end latency", num(a.totals.e2e_latency_s), Unit::seconds);
  add("Output tokens/s", num(a.totals.output_tokens_per_s), Unit::tokens_per_s);
  add("Total tokens/s", num(a.totals.total_tokens_per_s), Unit::tokens_per_s);
  add("Weights / device", num(a.memory.weights_bytes), Unit::bytes);
  add("KV cache / device", num(a.memory.kv_cache_bytes), Unit::bytes);
  add("Activation peak / device", num(a.memory.activation_peak_bytes), Unit::bytes);
  add("Total / device", num(a.memory.total_bytes), Unit::bytes);
  add("Capacity / device", num(a.memory.capacity_bytes), Unit::bytes);
  add("Fits", Cell{a.memory.fits}, Unit::flag);
  add("Largest batch that fits", num(static_cast<double>(a.memory.max_batch)), Unit::count);
  return f;
}

std::vector<Fact> hardware_facts(const HardwareSpec& hw) {
  const std::string sec = "Hardware " + hw.name;
  std::vector<Fact> f;
  auto add = [&](std::string name, Cell v, Unit u, const std::string& key = "") {
    std::string src;
    if (auto it = hw.sources.find(key); !key.empty() && it != hw.sources.end()) {
      src = it->second;
    }
    f.push_back({sec, std::move(name), std::move(v), u, std::move(src)});
  };
  add("Name", text(hw.name), Unit::text);
  add("Vendor", text(hw.vendor), Unit::text);
  add("Description", text(hw.description), Unit::text);
  add("Kind", text(to_string(hw.kind)), Unit::text);
  add("Memory", num(hw.memory_bytes), Unit::bytes, "memory_bytes");
  add("Memory bandwidth", num(hw.memory_bandwidth_bytes_per_s), Unit::bytes_per_s,
      "memory_bandwidth_bytes_per_s");
  for (int i = 0; i < kNumDTypes; ++i) {
    const auto t = static_cast<DType>(i);
    if (auto p = hw.peak(t))
      add("Dense peak " + std::string(to_string(t)), num(*p), Unit::ops_per_s,
          "dense_ops_per_s." + std::string(to_string(t)));
  }
  if (hw.num_cores > 0) add("Cores / SMs", num(hw.num_cores), Unit::count, "num_cores");
  if (hw.onchip_bytes_per_core > 0)
    add("On-chip memory per core", num(hw.onchip_bytes_per_core), Unit::bytes,
        "onchip_bytes_per_core");
  if (hw.interconnect_bandwidth_bytes_per_s > 0) {
    add("Interconnect bandwidth (per direction)", num(hw.interconnect_bandwidth_bytes_per_s),
        Unit::bytes_per_s, "interconnect_bandwidth_bytes_per_s");
    add("Interconnect latency", num(hw.interconnect_latency_s), Unit::seconds,
        "interconnect_latency_s");
  }
  add("Devices per node", num(hw.devices_per_node), Unit::count, "devices_per_node");
  add("Kernel launch overhead", num(hw.kernel_launch_overhead_s), Unit::seconds,
      "kernel_launch_overhead_s");
  add("Efficiency: memory", num(hw.efficiency.memory), Unit::fraction, "efficiency.memory");
  add("Efficiency: compute", num(hw.efficiency.compute), Unit::fraction, "efficiency.compute");
  add("Efficiency: communication", num(hw.efficiency.communication), Unit::fraction,
      "efficiency.communication");
  if (hw.low_confidence) add("Confidence", text("low: verify before trusting"), Unit::text);
  return f;
}

std::vector<Fact> settings_facts(const Settings& s) {
  const std::string sec = "Settings";
  return {{sec, "Batch", num(static_cast<double>(s.batch)), Unit::count, ""},
          {sec, "Prompt length", num(static_cast<double>(s.prompt_len)), Unit::count, ""},
          {sec, "Generated tokens", num(static_cast<double>(s.gen_len)), Unit::count, ""},
          {sec, "Weights", text(to_string(s.quant.weights)), Unit::text, ""},
          {sec, "Group size", num(static_cast<double>(s.quant.group_size)), Unit::count, ""},
          {sec, "Activations", text(to_string(s.quant.activations)), Unit::text, ""},
          {sec, "KV cache", text(to_string(s.quant.kv_cache)), Unit::text, ""},
          {sec, "FlashAttention", Cell{s.flash_attention}, Unit::flag, ""},
          {sec, "Tensor parallelism", num(static_cast<double>(s.tp)), Unit::count, ""},
          {sec, "Mode", text(to_string(s.mode)), Unit::text, ""}};
}

ResultTable facts_table(const std::vector<Fact>& facts) {
  ResultTable t;
  t.columns = {{"section", "Section", Unit::text},
               {"name", "Quantity", Unit::text},
               {"value", "Value", Unit::text},
               {"source", "Source", Unit::text}};
  for (const Fact& f : facts)
    t.rows.push_back({text(f.section), text(f.name), text(human(f.value, f.unit)), text(f.source)});
  return t;
}

}  // namespace llmroof::reports
