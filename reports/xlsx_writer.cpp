#include "reports/xlsx_writer.hpp"

#include <xlsxwriter.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>

#include "io/errors.hpp"
#include "reports/analysis_tables.hpp"
#include "reports/output_file.hpp"
#include "reports/sweep_printers.hpp"

namespace llmroof::reports {

namespace {

// Display format per unit; the cell keeps full precision whatever is shown.
const char* number_format(Unit u) {
  switch (u) {
    case Unit::count:
      return "0";
    case Unit::tokens_per_s:
      return "#,##0.0";
    case Unit::bytes_per_s:
    case Unit::ops:
      return "#,##0.0";
    case Unit::ops_per_s:
    case Unit::fraction:
      return "0.0";
    case Unit::ops_per_byte:
      return "0.00";
    case Unit::seconds:
    case Unit::bytes:
    case Unit::requests_per_s:
      return "#,##0.000";
    case Unit::text:
    case Unit::flag:
      return "General";
  }
  return "General";
}

class Workbook {
 public:
  explicit Workbook(const std::string& path) : path_(path) {
    // Probe first: libxlsxwriter only notices an unwritable path at close, and prints to stderr.
    errno = 0;
    if (!std::ofstream(path, std::ios::binary)) throw_cannot_open(path);
    wb_ = workbook_new(path.c_str());
    if (!wb_) throw InputError("-o " + path + ": cannot create the workbook");
    // A fixed creation date (2000-01-01T00:00:00Z; 0 would mean "now") makes the same report the
    // same bytes, as every other format is: a CI job can diff or cache workbooks.
    lxw_doc_properties props = {};
    props.author = const_cast<char*>("llmroof");
    props.created = 946684800;
    workbook_set_properties(wb_, &props);
    header_ = workbook_add_format(wb_);
    format_set_bold(header_);
    format_set_bottom(header_, LXW_BORDER_THIN);
    format_set_bg_color(header_, 0xDDE4EE);
    format_set_text_wrap(header_);
    format_set_align(header_, LXW_ALIGN_VERTICAL_TOP);
    section_ = workbook_add_format(wb_);
    format_set_bold(section_);
  }
  ~Workbook() {
    if (wb_) workbook_close(wb_);  // only after a failure: close() below nulls wb_
  }
  Workbook(const Workbook&) = delete;
  Workbook& operator=(const Workbook&) = delete;

  void close() {
    const lxw_error err = workbook_close(wb_);
    wb_ = nullptr;
    if (err != LXW_NO_ERROR)
      throw InputError("-o " + path_ + ": cannot write the workbook (" + lxw_strerror(err) + ")");
  }

  lxw_format* number(Unit u) {
    auto [it, fresh] = numbers_.try_emplace(number_format(u), nullptr);
    if (fresh) {
      it->second = workbook_add_format(wb_);
      format_set_num_format(it->second, it->first.c_str());
    }
    return it->second;
  }

