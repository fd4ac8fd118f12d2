#include "reports/planner.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "analyzer/analyzer.hpp"
#include "io/errors.hpp"
#include "reports/parallel.hpp"
#include "reports/progress.hpp"

namespace llmroof::reports {

std::string_view to_string(PlanVerdict v) {
  switch (v) {
    case PlanVerdict::feasible:
      return "feasible";
    case PlanVerdict::refused:
      return "refused";
    case PlanVerdict::no_fit:
      return "no_fit";
    case PlanVerdict::ttft_slo:
      return "ttft_slo";
    case PlanVerdict::tpot_slo:
      return "tpot_slo";
    case PlanVerdict::tp_exceeds_node:
      return "tp_exceeds_node";
  }
  return "?";
}

ServingEstimate continuous_batching(double prefill_s, double decode_step_s, int64_t batch,
                                    int64_t gen_len) {
  // a = B/G requests finish (and as many arrive) per decode step in steady state.
  const double arrivals_per_step = static_cast<double>(batch) / static_cast<double>(gen_len);
  ServingEstimate e{};
  e.tpot_s = decode_step_s + arrivals_per_step * prefill_s;
  e.ttft_s = decode_step_s + std::ceil(arrivals_per_step) * prefill_s;
  e.output_tokens_per_s = static_cast<double>(batch) / e.tpot_s;
  e.requests_per_s = e.output_tokens_per_s / static_cast<double>(gen_len);
  return e;
}

namespace {

// One (hardware, weight format, tp) combination; its candidates differ only in batch.
struct Group {
  int hardware = 0;
  Settings settings;  // batch 1
  bool ok = false;
  std::string error;
  double prefill_s = 0;
  PlanVerdict skip = PlanVerdict::feasible;  // tp_exceeds_node or refused: no batch is tried
};

std::vector<int64_t> default_batches() {
  std::vector<int64_t> b;
  for (int64_t v = 1; v <= 1024; v *= 2) b.push_back(v);
  return b;
}

PlanCandidate evaluate(const ModelSpec& model, const HardwareSpec& hw, const Group& g,
                       int64_t batch, const PlanRequest& req, const AnalyzeFn& analyze) {
  PlanCandidate c;
  c.hardware = g.hardware;
  c.settings = g.settings;
  c.settings.batch = batch;
  c.prefill_s = g.prefill_s;
  if (g.skip != PlanVerdict::feasible) {
    c.verdict = g.skip;
    c.error = g.error;
    return c;
  }
  Analysis a;
  try {
    a = analyze(model, hw, c.settings);
  } catch (const AnalysisError& e) {
    c.error = e.what();
    return c;
  } catch (const InputError& e) {
    c.error = e.what();
    return c;
  }
  c.decode_step_s = a.totals.tpot_s;
  const ServingEstimate e = continuous_batching(c.prefill_s, c.decode_step_s, batch, req.gen_len);
  c.ttft_s = e.ttft_s;
  c.tpot_s = e.tpot_s;
  c.output_tokens_per_s = e.output_tokens_per_s;
  c.output_tokens_per_s_per_device = e.output_tokens_per_s / static_cast<double>(c.settings.tp);
  c.requests_per_s = e.requests_per_s;
  if (req.rate_requests_per_s)
    c.devices_for_rate =
        static_cast<int64_t>(std::ceil(*req.rate_requests_per_s / e.requests_per_s)) *
        c.settings.tp;
  c.memory_per_device_bytes = a.memory.total_bytes;
  c.capacity_bytes = a.memory.capacity_bytes;
  c.verdict = !a.memory.fits              ? PlanVerdict::no_fit
              : e.ttft_s > req.ttft_slo_s ? PlanVerdict::ttft_slo
              : e.tpot_s > req.tpot_slo_s ? PlanVerdict::tpot_slo
                                          : PlanVerdict::feasible;
  return c;
}

std::vector<Group> make_groups(const ModelSpec& model, const std::vector<HardwareSpec>& hardware,
                               const PlanRequest& req, const AnalyzeFn& analyze,
                               const SweepOptions& options) {
  std::vector<Group> groups;
  for (size_t h = 0; h < hardware.size(); ++h)
    for (DType w : req.weights)
      for (int64_t tp : req.tp) {
        Group g;
        g.hardware = static_cast<int>(h);
        g.settings = req.base;
        g.settings.batch = 1;
        g.settings.prompt_len = req.prompt_len;
        g.settings.gen_len = req.gen_len;
        g.settings.tp = tp;
        g.settings.quant.weights = w;
        g.settings.quant.group_size = req.group_size >= 0 ? req.group_size : default_group_size(w);
        groups.push_back(g);
      }
  // t_pre: the batch-1 prefill of each group (its TTFT on an idle replica).
  parallel_for_index(
      static_cast<int64_t>(groups.size()), options.threads,
      [&](int64_t i) {
        Group& g = groups[static_cast<size_t>(i)];
        const HardwareSpec& hw = hardware[g.hardware];
        if (g.settings.tp > std::max(1, hw.devices_per_node)) {
          g.skip = PlanVerdict::tp_exceeds_node;
          g.error = "tp " + std::to_string(g.settings.tp) + " exceeds the " +
                    std::to_string(hw.devices_per_node) + " devices per node of " + hw.name;
          return;
        }
        try {
          g.prefill_s = analyze(model, hw, g.settings).totals.ttft_s;
          g.ok = true;
        } catch (const AnalysisError& e) {
          g.skip = PlanVerdict::refused;
          g.error = e.what();
        } catch (const InputError& e) {
          g.skip = PlanVerdict::refused;
          g.error = e.what();
        }
      },
      options.progress);
  return groups;
}

// Largest feasible batch between a feasible `lo` and an infeasible `hi` (assumes feasibility is
// monotone in batch between them, which holds for memory, TTFT and TPOT; a non-monotone corner
// only costs optimality, never correctness, since every returned candidate is checked).
std::optional<PlanCandidate> refine(const ModelSpec& model, const HardwareSpec& hw, const Group& g,
                                    int64_t lo, int64_t hi, const PlanRequest& req,
                                    const AnalyzeFn& analyze) {
  std::optional<PlanCandidate> best;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    PlanCandidate c = evaluate(model, hw, g, mid, req, analyze);
    if (c.verdict == PlanVerdict::feasible) {
      lo = mid;
      best = std::move(c);
    } else {
      hi = mid;
    }
  }
  return best;
}

}  // namespace

