// llmroof list models|hardware, llmroof show model|hardware NAME [--format table|json].
#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "analyzer/model_stats.hpp"
#include "cli/commands.hpp"
#include "io/catalog.hpp"
#include "reports/units.hpp"

namespace llmroof::cli {
namespace {

using nlohmann::ordered_json;
constexpr int kJsonSchemaVersion = 1;

// 6738415616 -> "6,738,415,616": parameter counts are compared digit by digit with model cards.
std::string grouped(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), 1, ',');
  if (n < 0) s.insert(s.begin(), '-');  // char inserts: GCC 12's -Wrestrict misfires on "-" + s
  return s;
}
// 6.74e9 -> "6.74 B", 494e6 -> "494 M": how model cards quote sizes.
std::string params_human(int64_t n) {
  const double v = static_cast<double>(n);
  if (v >= 1e9) return reports::fixed(v / 1e9, v >= 1e11 ? 0 : (v >= 1e10 ? 1 : 2)) + " B";
  if (v >= 1e6) return reports::fixed(v / 1e6, v >= 1e8 ? 0 : (v >= 1e7 ? 1 : 2)) + " M";
  return grouped(n);
}

// A left-aligned text table: first row is the header.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i)
      line += i + 1 < r.size() ? r[i] + std::string(width[i] - r[i].size() + 2, ' ') : r[i];
    out << line << "\n";
  }
}

// "  label ........ value" rows of a show report.
void kv(const std::string& label, const std::string& value) {
  std::cout << "  " << std::left << std::setw(34) << label << value << "\n";
}

void list_models(const Catalog& cat) {
  std::vector<std::vector<std::string>> rows = {
      {"name", "family", "params", "active", "layers", "hidden", "heads/kv", "context", "moe"}};
  for (const std::string& name : cat.model_names()) {
    const ModelSpec m = cat.model(name);
    const ModelStats s = model_stats(m);
    rows.push_back({m.name, m.family, params_human(s.total_params),
                    params_human(s.active_params), std::to_string(m.num_layers),
                    std::to_string(m.hidden_size),
                    std::to_string(m.num_attention_heads) + "/" + std::to_string(m.num_key_value_heads),
                    std::to_string(m.max_position_embeddings),
                    m.is_moe() ? std::to_string(m.moe->experts_per_token) + " of " +
                                     std::to_string(m.moe->num_experts)
                               : "-"});
  }
  print_table(std::cout, rows);
}

void list_hardware(const Catalog& cat) {
  std::vector<std::vector<std::string>> rows = {{"name", "kind", "vendor", "memory", "bandwidth",
                                                 "fp16 dense", "ridge fp16", "note"}};
  for (const std::string& name : cat.hardware_names()) {
    const HardwareSpec h = cat.hardware(name);
    auto fp16 = h.peak(DType::fp16);
    auto ridge = h.ridge_ops_per_byte(DType::fp16);
    rows.push_back({h.name, std::string(to_string(h.kind)), h.vendor, reports::bytes(h.memory_bytes),
                    reports::bytes_per_s(h.memory_bandwidth_bytes_per_s),
                    fp16 ? reports::ops_per_s(*fp16) : "-",
                    ridge ? reports::fixed(*ridge, 1) + " op/B" : "-",
                    h.low_confidence ? "low confidence" : ""});
  }
  print_table(std::cout, rows);
}

ordered_json block_json(const BlockParams& b) {
  return {{"attn_q_weight", b.attn_q_weight}, {"attn_k_weight", b.attn_k_weight},
          {"attn_v_weight", b.attn_v_weight}, {"attn_o_weight", b.attn_o_weight},
          {"attn_q_bias", b.attn_q_bias},     {"attn_k_bias", b.attn_k_bias},
          {"attn_v_bias", b.attn_v_bias},     {"norms", b.norms},
          {"dense_mlp", b.dense_mlp},         {"router", b.router},
          {"routed_expert", b.routed_expert}, {"num_routed_experts", b.num_routed_experts},
          {"shared_expert", b.shared_expert}, {"shared_expert_gate", b.shared_expert_gate},
          {"total", b.total()}};
}

