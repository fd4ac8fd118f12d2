#pragma once
// One analysis as typed tables for the XLSX and HTML printers (the table / md / json / csv printers
// of an analysis are reports/analysis_report.hpp). Also the hardware and settings as labelled
// values, shared by every workbook's "Hardware & settings" sheet and every HTML report.
#include <string>
#include <vector>

#include "analyzer/analysis.hpp"
#include "analyzer/hardware_spec.hpp"
#include "reports/result_table.hpp"

namespace llmroof::reports {

// Per-layer rows of one phase: ops, the five byte kinds, intensity, peak, attainable, bound, time
// per occurrence and for all occurrences, warnings.
ResultTable layer_table(const PhaseResult& phase);
// One phase's whole-model figures for a summary line: "27.6 TOPs, 54.7 GB moved, 212 ms".
std::string phase_totals_text(const PhaseResult& phase);
// A labelled value: "Memory bandwidth" = 768e9 B/s, with its source when the hardware file has one.
struct Fact {
  std::string section;  // "Hardware a6000", "Settings"
  std::string name;
  Cell value;
  Unit unit = Unit::text;
  std::string source;
};
// The totals and memory of an analysis (section "Totals").
std::vector<Fact> totals_facts(const Analysis& a);
std::vector<Fact> hardware_facts(const HardwareSpec& hw);
std::vector<Fact> settings_facts(const Settings& s);
// Facts as a table with columns section, name, value, unit, source (value shown in human units).
ResultTable facts_table(const std::vector<Fact>& facts);

}  // namespace llmroof::reports
