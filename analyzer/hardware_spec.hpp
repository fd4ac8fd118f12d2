#pragma once
// An accelerator (or the host CPU) as the roofline sees it. SI base units everywhere; the unit is in
// each field name. Filled by io/ from hardware_db/*.yaml (schema: docs/hardware-schema.md) or by
// `llmroof calibrate`. Provenance strings live beside the numbers so reports can cite them.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "analyzer/dtype.hpp"

namespace llmroof {

enum class DeviceKind { gpu, npu, xpu, cpu };
std::string_view to_string(DeviceKind k);

struct HardwareSpec {
  std::string name;    // db id, e.g. "a6000"
  std::string vendor;  // e.g. "NVIDIA"
  std::string description;
  DeviceKind kind = DeviceKind::gpu;
  bool low_confidence = false;
  std::string notes;  // caveats from the db file (why low confidence, shared memory, ...)

  double memory_bytes = 0;
  double memory_bandwidth_bytes_per_s = 0;

  // Peak throughput per dtype in ops/s (a multiply-add counts 2). Absent = unsupported.
  std::array<std::optional<double>, kNumDTypes> dense_ops_per_s{};
  std::array<std::optional<double>, kNumDTypes> sparse_ops_per_s{};  // 2:4 structured; never used
                                                                     // by the analyzer by default
  // On-chip memory usable for tiling (shared memory / SRAM / L2 slice), per SM or core, and total.
  double onchip_bytes_per_core = 0;
  double onchip_bytes_total = 0;
  int num_cores = 0;  // SMs / cores / clusters

  // Device-to-device link, per direction, and latency per message.
  std::string interconnect_name;  // e.g. "NVLink 3"; empty when none is described
  double interconnect_bandwidth_bytes_per_s = 0;
  double interconnect_latency_s = 0;
  int devices_per_node = 1;

  double kernel_launch_overhead_s = 0;
  // The same fixed cost for a small kernel whose tensors are resident in the last-level cache
  // (calibrate: the small decode ops started with their inputs in the L3, docs/calibrate.md "Small
  // ops"), its bytes costed at last_level_cache.read_bytes_per_s. The cache-residency model charges
  // it for the resident share of a decode row's bytes (docs/cost-model.md, "Cache residency").
  // Absent = kernel_launch_overhead_s for every kernel. YAML: kernel_launch_overhead_hot_us.
  std::optional<double> kernel_launch_overhead_hot_s;
  // The reuse distance calibrate measures the hot figure at: the op's inputs last touched this
  // fraction of the last-level cache's capacity of streamed bytes earlier. The analyzer takes a
  // tensor as hot up to it and cold from the capacity on, linearly in between (residency.cpp).
  static constexpr double kHotReuseDistanceOfLlc = 0.125;
  // The size of each stream of calibrate's cold probe (a Llama-2-7b hidden vector, fp32: 4 pages).
  static constexpr double kColdProbeStreamBytes = 16384;
  // A cold stream's share of kernel_launch_overhead_s goes by the 4 KiB pages it touches (TLB walk
  // and DRAM latency before the prefetcher, which stops at page ends, runs ahead), not its bytes:
  // min(1, pages / kColdStreamFullPages). One page pays half, two or more all of it
  // (residency.cpp, cost_small_row; docs/calibrate.md "Small ops" gives the evidence).
  static constexpr double kPageBytes = 4096;
  static constexpr double kColdStreamFullPages = 2;

  // The last-level cache as the activation-traffic model sees it (docs/cost-model.md, "Cache
  // residency"): its capacity, and the bandwidth at which a tensor written by a recent op is read
  // back from it once. Absent = every byte moves at memory bandwidth (the GPU files).
  struct LastLevelCache {
    double capacity_bytes = 0;
    double read_bytes_per_s = 0;
  };
  std::optional<LastLevelCache> last_level_cache;
  // Stores to a line that is not in cache first read it (read-for-ownership), as on x86: an
  // out-of-place write to a cold destination moves its bytes twice. Absent (false) = it does not.
  bool write_allocate = false;
  // DRAM time of a byte written back, as a fraction of a byte read, in (0, 1]. One core whose reads
  // are bound by its outstanding misses (not by the memory bus) writes back nearly for free; a bus
  // saturated by many cores pays in full. Used with the cache-residency model only; absent = 1.
  double write_back_cost = 1.0;