void rank_candidates(PlanResult& result) {
  const bool by_rate = result.request.rate_requests_per_s.has_value();
  result.pareto.assign(result.hardware.size(), {});
  for (size_t h = 0; h < result.hardware.size(); ++h) {
    std::vector<size_t> feasible;
    for (size_t i = 0; i < result.candidates.size(); ++i) {
      auto& c = result.candidates[i];
      if (c.hardware != static_cast<int>(h)) continue;
      c.pareto = false;
      c.rank = 0;
      if (c.verdict == PlanVerdict::feasible) feasible.push_back(i);
    }
    auto& cs = result.candidates;
    // Best first: fewest devices for the rate (when given), then tokens/s per device, then TPOT;
    // the candidate index breaks exact ties so the order is deterministic.
    std::stable_sort(feasible.begin(), feasible.end(), [&](size_t a, size_t b) {
      if (by_rate && cs[a].devices_for_rate != cs[b].devices_for_rate)
        return cs[a].devices_for_rate < cs[b].devices_for_rate;
      if (cs[a].output_tokens_per_s_per_device != cs[b].output_tokens_per_s_per_device)
        return cs[a].output_tokens_per_s_per_device > cs[b].output_tokens_per_s_per_device;
      return cs[a].tpot_s < cs[b].tpot_s;
    });
    for (size_t r = 0; r < feasible.size(); ++r) cs[feasible[r]].rank = static_cast<int>(r + 1);
    // Pareto: no other feasible candidate of this hardware is at least as good on both throughput
    // per device and TPOT and strictly better on one.
    for (size_t a : feasible) {
      bool dominated = false;
      for (size_t b : feasible) {
        const bool ge =
            cs[b].output_tokens_per_s_per_device >= cs[a].output_tokens_per_s_per_device &&
            cs[b].tpot_s <= cs[a].tpot_s;
        const bool gt =
            cs[b].output_tokens_per_s_per_device > cs[a].output_tokens_per_s_per_device ||
            cs[b].tpot_s < cs[a].tpot_s;
        if (b != a && ge && gt) {
          dominated = true;
          break;
        }
      }
      cs[a].pareto = !dominated;
      if (!dominated) result.pareto[h].push_back(a);
    }
  }
}

PlanResult plan(const ModelSpec& model, std::vector<HardwareSpec> hardware,
                const PlanRequest& request, const AnalyzeFn& analyze, const SweepOptions& options) {
  if (hardware.empty()) throw InputError("plan: no hardware given (--hardware)");
  PlanResult result;
  result.model_name = model.name;
  result.hardware = std::move(hardware);
  result.request = request;
  std::vector<int64_t> grid = request.batch.empty() ? default_batches() : request.batch;
  std::sort(grid.begin(), grid.end());

  if (request.weights.empty() || request.tp.empty() || grid.empty())
    throw InputError("plan: --wbits, --tp and --batch each need at least one value");
  if (options.progress)
    options.progress->set_total(static_cast<int64_t>(
        result.hardware.size() * request.weights.size() * request.tp.size() * (1 + grid.size())));
  const std::vector<Group> groups = make_groups(model, result.hardware, request, analyze, options);
  // Per group, the grid candidates, then (optionally) one refined candidate between the grid
  // points.
  std::vector<std::vector<PlanCandidate>> per_group(groups.size());
  for (auto& v : per_group) v.resize(grid.size());
  parallel_for_index(
      static_cast<int64_t>(groups.size() * grid.size()), options.threads,
      [&](int64_t i) {
        const size_t g = static_cast<size_t>(i) / grid.size(),
                     b = static_cast<size_t>(i) % grid.size();
        per_group[g][b] = evaluate(model, result.hardware[groups[g].hardware], groups[g], grid[b],
                                   request, analyze);
      },
      options.progress);
  if (request.refine) {
    parallel_for_index(static_cast<int64_t>(groups.size()), options.threads, [&](int64_t i) {
      auto& cands = per_group[static_cast<size_t>(i)];
      size_t last = cands.size();  // largest feasible grid point
      for (size_t b = 0; b < cands.size(); ++b)
        if (cands[b].verdict == PlanVerdict::feasible) last = b;
      if (last + 1 >= cands.size()) return;
      auto extra = refine(model, result.hardware[groups[i].hardware], groups[i], grid[last],
                          grid[last + 1], request, analyze);
      if (extra) cands.insert(cands.begin() + static_cast<long>(last) + 1, std::move(*extra));
    });
  }
  for (auto& cands : per_group)
    for (auto& c : cands) result.candidates.push_back(std::move(c));
  rank_candidates(result);
  return result;
}

}  // namespace llmroof::reports
