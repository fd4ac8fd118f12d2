#include "io/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <set>

#include "io/diagnostics.hpp"
#include "io/errors.hpp"

namespace llmroof::yamlio {
namespace {

bool is_quoted(const YAML::Node& n) { return n.Tag() == "!"; }  // yaml-cpp tags quoted scalars "!"

std::optional<int64_t> to_int(const std::string& s) {
  int64_t v = 0;
  const char* first = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || first == s.data() + s.size())
    return std::nullopt;
  return v;
}

std::optional<double> to_double(const std::string& s) {
  // YAML 1.2 spellings of the non-finite floats, so they are reported as such, not as bad types.
  static const std::set<std::string> inf = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"};
  static const std::set<std::string> ninf = {"-.inf", "-.Inf", "-.INF"};
  static const std::set<std::string> nan = {".nan", ".NaN", ".NAN"};
  if (inf.count(s)) return HUGE_VAL;
  if (ninf.count(s)) return -HUGE_VAL;
  if (nan.count(s)) return std::nan("");
  double v = 0;
  const char* first = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || first == s.data() + s.size())
    return std::nullopt;
  return v;
}

}  // namespace

void Document::fail(const YAML::Mark& mark, std::string_view message) const {
  // yaml-cpp marks are 0-based; a null mark (-1) has no position.
  int line = mark.line >= 0 ? mark.line + 1 : 0;
  int col = mark.column >= 0 ? mark.column + 1 : 0;
  throw InputError(diag::located(filename, text, line, col, message));
}

YAML::Node load(const Document& doc) {
  try {
    return YAML::Load(std::string(doc.text));
  } catch (const YAML::ParserException& e) {
    doc.fail(e.mark, "invalid YAML: " + e.msg);
  }
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string scalar_text(std::string_view s) {
  static const std::set<std::string_view> special = {"true", "false", "null", "yes", "no",
                                                     "on",   "off",   "~"};
  bool plain = !s.empty() && !special.count(s) && (std::isalpha(static_cast<unsigned char>(s[0])));
  for (char c : s)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                      c == '-' || c == '/');
  return plain ? std::string(s) : quote(s);
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Undefined: return "nothing";
    case YAML::NodeType::Scalar:
      return is_quoted(n) ? "the string \"" + n.Scalar() + "\"" : "'" + n.Scalar() + "'";
  }
  return "?";
}

MapReader::MapReader(const Document& doc, YAML::Node node, std::string path,
                     std::vector<std::string> known, YAML::Mark key_mark)
    : doc_(doc), node_(node), path_(std::move(path)), own_mark_(key_mark) {
  if (!node_.IsMap()) {
    const std::string what = path_.empty() ? "the document" : "'" + path_ + "'";
    const bool empty_doc = path_.empty() && node_.IsNull();
    YAML::Mark m = node_.IsDefined() && !node_.IsNull() ? node_.Mark() : own_mark_;
    if (m.line < 0) m = YAML::Mark();
    doc_.fail(m, what + " must be a map of fields, got " +
                     (empty_doc ? std::string("an empty document") : describe(node_)));
  }
  if (path_.empty()) own_mark_ = node_.Mark();
  std::set<std::string> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const YAML::Node& k = it->first;
    if (!k.IsScalar()) doc_.fail(k.Mark(), "keys must be plain names, got " + describe(k));
    const std::string& name = k.Scalar();
    if (!seen.insert(name).second) doc_.fail(k.Mark(), "duplicate key '" + name + "'");
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string msg = "unknown key '" + name + "'" + (path_.empty() ? "" : " in '" + path_ + "'");
    std::string guess = diag::closest(name, known);
    if (!guess.empty()) msg += " (did you mean '" + guess + "'?)";
    doc_.fail(k.Mark(), msg);
  }
}

bool MapReader::has(std::string_view key) const { return bool(node_[std::string(key)]); }

YAML::Mark MapReader::key_mark(std::string_view key) const {
  for (auto it = node_.begin(); it != node_.end(); ++it)
    if (it->first.Scalar() == key) return it->first.Mark();
  return own_mark_;
}

YAML::Mark MapReader::mark(std::string_view key) const {
  YAML::Node n = node_[std::string(key)];
  if (!n) return own_mark_;
  // A null value has no useful position of its own: point at its key.
  return n.IsNull() || n.Mark().line < 0 ? key_mark(key) : n.Mark();
}

