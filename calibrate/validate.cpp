#include "calibrate/validate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <utility>

#include "analyzer/analyzer.hpp"
#include "calibrate/attention_probe.hpp"
#include "calibrate/calibrate.hpp"
#include "calibrate/microbench.hpp"
#include "calibrate/model_runner.hpp"
#include "calibrate/timing.hpp"
#include "io/errors.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu_features.hpp"

namespace llmroof::calibrate {

using kernels::KvFormat;
using kernels::WeightFormat;

namespace {

void say(const ValidateOptions& o, const std::string& s) {
  if (o.progress) o.progress(s);
}

WeightFormat weight_format(const Settings& s) {
  switch (s.quant.weights) {
    case DType::fp32: case DType::tf32: return WeightFormat::fp32;
    case DType::fp16: case DType::bf16: return WeightFormat::bf16;
    case DType::int8:
      return s.quant.activations == DType::int8 ? WeightFormat::w8a8 : WeightFormat::int8;
    case DType::int4: return WeightFormat::int4;
    case DType::fp8: return WeightFormat::fp8;
  }
  return WeightFormat::fp32;
}

KvFormat kv_format(const Settings& s) {
  switch (s.quant.kv_cache) {
    case DType::fp16: case DType::bf16: return KvFormat::bf16;
    case DType::int8: return KvFormat::int8;
    default: return KvFormat::fp32;
  }
}

StackConfig stack_config(const Settings& s, int64_t layers) {
  StackConfig c;
  c.weights = weight_format(s);
  c.kv = kv_format(s);
  c.group_size = s.quant.weights == DType::int4 ? s.quant.group_size : 128;
  c.batch = s.batch;
  c.max_tokens = std::max<int64_t>(1, s.prompt_len);
  c.max_context = s.prompt_len + std::max<int64_t>(1, s.gen_len) + 1;
  c.layers = layers;
  return c;
}

// The format of embedding / lm_head as the analyzer costs it (fp32 with fp32 activations, else
// 16-bit), read back from the lm_head row's weight bytes so both sides agree.
WeightFormat head_format(const ModelSpec& m, const Analysis& a) {
  for (const auto& r : a.decode.rows)
    if (r.name == "lm_head") {
      const double per = r.cost.bytes.weights /
                         (static_cast<double>(m.hidden_size) * static_cast<double>(m.vocab_size));
      return per > 3 ? WeightFormat::fp32 : WeightFormat::bf16;
    }
  return WeightFormat::fp32;
}

TimingStats stats(const std::vector<double>& v) { return stats_of(v); }

}  // namespace

Settings cpu_kernel_settings(const Settings& req, std::vector<std::string>& notes) {
  Settings s = req;
  if (s.tp != 1) throw InputError("validate: --tp must be 1 (one CPU)");
  if (s.quant.kv_cache == DType::int4 || s.quant.kv_cache == DType::fp8)
    throw InputError("validate: --kvbits: the CPU attention kernels read fp32, bf16 or int8 KV");
  if (s.quant.activations == DType::int8 && s.quant.weights != DType::int8)
    throw InputError("validate: --abits 8 needs --wbits 8 (the CPU kernels implement W8A8 only)");
  if (s.quant.activations != DType::fp32 && s.quant.activations != DType::int8) {
    notes.push_back("activations are fp32 in the CPU kernels: predicted with --abits 32 (asked: " +
                    std::string(to_string(s.quant.activations)) + ")");
    s.quant.activations = DType::fp32;
  }
  // The kernels keep the residual stream (norms, adds, rope, attention) in fp32 whatever the
  // linear layers' formats; with W8A8 the analyzer's default would be fp16.
  if (s.quant.activations == DType::int8)
    notes.push_back("the residual stream and attention stay fp32 in the CPU kernels with W8A8: "
                    "predicted with an fp32 residual");
  s.quant.residual = DType::fp32;
  if (s.quant.weights == DType::fp16) {
    notes.push_back("16-bit weights run as bf16 (same bytes); predicted as bf16");
    s.quant.weights = DType::bf16;
  }
  // Prefill and batches of >= kBf16AmxMinRows rows multiply bf16 weights on AMX tiles; below that
  // the GEMVs stream their weights (memory-bound: the peak does not matter).
  if (s.quant.weights == DType::bf16 && s.quant.activations == DType::fp32 &&
      kernels::gemm_bf16_uses_amx()) {
    notes.push_back("bf16 weights multiply on AMX-BF16 tiles from " +
                    std::to_string(kernels::kBf16AmxMinRows) +
                    " rows, x rounded to bf16: the linear layers predicted at the bf16 peak");
    s.quant.linear_math = DType::bf16;
  }
  if (s.quant.kv_cache == DType::fp16) {
    notes.push_back("16-bit KV cache runs as bf16 (same bytes); predicted as bf16");
    s.quant.kv_cache = DType::bf16;
  }
  if (!s.flash_attention) {
    notes.push_back("the CPU kernels fuse attention (flash): predicted with --flash-attn");
    s.flash_attention = true;
  }
  if (s.quant.weights != DType::int4) s.quant.group_size = 0;
  else if (s.quant.group_size < 8 || s.quant.group_size % 8 != 0)  // the int4 packing's unit
    throw InputError("validate: --group-size " + std::to_string(s.quant.group_size) +
                     ": the int4 CPU kernels need a positive multiple of 8");
  return s;
}

std::string settings_summary(const Settings& s) {
  return "batch=" + std::to_string(s.batch) + " prompt=" + std::to_string(s.prompt_len) +
         " gen=" + std::to_string(s.gen_len) + " w=" + std::string(to_string(s.quant.weights)) +
         " a=" + std::string(to_string(s.quant.activations)) +
         " kv=" + std::string(to_string(s.quant.kv_cache)) +
         " group=" + std::to_string(s.quant.group_size) +
         " flash=" + (s.flash_attention ? "on" : "off") +
         " mode=" + std::string(to_string(s.mode));
}

int64_t default_layer_count(const ModelSpec& m, const Settings& s, double budget) {
  const double per = DecoderStack::block_bytes(m, stack_config(s, 1));
  // The head (lm_head + embedding, fp32 at most) is built too.
  const double head = 8.0 * static_cast<double>(m.vocab_size * m.hidden_size);
  const double avail = std::min(budget, 0.3 * host_memory_bytes()) - head;
  const int64_t fit = avail > per ? static_cast<int64_t>(avail / per) : 1;
  return std::clamp<int64_t>(fit, 1, std::min<int64_t>(8, m.num_layers));
}

void append_op_results(const PhaseSamples& ps, double mistrust_spread, ValidationRun& run,
                       Statistic stat) {
  const auto find_samples = [&](const std::string& name) -> const std::vector<double>* {
    for (const auto& [n, v] : ps.samples)
      if (n == name) return &v;
    return nullptr;
  };
  for (const auto& row : *ps.rows) {
    OpResult o;
    o.phase = ps.phase;
    o.name = row.name;
    o.count = row.count;
    o.predicted_s = row.time_s;
    const auto* v = find_samples(row.name);
    if (!v || v->empty()) {
      o.disposition = Disposition::unsupported;
      o.detail = "no CPU kernel runs this row";
    } else {
      const auto t = stats(*v);
      o.measured_s = t.value(stat);
      o.spread = t.spread();
      if (!(o.measured_s > 0) || !std::isfinite(o.measured_s)) {
        o.disposition = Disposition::mistrusted;
        o.detail = "no valid time";
      } else if (o.spread > mistrust_spread) {
        o.disposition = Disposition::mistrusted;
        o.detail = "noisy: inter-quartile spread above " +
                   std::to_string(static_cast<int>(100 * mistrust_spread)) + " % of the median";
      }
    }
    run.ops.push_back(std::move(o));
  }
  for (const auto& [name, v] : ps.samples) {
    if (run.find(ps.phase, name)) continue;
    OpResult o;
    o.phase = ps.phase;
    o.name = name;
    o.count = run.layers_total;
    o.measured_s = stats(v).value(stat);
    o.spread = stats(v).spread();
    o.disposition = Disposition::skipped;
    o.detail = "run by the kernels but not a row of the analyzer";
    run.ops.push_back(std::move(o));
  }
}

double measured_phase_time(const ValidationRun& run, std::string_view phase) {
  double t = 0;
  for (const auto& o : run.ops)
    if (o.phase == phase && o.measured_s > 0) t += o.measured_s * static_cast<double>(o.count);
  return t;
}

namespace {

std::vector<std::pair<std::string, std::vector<double>>> to_pairs(const OpTimes& t) {
  std::vector<std::pair<std::string, std::vector<double>>> out;
  for (const auto& n : t.names()) out.emplace_back(n, t.samples(n));
  return out;
}

int reps_for(double pass_s, double target_s, int lo, int hi) {
  if (!(pass_s > 0)) return lo;
  return std::clamp(static_cast<int>(target_s / pass_s), lo, hi);
}

// --full: one warm-up prefill, then a timed prefill (TTFT) and gen_len - 1 greedy decode steps over
// the growing cache (TPOT = their mean). Per-op times are recorded on the way.
EndToEnd generate(DecoderStack& stack, const Settings& s, const ValidateOptions& opt, OpTimes& pre,
                  OpTimes& dec) {
  const int64_t P = s.prompt_len;
  say(opt, "warm-up prefill");
  stack.forward(P, 0, nullptr);
  say(opt, "prefill of " + std::to_string(P) + " tokens, then " + std::to_string(s.gen_len - 1) +
               " decode steps");
  const double t0 = clock_s(opt.policy.clock);
  stack.forward(P, 0, &pre);
  const double t1 = clock_s(opt.policy.clock);
  for (int64_t j = 1; j < s.gen_len; ++j) {
    stack.set_tokens(stack.argmax_tokens());
    stack.forward(1, P + j - 1, &dec);
  }
  const double t2 = clock_s(opt.policy.clock);
  EndToEnd e;
  e.ttft_s = t1 - t0;
  e.tpot_s = (t2 - t1) / static_cast<double>(s.gen_len - 1);
  return e;
}

struct MoeRoutingSeen {
  double prefill = 0, decode = 0;  // distinct experts per sparse block, last pass of each
};

// The device's state during the timed passes (layers mode, with the device check): calibrate's
// DRAM read loop over three 64 MiB windows after each pass (~5 ms; the median of the three). The
// pass before it streamed far more than the last-level cache, so the next pass starts as cold as
// it would without the probe.
struct PassProbes {
  std::function<double()> read;  // DRAM read bandwidth now; empty: no probes
  std::vector<double> prefill, decode;
  // After each decode pass: the decode attention kernel alone (attention_probe.hpp), seconds per
  // call; empty: not run.
  std::function<void(std::vector<double>&)> attention;
  std::vector<double> attention_s;
};

// Layers mode: repeated prefill passes and decode passes at the analyzer's decode context, after a
// warm-up of each; the repetition counts follow the time of the warm-up pass.
void measure_layers(DecoderStack& stack, const Settings& s,
                    int64_t decode_context, const ValidateOptions& opt, OpTimes& pre, OpTimes& dec,
                    MoeRoutingSeen& seen, PassProbes& probes) {
  const int64_t P = s.prompt_len;
  say(opt, "prefill of " + std::to_string(P) + " tokens (warm-up)");
  double t0 = now_s();
  stack.forward(P, 0, nullptr);
  const int pre_reps =
      opt.prefill_reps > 0 ? opt.prefill_reps : reps_for(now_s() - t0, 12.0, 2, 5);
  for (int r = 0; r < pre_reps; ++r) {
    say(opt, "prefill pass " + std::to_string(r + 1) + "/" + std::to_string(pre_reps));
    stack.forward(P, 0, &pre);
    if (probes.read) probes.prefill.push_back(probes.read());
  }
  seen.prefill = stack.distinct_experts_last_pass();
  const int64_t pos = decode_context - 1;  // the new token sees decode_context keys
  t0 = now_s();
  stack.forward(1, pos, nullptr);
  const int dec_reps = opt.decode_reps > 0 ? opt.decode_reps : reps_for(now_s() - t0, 6.0, 5, 40);
  say(opt, "decode at context " + std::to_string(decode_context) + ", " +
               std::to_string(dec_reps) + " passes");
  for (int r = 0; r < dec_reps; ++r) {
    stack.forward(1, pos, &dec);
    if (probes.read) probes.decode.push_back(probes.read());
    if (probes.attention) probes.attention(probes.attention_s);
  }
  seen.decode = stack.distinct_experts_last_pass();
}

// What the routing touched beside the analyzer's assumption (analyzer/moe.cpp).
void note_moe_routing(const ModelSpec& m, const Settings& s, const MoeRoutingSeen& seen,
                      std::vector<std::string>& notes) {
  if (!m.is_moe()) return;
  const auto fmt = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", v);
    return std::string(b);
  };
  const int64_t e = m.moe->num_experts, k = m.moe->experts_per_token;
  const auto expect = [&](int64_t tokens) {
    return expected_distinct_experts(e, k, static_cast<double>(tokens));
  };
  notes.push_back("MoE routing (router GEMV on the real hidden state, top-k over seeded uniform "
                  "logits): distinct experts per sparse block, measured / analyzer's expectation: "
                  "prefill " + fmt(seen.prefill) +
                  " / " + fmt(expect(s.batch * s.prompt_len)) + ", decode " + fmt(seen.decode) +
                  " / " + fmt(expect(s.batch)) + " of " + std::to_string(e));
}

// What the DRAM read probes between the timed passes saw, per phase: a phase whose median is more
// than 10 % off the hardware file's bandwidth ran on a disturbed machine (docs/validate.md).
void note_pass_probes(const HardwareSpec& hw, const PassProbes& p,
                      std::vector<std::string>& notes) {
  if (p.prefill.empty() && p.decode.empty()) return;
  const double spec = hw.memory_bandwidth_bytes_per_s;
  std::string line = "DRAM read between the timed passes (3 x 64 MiB after each), median [min]:";
  bool off = false;
  for (const auto& [phase, v] :
       {std::pair{"prefill", &p.prefill}, std::pair{"decode", &p.decode}}) {
    if (v->empty()) continue;
    const TimingStats t = stats_of(*v);
    char b[96];
    std::snprintf(b, sizeof b, " %s %.1f [%.1f] GB/s;", phase, t.median_s / 1e9,
                  t.sorted_s.front() / 1e9);
    line += b;
    off = off || (spec > 0 && std::fabs(t.median_s / spec - 1) > 0.1);
  }
  char b[64];
  std::snprintf(b, sizeof b, " the hardware file says %.1f GB/s", spec / 1e9);
  line += b;
  if (off) line += " (a phase more than 10 % off: its memory-bound ratios carry that)";
  notes.push_back(line);
}

}  // namespace

