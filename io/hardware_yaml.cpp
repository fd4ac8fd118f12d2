// hardware_db/*.yaml <-> HardwareSpec. Schema: docs/hardware-schema.md. Files use readable units
// named in each key (GB, GB/s, TOPS, KiB, MiB, us); the struct holds SI base units.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "io/catalog.hpp"
#include "io/yaml_reader.hpp"

namespace llmroof {
namespace {

constexpr double kGB = 1e9;      // vendors' memory and bandwidth figures are decimal
constexpr double kTera = 1e12;   // TFLOPS / TOPS
constexpr double kKiB = 1024.0;  // on-chip memories are binary
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kMicro = 1e-6;

const std::vector<std::string> kTopKeys = {
    "name", "vendor", "kind", "description", "low_confidence", "notes", "memory_capacity_gb",
    "memory_bandwidth_gb_per_s", "dense_tops", "sparse_tops", "num_cores", "onchip_kib_per_core",
    "onchip_mib_total", "kernel_launch_overhead_us", "kernel_launch_overhead_hot_us",
    "interconnect", "efficiency",
    "last_level_cache", "write_allocate", "write_back_cost"};
const std::vector<std::string> kQuantityKeys = {"value", "source"};
const std::vector<std::string> kInterconnectKeys = {"name", "bandwidth_gb_per_s_per_direction",
                                                    "latency_us", "devices_per_node"};
const std::vector<std::string> kKinds = {"gpu", "npu", "xpu", "cpu"};
const std::vector<std::string> kCacheKeys = {"capacity_mib", "read_gb_per_s"};

std::vector<std::string> dtype_names() {
  std::vector<std::string> v;
  for (int i = 0; i < kNumDTypes; ++i) v.emplace_back(to_string(static_cast<DType>(i)));
  return v;
}

// The per-dtype factors (docs/hardware-schema.md): compute_<dtype>, memory_<dtype> and
// attention_memory_<dtype> (the KV cache's dtype).
constexpr const char* kPerDtypeEfficiency[] = {"compute_", "memory_", "attention_memory_"};

std::vector<std::string> efficiency_keys() {
  std::vector<std::string> v = {"memory", "compute", "communication", "attention_memory",
                                "attention_compute", "attention_compute_short",
                                "attention_compute_short_onchip", "memory_w8a8"};
  for (const char* prefix : kPerDtypeEfficiency)
    for (const auto& d : dtype_names()) v.push_back(prefix + d);
  return v;
}

DeviceKind kind_from_string(std::string_view s) {
  if (s == "npu") return DeviceKind::npu;
  if (s == "xpu") return DeviceKind::xpu;
  if (s == "cpu") return DeviceKind::cpu;
  return DeviceKind::gpu;
}

// `key: {value: X, source: "..."}`: the number (scaled to SI) and where it comes from.
class QuantityReader {
 public:
  QuantityReader(const yamlio::MapReader& parent, HardwareSpec& hw) : parent_(parent), hw_(hw) {}

  std::optional<double> number(std::string_view key, double scale, const std::string& field) const {
    if (!parent_.has(key)) return std::nullopt;
    yamlio::MapReader q = parent_.map(key, kQuantityKeys);
    double v = q.positive_number("value");
    hw_.sources[field] = q.string("source");
    return v * scale;
  }
  std::optional<int> integer(std::string_view key, const std::string& field) const {
    if (!parent_.has(key)) return std::nullopt;
    yamlio::MapReader q = parent_.map(key, kQuantityKeys);
    int64_t v = q.positive_int("value");
    hw_.sources[field] = q.string("source");
    return static_cast<int>(v);
  }
  // An achieved fraction of peak: in (0, 1].
  std::optional<double> fraction(std::string_view key, const std::string& field) const {
    if (!parent_.has(key)) return std::nullopt;
    yamlio::MapReader q = parent_.map(key, kQuantityKeys);
    double v = q.positive_number("value");
    if (v > 1.0)
      q.fail_at("value", "'" + q.field("value") +
                             "' must be at most 1 (a fraction of peak), got " + q.raw("value"));
    hw_.sources[field] = q.string("source");
    return v;
  }

