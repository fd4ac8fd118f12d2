// CUDA twins against the CPU references. Registered only in a CUDA build; every case returns early
// (with a message) when no GPU is visible, so the suite passes on machines without one.
#include <doctest/doctest.h>

#include "kernels/cuda/cuda_kernels.hpp"
#include "kernels/registry.hpp"

using namespace llmroof::kernels;

TEST_CASE("cuda kernels are registered and report support honestly") {
  KernelRegistry r;
  register_cuda_kernels(r);
  REQUIRE(r.find("cuda_rmsnorm") != nullptr);
  REQUIRE(r.find("cuda_attention_decode_fp32") != nullptr);
  CHECK(r.find("cuda_rmsnorm")->supported() == (cuda::device_count() > 0));
}

TEST_CASE("cuda kernels match the CPU references") {
  if (cuda::device_count() == 0) {
    MESSAGE("no CUDA device: GPU checks skipped");
    return;
  }
  KernelRegistry r;
  register_cuda_kernels(r);
  ThreadPool pool(1);
  for (const KernelEntry& e : r.all())
    for (const Problem& p : default_check_problems(e.op)) {
      if (p.head_dim % 32) continue;
      auto c = e.make(p);
      c->run(pool);
      c->run_reference();
      const CheckResult res = c->compare();
      INFO(e.name, "(", p.to_params(e.op), "): ", res.detail);
      CHECK(res.disposition == Disposition::passed);
    }
}
