#include "calibrate/calibrate.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include "calibrate/paired.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu_features.hpp"
#include "reports/units.hpp"

namespace llmroof::calibrate {

namespace {

double sysfs_cache_bytes(int index) {
  std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
  std::string s;
  if (!(f >> s) || s.empty()) return 0;
  double v = std::atof(s.c_str());
  const char unit = s.back();
  if (unit == 'K') v *= 1024;
  if (unit == 'M') v *= 1024 * 1024;
  return v;
}

std::string utc_date() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

void say(const CalibrateOptions& opt, const std::string& line) {
  if (opt.progress) opt.progress(line);
}

}  // namespace

CacheSizes host_cache_sizes() {
  CacheSizes c;
  // index0 = L1d, index1 = L1i, index2 = L2, index3 = L3 on Linux x86.
  c.l1d_bytes_per_core = sysfs_cache_bytes(0);
  c.l2_bytes_per_core = sysfs_cache_bytes(2);
  c.l3_bytes_total = sysfs_cache_bytes(3);
#ifdef _SC_LEVEL2_CACHE_SIZE
  if (c.l1d_bytes_per_core <= 0) c.l1d_bytes_per_core = static_cast<double>(sysconf(_SC_LEVEL1_DCACHE_SIZE));
  if (c.l2_bytes_per_core <= 0) c.l2_bytes_per_core = static_cast<double>(sysconf(_SC_LEVEL2_CACHE_SIZE));
  if (c.l3_bytes_total <= 0) c.l3_bytes_total = static_cast<double>(sysconf(_SC_LEVEL3_CACHE_SIZE));
#endif
  return c;
}

double host_memory_bytes() {
  return static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double Calibration::dram_read_bytes_per_s() const {
  for (const auto& b : bandwidth)
    if (b.level == "DRAM") return b.read_bytes_per_s;
  return 0;
}

double Calibration::peak(DType t) const {
  for (const auto& p : peaks)
    if (p.dtype == t && p.in_spec) return p.ops_per_s;
  return 0;
}

Calibration run_calibration(kernels::ThreadPool& pool, const CalibrateOptions& opt,
                            std::string llmroof_version) {
  Calibration c;
  c.cpu = kernels::cpu_features().brand;
  c.date = utc_date();
  c.llmroof_version = std::move(llmroof_version);
  c.threads = pool.size();
  c.policy = opt.policy;
  c.caches = host_cache_sizes();
  c.memory_bytes = host_memory_bytes();
  const double t_min = opt.quick ? 0.04 : 0.5;

  // Working sets per thread chosen well inside each level (copy needs twice the read set) and, for
  // DRAM, 1 GiB in total: far beyond any last-level cache here.
  const double l1 = c.caches.l1d_bytes_per_core > 0 ? c.caches.l1d_bytes_per_core : 32768;
  const double l2 = c.caches.l2_bytes_per_core > 0 ? c.caches.l2_bytes_per_core : 1 << 20;
  const double l3 = c.caches.l3_bytes_total > 0 ? c.caches.l3_bytes_total : 32 << 20;
  const struct { const char* level; double bytes; } sets[] = {
      {"L1", l1 / 4}, {"L2", l2 / 4}, {"LLC", l3 / (4.0 * c.threads)},
      {"DRAM", double(1ull << 30) / c.threads}};
  for (const auto& s : sets) {
    say(opt, std::string("bandwidth ") + s.level + " (" + reports::bytes_binary(s.bytes) +
                 " per thread)");
    c.bandwidth.push_back(
        measure_bandwidth(pool, s.level, static_cast<size_t>(s.bytes),
                                        s.level[0] == 'D' ? 2 * t_min : t_min, opt.policy));
  }
  say(opt, "caches: read-back of a just-written tensor; ordinary vs non-temporal stores");
  c.cache_probe = measure_cache_probe(pool, l3, l3, opt.quick, opt.policy);
  say(opt, kernels::gemm_w8a8_uses_amx() ? "peak throughput of the SIMD and AMX paths"
                                         : "peak throughput of the SIMD paths");
  c.peaks = measure_peaks(pool, t_min, opt.policy);
  say(opt, "thread-pool dispatch overhead");
  c.dispatch_overhead_s = measure_dispatch_overhead(pool, t_min, opt.policy);
  c.kernels = measure_kernel_efficiency(pool, c, opt.quick, opt);
  if (!opt.quick) {  // beside attention_prefill (the full run's attention factors)
    say(opt, "attention prefill, 64 causal tokens (Q/K/V/O beyond and inside the L2)");
    for (auto& k : measure_short_attention_prefill(pool, c, opt.quick, opt.policy))
      c.kernels.push_back(std::move(k));
  }
  say(opt, "small decode ops (add, rmsnorm, silu_mul, rope) started cold between GEMVs");
  c.small_ops = measure_small_ops(pool, c.caches, opt.quick, opt.policy);
  set_memory_bound_rates(c);
  return c;
}

void set_memory_bound_rates(Calibration& c) {
  std::vector<double> dram;
  for (const auto& b : c.bandwidth)
    if (b.level == "DRAM")
      dram.insert(dram.end(), b.read_samples_bytes_per_s.begin(), b.read_samples_bytes_per_s.end());
  for (const auto& k : c.kernels)
    dram.insert(dram.end(), k.reference_samples_per_s.begin(), k.reference_samples_per_s.end());
  c.dram_pooled_bytes_per_s = dram.empty() ? c.dram_read_bytes_per_s()
                                           : rate_statistic(std::move(dram), c.policy.stat);
  for (auto& k : c.kernels)
    if (k.memory_bound && !k.pair_samples.empty()) settle_paired(k, c.dram_pooled_bytes_per_s);
  c.dram_bytes_per_s = c.dram_pooled_bytes_per_s;
  for (const auto& k : c.kernels)
    if (k.memory_bound && k.kernel.rfind("gemm", 0) == 0)
      c.dram_bytes_per_s = std::max(c.dram_bytes_per_s, k.achieved_per_s);
  for (auto& k : c.kernels)
    if (k.memory_bound) k.limit_per_s = c.dram_bytes_per_s;
}

namespace {

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

namespace {

// Median over the small ops started cold (resident = false) or hot of time - bytes / rate.
std::vector<double> fixed_parts(const Calibration& c, bool resident, double bytes_per_s) {
  std::vector<double> fixed;
  if (bytes_per_s > 0)
    for (const auto& o : c.small_ops)
      if (o.resident == resident) fixed.push_back(o.time_s - o.bytes / bytes_per_s);
  return fixed;
}

}  // namespace

double small_op_fixed_cost_s(const Calibration& c, double effective_bytes_per_s) {
  return std::max(c.dispatch_overhead_s,
                  median_of(fixed_parts(c, false, effective_bytes_per_s)));
}

// Hot, the bytes come from the L3 at the rate the residency model charges a resident byte
// (last_level_cache.read_bytes_per_s), so the fixed part is what such a row pays beyond that term.
std::optional<double> small_op_hot_fixed_cost_s(const Calibration& c,
                                                double cache_read_bytes_per_s) {
  const std::vector<double> fixed = fixed_parts(c, true, cache_read_bytes_per_s);
  if (fixed.empty()) return std::nullopt;
  return std::max(c.dispatch_overhead_s, median_of(fixed));
}

namespace {

double median_efficiency(const Calibration& c, bool memory_bound, std::string_view prefix,
                         std::string_view except = {}) {
  std::vector<double> e;
  for (const auto& k : c.kernels)
    if (k.memory_bound == memory_bound && k.kernel.rfind(prefix, 0) == 0 && k.kernel != except &&
        k.efficiency() > 0)
      e.push_back(k.efficiency());
  if (e.empty()) return 1.0;
  return median_of(std::move(e));
}

// What the schema has no field for, kept beside the numbers: bandwidth per cache level and the
// efficiency of every kernel measured (docs/calibrate.md explains why the analyzer uses DRAM only).
std::string calibration_notes(const Calibration& c) {
  std::string s = "Read bandwidth by working set (all threads):";
  for (const auto& b : c.bandwidth)
    s += " " + b.level + " " + reports::bytes_per_s(b.read_bytes_per_s) + ";";
  for (const auto& p : c.peaks)
    if (!p.in_spec)
      s += " " + std::string(to_string(p.dtype)) + " " + p.instruction + " peak " +
           reports::ops_per_s(p.ops_per_s) + " (not the spec's: its GEMMs run on AMX tiles);";
  s += " kernel efficiency (achieved / measured limit):";
  for (const auto& k : c.kernels)
    s += " " + k.kernel + "(" + k.shape + ") " + reports::percent(k.efficiency()) + ";";
  if (!c.small_ops.empty()) {
    s += " small decode ops started cold / with their inputs in the L3 (bytes, time):";
    for (const auto& o : c.small_ops)
      s += " " + o.op + (o.resident ? " hot " : " cold ") + reports::bytes_binary(o.bytes) + " " +
           reports::seconds(o.time_s) + ";";
    s += " empty fork/join " + reports::seconds(c.dispatch_overhead_s) + ";";
  }
  return s;
}

// The cache-residency model's inputs (docs/calibrate.md, "Caches"): only what was measured.
void set_cache_fields(const Calibration& c, const std::string& src, HardwareSpec& hw) {
  const CacheProbe& p = c.cache_probe;
  char ratio[32];
  // The capacity is the last-level cache (the L3, shared by the cores), and the read-back
  // bandwidth that of a quarter of it written just before (docs/calibrate.md, "Caches").
  const double capacity = c.caches.l3_bytes_total;
  if (capacity > 0 && p.reread_bytes_per_s > 0) {
    hw.last_level_cache = HardwareSpec::LastLevelCache{capacity, p.reread_bytes_per_s};
    hw.sources["last_level_cache.capacity_bytes"] = "L3 reported by the OS (sysfs), " + c.date;
    hw.sources["last_level_cache.read_bytes_per_s"] =
        src + ": " + reports::bytes_binary(p.reread_bytes) + " written after a flush, then read once, " +
        std::to_string(c.threads) + " threads";
  }
  if (p.nt_copy_measured) {
    hw.write_allocate = p.copy_over_nt_copy > kWriteAllocateCopyRatio;
    std::snprintf(ratio, sizeof ratio, "%.2f", p.copy_over_nt_copy);
    hw.sources["write_allocate"] = src + ": a DRAM-sized copy with ordinary stores took " + ratio +
                                   " x the same copy with non-temporal stores (write-allocate above " +
                                   "1.15)";
    // An update reads every line and writes it back: what it takes beyond the read pass is the
    // write-backs' cost, per byte, as a fraction of a read byte.
    hw.write_back_cost = std::clamp(p.update_over_read - 1, 0.01, 1.0);
    std::snprintf(ratio, sizeof ratio, "%.3f", p.update_over_read);
    hw.sources["write_back_cost"] = src + ": an in-place update pass over a DRAM-sized buffer took " +
                                    ratio + " x a read pass over it; cost = ratio - 1 in [0.01, 1]";
  }
}

}  // namespace

HardwareSpec to_hardware_spec(const Calibration& c, const std::string& name) {
  HardwareSpec hw;
  hw.name = name;
  hw.vendor = c.cpu.find("AMD") != std::string::npos     ? "AMD"
              : c.cpu.find("Intel") != std::string::npos ? "Intel"
                                                         : "unknown";
  hw.kind = DeviceKind::cpu;
  hw.description = c.cpu + ", " + std::to_string(c.threads) + " threads; measured by llmroof " +
                   c.llmroof_version + " calibrate on " + c.date;
  const std::string src = "measured by llmroof calibrate on " + c.cpu + " " + c.date + " (" +
                          c.policy.describe() + ")";
  hw.memory_bytes = c.memory_bytes;
  hw.sources["memory_bytes"] = "physical memory reported by the OS (sysconf), " + c.date;
  hw.memory_bandwidth_bytes_per_s = c.dram_bytes_per_s > 0 ? c.dram_bytes_per_s : c.dram_read_bytes_per_s();
  hw.sources["memory_bandwidth_bytes_per_s"] =
      src + ": max of the DRAM read bandwidth (median over every DRAM read of the run) and the " +
      "best decode GEMV, " + std::to_string(c.threads) + " threads";
  for (const auto& p : c.peaks) {
    if (!p.in_spec) continue;
    hw.dense_ops_per_s[static_cast<int>(p.dtype)] = p.ops_per_s;
    hw.sources["dense_ops_per_s." + std::string(to_string(p.dtype))] =
        src + ": " + p.instruction + ", " + std::to_string(c.threads) + " threads, dense";
  }
  hw.onchip_bytes_per_core = c.caches.l2_bytes_per_core;
  hw.onchip_bytes_total = c.caches.l2_bytes_per_core * c.threads;
  hw.sources["onchip_bytes_per_core"] = "L2 per core as reported by the OS (sysfs), " + c.date;
  hw.sources["onchip_bytes_total"] = "L2 per core x cores used, " + c.date;
  set_cache_fields(c, src, hw);
  hw.num_cores = c.threads;
  hw.sources["num_cores"] = src + ": threads used by the kernels";
  // The schema holds fractions in (0, 1]: a kernel that out-reads the read benchmark is capped.
  // (over the weight-only formats: W8A8's GEMV also quantizes x and has its own factor below)
  hw.efficiency.memory = std::min(1.0, median_efficiency(c, true, "gemm", "gemm_w8a8"));
  hw.kernel_launch_overhead_s =
      small_op_fixed_cost_s(c, hw.memory_bandwidth_bytes_per_s * hw.efficiency.memory);
  hw.sources["kernel_launch_overhead_s"] =
      src + (c.small_ops.empty()
                 ? ": thread-pool fork/join of an empty job"
                 : ": fixed cost of a small decode kernel started cold (median over add, rmsnorm, "
                   "silu_mul and rope run between DRAM-streaming GEMVs of time - cost-function "
                   "bytes / (bandwidth x efficiency.memory)); at least the empty fork/join");
  // Hot: against the L3 read-back rate the residency model charges resident bytes at; only with
  // that rate (set_cache_fields above), since the analyzer uses the hot figure only beside it.
  if (hw.last_level_cache)
    if (auto hot = small_op_hot_fixed_cost_s(c, hw.last_level_cache->read_bytes_per_s);
        hot && *hot > 0) {
      hw.kernel_launch_overhead_hot_s = *hot;
      hw.sources["kernel_launch_overhead_hot_s"] =
          src + ": fixed cost of a small decode kernel started with its inputs in the L3 (median "
                "over add, rmsnorm, silu_mul and rope, each behind a GEMV streaming L3/8 of weights "
                "from DRAM, of time - "
                "cost-function bytes / last_level_cache.read_bytes_per_s); at least the empty "
                "fork/join";
    }
  hw.efficiency.compute = std::min(1.0, median_efficiency(c, false, "gemm_fp32"));
  // The fused attention kernels' own factors (the full run measures them; --quick leaves them
  // absent, and the analyzer then uses memory / compute for attention too).
  for (const auto& k : c.kernels) {
    if (k.efficiency() <= 0) continue;
    if (k.kernel == "attention_decode") {
      hw.efficiency.attention_memory = std::min(1.0, k.efficiency());
      hw.sources["efficiency.attention_memory"] =
          src + ": attention_decode " + k.shape + " rotated through >= 1 GiB, " +
          "paired with DRAM reads, fused_attention_cost bytes / time / this bandwidth";
    } else if (k.kernel.rfind("attention_decode_", 0) == 0) {  // attention_decode_<KV dtype>
      const std::string d = k.kernel.substr(std::strlen("attention_decode_"));
      for (int i = 0; i < kNumDTypes; ++i)
        if (d == to_string(static_cast<DType>(i))) {
          hw.efficiency.attention_memory_by_dtype[i] = std::min(1.0, k.efficiency());
          hw.sources["efficiency.attention_memory_" + d] =
              src + ": attention_decode " + k.shape + " rotated through >= 1 GiB, " +
              "paired with DRAM reads, fused_attention_cost bytes / time / this bandwidth";
        }
    } else if (k.kernel == "attention_prefill_short_onchip") {
      hw.efficiency.attention_compute_short_onchip = std::min(1.0, k.efficiency());
      hw.sources["efficiency.attention_compute_short_onchip"] =
          src + ": attention_prefill " + k.shape + " causal (Q, K, V, O inside the L2), " +
          "fused_attention_cost ops / time / measured fp32 FMA peak (the analyzer uses it for " +
          "the short end when the prompt's Q, K, V, O fit on chip)";
    } else if (k.kernel == "attention_prefill_short") {
      hw.efficiency.attention_compute_short = std::min(1.0, k.efficiency());
      hw.sources["efficiency.attention_compute_short"] =
          src + ": attention_prefill " + k.shape + " causal, fused_attention_cost ops / time / " +
          "measured fp32 FMA peak (the analyzer interpolates by prompt length)";
    } else if (k.kernel == "attention_prefill") {
      hw.efficiency.attention_compute = std::min(1.0, k.efficiency());
      hw.sources["efficiency.attention_compute"] =
          src + ": attention_prefill " + k.shape + " causal, fused_attention_cost ops / time / " +
          "measured fp32 FMA peak";
    }
  }
  // Each decode GEMV format against the bandwidth: the analyzer applies it to the linear layers
  // when their weights are in that format (memory, the median, to everything else).
  for (const auto& k : c.kernels) {
    if (!k.memory_bound || k.efficiency() <= 0 || k.kernel.rfind("gemm_", 0) != 0) continue;
    // The GEMV kernels are named gemm_<format>, and the weight formats measured are spelled as
    // the analyzer's dtypes; gemm_w8a8 matches none and has a key of its own.
    std::optional<DType> t;
    for (int i = 0; i < kNumDTypes; ++i)
      if (k.kernel == "gemm_" + std::string(to_string(static_cast<DType>(i))))
        t = static_cast<DType>(i);
    if (k.kernel == "gemm_w8a8") {
      hw.efficiency.memory_w8a8 = std::min(1.0, k.efficiency());
      hw.sources["efficiency.memory_w8a8"] =
          src + ": decode GEMV gemm_w8a8 " + k.shape +
          " (x quantized per token; weights rotated through >= 1 GiB, paired with DRAM reads) "
          "achieved / this bandwidth";
    }
    if (!t) continue;
    hw.efficiency.memory_by_dtype[static_cast<int>(*t)] = std::min(1.0, k.efficiency());
    hw.sources["efficiency.memory_" + std::string(to_string(*t))] =
        src + ": decode GEMV " + k.kernel + " " + k.shape +
        " (weights rotated through >= 1 GiB, paired with DRAM reads) achieved / this bandwidth";
  }
  // W8A8's GEMM against the int8 peak, and on AMX-BF16 CPUs the bf16-weight GEMM against the bf16
  // (tdpbf16ps) peak: the analyzer applies each to the GEMMs that multiply in that dtype (compute
  // to the rest).
  for (const auto& k : c.kernels) {
    if (k.memory_bound || !(k.efficiency() > 0)) continue;
    const auto set = [&](DType t, kernels::WeightFormat f, const std::string& what) {
      hw.efficiency.compute_by_dtype[static_cast<int>(t)] = std::min(1.0, k.efficiency());
      hw.sources["efficiency.compute_" + std::string(to_string(t))] =
          src + ": " + what + " GEMM (" + std::string(kernels::gemm_isa(f)) + ") " + k.shape +
          " achieved / measured " + std::string(to_string(t)) + " peak";
    };
    if (k.kernel == "gemm_w8a8") set(DType::int8, kernels::WeightFormat::w8a8, "W8A8");
    if (k.kernel == "gemm_bf16") set(DType::bf16, kernels::WeightFormat::bf16, "bf16-weight");
  }
  hw.notes = calibration_notes(c);
  hw.sources["efficiency.memory"] =
      src + ": median over decode GEMVs (weights rotated through >= 1 GiB, paired with DRAM reads) "
            "of achieved / this bandwidth";
  hw.sources["efficiency.compute"] =
      src + ": prefill GEMM fp32 m=512 n=4096 k=4096 (paired with the FMA loop) achieved / "
            "measured fp32 FMA peak";
  return hw;
}

std::string format_calibration(const Calibration& c) {
  using namespace reports;
  std::string out;
  char buf[256];
  out += "llmroof calibrate: " + c.cpu + ", " + std::to_string(c.threads) + " threads, " + c.date +
         "\n";
  std::snprintf(buf, sizeof buf, "caches: L1d %s/core, L2 %s/core, L3 %s total; memory %s\n",
                bytes_binary(c.caches.l1d_bytes_per_core).c_str(),
                bytes_binary(c.caches.l2_bytes_per_core).c_str(),
                bytes_binary(c.caches.l3_bytes_total).c_str(), bytes_binary(c.memory_bytes).c_str());
  out += buf;
  out += "bandwidth (all threads, " + c.policy.describe() + "):\n";
  for (const auto& b : c.bandwidth) {
    std::snprintf(buf, sizeof buf, "  %-5s %10s/thread  read %10s  copy %10s  (spread %s)\n",
                  b.level.c_str(), bytes_binary(b.bytes_per_thread).c_str(),
                  bytes_per_s(b.read_bytes_per_s).c_str(), bytes_per_s(b.copy_bytes_per_s).c_str(),
                  percent(b.read_spread).c_str());
    out += buf;
  }
  if (c.cache_probe.reread_bytes_per_s > 0) {
    std::snprintf(buf, sizeof buf, "  read back once just after writing %s: %s (spread %s)\n",
                  bytes_binary(c.cache_probe.reread_bytes).c_str(),
                  bytes_per_s(c.cache_probe.reread_bytes_per_s).c_str(),
                  percent(c.cache_probe.reread_spread).c_str());
    out += buf;
  }
  if (c.cache_probe.nt_copy_measured) {
    std::snprintf(buf, sizeof buf,
                  "  copy with ordinary stores / non-temporal stores: %.2f x (write-allocate: %s)\n",
                  c.cache_probe.copy_over_nt_copy,
                  c.cache_probe.copy_over_nt_copy > kWriteAllocateCopyRatio ? "yes" : "no");
    out += buf;
    std::snprintf(buf, sizeof buf, "  in-place update / read, DRAM-sized: %.3f x\n",
                  c.cache_probe.update_over_read);
    out += buf;
  }
  std::snprintf(buf, sizeof buf,
                "DRAM read over the whole run (sweep and the reads beside the kernels): %s\n"
                "DRAM bandwidth used for the spec: %s\n",
                bytes_per_s(c.dram_pooled_bytes_per_s).c_str(),
                bytes_per_s(c.dram_bytes_per_s).c_str());
  out += buf;
  out += "peak throughput (all threads):\n";
  for (const auto& p : c.peaks) {
    std::snprintf(buf, sizeof buf, "  %-5s %-19s %s%s\n", std::string(to_string(p.dtype)).c_str(),
                  p.instruction.c_str(), ops_per_s(p.ops_per_s).c_str(),
                  p.in_spec ? "" : " (for the record: the spec's is the AMX figure)");
    out += buf;
  }
  if (!kernels::cpu_features().amx_tile) out += "  AMX: not present on this CPU\n";
  std::snprintf(buf, sizeof buf, "dispatch overhead (empty fork/join): %s\n",
                seconds(c.dispatch_overhead_s).c_str());
  out += buf;
  const double eff_bw = c.dram_bytes_per_s * std::min(1.0, median_efficiency(c, true, "gemm", "gemm_w8a8"));
  const double llc_bw = c.cache_probe.reread_bytes_per_s;
  for (const bool hot : {false, true}) {
    const double bw = hot ? llc_bw : eff_bw;
    bool header = false;
    for (const auto& o : c.small_ops) {
      if (o.resident != hot) continue;
      if (!header)
        out += std::string(hot ? "small decode ops with their inputs in the L3 (behind GEMVs "
                                 "streaming L3/8), time vs bytes at "
                               : "small decode ops started cold (between GEMVs), time vs bytes at ") +
               bytes_per_s(bw) + ":\n";
      header = true;
      std::snprintf(buf, sizeof buf, "  %-9s %10s  %10s  bandwidth term %10s  (spread %s)\n",
                    o.op.c_str(), bytes_binary(o.bytes).c_str(), seconds(o.time_s).c_str(),
                    seconds(bw > 0 ? o.bytes / bw : 0).c_str(), percent(o.spread).c_str());
      out += buf;
    }
    if (!header) continue;
    const std::optional<double> fixed =
        hot ? small_op_hot_fixed_cost_s(c, bw) : small_op_fixed_cost_s(c, bw);
    std::snprintf(buf, sizeof buf, "fixed cost per kernel (kernel_launch_overhead%s): %s\n",
                  hot ? "_hot" : "", fixed ? seconds(*fixed).c_str() : "-");
    out += buf;
  }
  out += "kernel efficiency (achieved / measured limit; achieved = ratio to the reference loop\n"
         "run alongside x the reference's figure; as run: the kernel's own median):\n";
  for (const auto& k : c.kernels) {
    const auto rate = [&](double v) { return k.memory_bound ? bytes_per_s(v) : ops_per_s(v); };
    std::snprintf(buf, sizeof buf, "  %-21s %-26s %12s of %12s = %s\n", k.kernel.c_str(),
                  k.shape.c_str(), rate(k.achieved_per_s).c_str(), rate(k.limit_per_s).c_str(),
                  percent(k.efficiency()).c_str());
    out += buf;
    if (k.paired_ratio <= 0) continue;
    if (k.pair_samples.empty()) {  // paired by its own probe (short_ops.cpp)
      std::snprintf(buf, sizeof buf,
                    "      median ratio %.3f (spread %s, %d pairs used) to the 512-token probe\n",
                    k.paired_ratio, percent(k.ratio_spread).c_str(), k.pairs_used);
      out += buf;
      continue;
    }
    std::snprintf(buf, sizeof buf,
                  "      ratio %.3f (spread %s, %d of %d pairs used) to the %s beside it "
                  "at %s; as run %s\n",
                  k.paired_ratio, percent(k.ratio_spread).c_str(), k.pairs_used,
                  static_cast<int>(k.pair_samples.size()),
                  k.memory_bound ? "DRAM read" : "peak loop", rate(k.reference_per_s).c_str(),
                  rate(k.measured_per_s).c_str());
    out += buf;
  }
  return out;
}

}  // namespace llmroof::calibrate
