#pragma once
// Self-contained HTML reports (one file, inline CSS and SVG, no script, no network):
//   analysis: headline numbers, the roofline chart, the memory bar, per-layer tables for prefill
//   and
//             decode, hardware and settings with sources
//   sweep:    tokens/s against batch and TTFT against prompt length (one curve per hardware ×
//             weights × tp), the sweep table, hardware
//   plan:     per hardware, tokens/s per device against TPOT with the Pareto frontier and the SLO,
//             the Pareto table, every candidate (folded), hardware
// Human units throughout (reports/units.hpp).
#include <string>

#include "analyzer/analysis.hpp"
#include "analyzer/hardware_spec.hpp"
#include "reports/planner.hpp"
#include "reports/sweep.hpp"

namespace llmroof::reports {

std::string analysis_html(const Analysis& a, const HardwareSpec& hw);
std::string sweep_html(const SweepResult& r);
std::string plan_html(const PlanResult& r);

// Rows of the sweep table beyond this are left out of the HTML (the note says to use csv/xlsx).
inline constexpr size_t kHtmlMaxRows = 2000;

}  // namespace llmroof::reports
