#include "calibrate/validation_report.hpp"

#include <cmath>
#include <cstdio>

#include "calibrate/validation_json.hpp"
#include "io/errors.hpp"
#include "reports/units.hpp"

namespace llmroof::calibrate {

namespace {

using reports::fixed;
using reports::seconds;

std::string ratio_text(double r) { return r > 0 ? fixed(r, 2) : "-"; }

// "12.3 %" over the measured (passed/failed) ops of a phase ("" = all); "-" when none was.
std::string phase_error(const ValidationRun& run, const std::string& phase) {
  ValidationRun only;
  for (const auto& o : run.ops)
    if ((phase.empty() || o.phase == phase) &&
        (o.disposition == Disposition::passed || o.disposition == Disposition::failed))
      only.ops.push_back(o);
  return only.ops.empty() ? "-" : reports::percent(median_abs_error(only));
}

std::string header(const ValidationRun& r) {
  std::string s = "llmroof validate: " + r.model + " on " + r.cpu + " (prediction: hardware '" +
                  r.hardware + "')\n" + "settings: " + r.settings + "\n";
  s += r.full_model ? "full model: every block, real prefill and generation\n"
                    : "blocks measured: " + std::to_string(r.layers_run) + " of " +
                          std::to_string(r.layers_total) +
                          (r.extrapolated() ? " (end to end extrapolated to the full depth)" : "") +
                          "\n";
  s += "decode ops at context " + std::to_string(r.decode_context) + "\n";
  return s;
}

std::string table(const ValidationRun& r, bool md) {
  std::string out = md ? "" : header(r);
  if (md) {
    out += "# llmroof validate: " + r.model + "\n\n";
    out += header(r);
    out += "\n| phase | op | count | predicted | measured | measured/predicted | disposition |\n";
    out += "|---|---|---|---|---|---|---|\n";
  }
  char buf[512];
  if (!md) {
    std::snprintf(buf, sizeof buf, "\n%-8s %-16s %5s %11s %11s %8s  %s\n", "phase", "op", "count",
                  "predicted", "measured", "ratio", "disposition");
    out += buf;
  }
  for (const auto& o : r.ops) {
    const std::string disp = std::string(to_string(o.disposition)) +
                             (o.detail.empty() ? "" : " (" + o.detail + ")");
    if (md)
      std::snprintf(buf, sizeof buf, "| %s | %s | %lld | %s | %s | %s | %s |\n", o.phase.c_str(),
                    o.name.c_str(), static_cast<long long>(o.count),
                    o.predicted_s > 0 ? seconds(o.predicted_s).c_str() : "-",
                    o.measured_s > 0 ? seconds(o.measured_s).c_str() : "-",
                    ratio_text(o.ratio()).c_str(), disp.c_str());
    else
      std::snprintf(buf, sizeof buf, "%-8s %-16s %5lld %11s %11s %8s  %s\n", o.phase.c_str(),
                    o.name.c_str(), static_cast<long long>(o.count),
                    o.predicted_s > 0 ? seconds(o.predicted_s).c_str() : "-",
                    o.measured_s > 0 ? seconds(o.measured_s).c_str() : "-",
                    ratio_text(o.ratio()).c_str(), disp.c_str());
    out += buf;
  }
  const auto e2e = [&](const char* name, double p, double m, bool time) {
    const std::string ps = time ? seconds(p) : fixed(p, 2);
    const std::string ms = time ? seconds(m) : fixed(m, 2);
    if (md)
      std::snprintf(buf, sizeof buf, "| %s | %s | %s | %s |\n", name, ps.c_str(), ms.c_str(),
                    ratio_text(p > 0 && m > 0 ? m / p : 0).c_str());
    else
      std::snprintf(buf, sizeof buf, "%-22s %11s %11s %8s\n", name, ps.c_str(), ms.c_str(),
                    ratio_text(p > 0 && m > 0 ? m / p : 0).c_str());
    out += buf;
  };
  if (md)
    out += "\n| end to end | predicted | measured | measured/predicted |\n|---|---|---|---|\n";
  else
    out += "\nend to end               predicted    measured    ratio\n";
  e2e("TTFT", r.predicted.ttft_s, r.measured.ttft_s, true);
  e2e("TPOT", r.predicted.tpot_s, r.measured.tpot_s, true);
  e2e("output tokens/s", r.predicted.output_tokens_per_s, r.measured.output_tokens_per_s, false);
  std::snprintf(buf, sizeof buf,
                "%smedian |measured/predicted - 1| per op: prefill %s, decode %s, all %s\n",
                md ? "\n" : "\n", phase_error(r, "prefill").c_str(),
                phase_error(r, "decode").c_str(), phase_error(r, "").c_str());
  out += buf;
  if (r.device.measured()) {
    std::snprintf(buf, sizeof buf,
                  "%sdevice: DRAM read %s before and %s after the timed passes; the hardware file "
                  "says %s (%+.1f %%)\n",
                  md ? "- " : "", reports::bytes_per_s(r.device.read_before_bytes_per_s).c_str(),
                  reports::bytes_per_s(r.device.read_after_bytes_per_s).c_str(),
                  reports::bytes_per_s(r.device.spec_bandwidth_bytes_per_s).c_str(),
                  100 * r.device.drift());
    out += buf;
  }
  for (const auto& n : r.notes) out += (md ? "- note: " : "note: ") + n + "\n";
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv(const ValidationRun& r) {
  std::string out = "phase,op,count,predicted_s,measured_s,ratio,spread,disposition,detail\n";
  char buf[256];
  for (const auto& o : r.ops) {
    std::snprintf(buf, sizeof buf, "%s,%s,%lld,%.9g,%.9g,%.6g,%.4g,%s,", o.phase.c_str(),
                  o.name.c_str(), static_cast<long long>(o.count), o.predicted_s, o.measured_s,
                  o.ratio(), o.spread, std::string(to_string(o.disposition)).c_str());
    out += buf + csv_field(o.detail) + "\n";
  }
  const auto row = [&](const char* name, double p, double m) {
    std::snprintf(buf, sizeof buf, "end_to_end,%s,1,%.9g,%.9g,%.6g,0,passed,\n", name, p, m,
                  p > 0 && m > 0 ? m / p : 0);
    out += buf;
  };
  row("ttft", r.predicted.ttft_s, r.measured.ttft_s);
  row("tpot", r.predicted.tpot_s, r.measured.tpot_s);
  row("output_tokens_per_s", r.predicted.output_tokens_per_s, r.measured.output_tokens_per_s);
  return out;
}

}  // namespace

std::string format_validation(const ValidationRun& run, std::string_view format) {
  if (format == "table") return table(run, false);
  if (format == "md") return table(run, true);
  if (format == "json") return validation_to_json(run);
  if (format == "csv") return csv(run);
  throw InputError("--format: unknown format '" + std::string(format) +
                   "' (table, md, json, csv)");
}

}  // namespace llmroof::calibrate