std::string MapReader::field(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void MapReader::fail_at(std::string_view key, std::string_view message) const {
  doc_.fail(mark(key), message);
}

void MapReader::fail_missing(std::string_view key) const {
  doc_.fail(own_mark_, "missing required key '" + field(key) + "'");
}

YAML::Node MapReader::require(std::string_view key) const {
  YAML::Node n = node_[std::string(key)];
  if (!n) fail_missing(key);
  return n;
}

YAML::Node MapReader::scalar(std::string_view key, std::string_view expected) const {
  YAML::Node n = require(key);
  if (!n.IsScalar())
    fail_at(key, "'" + field(key) + "' must be " + std::string(expected) + ", got " + describe(n));
  return n;
}

std::string MapReader::string(std::string_view key) const {
  YAML::Node n = scalar(key, "a string");
  if (n.Scalar().empty()) fail_at(key, "'" + field(key) + "' must not be empty");
  return n.Scalar();
}

std::optional<std::string> MapReader::opt_string(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return string(key);
}

bool MapReader::boolean(std::string_view key) const {
  YAML::Node n = scalar(key, "true or false");
  if (!is_quoted(n) && n.Scalar() == "true") return true;
  if (!is_quoted(n) && n.Scalar() == "false") return false;
  fail_at(key, "'" + field(key) + "' must be true or false, got " + describe(n));
}

std::optional<bool> MapReader::opt_boolean(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return boolean(key);
}

int64_t MapReader::positive_int(std::string_view key) const {
  YAML::Node n = scalar(key, "an integer");
  auto v = is_quoted(n) ? std::nullopt : to_int(n.Scalar());
  if (!v) fail_at(key, "'" + field(key) + "' must be an integer, got " + describe(n));
  if (*v <= 0)
    fail_at(key, "'" + field(key) + "' must be positive, got " + std::to_string(*v));
  return *v;
}

std::optional<int64_t> MapReader::opt_positive_int(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return positive_int(key);
}

std::optional<int64_t> MapReader::opt_nonnegative_int(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  YAML::Node n = scalar(key, "an integer");
  auto v = is_quoted(n) ? std::nullopt : to_int(n.Scalar());
  if (!v) fail_at(key, "'" + field(key) + "' must be an integer, got " + describe(n));
  if (*v < 0)
    fail_at(key, "'" + field(key) + "' must not be negative, got " + std::to_string(*v));
  return *v;
}

double MapReader::positive_number(std::string_view key) const {
  YAML::Node n = scalar(key, "a number");
  auto v = is_quoted(n) ? std::nullopt : to_double(n.Scalar());
  if (!v) fail_at(key, "'" + field(key) + "' must be a number, got " + describe(n));
  if (!std::isfinite(*v))
    fail_at(key, "'" + field(key) + "' must be a finite number, got " + n.Scalar());
  if (*v <= 0) fail_at(key, "'" + field(key) + "' must be positive, got " + n.Scalar());
  return *v;
}

std::string MapReader::choice(std::string_view key, const std::vector<std::string>& choices) const {
  YAML::Node n = scalar(key, "one of " + diag::join(choices));
  const std::string& s = n.Scalar();
  if (std::find(choices.begin(), choices.end(), s) != choices.end()) return s;
  std::string msg =
      "'" + field(key) + "' must be one of " + diag::join(choices) + ", got " + describe(n);
  std::string guess = diag::closest(s, choices);
  if (!guess.empty()) msg += " (did you mean '" + guess + "'?)";
  fail_at(key, msg);
}

std::optional<std::string> MapReader::opt_choice(std::string_view key,
                                                 const std::vector<std::string>& choices) const {
  if (!has(key)) return std::nullopt;
  return choice(key, choices);
}

MapReader MapReader::map(std::string_view key, std::vector<std::string> known) const {
  YAML::Node n = require(key);
  return MapReader(doc_, n, field(key), std::move(known), key_mark(key));
}

std::string MapReader::raw(std::string_view key) const {
  YAML::Node n = node_[std::string(key)];
  return n && n.IsScalar() ? n.Scalar() : describe(n);
}

std::vector<std::string> MapReader::keys() const {
  std::vector<std::string> out;
  for (auto it = node_.begin(); it != node_.end(); ++it) out.push_back(it->first.Scalar());
  return out;
}

}  // namespace llmroof::yamlio
