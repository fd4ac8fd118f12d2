// The CPU half of the kernel registry: explicit calls, no static initialisers.
#include "kernels/cpu/cases.hpp"
#include "kernels/cpu/gemm_registry.hpp"
#include "kernels/registry.hpp"

namespace llmroof::kernels {

void register_cpu_kernels(KernelRegistry& r) {
  register_rowwise_kernels(r);
  register_attention_kernels(r);
  register_gemm_kernels(r);
}

}  // namespace llmroof::kernels
