// `llmroof calibrate [--device cpu] [-o host.yaml] [--quick] [--threads N] [--name NAME]`: measure
// this machine and write a hardware YAML (hardware_db schema) that every command accepts.
// Progress and the measured figures go to stderr; the YAML to -o FILE or stdout.
#include <fstream>
#include <iostream>

#include "calibrate/calibrate.hpp"
#include "cli/commands.hpp"
#include "cli/input_checks.hpp"
#include "io/catalog.hpp"
#include "io/errors.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::cli {

namespace {

struct CalibrateCli {
  std::string device = "cpu";
  std::string output;
  std::string name = "host";
  bool quick = false;
  int threads = 0;
  std::string stat = "median";
  std::string clock = "wall";
};

void run_calibrate(const CalibrateCli& o) {
  if (o.device != "cpu")
    throw InputError("--device: '" + o.device + "' cannot be calibrated (only 'cpu' is supported)");
  check_threads(o.threads);
  check_output_path(o.output, "-o");
  if (o.name.empty()) throw InputError("--name must not be empty");
  kernels::ThreadPool pool(o.threads);
  calibrate::CalibrateOptions opt;
  opt.quick = o.quick;
  opt.policy = timing_policy(o.stat, o.clock, o.threads);
  opt.progress = [](std::string_view s) { std::cerr << "calibrate: " << s << "\n"; };
  const auto c = calibrate::run_calibration(pool, opt, LLMROOF_VERSION);
  std::cerr << calibrate::format_calibration(c);
  const std::string yaml = hardware_to_yaml(calibrate::to_hardware_spec(c, o.name));
  if (o.output.empty() || o.output == "-") {
    std::cout << yaml;
    return;
  }
  std::ofstream f(o.output, std::ios::binary);
  if (!f) throw InputError("-o " + o.output + ": cannot open for writing");
  f << yaml;
  if (!f.flush()) throw std::runtime_error("-o " + o.output + ": write failed");
  std::cerr << "calibrate: wrote " << o.output << "\n";
}

}  // namespace

void add_calibrate_command(CLI::App& app, Context&) {
  auto o = std::make_shared<CalibrateCli>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate", "Measure this machine (bandwidth, SIMD peaks, kernel efficiency) and write a "
                   "hardware YAML");
  cmd->add_option("--device", o->device, "Device to calibrate (cpu)")->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Write the YAML to FILE instead of stdout");
  cmd->add_option("--name", o->name, "Name of the hardware entry")->capture_default_str();
  cmd->add_flag("--quick", o->quick, "Fewer repetitions and kernels (<= 20 s instead of <= 2 min)");
  cmd->add_option("--threads", o->threads, "Threads to use (0 = all cores)")->capture_default_str();
  cmd->add_option("--stat", o->stat,
                  "Statistic of the repetitions: median, or p10 on a machine shared with other work")
      ->capture_default_str();
  cmd->add_option("--clock", o->clock,
                  "wall, or cpu (thread CPU time; with --threads 1 on a machine shared with other "
                  "work)")
      ->capture_default_str();
  cmd->callback([o] { run_calibrate(*o); });
}

}  // namespace llmroof::cli