 private:
  const yamlio::MapReader& parent_;
  HardwareSpec& hw_;
};

void read_throughput(const yamlio::MapReader& r, std::string_view key, HardwareSpec& hw,
                     std::array<std::optional<double>, kNumDTypes>& out, const std::string& field) {
  const yamlio::MapReader t = r.map(key, dtype_names());
  const QuantityReader q(t, hw);
  for (const std::string& name : t.keys()) {
    DType d = *dtype_from_string(name);
    out[static_cast<int>(d)] = q.number(name, kTera, field + "." + name);
  }
  if (t.keys().empty()) r.fail_at(key, "'" + std::string(key) + "' must list at least one dtype");
}

}  // namespace

HardwareSpec parse_hardware_yaml(std::string_view text, std::string_view filename) {
  const yamlio::Document doc{filename, text};
  const YAML::Node root = yamlio::load(doc);
  const yamlio::MapReader r(doc, root, "", kTopKeys, YAML::Mark());
  HardwareSpec hw;
  const QuantityReader q(r, hw);

  hw.name = r.string("name");
  hw.vendor = r.string("vendor");
  hw.kind = kind_from_string(r.choice("kind", kKinds));
  hw.description = r.opt_string("description").value_or("");
  hw.low_confidence = r.opt_boolean("low_confidence").value_or(false);
  hw.notes = r.opt_string("notes").value_or("");
  if (hw.low_confidence && hw.notes.empty())
    r.fail_at("low_confidence", "low_confidence is true: say why in 'notes'");

  if (!r.has("memory_capacity_gb")) r.fail_missing("memory_capacity_gb");
  hw.memory_bytes = *q.number("memory_capacity_gb", kGB, "memory_bytes");
  if (!r.has("memory_bandwidth_gb_per_s")) r.fail_missing("memory_bandwidth_gb_per_s");
  hw.memory_bandwidth_bytes_per_s =
      *q.number("memory_bandwidth_gb_per_s", kGB, "memory_bandwidth_bytes_per_s");
  if (!r.has("dense_tops")) r.fail_missing("dense_tops");
  read_throughput(r, "dense_tops", hw, hw.dense_ops_per_s, "dense_ops_per_s");
  if (r.has("sparse_tops")) read_throughput(r, "sparse_tops", hw, hw.sparse_ops_per_s, "sparse_ops_per_s");

  hw.num_cores = q.integer("num_cores", "num_cores").value_or(0);
  hw.onchip_bytes_per_core = q.number("onchip_kib_per_core", kKiB, "onchip_bytes_per_core").value_or(0);
  hw.onchip_bytes_total = q.number("onchip_mib_total", kMiB, "onchip_bytes_total").value_or(0);
  hw.kernel_launch_overhead_s =
      q.number("kernel_launch_overhead_us", kMicro, "kernel_launch_overhead_s").value_or(0);
  hw.kernel_launch_overhead_hot_s =
      q.number("kernel_launch_overhead_hot_us", kMicro, "kernel_launch_overhead_hot_s");

  if (r.has("interconnect")) {
    const yamlio::MapReader ic = r.map("interconnect", kInterconnectKeys);
    const QuantityReader qi(ic, hw);
    hw.interconnect_name = ic.opt_string("name").value_or("");
    if (!ic.has("bandwidth_gb_per_s_per_direction")) ic.fail_missing("bandwidth_gb_per_s_per_direction");
    hw.interconnect_bandwidth_bytes_per_s = *qi.number(
        "bandwidth_gb_per_s_per_direction", kGB, "interconnect_bandwidth_bytes_per_s");
    hw.interconnect_latency_s = qi.number("latency_us", kMicro, "interconnect_latency_s").value_or(0);
    if (!ic.has("devices_per_node")) ic.fail_missing("devices_per_node");
    hw.devices_per_node = *qi.integer("devices_per_node", "devices_per_node");
  }
  if (r.has("last_level_cache")) {
    // Both numbers or neither: the residency model needs the capacity and the re-read bandwidth.
    const yamlio::MapReader c = r.map("last_level_cache", kCacheKeys);
    const QuantityReader qc(c, hw);
    if (!c.has("capacity_mib")) c.fail_missing("capacity_mib");
    if (!c.has("read_gb_per_s")) c.fail_missing("read_gb_per_s");
    HardwareSpec::LastLevelCache llc;
    llc.capacity_bytes = *qc.number("capacity_mib", kMiB, "last_level_cache.capacity_bytes");
    llc.read_bytes_per_s = *qc.number("read_gb_per_s", kGB, "last_level_cache.read_bytes_per_s");
    hw.last_level_cache = llc;
  }
  if (r.has("write_allocate")) {
    const yamlio::MapReader w = r.map("write_allocate", kQuantityKeys);
    hw.write_allocate = w.boolean("value");
    hw.sources["write_allocate"] = w.string("source");
  }
  hw.write_back_cost = q.fraction("write_back_cost", "write_back_cost").value_or(1.0);
  if (r.has("efficiency")) {
    const yamlio::MapReader ef = r.map("efficiency", efficiency_keys());
    const QuantityReader qe(ef, hw);
    hw.efficiency.memory = qe.fraction("memory", "efficiency.memory").value_or(1.0);
    hw.efficiency.compute = qe.fraction("compute", "efficiency.compute").value_or(1.0);
    hw.efficiency.communication =
        qe.fraction("communication", "efficiency.communication").value_or(1.0);
    // Optional: absent means the fused attention row uses memory / compute (docs/cost-model.md).
    hw.efficiency.attention_memory =
        qe.fraction("attention_memory", "efficiency.attention_memory");
    hw.efficiency.attention_compute =
        qe.fraction("attention_compute", "efficiency.attention_compute");
    hw.efficiency.attention_compute_short =
        qe.fraction("attention_compute_short", "efficiency.attention_compute_short");
    hw.efficiency.attention_compute_short_onchip = qe.fraction(
        "attention_compute_short_onchip", "efficiency.attention_compute_short_onchip");
    hw.efficiency.memory_w8a8 = qe.fraction("memory_w8a8", "efficiency.memory_w8a8");
    // Optional per dtype: that dtype's GEMMs against its own peak, and the linear layers'
    // bandwidth with weights in it; absent means `compute` / `memory`.
    for (int i = 0; i < kNumDTypes; ++i) {
      const std::string d(to_string(static_cast<DType>(i)));
      hw.efficiency.compute_by_dtype[i] = qe.fraction("compute_" + d, "efficiency.compute_" + d);
      hw.efficiency.memory_by_dtype[i] = qe.fraction("memory_" + d, "efficiency.memory_" + d);
      hw.efficiency.attention_memory_by_dtype[i] =
          qe.fraction("attention_memory_" + d, "efficiency.attention_memory_" + d);
    }
  }
  return hw;
}

namespace {

// Shortest decimal that reads back as the same double ("154.8", not "154.80000000000001").
std::string num(double v) {
  std::ostringstream o;
  o.precision(15);
  o << v;
  return o.str();
}

std::string source_of(const HardwareSpec& hw, const std::string& field) {
  auto it = hw.sources.find(field);
  return it == hw.sources.end() || it->second.empty() ? "unknown" : it->second;
}

// "key: {value: X, source: "..."}" at the given indent.
void quantity(std::ostringstream& o, int indent, std::string_view key, double value,
              const HardwareSpec& hw, const std::string& field) {
  o << std::string(indent, ' ') << key << ": {value: " << num(value)
    << ", source: " << yamlio::quote(source_of(hw, field)) << "}\n";
}

void throughput(std::ostringstream& o, std::string_view key, const HardwareSpec& hw,
                const std::array<std::optional<double>, kNumDTypes>& ops, const std::string& field) {
  bool any = false;
  for (const auto& v : ops) any = any || v.has_value();
  if (!any) return;
  o << key << ":\n";
  for (int i = 0; i < kNumDTypes; ++i) {
    if (!ops[i]) continue;
    std::string name(to_string(static_cast<DType>(i)));
    quantity(o, 2, name, *ops[i] / kTera, hw, field + "." + name);
  }
}

}  // namespace

std::string hardware_to_yaml(const HardwareSpec& hw) {
  std::ostringstream o;
  o << "# " << hw.name << ": llmroof hardware description (schema: docs/hardware-schema.md)\n";
  o << "name: " << yamlio::scalar_text(hw.name) << "\n";
  o << "vendor: " << yamlio::scalar_text(hw.vendor) << "\n";
  o << "kind: " << to_string(hw.kind) << "\n";
  if (!hw.description.empty()) o << "description: " << yamlio::quote(hw.description) << "\n";
  if (hw.low_confidence) o << "low_confidence: true\n";
  if (!hw.notes.empty()) o << "notes: " << yamlio::quote(hw.notes) << "\n";
  quantity(o, 0, "memory_capacity_gb", hw.memory_bytes / kGB, hw, "memory_bytes");
  quantity(o, 0, "memory_bandwidth_gb_per_s", hw.memory_bandwidth_bytes_per_s / kGB, hw,
           "memory_bandwidth_bytes_per_s");
  throughput(o, "dense_tops", hw, hw.dense_ops_per_s, "dense_ops_per_s");
  throughput(o, "sparse_tops", hw, hw.sparse_ops_per_s, "sparse_ops_per_s");
  if (hw.num_cores > 0) quantity(o, 0, "num_cores", hw.num_cores, hw, "num_cores");
  if (hw.onchip_bytes_per_core > 0)
    quantity(o, 0, "onchip_kib_per_core", hw.onchip_bytes_per_core / kKiB, hw, "onchip_bytes_per_core");
  if (hw.onchip_bytes_total > 0)
    quantity(o, 0, "onchip_mib_total", hw.onchip_bytes_total / kMiB, hw, "onchip_bytes_total");
  if (hw.kernel_launch_overhead_s > 0)
    quantity(o, 0, "kernel_launch_overhead_us", hw.kernel_launch_overhead_s / kMicro, hw,
             "kernel_launch_overhead_s");
  if (hw.kernel_launch_overhead_hot_s)
    quantity(o, 0, "kernel_launch_overhead_hot_us", *hw.kernel_launch_overhead_hot_s / kMicro, hw,
             "kernel_launch_overhead_hot_s");
  if (hw.interconnect_bandwidth_bytes_per_s > 0) {
    o << "interconnect:\n";
    if (!hw.interconnect_name.empty())
      o << "  name: " << yamlio::quote(hw.interconnect_name) << "\n";
    quantity(o, 2, "bandwidth_gb_per_s_per_direction", hw.interconnect_bandwidth_bytes_per_s / kGB,
             hw, "interconnect_bandwidth_bytes_per_s");
    if (hw.interconnect_latency_s > 0)
      quantity(o, 2, "latency_us", hw.interconnect_latency_s / kMicro, hw, "interconnect_latency_s");
    quantity(o, 2, "devices_per_node", hw.devices_per_node, hw, "devices_per_node");
  }
  if (hw.last_level_cache) {
    o << "last_level_cache:\n";
    quantity(o, 2, "capacity_mib", hw.last_level_cache->capacity_bytes / kMiB, hw,
             "last_level_cache.capacity_bytes");
    quantity(o, 2, "read_gb_per_s", hw.last_level_cache->read_bytes_per_s / kGB, hw,
             "last_level_cache.read_bytes_per_s");
  }
  // Written when true or when measured false (absent reads as false).
  if (hw.write_allocate || hw.sources.count("write_allocate"))
    o << "write_allocate: {value: " << (hw.write_allocate ? "true" : "false")
      << ", source: " << yamlio::quote(source_of(hw, "write_allocate")) << "}\n";
  if (hw.write_back_cost != 1.0)
    quantity(o, 0, "write_back_cost", hw.write_back_cost, hw, "write_back_cost");
  const auto& e = hw.efficiency;
  // 1.0 is the schema's default (no derating): only the factors that derate are written.
  const auto any = [](const auto& a) {
    return std::any_of(a.begin(), a.end(), [](const auto& v) { return v.has_value(); });
  };
  const bool by_dtype =
      any(e.compute_by_dtype) || any(e.memory_by_dtype) || any(e.attention_memory_by_dtype);
  if (e.memory != 1.0 || e.compute != 1.0 || e.communication != 1.0 || e.attention_memory ||
      e.attention_compute || e.attention_compute_short || e.attention_compute_short_onchip ||
      e.memory_w8a8 || by_dtype) {
    o << "efficiency:\n";
    if (e.memory != 1.0) quantity(o, 2, "memory", e.memory, hw, "efficiency.memory");
    if (e.compute != 1.0) quantity(o, 2, "compute", e.compute, hw, "efficiency.compute");
    if (e.communication != 1.0)
      quantity(o, 2, "communication", e.communication, hw, "efficiency.communication");
    if (e.attention_memory)
      quantity(o, 2, "attention_memory", *e.attention_memory, hw, "efficiency.attention_memory");
    if (e.attention_compute)
      quantity(o, 2, "attention_compute", *e.attention_compute, hw, "efficiency.attention_compute");
    if (e.attention_compute_short)
      quantity(o, 2, "attention_compute_short", *e.attention_compute_short, hw,
               "efficiency.attention_compute_short");
    if (e.attention_compute_short_onchip)
      quantity(o, 2, "attention_compute_short_onchip", *e.attention_compute_short_onchip, hw,
               "efficiency.attention_compute_short_onchip");
    const auto per_dtype = [&](const char* prefix, const auto& factors) {
      for (int i = 0; i < kNumDTypes; ++i)
        if (factors[i]) {
          const std::string key = prefix + std::string(to_string(static_cast<DType>(i)));
          quantity(o, 2, key, *factors[i], hw, "efficiency." + key);
        }
    };
    per_dtype("compute_", e.compute_by_dtype);
    per_dtype("memory_", e.memory_by_dtype);
    if (e.memory_w8a8) quantity(o, 2, "memory_w8a8", *e.memory_w8a8, hw, "efficiency.memory_w8a8");
    per_dtype("attention_memory_", e.attention_memory_by_dtype);
  }
  return o.str();
}

}  // namespace llmroof
