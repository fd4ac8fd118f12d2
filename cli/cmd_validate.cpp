// `llmroof validate [MODEL] [--hardware host.yaml] [settings] [--layers N | --full] [--format F]
//  [--save-baseline F] [--baseline F --tolerance T]`: run real decoder blocks through the CPU kernels
// beside the analyzer's prediction; optionally gate on a saved baseline (exit 1 when tripped).
#include <fstream>
#include <iostream>
#include <optional>

#include "calibrate/gate.hpp"
#include "calibrate/validate.hpp"
#include "calibrate/validation_json.hpp"
#include "calibrate/validation_report.hpp"
#include "cli/commands.hpp"
#include "cli/input_checks.hpp"
#include "cli/settings_options.hpp"
#include "io/catalog.hpp"
#include "io/errors.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::cli {

namespace {

struct ValidateCli {
  std::string model = "llama-2-7b";
  std::string device = "cpu";
  std::string hardware = "host.yaml";
  SettingsOptions settings;
  int64_t layers = 0;
  bool full = false;
  int threads = 0;
  std::string format = "table";
  std::string output;
  std::string save_baseline;
  std::string baseline;
  double tolerance = 0.15;
  double gate_min_time_us = 20;
  std::string stat = "median";
  std::string clock = "wall";
};

void write_text(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return;
  }
  std::ofstream f(path, std::ios::binary);
  if (!f) throw InputError("-o " + path + ": cannot open for writing");
  f << text;
  if (!f.flush()) throw std::runtime_error("-o " + path + ": write failed");
}

void run_validate(const ValidateCli& o, Context& ctx) {
  if (o.device != "cpu") throw InputError("--device: only 'cpu' can be validated here");
  if (o.layers < 0) throw InputError("--layers must be >= 1 (or 0 = automatic)");
  check_threads(o.threads);
  if (!(o.tolerance >= 0)) throw InputError("--tolerance must be >= 0");
  if (!(o.gate_min_time_us >= 0)) throw InputError("--gate-min-time-us must be >= 0");
  // Every output is checked before measuring, so none is left half-written after minutes of work.
  check_output_path(o.output, "-o");
  check_output_path(o.save_baseline, "--save-baseline");
  const Settings settings = to_settings(o.settings);
  const Catalog catalog(ctx.search_paths);
  const ModelSpec model = catalog.model(o.model);
  HardwareSpec hw;
  try {
    hw = catalog.hardware(o.hardware);
  } catch (const InputError& e) {
    throw InputError("--hardware " + o.hardware + ": " + e.what() +
                     " (write one with `llmroof calibrate -o host.yaml`, or name a db entry)");
  }
  // Read the baseline first: a bad file should fail before minutes of measuring.
  std::optional<calibrate::ValidationRun> base;
  if (!o.baseline.empty()) {
    base = calibrate::load_validation(o.baseline);
    std::vector<std::string> notes;
    const auto summary =
        calibrate::settings_summary(calibrate::cpu_kernel_settings(settings, notes));
    try {
      calibrate::check_comparable(model.name, summary, *base);
    } catch (const InputError& e) {
      throw InputError("--baseline " + o.baseline + ": " + e.what());
    }
  }

  kernels::ThreadPool pool(o.threads);
  calibrate::ValidateOptions opt;
  opt.layers = o.layers;
  opt.full = o.full;
  opt.policy = timing_policy(o.stat, o.clock, o.threads);
  opt.llmroof_version = LLMROOF_VERSION;
  opt.progress = [](std::string_view s) { std::cerr << "validate: " << s << "\n"; };
  const auto run = calibrate::run_validation(model, hw, settings, opt, pool);
  write_text(calibrate::format_validation(run, o.format), o.output);
  if (!o.save_baseline.empty()) {
    calibrate::save_validation(run, o.save_baseline);
    std::cerr << "validate: baseline saved to " << o.save_baseline << "\n";
  }
  if (base) {
    const auto report = calibrate::compare_with_baseline(run, *base, o.tolerance,
                                                         o.gate_min_time_us * 1e-6);
    std::cerr << calibrate::format_gate_report(report);
    if (report.tripped()) ctx.exit_code = 1;
  }
}

}  // namespace

void add_validate_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ValidateCli>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Run real decoder layers on the CPU kernels beside the analyzer's prediction");
  cmd->add_option("model", o->model, "Zoo name, model YAML or HF config.json")
      ->capture_default_str();
  cmd->add_option("--device", o->device, "Device to run on (cpu)")->capture_default_str();
  cmd->add_option("--hardware", o->hardware,
                  "Hardware the prediction uses: a YAML from `llmroof calibrate` or a db name")
      ->capture_default_str();
  add_settings_options(*cmd, o->settings);
  cmd->add_option("--layers", o->layers,
                  "Decoder blocks to build (0 = as many as fit 6 GiB, at most 8); the result is "
                  "extrapolated to the model's depth")
      ->capture_default_str();
  cmd->add_flag("--full", o->full,
                "Run the whole model: every block, embedding, lm_head, real prefill and generation");
  cmd->add_option("--threads", o->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--stat", o->stat,
                  "Statistic of each op's repetitions: median, or p10 on a shared machine")
      ->capture_default_str();
  cmd->add_option("--format", o->format, "table|md|json|csv")
      ->check(CLI::IsMember({"table", "md", "json", "csv"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Write the report to FILE instead of stdout");
  cmd->add_option("--save-baseline", o->save_baseline, "Record this run (JSON) for the gate");
  cmd->add_option("--baseline", o->baseline,
                  "Compare with a recorded run; exit 1 when a measured/predicted ratio drifted");
  cmd->add_option("--tolerance", o->tolerance, "Allowed relative drift of a ratio")
      ->capture_default_str();
  cmd->add_option("--gate-min-time-us", o->gate_min_time_us,
                  "Ops faster than this (in both runs) are not gated: their ratio is noise")
      ->capture_default_str();
  cmd->add_option("--clock", o->clock,
                  "wall, or cpu (thread CPU time; with --threads 1 on a machine shared with other "
                  "work)")
      ->capture_default_str();
  cmd->callback([o, &ctx] { run_validate(*o, ctx); });
}

}  // namespace llmroof::cli