  // Achieved fraction of peak, used by --mode realistic. 1.0 = roofline.
  struct Efficiency {
    double memory = 1.0;   // achieved / peak bandwidth for large streaming kernels
    double compute = 1.0;  // achieved / peak for large GEMMs
    double communication = 1.0;
    // The fused attention kernel's own achieved fraction of bandwidth (decode, streaming the KV
    // cache) and of the float peak (prefill). Absent = use `memory` / `compute` above. Measured by
    // `llmroof calibrate`; applied to the fused_attention row only (docs/cost-model.md).
    std::optional<double> attention_memory;
    std::optional<double> attention_compute;
    // The fused prefill's fraction of the float peak at a short prompt. The lengths are those
    // `llmroof calibrate` measures at: attention_compute at kAttentionComputeTokens causal tokens,
    // attention_compute_short at kAttentionShortTokens. Absent = attention_compute at any length.
    std::optional<double> attention_compute_short;
    static constexpr int64_t kAttentionComputeTokens = 512, kAttentionShortTokens = 64;
    // The same at kAttentionShortTokens with Q, K, V and O inside the on-chip memory (calibrate:
    // heads of 64 filling 3/4 of the L2), where attention_compute_short's probe (32 heads of 128:
    // 4 MiB) is not. The short prompt's rate is set by where its operands are: at 64 tokens the
    // kernel ran 38-40 GFLOP/s with 32 heads of 64 or 128 and 65-67 with 14 heads of 64 or 128
    // (1 thread, L2 1 MiB): head_dim did not matter, the working set did (docs/cost-model.md).
    // Used for the short end of the interpolation when the row's working set fits on chip.
    // Absent = attention_compute_short.
    std::optional<double> attention_compute_short_onchip;
    // The prefill attention's compute efficiency at a prompt of `tokens` (docs/cost-model.md,
    // "Attention at short prompts"): the kernel's time is a part proportional to the causal pairs
    // (~s^2 / 2) plus a part proportional to the query rows (~s: masked halves of the diagonal
    // tiles, per-tile Q packing and O normalisation), so 1 / efficiency is affine in 1 / s; the
    // line through the two measured points, never below the long prompt's slope of zero.
    // nullopt without attention_compute.
    // `onchip`: the prefill's Q, K, V and O fit in the on-chip memory (the short end is then
    // attention_compute_short_onchip where measured).
    std::optional<double> attention_compute_at(int64_t tokens, bool onchip = false) const {
      if (!attention_compute) return std::nullopt;
      const std::optional<double> shrt =
          onchip && attention_compute_short_onchip ? attention_compute_short_onchip
                                                   : attention_compute_short;
      if (!shrt || tokens <= 0 || *shrt <= 0) return attention_compute;
      const double inv_long = 1.0 / *attention_compute;
      const double x_long = 1.0 / double(kAttentionComputeTokens);
      const double slope = (1.0 / *shrt - inv_long) /
                           (1.0 / double(kAttentionShortTokens) - x_long);
      const double inv = inv_long + (slope > 0 ? slope : 0.0) * (1.0 / double(tokens) - x_long);
      return inv >= 1.0 ? 1.0 / inv : 1.0;
    }
    // The decode kernel's fraction of bandwidth with the KV cache in that dtype, where measured
    // (calibrate: bf16 and int8 caches). Absent = attention_memory, then memory. YAML:
    // efficiency.attention_memory_<dtype>. Chosen by --kvbits.
    std::array<std::optional<double>, kNumDTypes> attention_memory_by_dtype{};
    double attention_memory_for(DType kv) const {
      return attention_memory_by_dtype[static_cast<int>(kv)].value_or(
          attention_memory.value_or(memory));
    }
    // A dtype's GEMMs' own achieved fraction of that dtype's peak, where measured (calibrate: the
    // W8A8 GEMM against the int8 peak). Absent = `compute`. YAML: efficiency.compute_<dtype>.
    std::array<std::optional<double>, kNumDTypes> compute_by_dtype{};
    double compute_for(DType t) const {
      return compute_by_dtype[static_cast<int>(t)].value_or(compute);
    }
    // The linear layers' achieved fraction of bandwidth when their weights are in that dtype, where
    // measured (calibrate: the decode GEMV of each weight format). Absent = `memory`. YAML:
    // efficiency.memory_<dtype>. Applies to the rows that stream weights in the linear layers' format.
    std::array<std::optional<double>, kNumDTypes> memory_by_dtype{};
    double memory_for(DType t) const {
      return memory_by_dtype[static_cast<int>(t)].value_or(memory);
    }
    // W8A8's decode GEMV also quantizes x per token and runs integer dot products, so it streams
    // its int8 weights at its own fraction of bandwidth, where measured (calibrate). Absent =
    // memory_for(int8). YAML: efficiency.memory_w8a8.
    std::optional<double> memory_w8a8;
    double memory_for(DType weights, DType activations) const {
      if (weights == DType::int8 && activations == DType::int8 && memory_w8a8) return *memory_w8a8;
      return memory_for(weights);
    }
  } efficiency;

  // field name -> source text ("NVIDIA A100 datasheet", "measured by llmroof calibrate ...").
  std::map<std::string, std::string> sources;

  std::optional<double> peak(DType t) const { return dense_ops_per_s[static_cast<int>(t)]; }
  // Ridge point (ops/byte) for a dtype: peak / bandwidth.
  std::optional<double> ridge_ops_per_byte(DType t) const {
    auto p = peak(t);
    if (!p || memory_bandwidth_bytes_per_s <= 0) return std::nullopt;
    return *p / memory_bandwidth_bytes_per_s;
  }
};

}  // namespace llmroof
