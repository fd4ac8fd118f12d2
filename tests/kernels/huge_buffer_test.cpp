// HugePageAllocator: usable memory for small and large sizes, the alignment its contract promises,
// std::vector growth/copy, and the allocator requirements (rebind, equality). Whether the kernel
// really backed a buffer with huge pages depends on the host, so that is only reported (MESSAGE).
#include "kernels/huge_buffer.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <numeric>
#include <type_traits>

using namespace llmroof::kernels;

namespace {

bool aligned_to(const void* p, std::size_t a) {
  return reinterpret_cast<std::uintptr_t>(p) % a == 0;
}

// The standard's allocator requirements this type must meet to sit in std::vector.
using Traits = std::allocator_traits<HugePageAllocator<float>>;
static_assert(std::is_same_v<Traits::rebind_alloc<int>, HugePageAllocator<int>>);
static_assert(Traits::is_always_equal::value);
static_assert(std::is_nothrow_copy_constructible_v<HugePageAllocator<float>>);
static_assert(std::is_convertible_v<HugePageAllocator<float>, HugePageAllocator<double>>);

}  // namespace

TEST_CASE("HugePageAllocator: equal instances, across rebinds") {
  HugePageAllocator<float> a;
  HugePageAllocator<int> b(a);
  CHECK(a == b);
  CHECK_FALSE(a != HugePageAllocator<float>(b));
}

TEST_CASE("HugePageAllocator: small and large allocations are usable and aligned") {
  HugePageAllocator<double> alloc;
  // Small: a cache line (64 bytes). Large: 2 MiB, including sizes just past one
  // page and not a whole number of pages (the tail is rounded up internally).
  for (std::size_t n : {std::size_t{1}, std::size_t{1000}, kHugePageBytes / 8 - 1,
                        kHugePageBytes / 8, kHugePageBytes / 8 + 1, 3 * kHugePageBytes / 8 + 77}) {
    CAPTURE(n);
    double* p = alloc.allocate(n);
    REQUIRE(p != nullptr);
    CHECK(aligned_to(p, 64));
    if (n * sizeof(double) >= kHugePageBytes) CHECK(aligned_to(p, kHugePageBytes));
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<double>(i);  // every byte writable
    CHECK(p[n - 1] == static_cast<double>(n - 1));
    alloc.deallocate(p, n);
  }
}

TEST_CASE("HugeVector grows, copies and moves like std::vector") {
  HugeVector<int32_t> v;
  const int32_t n = 3 << 20;  // 12 MiB: crosses the 2 MiB threshold while growing
  for (int32_t i = 0; i < n; ++i) v.push_back(i);
  REQUIRE(v.size() == static_cast<std::size_t>(n));
  CHECK(aligned_to(v.data(), kHugePageBytes));
  CHECK(std::accumulate(v.begin(), v.end(), int64_t{0}) == int64_t{n} * (n - 1) / 2);

  HugeVector<int32_t> copy = v;
  CHECK(copy == v);
  CHECK(copy.data() != v.data());
  CHECK(aligned_to(copy.data(), kHugePageBytes));

  const int32_t* before = v.data();
  HugeVector<int32_t> moved = std::move(v);
  CHECK(moved.data() == before);  // equal allocators: the buffer is taken, not copied
  moved.resize(10);
  moved.shrink_to_fit();  // large -> small path: freed by the size it was allocated with
  CHECK(moved[9] == 9);
  HugeVector<int32_t> small(100, 7);
  small.assign(copy.begin(), copy.end());  // small -> large
  CHECK(small == copy);
}

TEST_CASE("SmallPagesScope keeps the alignment and restores the advice") {
  CHECK(huge_pages_advised());
  {
    SmallPagesScope scope;
    CHECK_FALSE(huge_pages_advised());
    HugeVector<float> v(kHugePageBytes, 1.f);  // 8 MiB with MADV_NOHUGEPAGE
    CHECK(aligned_to(v.data(), kHugePageBytes));
    CHECK(v.back() == 1.f);
  }
  CHECK(huge_pages_advised());
}

TEST_CASE("on Linux with THP enabled, a large buffer is 2 MiB-aligned (huge pages reported)") {
  const std::string mode = transparent_huge_page_mode();
  if (mode.empty() || mode == "never") {
    MESSAGE("transparent huge pages unavailable (mode '" << mode << "'): skipped");
    return;
  }
  const int64_t before = anon_huge_page_bytes();
  HugeVector<float> v(64 << 20 >> 2, 2.f);  // 64 MiB, touched after the advice
  CHECK(aligned_to(v.data(), kHugePageBytes));
  CHECK(v[v.size() / 2] == 2.f);
  const int64_t after = anon_huge_page_bytes();
  MESSAGE("THP mode " << mode << ": AnonHugePages grew by " << (after - before) / (1 << 20)
                      << " MiB for a 64 MiB buffer (host-dependent, not asserted)");
}
