// `llmroof kernels list|check|bench`: the registered CPU (and CUDA) kernels, their correctness
// against the scalar references, and their speed against this machine's roofline.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "calibrate/calibrate.hpp"
#include "cli/commands.hpp"
#include "cli/input_checks.hpp"
#include "io/catalog.hpp"
#include "io/diagnostics.hpp"
#include "io/errors.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/measure.hpp"
#include "kernels/registry.hpp"
#include "reports/units.hpp"

namespace llmroof::cli {

namespace {

// What `kernels check` and `kernels bench` say of a shape timed as its fallback (KernelCase::fallback).
std::string runs_the(const std::string& fallback) { return "this shape runs the " + fallback; }

// Integer formats count operations, not floating-point operations: their throughput is "OP/s".
bool integer_math(DType t) { return t == DType::int8 || t == DType::int4; }

using namespace llmroof::kernels;

struct BenchOptions {
  std::string name;
  Problem problem;
  int threads = 0;
  int reps = 5;
  double min_seconds = 0.5;
  double rotate_mib = 0;
  // The roofline's limits: from a hardware file (a db name or `llmroof calibrate`'s output), the
  // peak of the kernel's compute dtype; --bandwidth-gbs / --peak-gflops override (0 = from the file).
  std::string hardware = "host-reference-cpu";
  double bandwidth_gbs = 0;
  double peak_gflops = 0;
  bool check = false;
};

struct CheckOptions {
  std::vector<std::string> names;
  int threads = 0;
};

KernelRegistry make_registry() {
  KernelRegistry r;
  register_cpu_kernels(r);
#if LLMROOF_HAVE_CUDA
  register_cuda_kernels(r);
#endif
  return r;
}

const KernelEntry& find_kernel(const KernelRegistry& r, const std::string& name) {
  if (const KernelEntry* e = r.find(name)) return *e;
  std::vector<std::string> names;
  for (const KernelEntry& e : r.all()) names.push_back(e.name);
  std::string near;
  for (const std::string& n : diag::suggestions(name, names))
    near += (near.empty() ? "" : ", ") + n;
  throw InputError("kernels: unknown kernel '" + name + "'" +
                   (near.empty() ? "" : "; did you mean: " + near + "?") +
                   " (see `llmroof kernels list`)");
}

// Shapes are checked here, before anything is allocated: a negative size would otherwise reach
// std::vector (length_error), a zero group a division, and a huge one the OOM killer.
void check_problem(const KernelEntry& e, const Problem& p) {
  const auto positive = [](int64_t v, const char* opt) {
    if (v < 1) throw InputError(std::string(opt) + " " + std::to_string(v) + ": must be >= 1");
  };
  double floats = 0;  // fp32 elements of inputs, outputs and the reference output (upper bound)
  const auto d = [](int64_t v) { return static_cast<double>(v); };
  switch (e.op) {
    case Op::gemm:
      positive(p.m, "--m");
      positive(p.n, "--n");
      positive(p.k, "--k");
      positive(p.group_size, "--group-size");
      if (e.dtypes.find("int4") != std::string::npos && p.group_size % 8 != 0)
        throw InputError("--group-size " + std::to_string(p.group_size) + ": " + e.name +
                         " needs a multiple of 8");
      floats = d(p.m) * d(p.k) + d(p.k) * d(p.n) + 2 * d(p.m) * d(p.n);
      break;
    case Op::rmsnorm: case Op::add_rmsnorm: case Op::silu_mul: case Op::softmax:
      positive(p.m, "--m");
      positive(p.n, "--n");
      floats = 5 * d(p.m) * d(p.n);
      break;
    default:  // attention and rope
      positive(p.batch, "--batch");
      positive(p.q_heads, "--q-heads");
      positive(p.kv_heads, "--kv-heads");
      positive(p.head_dim, "--head-dim");
      positive(p.q_len, "--q-len");
      positive(p.kv_len, "--kv-len");
      floats = d(p.batch) * d(p.head_dim) *
               (2 * d(p.kv_heads) * d(p.kv_len) + 3 * d(p.q_heads) * d(p.q_len));
  }
  const double limit = 0.5 * calibrate::host_memory_bytes();
  if (4 * floats > limit)
    throw InputError("kernels bench " + e.name + " " + p.to_args(e.op) + ": needs about " +
                     reports::bytes_binary(4 * floats) + ", more than half of this machine's memory");
}

void run_list() {
  const KernelRegistry r = make_registry();
  std::cout << "CPU: " << cpu_features().brand << "\nfeatures: " << cpu_features().summary() << "\n\n";
  // the isa column as wide as its longest entry (e.g. "avx512_vnni+amx_int8" on AMX CPUs)
  size_t isa_width = 16;
  for (const KernelEntry& e : r.all()) isa_width = std::max(isa_width, e.isa.size() + 2);
  const int iw = static_cast<int>(isa_width);
  std::cout << std::left << std::setw(28) << "name" << std::setw(19) << "op" << std::setw(iw)
            << "isa" << std::setw(11) << "supported"
            << "dtypes\n";
  for (const KernelEntry& e : r.all())
    std::cout << std::left << std::setw(28) << e.name << std::setw(19) << to_string(e.op)
              << std::setw(iw) << e.isa << std::setw(11) << (e.supported() ? "yes" : "no")
              << e.dtypes << "\n";
}

std::string format_check(const KernelEntry& e, const Problem& p, const CheckResult& c) {
  std::ostringstream s;
  s << to_string(c.disposition) << " " << e.name << "(" << p.to_params(e.op) << ")";
  if (!c.metric.empty()) s << " " << c.metric << "=" << std::setprecision(3) << c.error << " tol=" << c.tolerance;
  if (!c.detail.empty()) s << " [" << c.detail << "]";
  s << " -- llmroof kernels bench " << e.name << " " << p.to_args(e.op) << " --check";
  return s.str();
}

// Builds, runs and compares one case; shape errors become a FAILED line, not an abort of the run.
CheckResult check_case(const KernelEntry& e, const Problem& p, ThreadPool& pool) {
  CheckResult c;
  if (!e.supported()) {
    c.disposition = Disposition::unsupported;
    c.detail = "not supported here: missing CPU features or no GPU";
    return c;
  }
  try {
    auto k = e.make(p);
    k->run(pool);
    k->run_reference();
    CheckResult r = k->compare();
    if (const std::string fb = k->fallback(); !fb.empty() && r.detail.empty())
      r.detail = runs_the(fb) + ": compared with itself";
    return r;
  } catch (const std::exception& ex) {
    c.disposition = Disposition::failed;
    c.detail = ex.what();
    return c;
  }
}

void run_check(const CheckOptions& o, Context& ctx) {
  check_threads(o.threads);
  const KernelRegistry r = make_registry();
  std::vector<const KernelEntry*> entries;
  for (const std::string& n : o.names) entries.push_back(&find_kernel(r, n));
  if (o.names.empty())
    for (const KernelEntry& e : r.all()) entries.push_back(&e);
  ThreadPool pool(o.threads);
  int passed = 0, bad = 0, other = 0;
  for (const KernelEntry* e : entries) {
    const auto problems = e->check_problems.empty() ? default_check_problems(e->op) : e->check_problems;
    for (const Problem& p : problems) {
      const CheckResult c = check_case(*e, p, pool);
      std::cout << format_check(*e, p, c) << std::endl;
      if (c.disposition == Disposition::passed) ++passed;
      else if (c.disposition == Disposition::failed || c.disposition == Disposition::mistrusted) ++bad;
      else ++other;
    }
  }
  std::cout << passed << " passed, " << bad << " failed or mistrusted, " << other
            << " skipped or unsupported\n";
  if (bad) ctx.exit_code = 1;
}

struct RooflineLimits {
  double bandwidth_bytes_per_s = 0, peak_ops_per_s = 0;  // peak_ops_per_s: e.compute's
  std::string source;  // the hardware file's name, or "given" where both were overridden
  std::optional<HardwareSpec> hw;  // where the peak comes from the file (peaks of other dtypes)
};

// The limits `kernels bench` divides by: the hardware's memory bandwidth and the peak of the dtype
// the kernel computes in (e.compute), each replaced by its option where that is given.
RooflineLimits roofline_limits(const BenchOptions& o, const KernelEntry& e, const Context& ctx) {
  RooflineLimits l;
  l.bandwidth_bytes_per_s = o.bandwidth_gbs * 1e9;
  l.peak_ops_per_s = o.peak_gflops * 1e9;
  l.source = "given";
  if (l.bandwidth_bytes_per_s > 0 && l.peak_ops_per_s > 0) return l;
  HardwareSpec hw;
  try {
    hw = Catalog(ctx.search_paths).hardware(o.hardware);
  } catch (const InputError& err) {
    throw InputError("--hardware " + o.hardware + ": " + err.what());
  }
  l.source = hw.name;
  if (!(l.bandwidth_bytes_per_s > 0)) l.bandwidth_bytes_per_s = hw.memory_bandwidth_bytes_per_s;
  if (!(l.peak_ops_per_s > 0)) {
    l.hw = hw;
    const auto peak = hw.peak(e.compute);
    if (!peak)
      throw InputError("--hardware " + o.hardware + ": no dense_tops." + std::string(to_string(e.compute)) +
                       " for " + e.name + "; give --peak-gflops");
    l.peak_ops_per_s = *peak;
  }
  return l;
}

// The compute side of the roofline for a case whose ops run at more than one peak
// (KernelCase::ops_at: the int8 decode's vpdpbusd, the bf16 decode's vdpbf16ps dot products): each
// share at its dtype's peak and the rest at e.compute's, their times added (on one core they share
// the vector pipes), given as the one peak that takes that time, with its description for the
// limit line. A given
// --peak-gflops, or a hardware file without the other dtype's peak, puts every op at e.compute's.
struct ComputePeak {
  double ops_per_s = 0;
  std::string text;  // "fp32 482GOP/s" or "fp32 482GOP/s, int8 1.93TOP/s for 1.07GOP"
};
ComputePeak compute_peak(const KernelEntry& e, const std::vector<KernelCase::OpsAt>& shares, const OpCost& cost,
                         const RooflineLimits& l) {
  using reports::si;
  ComputePeak p{l.peak_ops_per_s, std::string(to_string(e.compute)) + " " + si(l.peak_ops_per_s) + "OP/s"};
  if (!l.hw) return p;
  double rest = cost.ops, seconds = 0;
  for (const KernelCase::OpsAt& share : shares) {
    const auto peak = l.hw->peak(share.dtype);
    if (!peak || !(*peak > 0) || !(share.ops > 0) || share.ops > rest) continue;
    rest -= share.ops;
    seconds += share.ops / *peak;
    p.text += ", " + std::string(to_string(share.dtype)) + " " + si(*peak) + "OP/s for " + si(share.ops) + "OP";
  }
  if (seconds > 0) p.ops_per_s = cost.ops / (seconds + rest / l.peak_ops_per_s);
  return p;
}

void run_bench(const BenchOptions& o, Context& ctx) {
  const KernelRegistry r = make_registry();
  const KernelEntry& e = find_kernel(r, o.name);
  if (!e.supported())
    throw InputError("kernels bench: " + e.name + " is not supported here (missing CPU features or no GPU)");
  check_problem(e, o.problem);
  check_threads(o.threads);
  if (o.reps < 1) throw InputError("--reps " + std::to_string(o.reps) + ": must be >= 1");
  if (!(o.min_seconds >= 0 && o.min_seconds <= 3600))
    throw InputError("--min-time: must be between 0 and 3600 seconds");
  if (!(o.rotate_mib >= 0 && o.rotate_mib * 1024 * 1024 <= 0.5 * calibrate::host_memory_bytes()))
    throw InputError("--rotate-mib: must be between 0 and half of this machine's memory");
  if (!(o.bandwidth_gbs >= 0) || !(o.peak_gflops >= 0) || !std::isfinite(o.bandwidth_gbs) ||
      !std::isfinite(o.peak_gflops))
    throw InputError("--bandwidth-gbs and --peak-gflops must be positive (0 = from --hardware)");
  const RooflineLimits lim_in = roofline_limits(o, e, ctx);
  ThreadPool pool(o.threads);
  if (o.check) {
    const CheckResult c = check_case(e, o.problem, pool);
    std::cout << format_check(e, o.problem, c) << "\n";
    if (c.disposition != Disposition::passed) ctx.exit_code = 1;
  }
  std::vector<std::unique_ptr<KernelCase>> cases;
  cases.push_back(e.make(o.problem));
  const double ws = static_cast<double>(cases[0]->working_set_bytes());
  const double want = o.rotate_mib * 1024 * 1024;
  while (static_cast<double>(cases.size()) * ws < want && cases.size() < 256) {
    Problem p = o.problem;
    p.seed += cases.size();
    cases.push_back(e.make(p));
  }
  const Timing t = time_cases(cases, pool, o.reps, o.min_seconds);
  const OpCost cost = cases[0]->cost();
  const std::vector<KernelCase::OpsAt> shares = cases[0]->ops_at();
  const ComputePeak peak = compute_peak(e, shares, cost, lim_in);
  const Limit lim = roofline_limit(cost, peak.ops_per_s, lim_in.bandwidth_bytes_per_s);
  using namespace reports;
  const std::string shape_isa = cases[0]->isa();
  std::cout << e.name << "(" << o.problem.to_params(e.op) << ") threads=" << pool.size()
            << " isa=" << (shape_isa.empty() ? e.isa : shape_isa);
  // A shape the SIMD path does not take (attention head_dim % 16 != 0) is timed as what it runs.
  if (const std::string fb = cases[0]->fallback(); !fb.empty()) std::cout << ", " << runs_the(fb);
  std::cout << "\n  working set " << bytes_binary(ws) << " x " << cases.size() << " copies, " << t.reps
            << " runs, cpu share " << percent(t.cpu_share, 0) << "\n  median " << seconds(t.median_s) << " (min " << seconds(t.min_s) << ", max "
            << seconds(t.max_s) << ")\n  " << si(cost.ops) << "OP, " << bytes(cost.bytes.total())
            << " moved: " << si(cost.ops / t.median_s)
            << (integer_math(e.compute) || !shares.empty() ? "OP/s, " : "FLOP/s, ")
            << bytes_per_s(cost.bytes.total() / t.median_s)
            << "\n  limit " << (lim.memory_bound ? "memory" : "compute") << " (" << lim_in.source << ": "
            << bytes_per_s(lim_in.bandwidth_bytes_per_s) << ", " << peak.text << "): " << seconds(lim.seconds) << " -> "
            << percent(lim.seconds / t.median_s) << " of the roofline\n";
  // Faster than the limit: the limits are not this machine's (the reference CPU's peaks were
  // measured on another machine; Zen 5's vdpbf16ps, for one, does about 4x its bf16 figure).
  if (lim.seconds > t.median_s)
    std::cout << "  above the roofline: "
              << (lim_in.source == "given" ? std::string("the given limits are") : lim_in.source + "'s limits are")
              << " below this machine's; `llmroof calibrate` measures them (pass its file with --hardware)\n";
}

void add_problem_options(CLI::App& cmd, Problem& p) {
  cmd.add_option("--m", p.m, "GEMM rows / rows of a row-wise op")->capture_default_str();
  cmd.add_option("--n", p.n, "GEMM columns / row length of a row-wise op")->capture_default_str();
  cmd.add_option("--k", p.k, "GEMM reduction length")->capture_default_str();
  cmd.add_option("--group-size", p.group_size, "int4 weight group along k")->capture_default_str();
  cmd.add_option("--batch", p.batch, "sequences (attention, rope)")->capture_default_str();
  cmd.add_option("--q-heads", p.q_heads, "query heads")->capture_default_str();
  cmd.add_option("--kv-heads", p.kv_heads, "key/value heads (GQA)")->capture_default_str();
  cmd.add_option("--head-dim", p.head_dim, "head dimension")->capture_default_str();
  cmd.add_option("--q-len", p.q_len, "new tokens per sequence (1 = decode)")->capture_default_str();
  cmd.add_option("--kv-len", p.kv_len, "context length incl. the new tokens")->capture_default_str();
  cmd.add_option("--causal", p.causal, "causal mask (prefill)")->capture_default_str();
  cmd.add_option("--seed", p.seed, "input data seed")->capture_default_str();
}
}  // namespace

void add_kernels_command(CLI::App& app, Context& ctx) {
  CLI::App* k = app.add_subcommand("kernels", "List, check and benchmark the real CPU kernels");
  k->require_subcommand(1);
  k->add_subcommand("list", "Every registered kernel with its op, dtypes and the ISA it uses here")
      ->callback([] { run_list(); });

  auto co = std::make_shared<CheckOptions>();
  CLI::App* check = k->add_subcommand("check", "Run kernels against their scalar references");
  check->add_option("names", co->names, "Kernels to check (default: all)");
  check->add_option("--threads", co->threads, "Threads (default: all cores)");
  check->callback([co, &ctx] { run_check(*co, ctx); });

  auto bo = std::make_shared<BenchOptions>();
  CLI::App* bench = k->add_subcommand("bench", "Time one kernel; GFLOP/s (GOP/s for integer math), GB/s, fraction of the roofline");
  bench->add_option("name", bo->name, "Kernel name (see `llmroof kernels list`)")->required();
  add_problem_options(*bench, bo->problem);
  bench->add_option("--threads", bo->threads, "Threads (default: all cores)");
  bench->add_option("--reps", bo->reps, "Minimum timed runs")->capture_default_str();
  bench->add_option("--min-time", bo->min_seconds, "Minimum seconds of timed runs")->capture_default_str();
  bench->add_option("--rotate-mib", bo->rotate_mib,
                    "Rotate over copies of the problem until this many MiB (1024+ measures DRAM)")
      ->capture_default_str();
  bench->add_option("--hardware", bo->hardware,
                    "Hardware file or db name for the roofline (`llmroof calibrate -o host.yaml` measures this machine)")
      ->capture_default_str();
  bench->add_option("--bandwidth-gbs", bo->bandwidth_gbs, "Memory bandwidth limit, GB/s (default: --hardware's)");
  bench->add_option("--peak-gflops", bo->peak_gflops,
                    "Compute limit, GFLOP/s or GOP/s, for all the kernel's ops (default: --hardware's peak for "
                    "each op's dtype)");
  bench->add_flag("--check", bo->check, "Also compare with the reference first (exit 1 on failure)");
  bench->callback([bo, &ctx] { run_bench(*bo, ctx); });
}

}  // namespace llmroof::cli
