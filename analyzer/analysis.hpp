#pragma once
// The analyzer's result: a per-layer table for prefill and decode, and totals. Plain values, SI units.
// Printers in reports/ turn it into table / md / json / csv / xlsx / html.
#include <string>
#include <vector>

#include "analyzer/cost.hpp"
#include "analyzer/dtype.hpp"
#include "analyzer/settings.hpp"

namespace llmroof {

enum class Phase { prefill, decode };
enum class Bound { compute, memory, communication };
// Which rates cost a row (docs/cost-model.md), set where the row is built: the general memory and
// compute rates; the linear layers' weight-format bandwidth (efficiency.memory_<weights>); the
// fused attention kernel's own factors (efficiency.attention_*); or the device-to-device link.
enum class RateClass { general, weights, attention, communication };
// An activation tensor of a decoder block, as the cache-residency model tracks it: the residual
// stream, the normed input of the linear layers, Q/K/V, attention output, a linear layer's output,
// the MLP's gate, up and activated tensors.
enum class Tensor { hidden, normed, q, k, v, attn_out, proj_out, gate, up, act };
// How a row touches it: read; read and written back in place; written out of place.
enum class Access { read, update, write };
struct TensorUse {
  Tensor tensor = Tensor::hidden;
  double bytes = 0;  // bytes read (read, update) or written (write); an update writes them too
  Access access = Access::read;
};
std::string_view to_string(Phase p);
std::string_view to_string(Bound b);
std::string_view to_string(RateClass c);

struct LayerRow {
  std::string name;       // q_proj, k_proj, ..., fused_attention, router, experts, all_reduce, lm_head
  bool per_block = true;  // true: one decoder block's op (repeats `count` times); false: model-level
  int64_t count = 1;      // how many times the row occurs in the model (blocks it appears in)
  OpCost cost;            // per occurrence, per device
  double arithmetic_intensity = 0;  // ops / byte
  DType compute_dtype = DType::fp16;  // the peak that applies
  double peak_ops_per_s = 0;          // after efficiency in realistic mode
  double bandwidth_bytes_per_s = 0;   // memory (or link) bandwidth used, after efficiency
  double attainable_ops_per_s = 0;    // min(peak, AI * bandwidth)
  Bound bound = Bound::memory;
  double time_s = 0;  // per occurrence, including launch overhead in realistic mode
  std::vector<std::string> warnings;
  int64_t kernels = 1;  // kernel launches per occurrence (realistic mode adds one overhead each)
  RateClass rates = RateClass::general;
  // Attention rows (qk_matmul, softmax, sv_matmul, fused_attention): cost affine in the keys one
  // query sees, so the decode average sums them in closed form over the growing KV cache.
  bool grows_with_context = false;
  // The block activations it reads and writes (a subset of cost.bytes); the rest of its bytes --
  // weights, KV cache, tables, scores -- stream. Used by the cache-residency model only.
  std::vector<TensorUse> activations;
  // Where its bytes move when the hardware describes a last-level cache or write-allocate
  // (docs/cost-model.md, "Cache residency"); traffic_split is false otherwise and then every
  // byte of cost moves at bandwidth_bytes_per_s. dram_bytes includes write-allocate reads, so
  // dram_bytes + cache_bytes >= cost.bytes.total().
  bool traffic_split = false;
  double dram_bytes = 0;
  double cache_bytes = 0;       // read from the last-level cache
  double dram_write_bytes = 0;  // the part of dram_bytes written back (costed x write_back_cost)
  // For a decode row small enough to be costed whole (residency.cpp): how warm its operand streams
  // are when it starts (mean over them; 1 = all in the last-level cache). Its kernels' fixed cost
  // is this share of the hot figure plus the rest of the cold one. 0 = started cold.
  double hot_fraction = 0;
};

struct PhaseResult {
  Phase phase = Phase::prefill;
  std::vector<LayerRow> rows;
  double ops = 0;      // whole model, one device
  double bytes = 0;    // whole model, one device
  double time_s = 0;   // whole model
  int64_t context_len = 0;  // decode: the KV length the rows were evaluated at
  int64_t steps = 0;        // decode: forward passes averaged over (gen_len - 1; 0 when gen_len = 1)
};

struct MemoryResult {
  double weights_bytes = 0;          // per device, incl. embeddings, lm_head and quant scales
  double kv_cache_bytes = 0;         // per device, whole batch at the final length
  double activation_peak_bytes = 0;  // per device, liveness peak within one block
  double total_bytes = 0;
  double capacity_bytes = 0;
  bool fits = false;
  int64_t max_batch = 0;  // largest batch that fits at the same lengths (0 = not even 1)
};

struct Totals {
  double ttft_s = 0;
  double tpot_s = 0;  // mean over the generated tokens
  double e2e_latency_s = 0;
  double output_tokens_per_s = 0;
  double total_tokens_per_s = 0;
};

struct Analysis {
  std::string model_name;
  std::string hardware_name;
  Settings settings;
  PhaseResult prefill;
  PhaseResult decode;  // rows at the mean context; time_s averaged exactly over the generation
  Totals totals;
  MemoryResult memory;
  std::vector<std::string> warnings;
};

}  // namespace llmroof
