#pragma once
// Up-front checks of options shared by `kernels`, `calibrate` and `validate`: they run before any
// measuring, so a typo fails in milliseconds instead of after minutes of timing, and no partial
// output file is left behind.
#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>

#include "calibrate/timing.hpp"
#include "io/errors.hpp"

namespace llmroof::cli {

// --threads: 0 = all cores; more threads than hardware threads would only time oversubscription
// (and a huge count can take minutes just to spawn).
inline void check_threads(int threads, const std::string& option = "--threads") {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (threads < 0 || threads > hw)
    throw InputError(option + " " + std::to_string(threads) + ": must be 0 (all cores) to " +
                     std::to_string(hw) + " (this machine's hardware threads)");
}

// An output FILE ("-" or empty = stdout) must go into an existing directory and not be a directory.
inline void check_output_path(const std::string& path, const std::string& option) {
  if (path.empty() || path == "-") return;
  namespace fs = std::filesystem;
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec))
    throw InputError(option + " " + path + ": is a directory, expected a file name");
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (!fs::is_directory(dir, ec))
    throw InputError(option + " " + path + ": directory '" + dir.string() + "' does not exist");
}

// --stat and --clock of `calibrate` and `validate` as a timing policy; thread CPU time measures one
// thread only, so --clock cpu needs --threads 1.
inline calibrate::TimingPolicy timing_policy(const std::string& stat, const std::string& clock,
                                             int threads) {
  calibrate::TimingPolicy policy;
  const auto st = calibrate::statistic_from_string(stat);
  if (!st) throw InputError("--stat: '" + stat + "' is not a statistic (median|p10)");
  policy.stat = *st;
  const auto cl = calibrate::clock_from_string(clock);
  if (!cl) throw InputError("--clock: '" + clock + "' is not a clock (wall|cpu)");
  if (*cl == calibrate::Clock::thread_cpu && threads != 1)
    throw InputError("--clock cpu times one thread: use it with --threads 1");
  policy.clock = *cl;
  return policy;
}

}  // namespace llmroof::cli
