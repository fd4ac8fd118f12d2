#pragma once
// Workbooks through libxlsxwriter. Every number is a typed numeric cell (never text), in the unit
// its header names ("TTFT (ms)", "Memory/device (GB)"); header rows are frozen and carry an
// autofilter; every workbook ends with a "Hardware & settings" sheet (values with their sources).
//   analysis: Summary, Prefill layers, Decode layers, Hardware & settings
//   sweep:    Summary (best configuration per hardware), Sweep, Hardware & settings
//   plan:     Pareto, Candidates, Hardware & settings
// Throws InputError naming the path when the file cannot be written.
#include <string>

#include "analyzer/analysis.hpp"
#include "analyzer/hardware_spec.hpp"
#include "reports/planner.hpp"
#include "reports/sweep.hpp"

namespace llmroof::reports {

void write_analysis_xlsx(const Analysis& a, const HardwareSpec& hw, const std::string& path);
void write_sweep_xlsx(const SweepResult& r, const std::string& path);
void write_plan_xlsx(const PlanResult& r, const std::string& path);

}  // namespace llmroof::reports