  // A sheet holding one typed table: header with units, frozen, filtered, sensible widths.
  void table_sheet(const std::string& name, const ResultTable& t) {
    lxw_worksheet* ws = workbook_add_worksheet(wb_, name.c_str());
    std::vector<double> width(t.columns.size(), 8);
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const SheetUnit su = sheet_unit(t.columns[c]);
      const std::string head =
          su.label.empty() ? t.columns[c].title : t.columns[c].title + " (" + su.label + ")";
      worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), head.c_str(), header_);
      width[c] = std::max(width[c], std::min<double>(28, head.size() * 0.9 + 2));
    }
    for (size_t r = 0; r < t.rows.size(); ++r)
      for (size_t c = 0; c < t.columns.size(); ++c) {
        const double w = write_cell(ws, static_cast<lxw_row_t>(r + 1), static_cast<lxw_col_t>(c),
                                    t.rows[r][c], t.columns[c]);
        width[c] = std::max(width[c], std::min(60.0, w));
      }
    for (size_t c = 0; c < t.columns.size(); ++c)
      worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c), width[c],
                           nullptr);
    worksheet_set_row(ws, 0, 32, nullptr);
    worksheet_freeze_panes(ws, 1, 0);
    if (!t.columns.empty())
      worksheet_autofilter(ws, 0, 0, static_cast<lxw_row_t>(t.rows.size()),
                           static_cast<lxw_col_t>(t.columns.size() - 1));
  }

  // Labelled values: Section | Quantity | Value | Unit | Source, numbers typed in the sheet unit.
  void facts_sheet(const std::string& name, const std::vector<Fact>& facts) {
    lxw_worksheet* ws = workbook_add_worksheet(wb_, name.c_str());
    const char* heads[] = {"Section", "Quantity", "Value", "Unit", "Source"};
    const double widths[] = {22, 36, 16, 10, 80};
    for (lxw_col_t c = 0; c < 5; ++c) {
      worksheet_write_string(ws, 0, c, heads[c], header_);
      worksheet_set_column(ws, c, c, widths[c], nullptr);
    }
    for (size_t i = 0; i < facts.size(); ++i) {
      const Fact& f = facts[i];
      const auto row = static_cast<lxw_row_t>(i + 1);
      worksheet_write_string(ws, row, 0, f.section.c_str(), section_);
      worksheet_write_string(ws, row, 1, f.name.c_str(), nullptr);
      const Column col{"value", "Value", f.unit};
      write_cell(ws, row, 2, f.value, col);
      if (std::holds_alternative<double>(f.value))
        worksheet_write_string(ws, row, 3, sheet_unit(f.unit).label.c_str(), nullptr);
      if (!f.source.empty()) worksheet_write_string(ws, row, 4, f.source.c_str(), nullptr);
    }
    worksheet_freeze_panes(ws, 1, 0);
    worksheet_autofilter(ws, 0, 0, static_cast<lxw_row_t>(facts.size()), 4);
  }

 private:
  // Writes one cell; returns the width its text needs (for column sizing).
  double write_cell(lxw_worksheet* ws, lxw_row_t r, lxw_col_t c, const Cell& cell,
                    const Column& col) {
    if (auto s = std::get_if<std::string>(&cell)) {
      if (!s->empty()) worksheet_write_string(ws, r, c, s->c_str(), nullptr);
      return static_cast<double>(s->size()) + 2;
    }
    if (auto b = std::get_if<bool>(&cell)) {
      worksheet_write_boolean(ws, r, c, *b ? 1 : 0, nullptr);
      return 7;
    }
    if (auto d = std::get_if<double>(&cell)) {
      worksheet_write_number(ws, r, c, *d * sheet_unit(col).scale, number(col.unit));
      return 12;
    }
    return 4;  // no value: an empty cell, not a "-" string, so numeric filters keep working
  }

  std::string path_;
  lxw_workbook* wb_ = nullptr;
  lxw_format* header_ = nullptr;
  lxw_format* section_ = nullptr;
  std::map<std::string, lxw_format*> numbers_;
};

std::vector<Fact> hardware_and_settings(const std::vector<HardwareSpec>& hws,
                                        std::vector<Fact> head) {
  for (const auto& hw : hws) {
    auto f = hardware_facts(hw);
    head.insert(head.end(), f.begin(), f.end());
  }
  return head;
}

Fact fact(std::string section, std::string name, Cell v, Unit u = Unit::text) {
  return Fact{std::move(section), std::move(name), std::move(v), u, ""};
}

std::string list_text(const std::vector<int64_t>& v) {
  std::string s;
  for (int64_t x : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(x);
  }
  return s;
}

}  // namespace

void write_analysis_xlsx(const Analysis& a, const HardwareSpec& hw, const std::string& path) {
  Workbook wb(path);
  std::vector<Fact> summary = {fact("Run", "Model", a.model_name),
                               fact("Run", "Hardware", a.hardware_name)};
  for (auto& f : totals_facts(a)) summary.push_back(std::move(f));
  for (const auto& w : a.warnings) summary.push_back(fact("Warnings", "Warning", w));
  wb.facts_sheet("Summary", summary);
  wb.table_sheet("Prefill layers", layer_table(a.prefill));
  wb.table_sheet("Decode layers", layer_table(a.decode));
  std::vector<Fact> facts = settings_facts(a.settings);
  facts.push_back(fact("Settings", "Decode rows evaluated at context",
                       Cell{static_cast<double>(a.decode.context_len)}, Unit::count));
  wb.facts_sheet("Hardware & settings", hardware_and_settings({hw}, std::move(facts)));
  wb.close();
}

