#include "kernels/check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace llmroof::kernels {

uint64_t Rng::next() {
  uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

int64_t Rng::integer(int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<int64_t>(next() % span);
}

void fill_integers(std::span<float> x, uint64_t seed, int lo, int hi) {
  Rng rng(seed);
  for (float& v : x) v = static_cast<float>(rng.integer(lo, hi));
}

void fill_uniform(std::span<float> x, uint64_t seed, float lo, float hi) {
  Rng rng(seed);
  for (float& v : x) {
    float r = lo + static_cast<float>(rng.uniform()) * (hi - lo);
    if (std::fabs(r) < 1e-3f) r = r < 0 ? -1e-3f : 1e-3f;
    v = r;
  }
}

std::string_view to_string(Metric m) {
  switch (m) {
    case Metric::max_abs: return "max_abs";
    case Metric::max_norm: return "max_norm";
    case Metric::nmse: return "nmse";
  }
  return "?";
}

double ErrorStats::value(Metric m) const {
  switch (m) {
    case Metric::max_abs: return max_abs;
    case Metric::max_norm: return max_ref > 0 ? max_abs / max_ref : max_abs;
    case Metric::nmse: return sq_ref > 0 ? sq_err / sq_ref : sq_err;
  }
  return 0;
}

ErrorStats error_stats(std::span<const float> got, std::span<const float> ref) {
  ErrorStats s;
  s.n = static_cast<int64_t>(std::min(got.size(), ref.size()));
  for (int64_t i = 0; i < s.n; ++i) {
    const double g = got[i], r = ref[i];
    if (std::isnan(g)) { ++s.nan; continue; }
    if (std::isinf(g)) { ++s.inf; continue; }
    if (!std::isfinite(r)) continue;
    if (r == 0) ++s.ref_zeros;
    if (g == 0) ++s.got_zeros;
    const double d = std::fabs(g - r);
    if (d > s.max_abs) { s.max_abs = d; s.worst_index = i; }
    s.max_ref = std::max(s.max_ref, std::fabs(r));
    s.sq_err += d * d;
    s.sq_ref += r * r;
  }
  return s;
}

CheckResult check_close(std::span<const float> got, std::span<const float> ref, const Tolerance& tol) {
  CheckResult c;
  c.metric = std::string(to_string(tol.metric));
  c.tolerance = tol.bound;
  if (got.size() != ref.size() || got.empty()) {
    c.disposition = Disposition::failed;
    c.detail = "output size " + std::to_string(got.size()) + " != reference size " +
               std::to_string(ref.size());
    return c;
  }
  const ErrorStats s = error_stats(got, ref);
  c.error = s.value(tol.metric);
  const bool ref_bad = std::any_of(ref.begin(), ref.end(), [](float r) { return !std::isfinite(r); });
  char buf[160];
  if (s.nan || s.inf) {
    c.disposition = Disposition::failed;
    std::snprintf(buf, sizeof buf, "%lld NaN and %lld Inf in the output", (long long)s.nan,
                  (long long)s.inf);
    c.detail = buf;
  } else if (ref_bad) {
    c.disposition = Disposition::mistrusted;
    c.detail = "reference output holds NaN/Inf";
  } else if (static_cast<double>(s.ref_zeros) > tol.max_zero_fraction * static_cast<double>(s.n)) {
    c.disposition = Disposition::mistrusted;
    std::snprintf(buf, sizeof buf, "%lld of %lld reference outputs are zero", (long long)s.ref_zeros,
                  (long long)s.n);
    c.detail = buf;
  } else if (!(c.error <= tol.bound)) {
    c.disposition = Disposition::failed;
    std::snprintf(buf, sizeof buf, "worst at index %lld: got %.9g, reference %.9g",
                  (long long)s.worst_index, got[s.worst_index], ref[s.worst_index]);
    c.detail = buf;
  } else {
    c.disposition = Disposition::passed;
  }
  return c;
}

namespace {
int severity(Disposition d) {
  switch (d) {
    case Disposition::passed: return 0;
    case Disposition::skipped: return 1;
    case Disposition::unsupported: return 2;
    case Disposition::mistrusted: return 3;
    case Disposition::failed: return 4;
  }
  return 4;
}
}  // namespace

CheckResult worse_of(const CheckResult& a, const CheckResult& b) {
  if (severity(b.disposition) > severity(a.disposition)) return b;
  if (severity(a.disposition) > severity(b.disposition)) return a;
  return b.error / std::max(b.tolerance, 1e-300) > a.error / std::max(a.tolerance, 1e-300) ? b : a;
}

}  // namespace llmroof::kernels
