#include "kernels/measure.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

namespace llmroof::kernels {

namespace {
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

Timing time_cases(std::vector<std::unique_ptr<KernelCase>>& cases, ThreadPool& pool, int min_reps,
                  double min_seconds, int max_reps) {
  using clock = std::chrono::steady_clock;
  Timing t;
  if (cases.empty()) return t;
  for (auto& c : cases) c->run(pool);
  std::vector<double> s;
  const auto start = clock::now();
  const double cpu0 = process_cpu_seconds();
  for (size_t i = 0;; ++i) {
    KernelCase& c = *cases[i % cases.size()];
    const auto t0 = clock::now();
    c.run(pool);
    const auto t1 = clock::now();
    s.push_back(std::chrono::duration<double>(t1 - t0).count());
    const double total = std::chrono::duration<double>(t1 - start).count();
    if (static_cast<int>(s.size()) >= max_reps) break;
    if (static_cast<int>(s.size()) >= min_reps && total >= min_seconds) break;
  }
  const double wall = std::chrono::duration<double>(clock::now() - start).count();
  t.cpu_share = (process_cpu_seconds() - cpu0) / (wall * pool.size());
  std::sort(s.begin(), s.end());
  t.reps = static_cast<int>(s.size());
  t.median_s = s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
  t.min_s = s.front();
  t.max_s = s.back();
  return t;
}

Limit roofline_limit(const OpCost& c, double peak_ops_per_s, double bandwidth_bytes_per_s) {
  const double compute = peak_ops_per_s > 0 ? c.ops / peak_ops_per_s : 0;
  const double memory = bandwidth_bytes_per_s > 0 ? c.bytes.total() / bandwidth_bytes_per_s : 0;
  return {std::max(compute, memory), memory >= compute};
}

}  // namespace llmroof::kernels
