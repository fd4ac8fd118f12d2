// The decode kernels' memory access order without their arithmetic: how much of a sequential read's
// bandwidth the order alone leaves to attention_decode (docs/kernels.md, "Decode ... what does not
// move int8 GQA 8").
//
// An int8 KV cache like kernels_bench's int8 GQA 8 case, [batch][token][kv head][head_dim] for K and
// for V (16 rows of 65536 tokens, 4 kv heads of 128: 512 MiB each), is read the way
// attention_decode_avx512.cpp reads it: batch rows spread over the pool's threads; per block of
// `block` tokens, one kv head at a time, its K rows then its V rows; the next block prefetched into
// L1 in address order, spread over the block (Prefetcher). Each call is paired with a sequential
// read of the same two buffers (K, then V, each thread its batch rows): of_seq = median over calls
// of the pattern's GB/s over the sequential read's. block 16 is the kernels'; block 32 is the u8
// block size that was tried and not kept.
// Usage: kv_pattern_bench [--threads=N] [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "kernels/thread_pool.hpp"

namespace {
using llmroof::bench::median;
using llmroof::bench::sum_words;
using llmroof::bench::timed;
using llmroof::kernels::ThreadPool;

int g_threads = 0;
constexpr int64_t kBatch = 16, kTokens = 65536, kKvHeads = 4, kHeadDim = 128;
constexpr int64_t kRow = kKvHeads * kHeadDim;  // bytes per token row (int8)
constexpr int64_t kRowsBytes = kTokens * kRow;  // one batch row of K (or V)

ThreadPool& pool() {
  static ThreadPool p(g_threads);
  return p;
}

inline void prefetch_l1(const int8_t* p) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*p));  // volatile asm: GCC may drop __builtin_prefetch
#else
  __builtin_prefetch(p, 0, 3);
#endif
}

// One batch row in the decode kernels' order (see the header).
uint64_t read_like_decode(const int8_t* k, const int8_t* v, int64_t block) {
  uint64_t s = 0;
  const int64_t block_bytes = block * kRow;
  // Prefetch steps per block: one per 2 tokens per kv head, the lines spread evenly over them.
  const int64_t steps = kKvHeads * block / 2, per = (block_bytes / 64 + steps - 1) / steps;
  for (int64_t t = 0; t < kTokens; t += block) {
    const int8_t* kb = k + t * kRow;
    const int8_t* vb = v + t * kRow;
    const int64_t next = t + block < kTokens ? block_bytes : 0;
    int64_t pos = 0;
    for (int64_t g = 0; g < kKvHeads; ++g) {
      for (int64_t tt = 0; tt < block; ++tt) {
        if (tt % 2 == 0)
          for (int64_t i = 0; i < per && pos < next; ++i, pos += 64) {
            prefetch_l1(kb + block_bytes + pos);
            prefetch_l1(vb + block_bytes + pos);
          }
        s += sum_words(kb + tt * kRow + g * kHeadDim, kHeadDim);
      }
      for (int64_t tt = 0; tt < block; ++tt) s += sum_words(vb + tt * kRow + g * kHeadDim, kHeadDim);
    }
  }
  return s;
}

void BM_kv_pattern_read(benchmark::State& state, int64_t block) {
  const std::vector<int8_t> k(static_cast<size_t>(kBatch * kRowsBytes), 1);
  const std::vector<int8_t> v(static_cast<size_t>(kBatch * kRowsBytes), 2);
  const double bytes = 2.0 * static_cast<double>(k.size());
  std::vector<double> pattern_bps, seq_bps, ratio;
  uint64_t sums[64] = {};
  for (auto _ : state) {
    const double tp = timed([&] {
      pool().run([&](int i, int n) {
        for (int64_t b = i; b < kBatch; b += n)
          sums[i] += read_like_decode(k.data() + b * kRowsBytes, v.data() + b * kRowsBytes, block);
      });
    });
    state.PauseTiming();
    const double ts = timed([&] {
      pool().run([&](int i, int n) {
        for (int64_t b = i; b < kBatch; b += n) {
          sums[i] += sum_words(k.data() + b * kRowsBytes, kRowsBytes);
          sums[i] += sum_words(v.data() + b * kRowsBytes, kRowsBytes);
        }
      });
    });
    state.ResumeTiming();
    pattern_bps.push_back(bytes / tp);
    seq_bps.push_back(bytes / ts);
    ratio.push_back(ts / tp);
  }
  benchmark::DoNotOptimize(sums);
  state.counters["GB/s"] = median(pattern_bps) / 1e9;
  state.counters["seq_GB/s"] = median(seq_bps) / 1e9;
  state.counters["of_seq"] = median(ratio);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest;
  if (!llmroof::bench::take_threads_flag(argc, argv, &g_threads, rest)) return 2;
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  for (int64_t block : {16, 32})
    benchmark::RegisterBenchmark(("kv_pattern_read/b16_kv4_ctx65536/block" + std::to_string(block)).c_str(),
                                 BM_kv_pattern_read, block)
        ->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