void show_model_json(const ModelSpec& m, const ModelStats& s) {
  const ParamBreakdown& p = s.params;
  ordered_json j = {
      {"schema_version", kJsonSchemaVersion},
      {"name", m.name}, {"family", m.family}, {"source", m.source},
      {"hidden_size", m.hidden_size}, {"num_layers", m.num_layers},
      {"num_attention_heads", m.num_attention_heads}, {"num_key_value_heads", m.num_key_value_heads},
      {"head_dim", m.head_dim}, {"intermediate_size", m.intermediate_size},
      {"vocab_size", m.vocab_size}, {"max_position_embeddings", m.max_position_embeddings},
      {"activation", to_string(m.activation)}, {"gated_mlp", m.gated_mlp},
      {"norm", to_string(m.norm)}, {"positional_encoding", to_string(m.positional_encoding)},
      {"qkv_bias", m.qkv_bias}, {"tied_embeddings", m.tied_embeddings},
      {"sliding_window", m.sliding_window}};
  if (m.moe)
    j["moe"] = {{"num_experts", m.moe->num_experts},
                {"experts_per_token", m.moe->experts_per_token},
                {"expert_intermediate_size", m.moe->expert_intermediate_size},
                {"num_shared_experts", m.moe->num_shared_experts},
                {"shared_expert_intermediate_size", m.moe->shared_expert_intermediate_size},
                {"shared_expert_gate", m.moe->shared_expert_gate},
                {"sparse_step", m.moe->sparse_step},
                {"first_sparse_layer", m.moe->first_sparse_layer}};
  j["params"] = {{"embedding", p.embedding}, {"position_embedding", p.position_embedding},
                 {"lm_head", p.lm_head}, {"final_norm", p.final_norm},
                 {"num_dense_blocks", p.num_dense_blocks},
                 {"num_sparse_blocks", p.num_sparse_blocks},
                 {"dense_block", block_json(p.dense_block)},
                 {"sparse_block", block_json(p.sparse_block)},
                 {"total", s.total_params}, {"active", s.active_params}};
  j["weight_bytes"] = {{"bits16", s.weight_bytes_16bit}, {"bits8", s.weight_bytes_8bit},
                       {"bits4", s.weight_bytes_4bit}};
  j["kv_cache_bytes_per_token_16bit"] = s.kv_cache_bytes_per_token_16bit;
  std::cout << j.dump(2) << "\n";
}

void show_block(const std::string& title, const BlockParams& b, int64_t count) {
  if (count == 0) return;
  std::cout << title << " (x" << count << ")\n";
  kv("attention q / k / v / o", grouped(b.attn_q_weight) + " / " + grouped(b.attn_k_weight) +
                                    " / " + grouped(b.attn_v_weight) + " / " +
                                    grouped(b.attn_o_weight));
  if (b.attn_q_bias)
    kv("attention q / k / v bias", grouped(b.attn_q_bias) + " / " + grouped(b.attn_k_bias) +
                                       " / " + grouped(b.attn_v_bias));
  kv("norms", grouped(b.norms));
  if (b.dense_mlp) kv("mlp", grouped(b.dense_mlp));
  if (b.router) kv("router", grouped(b.router));
  if (b.num_routed_experts)
    kv("routed experts", grouped(b.num_routed_experts) + " x " + grouped(b.routed_expert));
  if (b.shared_expert) kv("shared expert", grouped(b.shared_expert));
  if (b.shared_expert_gate) kv("shared expert gate", grouped(b.shared_expert_gate));
  kv("block total", grouped(b.total()));
}

