#pragma once
// A progress bar for long sweeps and plans. It draws on stderr, and only when asked to: the CLI
// enables it with progress_wanted(), which is true only when stderr is a terminal and CI is unset,
// so pipes, redirected output and CI logs stay clean. Thread-safe: workers call advance(), the
// thread that runs the work calls draw() now and then (it is the only one that writes).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace llmroof::reports {

// True when stderr is a TTY and the CI environment variable is unset (read once, by the caller).
bool progress_wanted();

class Progress {
 public:
  // `out` null = disabled (every call is a no-op apart from counting).
  Progress(std::string label, int64_t total, std::FILE* out);
  ~Progress();  // clears the line if anything was drawn
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1) { done_.fetch_add(n, std::memory_order_relaxed); }
  int64_t done() const { return done_.load(std::memory_order_relaxed); }
  int64_t total() const { return total_; }
  void set_total(int64_t total) { total_ = total; }
  void draw();    // redraws the bar (rate-limited to ~10 Hz; nothing in the first 0.3 s, so
                  // quick runs never flash a bar)
  void finish();  // clears the bar line

  // The bar as text for a given state (no terminal codes): "sweep [#####     ] 50% 5/10".
  static std::string render(const std::string& label, int64_t done, int64_t total, int width);

 private:
  std::string label_;
  int64_t total_;
  std::FILE* out_;
  std::atomic<int64_t> done_{0};
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace llmroof::reports
