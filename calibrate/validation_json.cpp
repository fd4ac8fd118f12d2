#include "calibrate/validation_json.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/errors.hpp"

namespace llmroof::calibrate {

using nlohmann::json;

namespace {

json e2e_to_json(const EndToEnd& e) {
  return {{"ttft_s", e.ttft_s}, {"tpot_s", e.tpot_s},
          {"output_tokens_per_s", e.output_tokens_per_s}};
}

// Strict accessor: the error names the file and the JSON path of the offending key.
template <class T>
T get(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key))
    throw InputError(where + ": missing key '" + key + "'");
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw InputError(where + ": key '" + key + "' has the wrong type (" +
                     std::string(j.at(key).type_name()) + ")");
  }
}

EndToEnd e2e_from_json(const json& j, const std::string& where) {
  return {get<double>(j, "ttft_s", where), get<double>(j, "tpot_s", where),
          get<double>(j, "output_tokens_per_s", where)};
}

}  // namespace

std::string validation_to_json(const ValidationRun& r, int indent) {
  json ops = json::array();
  for (const auto& o : r.ops)
    ops.push_back({{"phase", o.phase}, {"name", o.name}, {"count", o.count},
                   {"predicted_s", o.predicted_s}, {"measured_s", o.measured_s},
                   {"ratio", o.ratio()}, {"spread", o.spread},
                   {"disposition", std::string(to_string(o.disposition))},
                   {"detail", o.detail}});
  json j = {{"schema_version", kValidationSchemaVersion},
            {"tool", "llmroof validate"},
            {"llmroof_version", r.llmroof_version},
            {"model", r.model},
            {"hardware", r.hardware},
            {"cpu", r.cpu},
            {"settings", r.settings},
            {"layers_run", r.layers_run},
            {"layers_total", r.layers_total},
            {"extrapolated", r.extrapolated()},
            {"full_model", r.full_model},
            {"decode_context", r.decode_context},
            {"median_abs_error", median_abs_error(r)},
            {"ops", ops},
            {"notes", r.notes},
            {"end_to_end", {{"predicted", e2e_to_json(r.predicted)},
                            {"measured", e2e_to_json(r.measured)}}},
            {"device", {{"spec_bandwidth_bytes_per_s", r.device.spec_bandwidth_bytes_per_s},
                        {"read_before_bytes_per_s", r.device.read_before_bytes_per_s},
                        {"read_after_bytes_per_s", r.device.read_after_bytes_per_s}}}};
  return j.dump(indent) + "\n";
}

ValidationRun validation_from_json(std::string_view text, std::string_view filename) {
  const std::string file(filename);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(file + ": not valid JSON: " + e.what());
  }
  const int version = get<int>(j, "schema_version", file);
  if (version != kValidationSchemaVersion)
    throw InputError(file + ": schema_version " + std::to_string(version) +
                     " is not supported (this llmroof reads " +
                     std::to_string(kValidationSchemaVersion) + ")");
  ValidationRun r;
  r.llmroof_version = get<std::string>(j, "llmroof_version", file);
  r.model = get<std::string>(j, "model", file);
  r.hardware = get<std::string>(j, "hardware", file);
  r.cpu = get<std::string>(j, "cpu", file);
  r.settings = get<std::string>(j, "settings", file);
  r.layers_run = get<int64_t>(j, "layers_run", file);
  r.layers_total = get<int64_t>(j, "layers_total", file);
  r.full_model = get<bool>(j, "full_model", file);
  r.decode_context = get<int64_t>(j, "decode_context", file);
  const auto ops = get<json>(j, "ops", file);
  if (!ops.is_array()) throw InputError(file + ": 'ops' must be an array");
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string where = file + ": ops[" + std::to_string(i) + "]";
    OpResult o;
    o.phase = get<std::string>(ops[i], "phase", where);
    o.name = get<std::string>(ops[i], "name", where);
    o.count = get<int64_t>(ops[i], "count", where);
    o.predicted_s = get<double>(ops[i], "predicted_s", where);
    o.measured_s = get<double>(ops[i], "measured_s", where);
    o.spread = get<double>(ops[i], "spread", where);
    const auto d = get<std::string>(ops[i], "disposition", where);
    const auto disp = disposition_from_string(d);
    if (!disp) throw InputError(where + ": unknown disposition '" + d + "'");
    o.disposition = *disp;
    o.detail = get<std::string>(ops[i], "detail", where);
    r.ops.push_back(std::move(o));
  }
  r.notes = get<std::vector<std::string>>(j, "notes", file);
  const auto e2e = get<json>(j, "end_to_end", file);
  r.predicted = e2e_from_json(get<json>(e2e, "predicted", file + ": end_to_end"),
                              file + ": end_to_end.predicted");
  r.measured = e2e_from_json(get<json>(e2e, "measured", file + ": end_to_end"),
                             file + ": end_to_end.measured");
  // Optional: baselines saved before the device check existed have no "device".
  if (j.contains("device")) {
    const auto d = get<json>(j, "device", file);
    const std::string where = file + ": device";
    r.device.spec_bandwidth_bytes_per_s = get<double>(d, "spec_bandwidth_bytes_per_s", where);
    r.device.read_before_bytes_per_s = get<double>(d, "read_before_bytes_per_s", where);
    r.device.read_after_bytes_per_s = get<double>(d, "read_after_bytes_per_s", where);
  }
  return r;
}

void save_validation(const ValidationRun& run, const std::string& path) {
  std::ofstream f(path);
  if (!f) throw InputError(path + ": cannot open for writing");
  f << validation_to_json(run);
  if (!f) throw InputError(path + ": write failed");
}

ValidationRun load_validation(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw InputError(path + ": cannot open baseline");
  std::stringstream ss;
  ss << f.rdbuf();
  return validation_from_json(ss.str(), path);
}

}  // namespace llmroof::calibrate