void show_model_table(const ModelSpec& m, const ModelStats& s) {
  const auto yes = [](bool b) { return std::string(b ? "yes" : "no"); };
  std::cout << "model " << m.name << " (" << m.family
            << (m.source.empty() ? "" : ", " + m.source) << ")\n";
  std::cout << "structure\n";
  kv("layers", std::to_string(m.num_layers));
  kv("hidden size", std::to_string(m.hidden_size));
  kv("attention heads / kv heads / dim", std::to_string(m.num_attention_heads) + " / " +
                                             std::to_string(m.num_key_value_heads) + " / " +
                                             std::to_string(m.head_dim));
  if (m.intermediate_size) kv("intermediate size", std::to_string(m.intermediate_size));
  kv("mlp", std::string(m.gated_mlp ? "gated, " : "") + std::string(to_string(m.activation)));
  kv("norm / positions", std::string(to_string(m.norm)) + " / " +
                             std::string(to_string(m.positional_encoding)));
  kv("qkv bias / tied embeddings", yes(m.qkv_bias) + " / " + yes(m.tied_embeddings));
  kv("vocab / context", std::to_string(m.vocab_size) + " / " +
                            std::to_string(m.max_position_embeddings));
  if (m.sliding_window) kv("sliding window", std::to_string(m.sliding_window));
  if (m.moe) {
    const MoeSpec& e = *m.moe;
    kv("experts", std::to_string(e.experts_per_token) + " of " + std::to_string(e.num_experts) +
                      ", width " + std::to_string(e.expert_intermediate_size));
    if (e.num_shared_experts)
      kv("shared experts", std::to_string(e.num_shared_experts) + ", width " +
                               std::to_string(e.shared_expert_intermediate_size) +
                               (e.shared_expert_gate ? ", sigmoid gate" : ""));
    kv("sparse layers", std::to_string(m.num_sparse_layers()) + " of " +
                            std::to_string(m.num_layers));
  }
  const ParamBreakdown& p = s.params;
  std::cout << "parameters\n";
  kv("embedding", grouped(p.embedding));
  if (p.position_embedding) kv("position embedding", grouped(p.position_embedding));
  kv("lm head", p.lm_head ? grouped(p.lm_head) : "0 (tied to the embedding)");
  kv("final norm", grouped(p.final_norm));
  show_block("dense block", p.dense_block, p.num_dense_blocks);
  show_block("sparse block", p.sparse_block, p.num_sparse_blocks);
  std::cout << "totals\n";
  kv("parameters", grouped(s.total_params) + " (" + params_human(s.total_params) + ")");
  if (m.is_moe())
    kv("active parameters per token", grouped(s.active_params) + " (" +
                                          params_human(s.active_params) + ")");
  kv("weights at 16 / 8 / 4 bits", reports::bytes(s.weight_bytes_16bit) + " / " +
                                       reports::bytes(s.weight_bytes_8bit) + " / " +
                                       reports::bytes(s.weight_bytes_4bit));
  kv("KV cache per token (16-bit)", reports::bytes(s.kv_cache_bytes_per_token_16bit) + " (" +
                                        grouped(static_cast<int64_t>(
                                            s.kv_cache_bytes_per_token_16bit)) +
                                        " B)");
}

std::string source(const HardwareSpec& h, const std::string& field) {
  auto it = h.sources.find(field);
  return it == h.sources.end() ? "" : it->second;
}

