#pragma once
// Sweep and plan results as typed tables and as text / Markdown / CSV / JSON. XLSX and HTML live in
// xlsx_writer.hpp and html_report.hpp and read the same tables. JSON carries schema_version and SI
// units (schema: docs/reports.md); text and Markdown use human units.
#include <string>

#include "reports/planner.hpp"
#include "reports/result_table.hpp"
#include "reports/sweep.hpp"

namespace llmroof::reports {

inline constexpr int kSweepSchemaVersion = 1;
inline constexpr int kPlanSchemaVersion = 1;

enum class Audience { human, machine };  // human: fewer columns; machine: every field (CSV, XLSX)

ResultTable sweep_table(const SweepResult& r, Audience a);
// `pareto_only`: only the Pareto set, best rank first (per hardware); otherwise every candidate.
ResultTable plan_table(const PlanResult& r, Audience a, bool pareto_only);
// The settings every row shares, as (name, value) pairs in human words ("KV cache", "fp16").
std::vector<std::pair<std::string, std::string>> shared_settings(const Settings& base);

std::string sweep_text(const SweepResult& r);  // header line + table
std::string sweep_markdown(const SweepResult& r);
std::string sweep_csv(const SweepResult& r);
std::string sweep_json(const SweepResult& r);

std::string plan_text(const PlanResult& r);  // per hardware: Pareto set and why others failed
std::string plan_markdown(const PlanResult& r);
std::string plan_csv(const PlanResult& r);  // every candidate
std::string plan_json(const PlanResult& r);
// "12 feasible of 132 configurations (40 no_fit, 30 tpot_slo)" for one hardware.
std::string plan_verdict_summary(const PlanResult& r, int hw);

}  // namespace llmroof::reports
