#pragma once
// The decode attention kernel alone, on random KV caches rotated so that every call reads its cache
// from DRAM: calibrate's efficiency probe (kernel_efficiency.cpp) and validate's device check
// between decode passes (validate.cpp) time the same thing.
//
// Why validate runs it (docs/validate.md, "Decode attention"): on the shared development host the
// fp32 decode attention slowed by 15-25 % at busy moments while the GEMVs, the DRAM read loop and
// the FMA loop beside it did not (their rates were uncorrelated with its time over 300 samples), so
// the DRAM probe cannot tell a disturbed attention row from a wrong prediction. This probe can:
// run between the same passes, it shows what the kernel itself achieved at that moment.
#include <cstdint>
#include <vector>

#include "kernels/cpu/attention.hpp"
#include "kernels/huge_buffer.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::calibrate {

// One KV cache [batch, tokens, kv_heads, head_dim] in `f`, random values: fp32, bf16 (rounded), or
// int8 with one fp16 scale per (token, kv head) as validate's runner stores it. 2 MiB pages where
// the kernel grants them (as the runner's caches).
struct KvCopy {
  kernels::HugeVector<uint8_t> k, v;
  kernels::HugeVector<uint16_t> k_scale, v_scale;  // int8 only
  kernels::KvCacheView view(kernels::KvFormat f) const;
};
KvCopy random_kv(kernels::KvFormat f, int64_t tokens, int64_t heads, int64_t head_dim,
                 uint64_t seed);
double kv_copy_bytes(kernels::KvFormat f, int64_t tokens, int64_t heads, int64_t head_dim);

// Rotating copies of one decode attention shape (dims.q_len == 1): enough copies that together they
// span `rotation_bytes`, at least `min_copies`. run(i) calls attention_decode on copy i % copies.
class DecodeAttentionProbe {
 public:
  DecodeAttentionProbe(const kernels::AttentionDims& dims, kernels::KvFormat f,
                       double rotation_bytes, size_t min_copies = 1, uint64_t seed = 20);
  void run(size_t i, kernels::ThreadPool& pool);
  size_t copies() const { return kv_.size(); }
  const kernels::AttentionDims& dims() const { return d_; }

 private:
  kernels::AttentionDims d_;
  kernels::KvFormat f_;
  std::vector<KvCopy> kv_;
  std::vector<float> q_, o_;
};

}  // namespace llmroof::calibrate
