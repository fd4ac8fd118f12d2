#include "reports/result_table.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "reports/units.hpp"

namespace llmroof::reports {

namespace {

std::string shortest(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  // Shortest round-trip digits; plain notation in the range people read (bytes, tokens/s), so a
  // spreadsheet or a diff shows 4500000000, not 4.5e+09.
  char buf[64];
  const double a = std::fabs(v);
  const auto fmt =
      a == 0 || (a >= 1e-6 && a < 1e16) ? std::chars_format::fixed : std::chars_format::general;
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v, fmt);
  return ec == std::errc() ? std::string(buf, ptr) : std::string("nan");
}

bool numeric(Unit u) { return u != Unit::text && u != Unit::flag; }

}  // namespace

std::string rate_text(double v, const std::string& unit) { return si_unit(v, unit); }

std::string human(const Cell& c, Unit u) {
  if (std::holds_alternative<std::monostate>(c)) return "-";
  if (auto s = std::get_if<std::string>(&c)) return *s;
  if (auto b = std::get_if<bool>(&c)) return *b ? "yes" : "no";
  const double v = std::get<double>(c);
  switch (u) {
    case Unit::count:
      return fixed(v, 0);
    case Unit::seconds:
      return seconds(v);
    case Unit::bytes:
      return bytes(v);
    case Unit::ops_per_s:
      return rate_text(v, "OPS");
    case Unit::bytes_per_s:
      return rate_text(v, "B/s");
    case Unit::fraction:
      return percent(v);
    case Unit::tokens_per_s:
    case Unit::requests_per_s:
    case Unit::ops:
    case Unit::ops_per_byte:
    case Unit::text:
    case Unit::flag:
      return si(v);
  }
  return si(v);
}

std::string si_text(const Cell& c, Unit) {
  if (std::holds_alternative<std::monostate>(c)) return "";
  if (auto s = std::get_if<std::string>(&c)) return *s;
  if (auto b = std::get_if<bool>(&c)) return *b ? "true" : "false";
  return shortest(std::get<double>(c));
}

SheetUnit sheet_unit(Unit u) {
  switch (u) {
    case Unit::seconds:
      return {"ms", 1e3};
    case Unit::bytes:
      return {"GB", 1e-9};
    case Unit::tokens_per_s:
      return {"tokens/s", 1};
    case Unit::requests_per_s:
      return {"requests/s", 1};
    case Unit::ops:
      return {"GOP", 1e-9};
    case Unit::ops_per_s:
      return {"TOPS", 1e-12};
    case Unit::bytes_per_s:
      return {"GB/s", 1e-9};
    case Unit::ops_per_byte:
      return {"OPs/byte", 1};
    case Unit::fraction:
      return {"%", 100};
    case Unit::count:
    case Unit::text:
    case Unit::flag:
      return {"", 1};
  }
  return {"", 1};
}

SheetUnit sheet_unit(const Column& c) {
  return c.sheet_scale > 0 ? SheetUnit{c.sheet_label, c.sheet_scale} : sheet_unit(c.unit);
}

std::string to_text(const ResultTable& t) {
  const size_t n = t.columns.size();
  std::vector<std::vector<std::string>> cells;
  cells.reserve(t.rows.size() + 1);
  std::vector<std::string> head;
  for (const auto& c : t.columns) head.push_back(c.title);
  cells.push_back(std::move(head));
  for (const auto& row : t.rows) {
    std::vector<std::string> line;
    for (size_t i = 0; i < n; ++i) line.push_back(human(row[i], t.columns[i].unit));
    cells.push_back(std::move(line));
  }
  std::vector<size_t> width(n, 0);
  for (const auto& line : cells)
    for (size_t i = 0; i < n; ++i) width[i] = std::max(width[i], line[i].size());
  std::string out;
  for (const auto& line : cells) {
    std::string text;
    for (size_t i = 0; i < n; ++i) {
      const size_t pad = width[i] - line[i].size();
      const bool right = numeric(t.columns[i].unit);
      if (i) text += "  ";
      text += right ? std::string(pad, ' ') + line[i] : line[i] + std::string(pad, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  return out;
}

std::string to_markdown(const ResultTable& t) {
  std::string out = "|";
  for (const auto& c : t.columns) out += " " + c.title + " |";
  out += "\n|";
  for (const auto& c : t.columns) out += numeric(c.unit) ? "---:|" : "---|";
  out += "\n";
  for (const auto& row : t.rows) {
    out += "|";
    for (size_t i = 0; i < t.columns.size(); ++i) {
      std::string s = human(row[i], t.columns[i].unit);
      // A pipe inside a cell would end it.
      for (size_t p = 0; (p = s.find('|', p)) != std::string::npos; p += 2) s.replace(p, 1, "\\|");
      out += " " + s + " |";
    }
    out += "\n";
  }
  return out;
}

std::string to_csv(const ResultTable& t) {
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  std::string out;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (i) out += ',';
    out += t.columns[i].key;
  }
  out += "\n";
  for (const auto& row : t.rows) {
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (i) out += ',';
      out += quote(si_text(row[i], t.columns[i].unit));
    }
    out += "\n";
  }
  return out;
}

void append_joined(std::string& out, std::string_view sep, std::string_view item) {
  if (!out.empty()) out += sep;
  out += item;
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string html_table(const ResultTable& t, const std::string& css_class) {
  // Wide tables scroll sideways inside their own box instead of widening the page.
  std::string out = "<div class=\"scroll\">";
  out += css_class.empty() ? "<table>" : "<table class=\"" + css_class + "\">";
  out += "<thead><tr>";
  for (const auto& c : t.columns)
    out += std::string(numeric(c.unit) ? "<th class=\"num\">" : "<th>") + html_escape(c.title) +
           "</th>";
  out += "</tr></thead><tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (size_t i = 0; i < t.columns.size(); ++i)
      out += std::string(numeric(t.columns[i].unit) ? "<td class=\"num\">" : "<td>") +
             html_escape(human(row[i], t.columns[i].unit)) + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

}  // namespace llmroof::reports
