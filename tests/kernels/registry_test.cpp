// Every registered kernel (row-wise, attention and GEMM) passes its standard check problems, the
// same cases `llmroof kernels check` runs.
#include "kernels/registry.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/cases.hpp"
#include "kernels/cpu/dispatch.hpp"
#include "kernels/cpu_features.hpp"

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

// kernels_bench's paired read baseline sums over KernelCase::inputs(); the bytes it reads must be
// the bytes the analyzer's cost counts for those buffers, or of_read_paired compares unlike things.
TEST_CASE("decode and GEMV inputs are exactly the KV cache and weight bytes the cost counts") {
  KernelRegistry r;
  register_cpu_kernels(r);
  const auto input_bytes = [](const KernelCase& c) {
    double b = 0;
    for (const KernelCase::Input& in : c.inputs()) {
      CHECK(in.data != nullptr);
      b += static_cast<double>(in.bytes);
    }
    return b;
  };
  Problem d;  // decode: GQA 4, 100 tokens
  d.batch = 2;
  d.q_heads = 8;
  d.kv_heads = 2;
  d.head_dim = 64;
  d.kv_len = 100;
  for (const char* name : {"attention_decode_fp32", "attention_decode_bf16", "attention_decode_int8"}) {
    auto c = r.find(name)->make(d);
    INFO(name);
    const double elems = 2.0 * d.batch * d.kv_len * d.kv_heads * d.head_dim;  // K and V
    const double per = std::string(name).ends_with("fp32") ? 4 : std::string(name).ends_with("bf16") ? 2 : 1;
    const double scales = per == 1 ? 2.0 * d.batch * d.kv_len * d.kv_heads * 2 : 0;  // fp16, K and V
    CHECK(input_bytes(*c) == elems * per + scales);
    CHECK(input_bytes(*c) == c->cost().bytes.kv_read);
  }
  Problem g;  // GEMV, shapes the packing does not pad
  g.m = 1;
  g.k = 256;
  g.n = 128;
  for (const char* name : {"gemm_fp32", "gemm_bf16", "gemm_w8a16", "gemm_w4a16", "gemm_fp8"}) {
    const KernelEntry* e = r.find(name);
    REQUIRE(e != nullptr);
    auto c = e->make(g);
    INFO(name);
    // The CPU packing keeps int8 and fp8 per-column scales in fp32 (one multiply per output, no
    // conversion); the analyzer counts the fp16 scales deployments store: 2 bytes more per column.
    const std::string n = name;
    const double fp32_scales = n == "gemm_w8a16" || n == "gemm_fp8" ? 2.0 * static_cast<double>(g.n) : 0;
    CHECK(input_bytes(*c) == c->cost().bytes.weights + fp32_scales);
  }
  // Read-only cases: the baseline stores nothing.
  CHECK(r.find("attention_decode_int8")->make(d)->outputs().empty());
  CHECK(r.find("gemm_w4a16")->make(g)->outputs().empty());
}

// The row ops' baseline reads their inputs and writes their outputs (of_rw_paired): together
// exactly the bytes the cost counts, except rope's cos/sin rows, which the cost counts once per
// token (as the token-major kernel reads them, once per batch row) and the baseline reads once.
TEST_CASE("row ops name the bytes they read and write, as the cost counts them") {
  KernelRegistry r;
  register_cpu_kernels(r);
  const auto total = [](KernelCase& c, double* written) {
    double b = 0;
    for (const KernelCase::Input& in : c.inputs()) b += static_cast<double>(in.bytes);
    *written = 0;
    for (const KernelCase::Output& out : c.outputs()) {
      CHECK(out.data != nullptr);
      *written += static_cast<double>(out.bytes);
    }
    return b + *written;
  };
  Problem rows;
  rows.m = 5;
  rows.n = 96;
  for (const char* name : {"rmsnorm", "add_rmsnorm", "silu_mul", "softmax"}) {
    INFO(name);
    auto c = r.find(name)->make(rows);
    double written = 0;
    const double bytes = total(*c, &written);
    CHECK(bytes == c->cost().bytes.total());
    CHECK(written == c->cost().bytes.act_written);
    CHECK(written > 0);
  }
  Problem p;  // rope: batch 3, 4 new tokens of a 10-token context, GQA 4, d 64
  p.batch = 3;
  p.q_len = 4;
  p.kv_len = 10;
  p.q_heads = 8;
  p.kv_heads = 2;
  p.head_dim = 64;
  auto c = r.find("rope")->make(p);
  double written = 0;
  const double bytes = total(*c, &written);
  const double qk = 3.0 * 4 * (8 + 2) * 64 * 4;  // tokens × heads × d × 4 bytes
  const double rows_read = 4.0 * 64 * 4;          // cos and sin (d/2 each) of the 4 positions
  CHECK(written == qk);
  CHECK(bytes == 2 * qk + rows_read);
  CHECK(c->cost().bytes.total() == 2 * qk + 3 * rows_read);  // the cost: per token
}

