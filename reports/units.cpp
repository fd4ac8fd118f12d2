#include "reports/units.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace llmroof::reports {

namespace {
[[maybe_unused]] std::string fmt(const char* f, double v, const char* suffix = "") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v, suffix);
  return buf;
}
// Round to `sig` significant digits, print without trailing zeros beyond what the value needs.
std::string sig_digits(double v, int sig) {
  if (v == 0) return "0";
  const int mag = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  const int decimals = std::max(0, sig - 1 - mag);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
}  // namespace

std::string si(double value, int significant) {
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  static const char* kPrefix[] = {"", "K", "M", "G", "T", "P", "E"};
  double a = std::fabs(value);
  int i = 0;
  // Choose the prefix after rounding, so 999.7e3 prints as "1M", not "1000K".
  while (i < 6) {
    const double scaled = a / std::pow(1000.0, i);
    const int mag = scaled > 0 ? static_cast<int>(std::floor(std::log10(scaled))) : 0;
    const double rounded = std::round(scaled / std::pow(10.0, mag - significant + 1)) *
                           std::pow(10.0, mag - significant + 1);
    if (rounded < 1000.0) break;
    ++i;
  }
  return sig_digits(value / std::pow(1000.0, i), significant) + kPrefix[i];
}

std::string seconds(double s) {
  const double a = std::fabs(s);
  if (a == 0) return "0 s";
  if (a < 1e-6) return sig_digits(s * 1e9, 3) + " ns";
  if (a < 1e-3) return sig_digits(s * 1e6, 3) + " us";
  if (a < 1.0) return sig_digits(s * 1e3, 3) + " ms";
  return sig_digits(s, 3) + " s";
}

std::string bytes(double b) {
  static const char* kUnit[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  int i = 0;
  double a = std::fabs(b);
  while (a >= 999.5 && i < 5) { a /= 1000.0; ++i; }
  return sig_digits(b / std::pow(1000.0, i), 3) + " " + kUnit[i];
}

std::string bytes_binary(double b) {
  static const char* kUnit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int i = 0;
  double a = std::fabs(b);
  while (a >= 1023.5 && i < 5) { a /= 1024.0; ++i; }
  return sig_digits(b / std::pow(1024.0, i), 3) + " " + kUnit[i];
}

std::string si_unit(double value, const std::string& unit) {
  const std::string s = si(value);
  size_t i = s.size();
  while (i > 0 && std::isalpha(static_cast<unsigned char>(s[i - 1]))) --i;  // the prefix letter
  return s.substr(0, i) + " " + s.substr(i) + unit;
}

std::string bytes_per_s(double bps) { return si_unit(bps, "B/s"); }
std::string ops_per_s(double ops) { return si_unit(ops, "OPS"); }
std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
std::string percent(double fraction, int decimals) { return fixed(fraction * 100.0, decimals) + " %"; }

}  // namespace llmroof::reports
