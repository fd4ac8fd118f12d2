// Every registered kernel (row-wise, attention and GEMM) passes its standard check problems, the
// same cases `llmroof kernels check` runs.
#include <doctest/doctest.h>

#include <set>

#include "kernels/registry.hpp"

using namespace llmroof::kernels;

TEST_CASE("registry holds each op once by name, with a reference and costs") {
  KernelRegistry r;
  register_cpu_kernels(r);
  std::set<std::string> names;
  for (const KernelEntry& e : r.all()) {
    CHECK(names.insert(e.name).second);
    CHECK(!e.dtypes.empty());
    CHECK(!e.isa.empty());
  }
  for (const char* n : {"rmsnorm", "add_rmsnorm", "rope", "silu_mul", "softmax", "attention_prefill",
                        "attention_decode_fp32", "attention_decode_bf16", "attention_decode_int8"})
    CHECK(r.find(n) != nullptr);
  CHECK(r.find("no_such_kernel") == nullptr);
  CHECK_THROWS(r.add(*r.find("rmsnorm")));
}

TEST_CASE("every supported kernel passes its check problems") {
  KernelRegistry r;
  register_cpu_kernels(r);
  ThreadPool pool(2);
  for (const KernelEntry& e : r.all()) {
    if (!e.supported()) continue;
    const auto problems = e.check_problems.empty() ? default_check_problems(e.op) : e.check_problems;
    for (const Problem& p : problems) {
      auto c = e.make(p);
      c->run(pool);
      c->run_reference();
      const CheckResult res = c->compare();
      INFO(e.name, "(", p.to_params(e.op), "): ", res.detail, " error ", res.error);
      CHECK(res.disposition == Disposition::passed);
      CHECK(c->cost().ops > 0);
      CHECK(c->cost().bytes.total() > 0);
    }
  }
}

TEST_CASE("reproducer arguments name exactly the fields an op reads") {
  Problem p;
  p.m = 7;
  p.n = 4099;
  CHECK(p.to_args(Op::rmsnorm) == "--m 7 --n 4099");
  CHECK(p.to_params(Op::rmsnorm) == "m=7,n=4099");
  p.seed = 3;
  CHECK(p.to_args(Op::attention_decode) ==
        "--batch 1 --q-heads 32 --kv-heads 32 --head-dim 128 --q-len 1 --kv-len 1 --seed 3");
}