void show_hardware_table(const HardwareSpec& h) {
  std::cout << "hardware " << h.name << " (" << h.vendor << ", " << to_string(h.kind) << ")\n";
  if (!h.description.empty()) std::cout << "  " << h.description << "\n";
  if (h.low_confidence) std::cout << "  LOW CONFIDENCE: " << h.notes << "\n";
  else if (!h.notes.empty()) std::cout << "  note: " << h.notes << "\n";
  std::vector<std::vector<std::string>> rows = {{"  figure", "value", "source"}};
  const auto row = [&](const std::string& label, const std::string& value, const std::string& f) {
    rows.push_back({"  " + label, value, source(h, f)});
  };
  row("memory", reports::bytes(h.memory_bytes), "memory_bytes");
  row("memory bandwidth", reports::bytes_per_s(h.memory_bandwidth_bytes_per_s),
      "memory_bandwidth_bytes_per_s");
  for (int i = 0; i < kNumDTypes; ++i) {
    const std::string d(to_string(static_cast<DType>(i)));
    if (h.dense_ops_per_s[i]) row(d + " dense", reports::ops_per_s(*h.dense_ops_per_s[i]),
                                  "dense_ops_per_s." + d);
    if (h.sparse_ops_per_s[i]) row(d + " sparse", reports::ops_per_s(*h.sparse_ops_per_s[i]),
                                   "sparse_ops_per_s." + d);
  }
  if (h.num_cores) row("cores / SMs", std::to_string(h.num_cores), "num_cores");
  if (h.onchip_bytes_per_core)
    row("on-chip per core", reports::bytes_binary(h.onchip_bytes_per_core), "onchip_bytes_per_core");
  if (h.onchip_bytes_total)
    row("on-chip total", reports::bytes_binary(h.onchip_bytes_total), "onchip_bytes_total");
  if (h.kernel_launch_overhead_s)
    row("kernel launch overhead", reports::seconds(h.kernel_launch_overhead_s),
        "kernel_launch_overhead_s");
  if (h.kernel_launch_overhead_hot_s)
    row("kernel launch overhead, inputs in cache",
        reports::seconds(*h.kernel_launch_overhead_hot_s), "kernel_launch_overhead_hot_s");
  if (h.interconnect_bandwidth_bytes_per_s) {
    row("interconnect per direction", reports::bytes_per_s(h.interconnect_bandwidth_bytes_per_s) +
                                          (h.interconnect_name.empty() ? "" : " (" + h.interconnect_name + ")"),
        "interconnect_bandwidth_bytes_per_s");
    if (h.interconnect_latency_s)
      row("interconnect latency", reports::seconds(h.interconnect_latency_s), "interconnect_latency_s");
    row("devices per node", std::to_string(h.devices_per_node), "devices_per_node");
  }
  // The CPU cache-traffic keys (docs/cost-model.md, "Cache residency"), where the file gives them.
  if (const auto& c = h.last_level_cache) {
    row("last-level cache", reports::bytes_binary(c->capacity_bytes),
        "last_level_cache.capacity_bytes");
    row("last-level cache read-back", reports::bytes_per_s(c->read_bytes_per_s),
        "last_level_cache.read_bytes_per_s");
  }
  if (h.sources.count("write_allocate"))
    row("write-allocate", h.write_allocate ? "yes" : "no", "write_allocate");
  if (h.sources.count("write_back_cost"))
    row("write-back cost", reports::fixed(h.write_back_cost, 2) + " of a read byte",
        "write_back_cost");
  row("efficiency: memory", reports::percent(h.efficiency.memory), "efficiency.memory");
  row("efficiency: compute", reports::percent(h.efficiency.compute), "efficiency.compute");
  row("efficiency: communication", reports::percent(h.efficiency.communication),
      "efficiency.communication");
  if (h.efficiency.attention_memory)
    row("efficiency: attention memory", reports::percent(*h.efficiency.attention_memory),
        "efficiency.attention_memory");
  if (h.efficiency.attention_compute)
    row("efficiency: attention compute", reports::percent(*h.efficiency.attention_compute),
        "efficiency.attention_compute");
  if (h.efficiency.attention_compute_short)
    row("efficiency: attention compute, " +
            std::to_string(HardwareSpec::Efficiency::kAttentionShortTokens) + "-token prompt",
        reports::percent(*h.efficiency.attention_compute_short), "efficiency.attention_compute_short");
  if (h.efficiency.attention_compute_short_onchip)
    row("efficiency: attention compute, " +
            std::to_string(HardwareSpec::Efficiency::kAttentionShortTokens) +
            "-token prompt on chip",
        reports::percent(*h.efficiency.attention_compute_short_onchip),
        "efficiency.attention_compute_short_onchip");
  for (int i = 0; i < kNumDTypes; ++i) {
    const std::string d(to_string(static_cast<DType>(i)));
    if (const auto& e = h.efficiency.compute_by_dtype[i])
      row("efficiency: compute " + d, reports::percent(*e), "efficiency.compute_" + d);
    if (const auto& e = h.efficiency.memory_by_dtype[i])
      row("efficiency: memory, " + d + " weights", reports::percent(*e), "efficiency.memory_" + d);
    if (i == static_cast<int>(DType::int8) && h.efficiency.memory_w8a8)
      row("efficiency: memory, W8A8", reports::percent(*h.efficiency.memory_w8a8),
          "efficiency.memory_w8a8");
    if (const auto& e = h.efficiency.attention_memory_by_dtype[i])
      row("efficiency: attention memory, " + d + " KV", reports::percent(*e),
          "efficiency.attention_memory_" + d);
  }
  print_table(std::cout, rows);
  std::cout << "ridge point (dense peak / memory bandwidth)\n";
  for (int i = 0; i < kNumDTypes; ++i)
    if (auto r = h.ridge_ops_per_byte(static_cast<DType>(i)))
      kv(std::string(to_string(static_cast<DType>(i))), reports::fixed(*r, 1) + " ops/byte");
}

