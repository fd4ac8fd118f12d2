#pragma once
// One explicit kernel registry (no static initialisers): register_cpu_kernels() fills it, and a CUDA
// twin register_cuda_kernels() does the same where nvcc exists. Each entry knows its op, dtypes, the
// ISA it uses, and makes a KernelCase for a Problem: buffers allocated and filled, the optimized run,
// the scalar reference, a comparison with a stated tolerance, and the OPs/bytes from analyzer/cost.hpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/cost.hpp"
#include "kernels/thread_pool.hpp"

namespace llmroof::kernels {

enum class Op {
  rmsnorm, add_rmsnorm, rope, silu_mul, softmax, attention_prefill, attention_decode, gemm
};
std::string_view to_string(Op op);

// One descriptor for every op; each op reads the fields it needs (documented per op in docs/kernels.md).
struct Problem {
  // gemm: y[m,n] = x[m,k] · W[k,n]; row ops (norm, act, softmax): m rows of n elements.
  int64_t m = 1, n = 4096, k = 4096;
  int64_t group_size = 128;  // group-wise int4 weights
  // attention
  int64_t batch = 1, q_heads = 32, kv_heads = 32, head_dim = 128;
  int64_t q_len = 1, kv_len = 1;
  bool causal = true;
  uint64_t seed = 1;
  std::string to_args() const;  // "--m 1 --n 4096 --k 4096 ..." as `llmroof kernels bench` takes it
  std::string to_args(Op op) const;    // only the options `op` reads (shorter reproducers)
  std::string to_params(Op op) const;  // "m=1,n=4096,k=4096" for case names
};

enum class Disposition { passed, failed, skipped, unsupported, mistrusted };
std::string_view to_string(Disposition d);

struct CheckResult {
  Disposition disposition = Disposition::failed;
  double error = 0;      // the op's error metric (see `metric`)
  double tolerance = 0;  // stated per op
  std::string metric;    // e.g. "max_abs", "nmse"
  std::string detail;    // why failed / mistrusted
};

class KernelCase {
 public:
  virtual ~KernelCase() = default;
  virtual void run(ThreadPool& pool) = 0;   // the shipped, optimized kernel
  virtual void run_reference() = 0;         // scalar reference, obvious loops
  virtual CheckResult compare() const = 0;  // optimized output vs reference output
  virtual OpCost cost() const = 0;          // from analyzer/cost.hpp
  virtual size_t working_set_bytes() const = 0;
  // The buffers a memory-bound case streams from memory on each run (KV cache and its scales,
  // packed weights), for a read baseline over the same pages (kernels_bench's of_read_paired);
  // empty where the case does not say.
  struct Input {
    const void* data;
    size_t bytes;
  };
  virtual std::vector<Input> inputs() const { return {}; }
  // The buffers it writes (a buffer read and written, like add_rmsnorm's residual, is in both), for
  // the baseline's stores (kernels_bench's of_rw_paired); the baseline overwrites them, so only
  // buffers whose values the next run() may take as any finite input. Empty: read-only baseline.
  struct Output {
    void* data;
    size_t bytes;
  };
  virtual std::vector<Output> outputs() { return {}; }
  // The part of cost().ops this shape runs at another dtype's peak than its entry's `compute`
  // (attention_decode_int8 on VNNI CPUs: the q·k and, from GQA 8, the P·V dot products on
  // vpdpbusd; attention_decode_bf16 from GQA 8 on AVX512_BF16 CPUs: both on vdpbf16ps), for
  // `kernels bench`'s compute limit; empty: every op at `compute`.
  struct OpsAt {
    DType dtype;
    double ops;
  };
  virtual std::vector<OpsAt> ops_at() const { return {}; }
  // What this shape runs where it is not the entry's `isa` path (attention with head_dim not a
  // multiple of 16: the scalar reference), for `kernels bench` to say; empty otherwise.
  virtual std::string fallback() const { return {}; }
  // The features this shape's path uses where they depend on the shape, not only on the CPU
  // (attention decode: vpdpbusd for int8 caches with head_dim % 64 == 0, vdpbf16ps for bf16 caches
  // from GQA 8), for `kernels bench` to print instead of the entry's `isa`; empty: the entry's.
  virtual std::string isa() const { return {}; }
};

struct KernelEntry {
  std::string name;    // e.g. "gemm_w4a16"
  Op op;
  std::string dtypes;  // e.g. "x:fp32 w:int4(g128) y:fp32"
  std::string isa;     // features the selected path uses (or may, by shape) on this CPU, e.g. "avx512_vnni"
  // The peak its arithmetic runs at: fp32 FMA unless the products are integer (W8A8: int8 VNNI).
  // `kernels bench` takes that dtype's peak from the hardware file for its roofline.
  DType compute = DType::fp32;
  std::function<bool()> supported;  // false: the CPU lacks what the kernel needs
  std::function<std::unique_ptr<KernelCase>(const Problem&)> make;
  // Shapes `llmroof kernels check` runs; empty: default_check_problems(op).
  std::vector<Problem> check_problems;
};

// The standard check shapes of an op (odd sizes, GQA 1/4/8, head_dim 64/128, batch > 1; small
// enough that the scalar references finish in seconds).
std::vector<Problem> default_check_problems(Op op);

class KernelRegistry {
 public:
  void add(KernelEntry e);
  const KernelEntry* find(std::string_view name) const;
  const std::vector<KernelEntry>& all() const { return entries_; }

 private:
  std::vector<KernelEntry> entries_;
};

void register_cpu_kernels(KernelRegistry& r);
#if LLMROOF_HAVE_CUDA
void register_cuda_kernels(KernelRegistry& r);
#endif

}  // namespace llmroof::kernels
