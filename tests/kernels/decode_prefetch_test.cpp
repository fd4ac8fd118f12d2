// The flash-decoding splits' prefetch plan (kernels/cpu/attention_decode_prefetch.hpp): the next
// block's lines go out in address order, evenly over the steps a block plans, and all of them by
// its last planned step. Only the plan's arithmetic is checked; what the prefetches are worth is
// measured in the benchmarks (docs/kernels.md, "Prefetch spread evenly").
#include <doctest/doctest.h>

#if defined(__x86_64__)
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/attention_decode_prefetch.hpp"

namespace {
using llmroof::kernels::PrefetcherT;

// ceil(i · lines / planned) lines, at most all of them, as bytes: where pos must be after step i.
int64_t expected_pos(int64_t i, int64_t lines, int64_t planned) {
  return std::min(lines, (i * lines + planned - 1) / planned) * 64;
}

template <bool Paced>
void check_plan(int64_t bytes, int64_t planned) {
  CAPTURE(bytes);
  CAPTURE(planned);
  const int64_t lines = (bytes + 63) / 64;
  std::vector<char> k(static_cast<size_t>(lines * 64)), v(k.size());
  PrefetcherT<Paced> pf;
  pf.k = k.data();
  pf.v = v.data();
  pf.plan(bytes, planned);
  int64_t longest_gap = 0, gap = 0;
  for (int64_t i = 1; i <= planned; ++i) {
    const int64_t before = pf.pos;
    pf.step();
    CHECK(pf.pos == expected_pos(i, lines, planned));
    gap = pf.pos == before ? gap + 1 : 0;
    longest_gap = std::max(longest_gap, gap);
  }
  // every line by the last planned step, and never more than the buffer
  CHECK(pf.pos == lines * 64);
  // with fewer lines than steps, no stretch of steps longer than planned / lines goes without one
  if (lines > 0 && lines < planned) CHECK(longest_gap <= (planned - 1) / lines);
  // steps past the plan (an underestimate of the block's steps) issue nothing more
  pf.step();
  CHECK(pf.pos == lines * 64);
  if constexpr (Paced) CHECK(pf.steps == planned + 1);
}
}  // namespace

TEST_CASE("decode prefetch: the next block's lines go out evenly over the planned steps") {
  // (bytes, planned steps): the int8 GQA 4 split's 256 lines over 288 steps (8 kv heads), the AMX
  // int8 split's 512 over 176 and over the 170 it plans, a partial block, more steps than lines
  // by far, one step, a block shorter than a line
  const int64_t cases[][2] = {{256 * 64, 288}, {512 * 64, 176}, {512 * 64, 170}, {37 * 64, 9},
                              {5 * 64, 100},   {100 * 64, 1},   {40, 3}};
  for (const auto& c : cases) {
    check_plan<false>(c[0], c[1]);
    check_plan<true>(c[0], c[1]);
  }
}

TEST_CASE("decode prefetch: a plan of no steps issues every line at the first step") {
  PrefetcherT<false> pf;
  std::vector<char> k(640), v(640);
  pf.k = k.data();
  pf.v = v.data();
  pf.plan(640, 0);
  pf.step();
  CHECK(pf.pos == 640);
}
#endif  // __x86_64__