std::string attention_probe_note(const std::vector<double>& probe_s, const OpResult* row) {
  if (probe_s.empty() || !row || !(row->measured_s > 0)) return "";
  const TimingStats t = stats_of(probe_s);
  const double alone = t.median_s;
  char b[320];
  std::snprintf(b, sizeof b,
                "decode attention kernel alone between the passes (random KV of this shape, format "
                "and context, from DRAM), median [p25-p75]: %.0f [%.0f-%.0f] us; fused_attention "
                "measured %.2f x it",
                alone * 1e6, t.p25_s * 1e6, t.p75_s * 1e6, row->measured_s / alone);
  std::string line = b;
  if (row->predicted_s > 0) {
    std::snprintf(b, sizeof b, ", the kernel alone %.2f x the prediction", alone / row->predicted_s);
    line += b;
    if (alone / row->predicted_s > 1.1)
      line += " (the kernel itself ran more than 10 % below its calibration: the machine was busy "
              "in a way the DRAM probe may not show; the fused_attention ratio carries that)";
  }
  if (row->measured_s / alone > 1.1)
    line += " (validate's call more than 10 % slower than the kernel alone: its place in the pass "
            "costs that)";
  return line;
}

namespace {

// The device check's decode attention probe (attention_probe.hpp): the run's decode attention
// shape, KV format and context on random caches, two calls after each decode pass, timed as the
// ops are. The copies span >= 96 MiB (3x the development host's L3) and the pass before streamed
// far more, so each call reads its cache from DRAM, as validate's own call does. Not run where one
// copy would take more than 1/32 of the host's memory (long contexts at large batch), nor below
// 4 MiB: thousands of tiny caches then make each call a string of cold misses and fork/joins
// (qwen2-0.5b, 66 tokens: 14 µs against validate's 10.6, 144 against 13 at batch 2 on two threads), not
// the streaming the probe is for, while validate's own small cache partly stays in the L3.
std::function<void(std::vector<double>&)> attention_probe(const ModelSpec& m, const Settings& s,
                                                          int64_t context, KvFormat kv,
                                                          kernels::ThreadPool& pool, Clock clock) {
  const kernels::AttentionDims d = attention_dims(m, s.batch, 1, context);
  const double bytes = kv_copy_bytes(kv, s.batch * context, d.kv_heads, d.head_dim);
  if (bytes < double(4u << 20) || bytes > host_memory_bytes() / 32) return {};
  auto probe = std::make_shared<DecodeAttentionProbe>(d, kv, double(96u << 20), 2);
  auto timer = std::make_shared<LapTimer>(clock);
  auto next = std::make_shared<size_t>(0);
  return [probe, timer, next, &pool](std::vector<double>& out) {
    for (int i = 0; i < 2; ++i) {
      timer->restart();
      probe->run((*next)++, pool);
      const double dt = timer->lap();
      if (dt >= 0) out.push_back(dt);
    }
  };
}

// calibrate's DRAM read loop over 512 MiB in all: far beyond any last-level cache here.
double device_read_bandwidth(kernels::ThreadPool& pool, const TimingPolicy& policy) {
  const size_t per_thread = (size_t{512} << 20) / static_cast<size_t>(pool.size());
  return measure_read_bandwidth(pool, per_thread, 0.15, policy);
}

// Refuses, before allocating, a stack that cannot fit: the OOM killer (or a bad_alloc after
// minutes) is a worse answer than naming the options. Activations: fp32 rows of the widest
// buffers of one prefill (residual, norm, q/k/v, gate, up, output), an upper bound.
void check_fits_memory(const ModelSpec& m, const Settings& s, int64_t layers) {
  const double tokens =
      static_cast<double>(s.batch) * static_cast<double>(s.prompt_len + s.gen_len);
  double act = 4.0 * tokens *
               static_cast<double>(3 * m.hidden_size + 2 * m.intermediate_size + m.q_dim() +
                                   2 * m.kv_dim());
  if (m.is_moe()) {
    // moe_block.hpp's buffers: per (token, expert) pair x, gate, up, act, out; the shared expert's.
    const MoeSpec& e = *m.moe;
    const int64_t per_token =
        e.experts_per_token * (2 * m.hidden_size + 3 * e.expert_intermediate_size) +
        3 * e.shared_expert_intermediate_size + m.hidden_size + e.num_experts;
    act += 4.0 * tokens * static_cast<double>(per_token);
  }
  const double head = 8.0 * static_cast<double>(m.vocab_size * m.hidden_size);
  const double need =
      static_cast<double>(layers) * DecoderStack::block_bytes(m, stack_config(s, 1)) + head + act;
  const double limit = 0.8 * host_memory_bytes();
  if (need > limit)
    throw InputError("validate: " + std::to_string(layers) + " block(s) of " + m.name +
                     " at --batch " + std::to_string(s.batch) + " --prompt-len " +
                     std::to_string(s.prompt_len) + " need about " +
                     std::to_string(static_cast<int64_t>(need / (1 << 30))) +
                     " GiB, more than 80 % of this machine's memory: lower --layers, --batch or "
                     "--prompt-len");
}

}  // namespace