// The int8 decode's dot products on vpdpbusd (or AMX tiles) are counted at the int8 peak (kernels
// bench's compute limit): 2·d ops per (q head, key) for q·k, and as many for P·V where the
// probabilities are rounded to u8 (GQA >= 8); the bf16 decode's both at the bf16 peak from GQA 8;
// each only where the CPU takes that path.
TEST_CASE("int8 and bf16 decode name the ops they run as int8 or bf16 dot products") {
  KernelRegistry r;
  register_cpu_kernels(r);
  Problem p;
  p.batch = 2;
  p.q_heads = 16;
  p.head_dim = 128;
  p.kv_len = 100;
  const bool vnni = cpu_features().avx512_vnni && best_isa() == Isa::avx512;
  const double per_product = 2.0 * 2 * 16 * 128 * 100;  // 2 ops · batch · q heads · d · keys
  for (const int kv_heads : {16, 2}) {  // GQA 1: q·k only; GQA 8: q·k and P·V
    p.kv_heads = kv_heads;
    INFO("kv_heads " << kv_heads);
    const auto c = r.find("attention_decode_int8")->make(p);
    const auto shares = c->ops_at();
    // what `kernels bench` prints as the shape's isa names the same instructions: at GQA 8 on
    // AMX-INT8 CPUs the tiles' (decode_int8_amx)
    KvCacheView int8_view;
    int8_view.format = KvFormat::int8;
    const bool amx = decode_int8_amx(int8_view, attention_dims(p));
    CHECK(amx == (vnni && kv_heads == 2 && cpu_features().amx_int8 && enable_amx()));
    CHECK((c->isa().find("vpdpbusd q·k") != std::string::npos) == (vnni && !amx));
    CHECK((c->isa().find("tdpbssd q·k") != std::string::npos) == amx);
    CHECK((c->isa().find("u8 P·V") != std::string::npos) == (vnni && kv_heads == 2));
    if (!vnni) {
      CHECK(shares.empty());
      continue;
    }
    REQUIRE(shares.size() == 1);
    CHECK(shares[0].dtype == llmroof::DType::int8);
    CHECK(shares[0].ops == (kv_heads == 2 ? 2 : 1) * per_product);
    CHECK(shares[0].ops < r.find("attention_decode_int8")->make(p)->cost().ops);
  }
  // bf16 caches from GQA 8 on AVX512_BF16 CPUs: both dot products on vdpbf16ps, or on AMX-BF16
  // CPUs on tdpbf16ps (decode_bf16_amx)
  const bool bf16 = cpu_features().avx512_bf16 && best_isa() == Isa::avx512;
  KvCacheView bf16_view;
  bf16_view.format = KvFormat::bf16;
  for (const int kv_heads : {4, 2}) {
    p.kv_heads = kv_heads;
    INFO("kv_heads " << kv_heads);
    const auto c = r.find("attention_decode_bf16")->make(p);
    const auto shares = c->ops_at();
    const bool amx = decode_bf16_amx(bf16_view, attention_dims(p));
    CHECK(amx == (bf16 && kv_heads == 2 && cpu_features().amx_bf16 && enable_amx()));
    CHECK((c->isa().find(amx ? "tdpbf16ps" : "vdpbf16ps") != std::string::npos) ==
          (bf16 && kv_heads == 2));
    if (!bf16 || kv_heads == 4) {
      CHECK(shares.empty());
      continue;
    }
    REQUIRE(shares.size() == 1);
    CHECK(shares[0].dtype == llmroof::DType::bf16);
    CHECK(shares[0].ops == 2 * per_product);
    CHECK(shares[0].ops < r.find("attention_decode_bf16")->make(p)->cost().ops);
  }
  p.head_dim = 96;  // not a multiple of 64: fp32 dot products
  p.kv_heads = 2;
  CHECK(r.find("attention_decode_int8")->make(p)->ops_at().empty());
  CHECK(r.find("attention_decode_int8")->make(p)->isa().find("vpdpbusd") == std::string::npos);
  CHECK(r.find("attention_decode_fp32")->make(p)->ops_at().empty());
  // `kernels list`: the AVX-512 entries name the extension some of their shapes use on this CPU
  CHECK((r.find("attention_decode_int8")->isa.rfind("avx512f+vnni", 0) == 0) == vnni);
  CHECK((r.find("attention_decode_int8")->isa == "avx512f+vnni+amx_int8") ==
        (vnni && cpu_features().amx_int8));
  CHECK((r.find("attention_decode_bf16")->isa.rfind("avx512f+bf16", 0) == 0) == bf16);
  CHECK((r.find("attention_decode_bf16")->isa == "avx512f+bf16+amx_bf16") ==
        (bf16 && cpu_features().amx_bf16));
  CHECK(r.find("attention_decode_int8_avx2")->isa == "avx2+fma");
  Problem g;
  g.k = 256;
  g.n = 128;
  CHECK(r.find("gemm_w8a8")->make(g)->ops_at().empty());  // all at its entry's int8 peak
}
