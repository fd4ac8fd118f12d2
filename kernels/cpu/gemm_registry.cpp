// KernelRegistry entries for the GEMMs: each case packs exact-friendly weights once, then runs the
// optimized kernel and the scalar reference on the same quantized weights.
#include "kernels/cpu/gemm_registry.hpp"

#include <cmath>
#include <string>

#include "kernels/check.hpp"
#include "kernels/cpu/quant.hpp"

namespace llmroof::kernels {

std::vector<float> exact_test_weights(WeightFormat f, int64_t k, int64_t n, int64_t group_size,
                                      uint64_t seed) {
  std::vector<float> w(k * n);
  Rng rng(seed);
  for (int64_t j = 0; j < n; ++j) {
    float* col = &w[j * k];
    for (int64_t kk = 0; kk < k; ++kk) {
      switch (f) {
        case WeightFormat::fp32:
          col[kk] = static_cast<float>(rng.integer(-4, 4));
          break;
        case WeightFormat::bf16:
          col[kk] = static_cast<float>(rng.integer(-8, 8));
          break;
        case WeightFormat::int8:
        case WeightFormat::w8a8:
          col[kk] = std::ldexp(static_cast<float>(kk == 0 ? 127 : rng.integer(-127, 127)), -3);
          break;
        case WeightFormat::int4: {
          const int64_t gi = kk % group_size;  // every group holds q = 0 and q = 15 (if it can)
          const int64_t q = gi == 0 ? 0 : gi == 1 ? 15 : rng.integer(0, 15);
          col[kk] = std::ldexp(static_cast<float>(q - 8), -4);
          break;
        }
        case WeightFormat::fp8: {
          const auto code = static_cast<uint8_t>(rng.integer(0, 253));  // skip NaN codes
          const uint8_t b = code >= 0x7F ? code + 1 : code;
          col[kk] = std::ldexp(kk == 0 ? kE4M3Max : e4m3_to_float(b), -6);
          break;
        }
      }
    }
  }
  return w;
}

namespace {

class GemmCase final : public KernelCase {
 public:
  GemmCase(const Problem& p, WeightFormat f, double tol, Isa isa) : p_(p), tol_(tol), isa_(isa) {
    x_.resize(p.m * p.k);
    fill_integers(x_, p.seed, -3, 3);
    const auto w = exact_test_weights(f, p.k, p.n, p.group_size, p.seed + 1);
    w_ = pack_weights(w.data(), p.k, p.n, f, p.group_size, WeightLayout::nk);
    y_.assign(p.m * p.n, 0.f);
    ref_.assign(p.m * p.n, 0.f);
  }
  void run(ThreadPool& pool) override { gemm(x_.data(), p_.m, w_, y_.data(), pool, isa_); }
  void run_reference() override { gemm_ref(x_.data(), p_.m, w_, ref_.data()); }
  CheckResult compare() const override {
    return check_close(y_, ref_, Tolerance{Metric::max_norm, tol_, 0.5});
  }
  OpCost cost() const override { return gemm_cost(w_.shape(p_.m)); }
  // bf16 weights from kBf16AmxMinRows rows on AMX-BF16 CPUs: every product a tdpbf16ps, at the
  // bf16 peak (the entry's `compute` stays fp32: the GEMV and the smaller m run on FMA).
  std::vector<OpsAt> ops_at() const override {
    if (on_amx_bf16()) return {{DType::bf16, cost().ops}};
    return {};
  }
  std::string isa() const override {
    if (w_.format != WeightFormat::bf16 || isa_ != Isa::avx512 || !gemm_bf16_uses_amx()) return {};
    return on_amx_bf16() ? "avx512bw+amx_bf16" : "avx512bw";
  }
  size_t working_set_bytes() const override {
    return static_cast<size_t>(w_.bytes()) + (x_.size() + y_.size()) * sizeof(float);
  }
  std::vector<Input> inputs() const override {
    std::vector<Input> in{{w_.data.data(), w_.data.size()}};
    if (!w_.scale.empty()) in.push_back({w_.scale.data(), w_.scale.size() * 4});
    if (!w_.scale16.empty()) in.push_back({w_.scale16.data(), w_.scale16.size() * 2});
    if (!w_.zeros.empty()) in.push_back({w_.zeros.data(), w_.zeros.size()});
    return in;
  }

 private:
  bool on_amx_bf16() const {
    return w_.format == WeightFormat::bf16 && isa_ == Isa::avx512 && gemm_bf16_uses_amx(p_.m);
  }

  Problem p_;
  double tol_;
  Isa isa_;
  std::vector<float> x_, y_, ref_;
  PackedWeights w_;
};

// The best path as `name`; the AVX2 path as `name`_avx2 (gemm(..., Isa::avx2)), supported only
// where the CPU has AVX2 + FMA + F16C, so `kernels check` exercises it on AVX-512 hosts too.
void add(KernelRegistry& r, const char* name, WeightFormat f, const char* dtypes, double tol) {
  KernelEntry e;
  e.name = name;
  e.op = Op::gemm;
  e.dtypes = dtypes;
  e.isa = std::string(gemm_isa(f));
  if (f == WeightFormat::w8a8) e.compute = DType::int8;  // vpdpbusd / maddubs products
  e.supported = [] { return true; };  // the portable path runs everywhere
  e.make = [f, tol](const Problem& p) -> std::unique_ptr<KernelCase> {
    return std::make_unique<GemmCase>(p, f, tol, Isa::avx512);
  };
  KernelEntry a = e;
  r.add(std::move(e));
  a.name = std::string(name) + "_avx2";
  a.isa = std::string(gemm_isa(f, Isa::avx2));
  a.supported = [f] { return gemm_isa(f, Isa::avx2).starts_with("avx2+"); };  // + avx_vnni (w8a8)
  a.make = [f, tol](const Problem& p) -> std::unique_ptr<KernelCase> {
    return std::make_unique<GemmCase>(p, f, tol, Isa::avx2);
  };
  r.add(std::move(a));
}

}  // namespace

// Tolerances (max |y - ref| / max |ref|): with the exact-friendly data every product is exact and
// fp32 sums of integers are exact up to 2^24, so 1e-6 only leaves room for reassociation when
// sums grow past that; fp8 products are exact but their sums round (k * 2^-24 relative at worst).
void register_gemm_kernels(KernelRegistry& r) {
  add(r, "gemm_fp32", WeightFormat::fp32, "x:fp32 w:fp32 y:fp32", 1e-6);
  add(r, "gemm_bf16", WeightFormat::bf16, "x:fp32 w:bf16 y:fp32", 1e-6);
  add(r, "gemm_w8a16", WeightFormat::int8, "x:fp32 w:int8(per-channel) y:fp32", 1e-6);
  add(r, "gemm_w4a16", WeightFormat::int4, "x:fp32 w:int4(group,zero) y:fp32", 1e-6);
  add(r, "gemm_w8a8", WeightFormat::w8a8, "x:int8(per-token) w:int8(per-channel) y:fp32", 1e-6);
  add(r, "gemm_fp8", WeightFormat::fp8, "x:fp32 w:fp8_e4m3(per-channel) y:fp32", 1e-5);
}

}  // namespace llmroof::kernels