void show_hardware_json(const HardwareSpec& h) {
  ordered_json dense = ordered_json::object(), sparse = ordered_json::object(),
               ridge = ordered_json::object();
  for (int i = 0; i < kNumDTypes; ++i) {
    const std::string d(to_string(static_cast<DType>(i)));
    if (h.dense_ops_per_s[i]) dense[d] = *h.dense_ops_per_s[i];
    if (h.sparse_ops_per_s[i]) sparse[d] = *h.sparse_ops_per_s[i];
    if (auto r = h.ridge_ops_per_byte(static_cast<DType>(i))) ridge[d] = *r;
  }
  ordered_json j = {
      {"schema_version", kJsonSchemaVersion}, {"name", h.name}, {"vendor", h.vendor},
      {"kind", to_string(h.kind)}, {"description", h.description},
      {"low_confidence", h.low_confidence}, {"notes", h.notes},
      {"memory_bytes", h.memory_bytes},
      {"memory_bandwidth_bytes_per_s", h.memory_bandwidth_bytes_per_s},
      {"dense_ops_per_s", dense}, {"sparse_ops_per_s", sparse},
      {"ridge_ops_per_byte", ridge}, {"num_cores", h.num_cores},
      {"onchip_bytes_per_core", h.onchip_bytes_per_core},
      {"onchip_bytes_total", h.onchip_bytes_total},
      {"kernel_launch_overhead_s", h.kernel_launch_overhead_s},
      {"interconnect_name", h.interconnect_name},
      {"interconnect_bandwidth_bytes_per_s", h.interconnect_bandwidth_bytes_per_s},
      {"interconnect_latency_s", h.interconnect_latency_s},
      {"devices_per_node", h.devices_per_node},
      {"efficiency", {{"memory", h.efficiency.memory},
                      {"compute", h.efficiency.compute},
                      {"communication", h.efficiency.communication}}},
      {"sources", h.sources}};
  // Optional fields appear only when the file gives them (absent = memory/compute apply).
  if (const auto& c = h.last_level_cache)
    j["last_level_cache"] = {{"capacity_bytes", c->capacity_bytes},
                             {"read_bytes_per_s", c->read_bytes_per_s}};
  if (h.kernel_launch_overhead_hot_s)
    j["kernel_launch_overhead_hot_s"] = *h.kernel_launch_overhead_hot_s;
  if (h.sources.count("write_allocate")) j["write_allocate"] = h.write_allocate;
  if (h.sources.count("write_back_cost")) j["write_back_cost"] = h.write_back_cost;
  if (h.efficiency.attention_memory)
    j["efficiency"]["attention_memory"] = *h.efficiency.attention_memory;
  if (h.efficiency.attention_compute)
    j["efficiency"]["attention_compute"] = *h.efficiency.attention_compute;
  if (h.efficiency.attention_compute_short)
    j["efficiency"]["attention_compute_short"] = *h.efficiency.attention_compute_short;
  if (h.efficiency.attention_compute_short_onchip)
    j["efficiency"]["attention_compute_short_onchip"] =
        *h.efficiency.attention_compute_short_onchip;
  if (h.efficiency.memory_w8a8) j["efficiency"]["memory_w8a8"] = *h.efficiency.memory_w8a8;
  for (int i = 0; i < kNumDTypes; ++i) {
    const std::string d(to_string(static_cast<DType>(i)));
    if (const auto& e = h.efficiency.compute_by_dtype[i]) j["efficiency"]["compute_" + d] = *e;
    if (const auto& e = h.efficiency.memory_by_dtype[i]) j["efficiency"]["memory_" + d] = *e;
    if (const auto& e = h.efficiency.attention_memory_by_dtype[i])
      j["efficiency"]["attention_memory_" + d] = *e;
  }
  std::cout << j.dump(2) << "\n";
}

struct ShowOptions {
  std::string what;
  std::string name;
  std::string format = "table";
};

}  // namespace

void add_list_show_commands(CLI::App& app, Context& ctx) {
  auto list_what = std::make_shared<std::string>();
  CLI::App* list = app.add_subcommand("list", "List the built-in models or hardware (and those on "
                                              "--search-path)");
  list->add_option("what", *list_what, "models | hardware")
      ->required()
      ->check(CLI::IsMember({"models", "hardware"}));
  list->callback([list_what, &ctx] {
    const Catalog cat(ctx.search_paths);
    if (*list_what == "models") list_models(cat);
    else list_hardware(cat);
  });

  auto opt = std::make_shared<ShowOptions>();
  CLI::App* show = app.add_subcommand(
      "show", "Show a model (structure, parameters, sizes) or hardware entry (figures, sources, "
              "ridge points)");
  show->add_option("what", opt->what, "model | hardware")
      ->required()
      ->check(CLI::IsMember({"model", "hardware"}));
  show->add_option("name", opt->name,
                   "Zoo/db name, or a path to a .yaml (or, for a model, a HF config.json)")
      ->required();
  show->add_option("--format", opt->format, "table | json")
      ->check(CLI::IsMember({"table", "json"}));
  show->callback([opt, &ctx] {
    const Catalog cat(ctx.search_paths);
    if (opt->what == "model") {
      const ModelSpec m = cat.model(opt->name);
      const ModelStats s = model_stats(m);
      if (opt->format == "json") show_model_json(m, s);
      else show_model_table(m, s);
    } else {
      const HardwareSpec h = cat.hardware(opt->name);
      if (opt->format == "json") show_hardware_json(h);
      else show_hardware_table(h);
    }
  });
}

}  // namespace llmroof::cli
