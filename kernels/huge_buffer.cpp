#include "kernels/huge_buffer.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace llmroof::kernels {

namespace {

thread_local bool t_advise_huge = true;

std::size_t round_up_to_huge(std::size_t bytes) {
  return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
}

}  // namespace

SmallPagesScope::SmallPagesScope() : previous_(t_advise_huge) {
  t_advise_huge = false;
}
SmallPagesScope::~SmallPagesScope() {
  t_advise_huge = previous_;
}
bool huge_pages_advised() {
  return t_advise_huge;
}

#ifdef __linux__

// mmap (not aligned_alloc) so that the range is fresh (never touched, so the advice applies at the
// first fault) and goes back to the kernel on release: over-map by 2 MiB, keep the aligned middle,
// unmap the head and tail. Length is rounded up to whole 2 MiB pages so the last one can be huge.
void* huge_allocate(std::size_t bytes) {
  if (bytes > std::numeric_limits<std::size_t>::max() - 2 * kHugePageBytes) throw std::bad_alloc();
  const std::size_t len = round_up_to_huge(bytes), span = len + kHugePageBytes;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (base + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  if (aligned > base) munmap(raw, aligned - base);
  if (const std::size_t tail = base + span - (aligned + len); tail > 0)
    munmap(reinterpret_cast<void*>(aligned + len), tail);
  // Advice is a hint: EINVAL (THP compiled out) leaves working 4 KiB pages, so ignore failure.
  auto* p = reinterpret_cast<void*>(aligned);
  (void)madvise(p, len, t_advise_huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return p;
}

void huge_deallocate(void* p, std::size_t bytes) noexcept {
  if (p) munmap(p, round_up_to_huge(bytes));
}

#else

void* huge_allocate(std::size_t bytes) {
  void* p = std::aligned_alloc(kHugePageBytes, round_up_to_huge(bytes));
  if (!p) throw std::bad_alloc();
  return p;
}

void huge_deallocate(void* p, std::size_t) noexcept {
  std::free(p);
}

#endif

std::string transparent_huge_page_mode() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(f, line)) return "";
  const auto open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  return line.substr(open + 1, close - open - 1);
}

int64_t anon_huge_page_bytes() {
  std::ifstream f("/proc/self/smaps_rollup");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("AnonHugePages:", 0) != 0) continue;
    std::istringstream in(line.substr(14));
    int64_t kib = -1;
    in >> kib;
    return kib < 0 ? -1 : kib * 1024;
  }
  return -1;
}

}  // namespace llmroof::kernels
