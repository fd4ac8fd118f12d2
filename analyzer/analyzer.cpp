// analyze(): rows for prefill and decode, their roofline times, the decode average over the growing
// KV cache, totals and memory. Pure: no I/O, no globals.
#include "analyzer/analyzer.hpp"

#include <algorithm>
#include <cmath>

#include "analyzer/plan.hpp"

namespace llmroof {

double ring_all_reduce_time_s(double bytes, int64_t p, double link_bytes_per_s, double latency_s) {
  if (p <= 1) return 0;
  // Bandwidth term: reduce-scatter then all-gather, 2(p-1) steps each sending bytes/p over every
  // link at once. Latency term: charged once per collective, because the hardware files quote the
  // measured small-message all-reduce latency of the whole collective (NCCL switches to LL/tree
  // protocols for small messages, so 2(p-1) ring hops of that latency would overcount ~2(p-1)x).
  const double pd = static_cast<double>(p);
  return 2 * (pd - 1) / pd * bytes / link_bytes_per_s + latency_s;
}

namespace detail {

double row_time_s(const Plan& p, const OpCost& c, DType compute, int64_t kernels) {
  const double peak = p.peak_ops_per_s[static_cast<int>(compute)];
  const double t_compute = c.ops / peak;
  const double t_memory = c.bytes.total() / p.bandwidth_bytes_per_s;
  return std::max(t_compute, t_memory) + static_cast<double>(kernels) * p.launch_overhead_s;
}

void time_row(const Plan& p, LayerRow& r) {
  const bool attn = r.rates == RateClass::attention;
  r.arithmetic_intensity = r.cost.arithmetic_intensity();
  r.peak_ops_per_s = (attn ? p.attn_peak_ops_per_s : p.peak_ops_per_s)[static_cast<int>(r.compute_dtype)];
  // Started cold or with its bytes in the last-level cache (residency.cpp): the fixed cost of each.
  const double per_kernel =
      p.launch_overhead_s + r.hot_fraction * (p.launch_overhead_hot_s - p.launch_overhead_s);
  const double launch = static_cast<double>(r.kernels) * per_kernel;
  if (r.rates == RateClass::communication) {
    r.bandwidth_bytes_per_s = p.link_bytes_per_s;
    r.bound = Bound::communication;
    r.time_s = ring_all_reduce_time_s(r.cost.bytes.act_read, p.tp, p.link_bytes_per_s,
                                      p.link_latency_s) + launch;
    r.attainable_ops_per_s = r.time_s > 0 ? r.cost.ops / r.time_s : 0;
    return;
  }
  r.bandwidth_bytes_per_s = attn                            ? p.attn_bandwidth_bytes_per_s
                            : r.rates == RateClass::weights ? p.weight_bandwidth_bytes_per_s
                                                            : p.bandwidth_bytes_per_s;
  r.attainable_ops_per_s = std::min(r.peak_ops_per_s, r.arithmetic_intensity * r.bandwidth_bytes_per_s);
  const double t_compute = r.cost.ops / r.peak_ops_per_s;
  // With the cache-residency split (residency.cpp), DRAM bytes at the row's bandwidth -- written-
  // back bytes at write_back_cost of a read -- plus the resident reads at the cache's read-back
  // bandwidth: one core streams one after the other, so the terms add.
  const double t_cache = r.cache_bytes > 0 ? r.cache_bytes / p.llc_read_bytes_per_s : 0.0;
  const double dram_cost_bytes = r.dram_bytes - (1 - p.write_back_cost) * r.dram_write_bytes;
  const double t_memory = r.traffic_split ? dram_cost_bytes / r.bandwidth_bytes_per_s + t_cache
                                          : r.cost.bytes.total() / r.bandwidth_bytes_per_s;
  r.bound = t_compute >= t_memory ? Bound::compute : Bound::memory;
  r.time_s = std::max(t_compute, t_memory) + launch;
}

namespace {

// Sum over integers x in [x0, x1] of max(a + b x, c + d x): split where the two lines cross and sum
// each arithmetic series in closed form.
double sum_affine_max(double a, double b, double c, double d, int64_t x0, int64_t x1) {
  if (x1 < x0) return 0;
  auto series = [](double a0, double b0, int64_t u, int64_t v) {
    if (v < u) return 0.0;
    const double n = static_cast<double>(v - u + 1);
    return n * a0 + b0 * (static_cast<double>(u) + static_cast<double>(v)) * n / 2;
  };
  if (b == d) return a >= c ? series(a, b, x0, x1) : series(c, d, x0, x1);
  const double cross = (c - a) / (b - d);  // line 1 >= line 2 for x >= cross when b > d
  const double clamped = std::clamp(cross, static_cast<double>(x0) - 1, static_cast<double>(x1) + 1);
  if (b > d) {
    const auto split = static_cast<int64_t>(std::ceil(clamped));
    return series(c, d, x0, std::min(x1, split - 1)) + series(a, b, std::max(x0, split), x1);
  }
  const auto split = static_cast<int64_t>(std::floor(clamped));
  return series(a, b, x0, std::min(x1, split)) + series(c, d, std::max(x0, split + 1), x1);
}

struct PhaseSum {
  double ops = 0, bytes = 0, time_s = 0;
};

PhaseSum finish_rows(const Plan& p, std::vector<LayerRow>& rows) {
  PhaseSum s;
  for (LayerRow& r : rows) {
    time_row(p, r);
    const double n = static_cast<double>(r.count);
    s.ops += n * r.cost.ops;
    s.bytes += n * r.cost.bytes.total();
    s.time_s += n * r.time_s;
  }
  return s;
}

void build_phase(const Plan& p, const PhaseShape& ph, PhaseResult& out) {
  out.rows.reserve(24);
  append_embedding_row(p, ph, out.rows);
  append_block_rows(p, ph, out.rows);
  append_head_rows(p, ph, out.rows);
  if (p.split_traffic) split_traffic(p, out.rows, ph.q_len == 1);
  const PhaseSum s = finish_rows(p, out.rows);
  out.ops = s.ops;
  out.bytes = s.bytes;
  out.time_s = s.time_s;
}

// Exact total time of the decode steps with KV lengths kv_first..kv_last. Attention costs are
// affine in the visible keys e = min(L, window) for one query, every other row is constant, so
// each attention row's sum is a sum of max(affine, affine) done in closed form.
double decode_total_time(const Plan& p, const Settings& s, const std::vector<LayerRow>& rows,
                         int64_t kv_first, int64_t kv_last) {
  const double steps = static_cast<double>(kv_last - kv_first + 1);
  double total = 0;
  for (const LayerRow& r : rows)
    if (!r.grows_with_context) total += static_cast<double>(r.count) * r.time_s * steps;
  const int64_t w = p.model->sliding_window;
  const int64_t e_first = w > 0 ? std::min(kv_first, w) : kv_first;
  OpCost at0[3], at1[3];
  const int n = attention_costs(p, {s.batch, 1, e_first}, at0);
  attention_costs(p, {s.batch, 1, e_first + 1}, at1);
  // Rows in attention_costs order: fused_attention, or qk_matmul, softmax, sv_matmul.
  const DType dt[3] = {p.float_compute, n == 1 ? p.float_compute : p.vector_compute,
                       p.float_compute};
  const bool fused = n == 1;  // only the fused row has its own rates (RateClass::attention)
  const int64_t linear_last = w > 0 ? std::min(kv_last, w) : kv_last;
  for (int i = 0; i < n; ++i) {
    const double peak = (fused ? p.attn_peak_ops_per_s : p.peak_ops_per_s)[static_cast<int>(dt[i])];
    const double bw = fused ? p.attn_bandwidth_bytes_per_s : p.bandwidth_bytes_per_s;
    const double b_ops = (at1[i].ops - at0[i].ops) / peak;
    const double b_mem = (at1[i].bytes.total() - at0[i].bytes.total()) / bw;
    const double a_ops = at0[i].ops / peak - b_ops * static_cast<double>(e_first);
    const double a_mem = at0[i].bytes.total() / bw - b_mem * static_cast<double>(e_first);
    double t = sum_affine_max(a_ops, b_ops, a_mem, b_mem, kv_first, linear_last);
    if (w > 0 && kv_last > w) {  // past the window every step sees exactly w keys
      const int64_t from = std::max(kv_first, w + 1);
      t += static_cast<double>(kv_last - from + 1) *
           std::max(a_ops + b_ops * static_cast<double>(w), a_mem + b_mem * static_cast<double>(w));
    }
    t += steps * p.launch_overhead_s;  // one kernel per attention row
    total += static_cast<double>(p.layers) * t;
  }
  return total;
}

}  // namespace
}  // namespace detail

Analysis analyze(const ModelSpec& model, const HardwareSpec& hw, const Settings& settings) {
  validate_settings(model, hw, settings);
  Analysis a;
  a.model_name = model.name;
  a.hardware_name = hw.name;
  a.settings = settings;
  const detail::Plan p = detail::make_plan(model, hw, settings, a.warnings);

  // Prefill: the whole prompt, causal; the lm_head produces the first token (TTFT = prefill).
  a.prefill.phase = Phase::prefill;
  a.prefill.context_len = settings.prompt_len;
  detail::Plan prefill_plan = p;  // the prefill attention's own compute rate (plan.hpp)
  prefill_plan.attn_peak_ops_per_s = p.attn_prefill_peak_ops_per_s;
  detail::build_phase(prefill_plan, {settings.batch, settings.prompt_len, settings.prompt_len},
                      a.prefill);

  // Decode: gen_len - 1 further steps; step j sees prompt_len + j keys (j = 1 .. gen_len - 1).
  // Rows are shown at the mean of those lengths, prompt_len + gen_len / 2.
  const int64_t steps = settings.gen_len - 1;
  a.decode.phase = Phase::decode;
  a.decode.steps = steps;
  a.decode.context_len = settings.prompt_len + std::max<int64_t>(1, settings.gen_len / 2);
  detail::build_phase(p, {settings.batch, 1, a.decode.context_len}, a.decode);
  if (steps > 0) {
    const double total = detail::decode_total_time(p, settings, a.decode.rows,
                                                   settings.prompt_len + 1,
                                                   settings.prompt_len + steps);
    a.decode.time_s = total / static_cast<double>(steps);
  }

  Totals& t = a.totals;
  t.ttft_s = a.prefill.time_s;
  t.tpot_s = a.decode.time_s;
  t.e2e_latency_s = t.ttft_s + static_cast<double>(steps) * t.tpot_s;
  const double b = static_cast<double>(settings.batch);
  t.output_tokens_per_s = b * static_cast<double>(settings.gen_len) / t.e2e_latency_s;
  t.total_tokens_per_s =
      b * static_cast<double>(settings.prompt_len + settings.gen_len) / t.e2e_latency_s;

  a.memory = detail::memory_footprint(p, settings, hw.memory_bytes);
  if (!a.memory.fits)
    a.warnings.push_back("does not fit: " +
                         std::to_string(static_cast<int64_t>(a.memory.total_bytes / 1e6)) +
                         " MB needed per device, " +
                         std::to_string(static_cast<int64_t>(hw.memory_bytes / 1e6)) +
                         " MB available");
  return a;
}

}  // namespace llmroof
