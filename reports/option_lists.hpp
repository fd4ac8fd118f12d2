#pragma once
// Parsing of list, range and duration options for `llmroof sweep` and `llmroof plan`.
// Every error is an InputError that names the option and quotes the offending item, e.g.
//   --batch: '1-x' is not a number or a range (expected N, A-B, A-B:xF or A-B:+S)
// Syntax (docs/reports.md):
//   integer lists  "1,2,4,8"        items separated by commas
//   ranges         "1-256:x2"       geometric: 1,2,4,...,256 (each item multiplied by F >= 2)
//                  "128-1024:+128"  arithmetic: 128,256,...,1024
//                  "1-8"            every integer from 1 to 8
//   Ranges include A, never exceed B, and may be mixed with items: "1,3,8-64:x2".
//   The result is sorted ascending with duplicates removed, so the order of rows never depends on
//   how the list was typed.
//   durations      "500ms", "0.5s", "50ms", "200us"  (a unit is required: ns, us, ms, s)
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmroof::reports {

// Largest list a single option may expand to (a typo like "1-100000000" must not eat the memory).
inline constexpr int64_t kMaxListItems = 100000;

// Positive integers (>= 1). `option` is the option name used in error messages ("--batch").
std::vector<int64_t> parse_int_list(std::string_view text, std::string_view option);
// Comma-separated names (hardware ids, weight formats), duplicates removed, order kept; empty items
// are an error.
std::vector<std::string> parse_name_list(std::string_view text, std::string_view option);
// A duration with a unit, returned in seconds; must be > 0.
double parse_duration_s(std::string_view text, std::string_view option);
// A positive finite number (e.g. a request rate in requests/s).
double parse_positive_number(std::string_view text, std::string_view option);

}  // namespace llmroof::reports
