#pragma once
// A typed table: the one results model every sweep / plan / layer printer reads. Cells hold SI
// values; each column knows its unit, so text, Markdown and HTML scale to human units
// (reports/units.hpp), CSV and JSON keep SI base units, and XLSX writes typed numbers in the
// spreadsheet unit its header names (ms, GB, ...). One place decides how a unit is shown.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace llmroof::reports {

enum class Unit {
  text,            // a string (names, formats)
  count,           // an integer (batch, tp, tokens)
  seconds,         // s
  bytes,           // B
  tokens_per_s,    // tokens/s
  requests_per_s,  // requests/s
  ops,             // operations (a multiply-add counts 2)
  ops_per_s,       // OPS
  bytes_per_s,     // B/s
  ops_per_byte,    // arithmetic intensity
  flag,            // yes / no
  fraction,        // 0..1, shown as a percentage
};

struct Column {
  std::string key;    // CSV / JSON name, SI unit in the name: "ttft_s", "memory_per_device_bytes"
  std::string title;  // human header: "TTFT"
  Unit unit = Unit::text;
  // Spreadsheet unit when the default of sheet_unit(unit) reads badly (per-layer bytes in MB,
  // not GB): label and factor from SI; scale 0 = use the default.
  std::string sheet_label = {};
  double sheet_scale = 0;
};

// monostate = no value (a refused configuration has no TTFT).
using Cell = std::variant<std::monostate, std::string, double, bool>;

struct ResultTable {
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;
};

// A rate with its SI prefix and unit, spaced for reading: (1.55e14, "OPS") -> "155 TOPS".
std::string rate_text(double v, const std::string& unit);
// Human text of a cell: "12.3 ms", "13.5 GB", "1.23K", "yes".
std::string human(const Cell& c, Unit u);
// SI text for CSV: shortest round-trip decimal ("0.0123"), "true"/"false", "" for no value.
std::string si_text(const Cell& c, Unit u);
// Spreadsheet unit and the factor from SI: seconds -> ("ms", 1e3), bytes -> ("GB", 1e-9).
struct SheetUnit {
  std::string label;  // "" for unitless columns
  double scale = 1;
};
SheetUnit sheet_unit(Unit u);
SheetUnit sheet_unit(const Column& c);  // honours the column's override

std::string to_text(const ResultTable& t);      // aligned columns, two spaces apart
std::string to_markdown(const ResultTable& t);  // GitHub table, numbers right-aligned
std::string to_csv(const ResultTable& t);       // header of keys, RFC 4180 quoting
std::string html_table(const ResultTable& t, const std::string& css_class = "");
// Appends `item` to `out`, preceded by `sep` unless `out` is empty ("a, b, c" lists).
void append_joined(std::string& out, std::string_view sep, std::string_view item);
// Escapes &, <, >, " for HTML text and attributes.
std::string html_escape(const std::string& s);

}  // namespace llmroof::reports