ValidationRun run_validation(const ModelSpec& m, const HardwareSpec& hw, const Settings& requested,
                             const ValidateOptions& opt, kernels::ThreadPool& pool) {
  ValidationRun run;
  const Settings s = cpu_kernel_settings(requested, run.notes);
  if (s.prompt_len < 1 || s.gen_len < 2)
    throw InputError("validate: needs --prompt-len >= 1 and --gen-len >= 2 (one decode step)");
  const Analysis a = analyze(m, hw, s);
  run.llmroof_version = opt.llmroof_version;
  run.model = m.name;
  run.hardware = hw.name;
  run.cpu = kernels::cpu_features().brand;
  run.settings = settings_summary(s);
  if (opt.policy.stat != Statistic::median || opt.policy.clock != Clock::wall)
    run.notes.push_back("op times: " + opt.policy.describe());
  run.layers_total = m.num_layers;
  run.full_model = opt.full;
  run.decode_context = a.decode.context_len;
  const int64_t layers =
      opt.full ? m.num_layers
               : (opt.layers > 0 ? std::min(opt.layers, m.num_layers)
                                 : default_layer_count(m, s, opt.memory_budget_bytes));
  run.layers_run = layers;
  if (!opt.full && opt.layers > m.num_layers)
    run.notes.push_back("--layers " + std::to_string(opt.layers) + " is more than " + m.name +
                        "'s " + std::to_string(m.num_layers) + " blocks: built " +
                        std::to_string(m.num_layers));
  check_fits_memory(m, s, layers);
  StackConfig cfg = stack_config(s, layers);
  cfg.clock = opt.policy.clock;
  cfg.model_level = true;
  cfg.head_weights = head_format(m, a);
  say(opt, "building " + std::to_string(layers) + " of " + std::to_string(m.num_layers) +
               " blocks of " + m.name + " (" + run.settings + ")");
  DecoderStack stack(m, cfg, pool);

  OpTimes pre, dec;
  MoeRoutingSeen seen;
  PassProbes probes;
  std::unique_ptr<DramReadReference> probe_buffer;
  if (opt.check_device && !opt.full) {
    // 64 MiB windows of a 256 MiB buffer: each window was last read 192 MiB earlier (from DRAM).
    probe_buffer = std::make_unique<DramReadReference>(pool, double(256u << 20));
    const Clock clock = pool.size() == 1 ? opt.policy.clock : Clock::wall;
    probes.read = [&probe_buffer, clock] {
      std::vector<double> rate;
      for (int i = 0; i < 3; ++i) {
        const double t0 = clock_s(clock);
        const double bytes = probe_buffer->read(double(64u << 20));
        rate.push_back(bytes / (clock_s(clock) - t0));
      }
      return stats_of(rate).median_s;
    };
    probes.attention = attention_probe(m, s, a.decode.context_len, cfg.kv, pool, opt.policy.clock);
  }
  run.device.spec_bandwidth_bytes_per_s = hw.memory_bandwidth_bytes_per_s;
  if (opt.check_device) {
    say(opt, "DRAM read bandwidth before the timed passes");
    run.device.read_before_bytes_per_s = device_read_bandwidth(pool, opt.policy);
  }
  if (opt.full)
    run.measured = generate(stack, s, opt, pre, dec);
  else
    measure_layers(stack, s, a.decode.context_len, opt, pre, dec, seen, probes);
  if (opt.check_device) {
    say(opt, "DRAM read bandwidth after the timed passes");
    run.device.read_after_bytes_per_s = device_read_bandwidth(pool, opt.policy);
    if (hw.kind == DeviceKind::cpu && std::fabs(run.device.drift()) > 0.1)
      run.notes.push_back(
          "the DRAM read bandwidth during this run was " +
          std::to_string(std::lround(100 * std::fabs(run.device.drift()))) + " % " +
          (run.device.drift() < 0 ? "below" : "above") +
          " the hardware file's: memory-bound ratios carry that drift (a busy machine, or a "
          "calibration taken in other conditions)");
  }
  if (!opt.full) note_moe_routing(m, s, seen, run.notes);
  note_pass_probes(hw, probes, run.notes);
  if (!stack.output_ok())
    run.notes.push_back("output of the last pass was not finite or mostly zero: times mistrusted");

  append_op_results({"prefill", &a.prefill.rows, to_pairs(pre)}, opt.mistrust_spread, run, opt.policy.stat);
  append_op_results({"decode", &a.decode.rows, to_pairs(dec)}, opt.mistrust_spread, run, opt.policy.stat);
  if (const auto line = attention_probe_note(probes.attention_s, run.find("decode", "fused_attention"));
      !line.empty())
    run.notes.push_back(line);
  if (!stack.output_ok())
    for (auto& o : run.ops)
      if (o.disposition == Disposition::passed) o.disposition = Disposition::mistrusted;

  run.predicted = {a.totals.ttft_s, a.totals.tpot_s, a.totals.output_tokens_per_s};
  if (!opt.full) {
    // Extrapolated with the analyzer's row counts (blocks for per-block rows, 1 for the head).
    run.measured.ttft_s = measured_phase_time(run, "prefill");
    run.measured.tpot_s = measured_phase_time(run, "decode");
  }
  if (run.extrapolated()) {
    run.notes.push_back("measured " + std::to_string(layers) + " of " +
                        std::to_string(m.num_layers) +
                        " blocks; end-to-end figures extrapolated to the full depth");
  }
  const double e2e = run.measured.ttft_s + static_cast<double>(s.gen_len - 1) * run.measured.tpot_s;
  run.measured.output_tokens_per_s =
      e2e > 0 ? static_cast<double>(s.batch * s.gen_len) / e2e : 0;
  for (const auto& o : run.ops)
    if (o.disposition == Disposition::unsupported) {
      run.notes.push_back("some rows have no CPU kernel: measured end-to-end leaves them out");
      break;
    }
  return run;
}

}  // namespace llmroof::calibrate
