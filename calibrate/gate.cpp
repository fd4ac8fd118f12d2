#include "calibrate/gate.hpp"

#include <cmath>
#include <cstdio>

#include "io/errors.hpp"

namespace llmroof::calibrate {

namespace {

bool comparable(Disposition d) { return d == Disposition::passed || d == Disposition::failed; }

// Shared rule for ops and end-to-end figures: ratios of measured to predicted, compared relatively.
GateEntry judge(std::string phase, std::string name, double base, double now, double tolerance) {
  GateEntry e{std::move(phase), std::move(name), base, now, 0, Disposition::passed, ""};
  if (!(base > 0) || !(now > 0) || !std::isfinite(base) || !std::isfinite(now)) {
    e.disposition = Disposition::skipped;
    e.detail = "no ratio on one side";
    return e;
  }
  e.drift = now / base - 1;
  if (std::fabs(e.drift) > tolerance) {
    e.disposition = Disposition::failed;
    e.detail = "drifted beyond tolerance";
  }
  return e;
}

double safe_ratio(double measured, double predicted) {
  return predicted > 0 && measured > 0 ? measured / predicted : 0;
}

}  // namespace

void check_comparable(const std::string& model, const std::string& settings,
                      const ValidationRun& base) {
  if (model != base.model || settings != base.settings)
    throw InputError("baseline is not comparable: it was recorded for '" + base.model + "' (" +
                     base.settings + "), this run is '" + model + "' (" + settings + ")");
}

bool GateReport::tripped() const { return failures() > 0; }

int GateReport::failures() const {
  int n = 0;
  for (const auto& e : entries) n += e.disposition == Disposition::failed ? 1 : 0;
  return n;
}

GateReport compare_with_baseline(const ValidationRun& cur, const ValidationRun& base,
                                 double tolerance, double min_time_s) {
  if (!(tolerance >= 0)) throw InputError("--tolerance must be >= 0");
  check_comparable(cur.model, cur.settings, base);
  GateReport r;
  r.tolerance = tolerance;
  for (const auto& b : base.ops) {
    const OpResult* c = cur.find(b.phase, b.name);
    if (!c) {
      r.entries.push_back({b.phase, b.name, b.ratio(), 0, 0, Disposition::failed,
                           "in the baseline but missing from this run"});
      continue;
    }
    if (!comparable(b.disposition) || !comparable(c->disposition)) {
      r.entries.push_back({b.phase, b.name, b.ratio(), c->ratio(), 0, Disposition::skipped,
                           "baseline " + std::string(to_string(b.disposition)) + ", now " +
                               std::string(to_string(c->disposition))});
      continue;
    }
    if (b.measured_s < min_time_s && c->measured_s < min_time_s) {
      r.entries.push_back({b.phase, b.name, b.ratio(), c->ratio(), 0, Disposition::skipped,
                           "shorter than the gate's minimum time"});
      continue;
    }
    r.entries.push_back(judge(b.phase, b.name, b.ratio(), c->ratio(), tolerance));
  }
  for (const auto& c : cur.ops)
    if (!base.find(c.phase, c.name))
      r.entries.push_back({c.phase, c.name, 0, c.ratio(), 0, Disposition::skipped,
                           "not in the baseline"});
  const auto e2e = [&](const char* name, double bm, double bp, double cm, double cp) {
    r.entries.push_back(
        judge("end_to_end", name, safe_ratio(bm, bp), safe_ratio(cm, cp), tolerance));
  };
  if (base.device.measured() && cur.device.measured())
    r.device_bandwidth_change =
        cur.device.read_mean_bytes_per_s() / base.device.read_mean_bytes_per_s() - 1;
  e2e("ttft", base.measured.ttft_s, base.predicted.ttft_s, cur.measured.ttft_s,
      cur.predicted.ttft_s);
  e2e("tpot", base.measured.tpot_s, base.predicted.tpot_s, cur.measured.tpot_s,
      cur.predicted.tpot_s);
  e2e("output_tokens_per_s", base.measured.output_tokens_per_s,
      base.predicted.output_tokens_per_s, cur.measured.output_tokens_per_s,
      cur.predicted.output_tokens_per_s);
  return r;
}

std::string format_gate_report(const GateReport& r) {
  std::string out;
  char buf[512];
  for (const auto& e : r.entries) {
    if (e.disposition != Disposition::failed) continue;
    if (e.current_ratio > 0 && e.baseline_ratio > 0)
      std::snprintf(buf, sizeof buf,
                    "FAILED %s/%s: measured/predicted %.3g vs baseline %.3g (%+.1f %%, tolerance "
                    "%.1f %%)\n",
                    e.phase.c_str(), e.name.c_str(), e.current_ratio, e.baseline_ratio,
                    100 * e.drift, 100 * r.tolerance);
    else
      std::snprintf(buf, sizeof buf, "FAILED %s/%s: %s\n", e.phase.c_str(), e.name.c_str(),
                    e.detail.c_str());
    out += buf;
  }
  int compared = 0;
  for (const auto& e : r.entries) compared += e.disposition != Disposition::skipped ? 1 : 0;
  if (std::fabs(r.device_bandwidth_change) > 0.5 * r.tolerance) {
    std::snprintf(buf, sizeof buf,
                  "note: this machine's DRAM read bandwidth was %+.1f %% from the baseline run's: "
                  "memory-bound ratios move with it (a busy or different machine, not the model)\n",
                  100 * r.device_bandwidth_change);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "gate: %s (%d of %d compared entries drifted beyond %.1f %%)\n",
                r.tripped() ? "TRIPPED" : "ok", r.failures(), compared, 100 * r.tolerance);
  out += buf;
  return out;
}

}  // namespace llmroof::calibrate
