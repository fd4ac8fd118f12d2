#pragma once
// Strict reading of one YAML map: unknown keys, duplicate keys, missing keys, wrong types and
// out-of-range numbers are InputErrors that point at the input. A wrong type is never read as
// "missing", quoted scalars are strings (never numbers), and booleans are only true/false.
// Private to io/: the public surface is io/catalog.hpp.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmroof::yamlio {

// The file being read: its name (for messages) and its text (for the excerpt under the message).
struct Document {
  std::string_view filename;
  std::string_view text;
  [[noreturn]] void fail(const YAML::Mark& mark, std::string_view message) const;
};

// Parses text into a node; YAML syntax errors become InputErrors with file:line:col.
YAML::Node load(const Document& doc);

class MapReader {
 public:
  // `path` is the dotted name of this map for messages ("" at the top level, "moe", ...).
  // `key_mark` is where the map's own key is (messages about missing keys point there).
  MapReader(const Document& doc, YAML::Node node, std::string path, std::vector<std::string> known,
            YAML::Mark key_mark);

  bool has(std::string_view key) const;
  YAML::Mark mark(std::string_view key) const;        // the value's mark (the map's when absent)
  YAML::Mark key_mark(std::string_view key) const;    // the key's mark
  std::string field(std::string_view key) const;      // "moe.num_experts"

  std::string string(std::string_view key) const;     // required, non-empty
  std::optional<std::string> opt_string(std::string_view key) const;
  bool boolean(std::string_view key) const;
  std::optional<bool> opt_boolean(std::string_view key) const;
  int64_t positive_int(std::string_view key) const;
  std::optional<int64_t> opt_positive_int(std::string_view key) const;
  std::optional<int64_t> opt_nonnegative_int(std::string_view key) const;
  double positive_number(std::string_view key) const;  // finite and > 0
  // One of `choices`; otherwise an error listing them (with a did-you-mean).
  std::string choice(std::string_view key, const std::vector<std::string>& choices) const;
  std::optional<std::string> opt_choice(std::string_view key,
                                        const std::vector<std::string>& choices) const;
  // A nested map, checked against its own known keys.
  MapReader map(std::string_view key, std::vector<std::string> known) const;
  // The scalar text of a present key, as written ("1.5").
  std::string raw(std::string_view key) const;
  // The keys present, in file order.
  std::vector<std::string> keys() const;

  [[noreturn]] void fail_at(std::string_view key, std::string_view message) const;
  [[noreturn]] void fail_missing(std::string_view key) const;
  const Document& doc() const { return doc_; }

 private:
  YAML::Node require(std::string_view key) const;
  YAML::Node scalar(std::string_view key, std::string_view expected) const;

  const Document& doc_;
  YAML::Node node_;
  std::string path_;
  YAML::Mark own_mark_;
};

// A double-quoted YAML scalar (backslash and quote escaped), for writers.
std::string quote(std::string_view s);

// `s` as a plain scalar when it is a simple name (letters, digits, . _ - /) that YAML reads back as
// the same string, else quoted.
std::string scalar_text(std::string_view s);

// How a node that is not what was expected reads in a message: "a list", "null", "'abc'".
std::string describe(const YAML::Node& n);

}  // namespace llmroof::yamlio
