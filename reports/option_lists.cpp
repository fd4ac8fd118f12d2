#include "reports/option_lists.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "io/errors.hpp"

namespace llmroof::reports {

namespace {

[[noreturn]] void fail(std::string_view option, std::string_view item, std::string_view why) {
  throw InputError(std::string(option) + ": '" + std::string(item) + "' " + std::string(why));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t pos = text.find(sep, start);
    out.push_back(trim(text.substr(start, pos == std::string_view::npos ? pos : pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> to_double(std::string_view s) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

constexpr const char* kListSyntax = "(expected N, A-B, A-B:xF or A-B:+S, e.g. 1,2,4 or 1-256:x2)";

int64_t positive(std::string_view option, std::string_view item, std::string_view text) {
  auto v = to_int(text);
  if (!v) fail(option, item, std::string("is not a number or a range ") + kListSyntax);
  if (*v < 1) fail(option, item, "must be a positive integer");
  return *v;
}

// Expands one "A-B[:xF|:+S]" item into `out`.
void expand_range(std::string_view option, std::string_view item, std::vector<int64_t>& out) {
  std::string_view bounds = item, step;
  if (auto colon = item.find(':'); colon != std::string_view::npos) {
    bounds = item.substr(0, colon);
    step = item.substr(colon + 1);
  }
  const size_t dash = bounds.find('-');
  const int64_t lo = positive(option, item, trim(bounds.substr(0, dash)));
  const int64_t hi = positive(option, item, trim(bounds.substr(dash + 1)));
  if (hi < lo) fail(option, item, "is an empty range (end before start)");
  bool geometric = false;
  int64_t by = 1;
  if (!step.empty()) {
    if (step.front() != 'x' && step.front() != '+')
      fail(option, item, std::string("has a step that is neither xF nor +S ") + kListSyntax);
    geometric = step.front() == 'x';
    auto v = to_int(step.substr(1));
    if (!v) fail(option, item, std::string("has a step that is not an integer ") + kListSyntax);
    by = *v;
    if (geometric && by < 2) fail(option, item, "needs a factor of at least 2 after 'x'");
    if (!geometric && by < 1) fail(option, item, "needs a step of at least 1 after '+'");
  }
  for (int64_t v = lo; v <= hi;) {
    out.push_back(v);
    if (static_cast<int64_t>(out.size()) > kMaxListItems)
      fail(option, item, "expands to more than " + std::to_string(kMaxListItems) + " values");
    if (geometric ? v > hi / by : v > hi - by) break;  // next step would pass hi (or overflow)
    v = geometric ? v * by : v + by;
  }
}

}  // namespace

std::vector<int64_t> parse_int_list(std::string_view text, std::string_view option) {
  std::vector<int64_t> out;
  if (trim(text).empty()) fail(option, text, "is empty (expected a list such as 1,2,4)");
  for (std::string_view item : split(text, ',')) {
    if (item.empty()) fail(option, text, "has an empty item (two commas in a row?)");
    if (item.find('-') != std::string_view::npos && item.front() != '-')
      expand_range(option, item, out);
    else
      out.push_back(positive(option, item, item));
    if (static_cast<int64_t>(out.size()) > kMaxListItems)
      fail(option, text, "expands to more than " + std::to_string(kMaxListItems) + " values");
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> parse_name_list(std::string_view text, std::string_view option) {
  std::vector<std::string> out;
  if (trim(text).empty())
    fail(option, text, "is empty (expected a name or a comma-separated list)");
  for (std::string_view item : split(text, ',')) {
    if (item.empty()) fail(option, text, "has an empty name (two commas in a row?)");
    if (std::find(out.begin(), out.end(), item) == out.end()) out.emplace_back(item);
  }
  return out;
}

double parse_duration_s(std::string_view text, std::string_view option) {
  const std::string_view s = trim(text);
  struct Unit {
    std::string_view suffix;
    double scale;
  };
  // Longest suffixes first so "ms" is not read as "s".
  static constexpr Unit kUnits[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1.0}};
  for (const Unit& u : kUnits) {
    if (s.size() <= u.suffix.size() || !s.ends_with(u.suffix)) continue;
    auto v = to_double(trim(s.substr(0, s.size() - u.suffix.size())));
    if (!v) break;
    if (*v <= 0) fail(option, text, "must be a positive duration");
    return *v * u.scale;
  }
  fail(option, text,
       "is not a duration (expected a number with a unit: 500ms, 0.5s, 200us, 1e6ns)");
}

double parse_positive_number(std::string_view text, std::string_view option) {
  auto v = to_double(trim(text));
  if (!v) fail(option, text, "is not a number");
  if (*v <= 0) fail(option, text, "must be positive");
  return *v;
}

}  // namespace llmroof::reports