void write_sweep_xlsx(const SweepResult& r, const std::string& path) {
  Workbook wb(path);
  const ResultTable all = sweep_table(r, Audience::machine);
  // Summary: per hardware, the fitting row with the most tokens/s per device.
  ResultTable best{all.columns, {}};
  for (size_t h = 0; h < r.hardware.size(); ++h) {
    const SweepRow* top = nullptr;
    size_t top_i = 0;
    for (size_t i = 0; i < r.rows.size(); ++i) {
      const SweepRow& row = r.rows[i];
      if (row.hardware != static_cast<int>(h) || !row.ok || !row.fits) continue;
      if (!top || row.output_tokens_per_s_per_device > top->output_tokens_per_s_per_device) {
        top = &row;
        top_i = i;
      }
    }
    if (top) best.rows.push_back(all.rows[top_i]);
  }
  wb.table_sheet("Summary", best);
  wb.table_sheet("Sweep", all);
  int fitting = 0, refused = 0;
  for (const auto& row : r.rows) {
    fitting += row.ok && row.fits;
    refused += !row.ok;
  }
  std::string weights;
  for (DType d : r.axes.weights) {
    if (!weights.empty()) weights += ',';
    weights += to_string(d);
  }
  std::vector<Fact> facts = {
      fact("Sweep", "Model", r.model_name),
      fact("Sweep", "Configurations", Cell{static_cast<double>(r.rows.size())}, Unit::count),
      fact("Sweep", "Fitting in memory", Cell{static_cast<double>(fitting)}, Unit::count),
      fact("Sweep", "Refused by the analyzer", Cell{static_cast<double>(refused)}, Unit::count),
      fact("Sweep", "Weights", weights),
      fact("Sweep", "Tensor parallelism", list_text(r.axes.tp)),
      fact("Sweep", "Prompt length", list_text(r.axes.prompt_len)),
      fact("Sweep", "Generated tokens", list_text(r.axes.gen_len)),
      fact("Sweep", "Batch", list_text(r.axes.batch))};
  for (const auto& [k, v] : shared_settings(r.base)) facts.push_back(fact("Settings", k, v));
  wb.facts_sheet("Hardware & settings", hardware_and_settings(r.hardware, std::move(facts)));
  wb.close();
}

void write_plan_xlsx(const PlanResult& r, const std::string& path) {
  Workbook wb(path);
  wb.table_sheet("Pareto", plan_table(r, Audience::machine, true));
  wb.table_sheet("Candidates", plan_table(r, Audience::machine, false));
  const PlanRequest& q = r.request;
  std::vector<Fact> facts = {
      fact("Plan", "Model", r.model_name),
      fact("Plan", "Prompt length", Cell{static_cast<double>(q.prompt_len)}, Unit::count),
      fact("Plan", "Generated tokens", Cell{static_cast<double>(q.gen_len)}, Unit::count),
      fact("Plan", "TTFT SLO", Cell{q.ttft_slo_s}, Unit::seconds),
      fact("Plan", "TPOT SLO", Cell{q.tpot_slo_s}, Unit::seconds),
      fact("Plan", "Serving model", std::string("continuous batching (docs/planner.md)"))};
  if (q.rate_requests_per_s)
    facts.push_back(
        fact("Plan", "Request rate", Cell{*q.rate_requests_per_s}, Unit::requests_per_s));
  for (const auto& [k, v] : shared_settings(q.base)) facts.push_back(fact("Settings", k, v));
  wb.facts_sheet("Hardware & settings", hardware_and_settings(r.hardware, std::move(facts)));
  wb.close();
}

}  // namespace llmroof::reports
