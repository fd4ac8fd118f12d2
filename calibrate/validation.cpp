#include "calibrate/validation.hpp"

#include <algorithm>
#include <cmath>

namespace llmroof::calibrate {

namespace {
constexpr std::string_view kDispositionNames[] = {"passed", "failed", "skipped", "unsupported",
                                                  "mistrusted"};
}  // namespace

std::string_view to_string(Disposition d) { return kDispositionNames[static_cast<int>(d)]; }

std::optional<Disposition> disposition_from_string(std::string_view s) {
  for (int i = 0; i < 5; ++i)
    if (kDispositionNames[i] == s) return static_cast<Disposition>(i);
  return std::nullopt;
}

const OpResult* ValidationRun::find(std::string_view phase, std::string_view name) const {
  for (const auto& op : ops)
    if (op.phase == phase && op.name == name) return &op;
  return nullptr;
}

double median_abs_error(const ValidationRun& run) {
  std::vector<double> errs;
  for (const auto& op : run.ops) {
    if (op.disposition != Disposition::passed && op.disposition != Disposition::failed) continue;
    if (op.ratio() > 0) errs.push_back(std::fabs(op.ratio() - 1));
  }
  if (errs.empty()) return 0;
  std::sort(errs.begin(), errs.end());
  const size_t n = errs.size();
  return n % 2 ? errs[n / 2] : 0.5 * (errs[n / 2 - 1] + errs[n / 2]);
}

}  // namespace llmroof::calibrate
