#pragma once
// Large buffers in 2 MiB transparent huge pages (THP).
//
// Why: a decode GEMV streams its weights once per token. With 4 KiB pages every 4 KiB of weights
// costs a dTLB miss and a page walk; on the development host (THP in `madvise` mode) a 1-thread
// fp32 GEMV streamed 33-34 GB/s from 4 KiB pages and 37-39 GB/s from 2 MiB pages (~12 %). Linux
// gives THP to a `madvise` host's memory only when asked, so we ask, as PyTorch's CPU allocator
// does for large tensors: allocations >= 2 MiB are mmap'ed 2 MiB-aligned, rounded up to whole
// 2 MiB pages, and madvise(MADV_HUGEPAGE)'d BEFORE first touch (the kernel picks the page size at
// the first page fault). Smaller allocations are 64-byte aligned operator new. The kernel may still
// refuse (THP `never`, fragmentation): the memory then works with 4 KiB pages, nothing fails.
//
//   HugeVector<float> w(n);      // std::vector<float, HugePageAllocator<float>>
//
// Non-Linux builds keep the 2 MiB alignment (aligned_alloc) and skip the advice.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace llmroof::kernels {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// Raw interface behind the allocator: `bytes` >= kHugePageBytes only (smaller sizes belong to
// std::allocator). Throws std::bad_alloc like operator new; the pointer is 2 MiB-aligned and must
// be released with huge_deallocate(p, same bytes).
void* huge_allocate(std::size_t bytes);
void huge_deallocate(void* p, std::size_t bytes) noexcept;

// Benchmarks compare 4 KiB with 2 MiB pages in one run: while a SmallPagesScope lives, large
// allocations made BY THIS THREAD are advised MADV_NOHUGEPAGE instead (same alignment, same
// release path, so memory allocated in either mode may be freed in the other).
class SmallPagesScope {
 public:
  SmallPagesScope();
  ~SmallPagesScope();
  SmallPagesScope(const SmallPagesScope&) = delete;
  SmallPagesScope& operator=(const SmallPagesScope&) = delete;

 private:
  bool previous_;
};
bool huge_pages_advised();  // false inside a SmallPagesScope on this thread

// The host's THP mode, the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled
// ("always", "madvise", "never"), or "" where unknown (not Linux, no sysfs).
std::string transparent_huge_page_mode();
// This process's AnonHugePages (bytes of anonymous memory backed by huge pages, from
// /proc/self/smaps_rollup), or -1 where unknown. Diagnostics only: the kernel decides.
int64_t anon_huge_page_bytes();

template <class T>
class HugePageAllocator {
 public:
  using value_type = T;
  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebind copies are implicit

  // Small buffers are cache-line aligned, so a 64-byte vector load never splits a line (malloc's
  // 16-byte alignment would put every AVX-512 load of a streaming kernel across two lines).
  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    if (n * sizeof(T) < kHugePageBytes)
      return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{kLineBytes}));
    return static_cast<T*>(huge_allocate(n * sizeof(T)));
  }
  // The size decides the path, and the standard guarantees deallocate gets allocate's n.
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kHugePageBytes)
      ::operator delete(p, std::align_val_t{kLineBytes});
    else
      huge_deallocate(p, n * sizeof(T));
  }

 private:
  static constexpr std::size_t kLineBytes = 64;
};

// Stateless: any two instances free each other's memory (C++20 derives !=).
template <class T, class U>
bool operator==(const HugePageAllocator<T>&, const HugePageAllocator<U>&) noexcept {
  return true;
}

template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace llmroof::kernels
