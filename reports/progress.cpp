#include "reports/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace llmroof::reports {

bool progress_wanted() {
  // CI systems set CI (GitHub Actions, GitLab, Buildkite, ...); their logs are not terminals
  // either, but some allocate a pseudo-TTY, so check both.
  return isatty(STDERR_FILENO) == 1 && std::getenv("CI") == nullptr;
}

Progress::Progress(std::string label, int64_t total, std::FILE* out)
    : label_(std::move(label)), total_(total), out_(out) {}

Progress::~Progress() { finish(); }

std::string Progress::render(const std::string& label, int64_t done, int64_t total, int width) {
  const double frac = total > 0 ? std::clamp(static_cast<double>(done) / total, 0.0, 1.0) : 0.0;
  const int filled = static_cast<int>(frac * width);
  std::string bar = label + " [" + std::string(filled, '#') + std::string(width - filled, ' ') +
                    "] " + std::to_string(static_cast<int>(frac * 100)) + "% " +
                    std::to_string(done) + "/" + std::to_string(total);
  return bar;
}

void Progress::draw() {
  if (!out_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < std::chrono::milliseconds(300)) return;
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  // \r returns to the line start; ESC[K clears what a longer previous bar left behind.
  std::fprintf(out_, "\r%s\x1b[K", render(label_, done(), total_, 30).c_str());
  std::fflush(out_);
}

void Progress::finish() {
  if (!out_ || !drawn_) return;
  std::fprintf(out_, "\r\x1b[K");
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace llmroof::reports
