// KernelCase wrappers of the attention kernels. Inputs are uniform in [-1, 1] (scores stay O(1), so
// softmax weights are spread and every value row matters). Tolerances: attention_tolerance.hpp
// (with int8 / bf16 caches the reference rounds q like the kernels, so that rounding is not counted).
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "io/errors.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/attention_tolerance.hpp"
#include "kernels/cpu/cases.hpp"
#include "kernels/cpu_features.hpp"

namespace llmroof::kernels {

AttentionDims attention_dims(const Problem& p) {
  AttentionDims d;
  d.batch = p.batch;
  d.q_heads = p.q_heads;
  d.kv_heads = p.kv_heads;
  d.head_dim = p.head_dim;
  d.q_len = p.q_len;
  d.kv_len = p.kv_len;
  d.causal = p.causal;
  try {
    validate(d);
  } catch (const std::invalid_argument& e) {
    throw InputError(std::string(e.what()) + " (check --q-heads/--kv-heads/--q-len/--kv-len)");
  }
  return d;
}

namespace {
// The attention cases' KernelCase::fallback().
std::string attention_fallback(const AttentionDims& d, Isa isa) {
  const std::string why = attention_reference_reason(d, isa);
  return why.empty() ? why : "scalar reference (" + why + ")";
}

// The features the attention kernels' SIMD paths use when asked for `isa` on this CPU (the entries'
// `isa` column; a decode shape's own dot-product extensions come from decode_isa).
std::string path_isa(Isa isa) {
  const Isa used = usable_isa(isa);
  return used == Isa::avx512 ? "avx512f" : used == Isa::avx2 ? "avx2+fma" : "scalar";
}

// The features a decode shape's path uses (DecodeCase::isa): the dot-product instructions the
// path predicates (attention.hpp) choose for this cache format and shape on this CPU.
std::string decode_isa(const KvCacheView& kv, const AttentionDims& d, Isa isa) {
  if (decode_bf16_amx(kv, d, isa)) return "avx512f+amx_bf16 (tdpbf16ps q·k and P·V)";
  if (decode_int8_amx(kv, d, isa)) return "avx512f+amx_int8 (tdpbssd q·k and tdpbusd u8 P·V)";
  if (decode_bf16_dot_products(kv, d, isa)) return "avx512f+avx512_bf16 (vdpbf16ps q·k and P·V)";
  if (decode_quantizes_p(kv, d, isa)) return "avx512f+avx512_vnni (vpdpbusd q·k and u8 P·V)";
  if (decode_integer_qk(kv, d, isa)) return "avx512f+avx512_vnni (vpdpbusd q·k)";
  return path_isa(isa);
}

// An AVX-512 decode entry's `isa` for `kernels list`: the dot-product extension it uses on this
// CPU for some shapes (decode_isa says which), after avx512f.
std::string decode_entry_isa(KvFormat f) {
  const CpuFeatures& c = cpu_features();
  if (f == KvFormat::int8 && c.avx512_vnni && c.amx_int8) return "avx512f+vnni+amx_int8";
  if (f == KvFormat::int8 && c.avx512_vnni) return "avx512f+vnni";
  if (f == KvFormat::bf16 && c.amx_bf16 && c.avx512_bf16) return "avx512f+bf16+amx_bf16";
  if (f == KvFormat::bf16 && c.avx512_bf16) return "avx512f+bf16";
  return "avx512f";
}

AttentionShape shape_of(const AttentionDims& d, DType kv) {
  AttentionShape s;
  s.batch = d.batch;
  s.q_heads = d.q_heads;
  s.kv_heads = d.kv_heads;
  s.head_dim = d.head_dim;
  s.q_len = d.q_len;
  s.kv_len = d.kv_len;
  s.causal = d.causal;
  s.act_bytes = 4;
  s.kv = kv;
  s.onchip_bytes = 1 << 20;  // L2 per core holds the tiles
  return s;
}

std::vector<float> uniform(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  fill_uniform(v, seed);
  return v;
}

class PrefillCase : public KernelCase {
 public:
  PrefillCase(const Problem& p, Isa isa) : d_(attention_dims(p)), isa_(isa) {
    const int64_t kv = d_.batch * d_.kv_len * d_.kv_heads * d_.head_dim;
    q_ = uniform(d_.batch * d_.q_len * d_.q_heads * d_.head_dim, p.seed);
    k_ = uniform(kv, p.seed + 1);
    v_ = uniform(kv, p.seed + 2);
    o_.assign(q_.size(), 0.f);
  }
  void run(ThreadPool& pool) override {
    attention_prefill(q_.data(), k_.data(), v_.data(), o_.data(), d_, pool, isa_);
  }
  void run_reference() override {
    ref_.assign(o_.size(), 0.f);
    KvCacheView kv;
    kv.k = k_.data();
    kv.v = v_.data();
    attention_ref(q_.data(), kv, ref_.data(), d_);
  }
  CheckResult compare() const override { return check_close(o_, ref_, kAttentionTolerance); }
  std::string fallback() const override { return attention_fallback(d_, isa_); }
  OpCost cost() const override { return fused_attention_cost(shape_of(d_, DType::fp32)); }
  size_t working_set_bytes() const override {
    return (q_.size() + k_.size() + v_.size() + o_.size()) * sizeof(float);
  }

 private:
  AttentionDims d_;
  Isa isa_;
  std::vector<float> q_, k_, v_, o_, ref_;
};

// Decode over a KV cache in `format`; int8 caches carry fp16 scales per (token, kv head), the format
// analyzer/cost.hpp counts.
class DecodeCase : public KernelCase {
 public:
  DecodeCase(const Problem& p, KvFormat f, Isa isa) : d_(attention_dims(p)), isa_(isa) {
    if (d_.q_len != 1) throw InputError("attention_decode takes --q-len 1 (one new token per sequence)");
    const int64_t rows = d_.batch * d_.kv_len * d_.kv_heads, n = rows * d_.head_dim;
    q_ = uniform(d_.batch * d_.q_heads * d_.head_dim, p.seed);
    view_.format = f;
    for (int which = 0; which < 2; ++which) {
      const std::vector<float> x = uniform(n, p.seed + 1 + which);
      if (f == KvFormat::fp32) {
        f32_[which] = x;
      } else if (f == KvFormat::bf16) {
        b16_[which].resize(x.size());
        float_to_bf16_row(x.data(), b16_[which].data(), static_cast<int64_t>(x.size()));
      } else {
        i8_[which].resize(x.size());
        std::vector<float> s(static_cast<size_t>(rows));
        quantize_int8_rows(x.data(), i8_[which].data(), s.data(), rows, d_.head_dim);
        scale_[which].resize(s.size());
        for (size_t i = 0; i < s.size(); ++i) scale_[which][i] = float_to_half(s[i]);
      }
    }
    view_.k = kv_buffer(0);
    view_.v = kv_buffer(1);
    if (f == KvFormat::int8) {
      view_.k_scale = scale_[0].data();
      view_.v_scale = scale_[1].data();
      view_.scales_fp16 = true;
    }
    o_.assign(q_.size(), 0.f);
  }
  void run(ThreadPool& pool) override { attention_decode(q_.data(), view_, o_.data(), d_, pool, isa_); }
  void run_reference() override {
    ref_.assign(o_.size(), 0.f);
    // the u8 probabilities of the int8 GQA >= 8 path are modelled where that path runs
    attention_ref(q_.data(), view_, ref_.data(), d_, decode_quantizes_p(view_, d_, isa_));
  }
  CheckResult compare() const override { return check_close(o_, ref_, decode_tolerance(view_, d_, isa_)); }
  std::string fallback() const override { return attention_fallback(d_, isa_); }
  std::string isa() const override { return decode_isa(view_, d_, isa_); }
  OpCost cost() const override { return fused_attention_cost(shape_of(d_, kv_dtype())); }
  // fused_attention_cost counts 4·d ops per (q head, key) for the two dot products, 2·d each;
  // those the int8 path runs on vpdpbusd or AMX tdpbssd / tdpbusd go to the int8 peak, those of
  // the bf16 path on vdpbf16ps or AMX tdpbf16ps (both, decode_bf16_dot_products) to the bf16 peak.
  std::vector<OpsAt> ops_at() const override {
    const double per_product = 2.0 * static_cast<double>(d_.batch * d_.q_heads * d_.head_dim) *
                               attention_pairs(shape_of(d_, kv_dtype()));
    if (decode_bf16_dot_products(view_, d_, isa_)) return {{DType::bf16, 2 * per_product}};
    const int products =
        (decode_integer_qk(view_, d_, isa_) ? 1 : 0) + (decode_quantizes_p(view_, d_, isa_) ? 1 : 0);
    if (products == 0) return {};
    return {{DType::int8, products * per_product}};
  }
  size_t working_set_bytes() const override {
    size_t b = (q_.size() + o_.size()) * 4;
    for (int w = 0; w < 2; ++w)
      b += f32_[w].size() * 4 + b16_[w].size() * 2 + i8_[w].size() + scale_[w].size() * 2;
    return b;
  }
  std::vector<Input> inputs() const override {
    std::vector<Input> in;
    for (int w = 0; w < 2; ++w) {
      in.push_back({kv_buffer(w), f32_[w].size() * 4 + b16_[w].size() * 2 + i8_[w].size()});
      if (!scale_[w].empty()) in.push_back({scale_[w].data(), scale_[w].size() * 2});
    }
    return in;
  }

 private:
  // K (w = 0) or V (1) in the cache's format, and that format as the analyzer's dtype.
  const void* kv_buffer(int w) const {
    return view_.format == KvFormat::fp32   ? static_cast<const void*>(f32_[w].data())
           : view_.format == KvFormat::bf16 ? static_cast<const void*>(b16_[w].data())
                                            : static_cast<const void*>(i8_[w].data());
  }
  DType kv_dtype() const {
    return view_.format == KvFormat::fp32 ? DType::fp32 : view_.format == KvFormat::bf16 ? DType::bf16 : DType::int8;
  }

  AttentionDims d_;
  Isa isa_;
  KvCacheView view_;
  std::vector<float> q_, o_, ref_, f32_[2];
  std::vector<uint16_t> b16_[2], scale_[2];
  std::vector<int8_t> i8_[2];
};

KernelEntry entry(const char* name, Op op, const char* dtypes,
                  std::function<std::unique_ptr<KernelCase>(const Problem&)> make) {
  KernelEntry e;
  e.name = name;
  e.op = op;
  e.dtypes = dtypes;
  e.isa = path_isa(Isa::avx512);
  e.supported = [] { return true; };
  e.make = std::move(make);
  return e;
}

// The AVX2 variant of an attention kernel, `name`_avx2: forced with Isa::avx2, so AVX-512 hosts
// check it too; unsupported where the CPU lacks AVX2 + FMA.
KernelEntry entry_avx2(const char* name, Op op, const char* dtypes,
                       std::function<std::unique_ptr<KernelCase>(const Problem&)> make) {
  KernelEntry e = entry(name, op, dtypes, std::move(make));
  e.name += "_avx2";
  e.isa = "avx2+fma";  // what it needs, also where the CPU lacks it (supported: no)
  e.supported = [] { return usable_isa(Isa::avx2) == Isa::avx2; };
  return e;
}
}  // namespace

void register_attention_kernels(KernelRegistry& r) {
  struct Variant {
    Isa isa;
    KernelEntry (*make_entry)(const char*, Op, const char*,
                              std::function<std::unique_ptr<KernelCase>(const Problem&)>);
  };
  for (const Variant v : {Variant{Isa::avx512, &entry}, Variant{Isa::avx2, &entry_avx2}}) {
    const Isa isa = v.isa;
    r.add(v.make_entry("attention_prefill", Op::attention_prefill, "q,k,v,o:fp32",
                       [isa](const Problem& p) { return std::make_unique<PrefillCase>(p, isa); }));
    r.add(v.make_entry("attention_decode_fp32", Op::attention_decode, "q,o:fp32 kv:fp32",
                       [isa](const Problem& p) {
                         return std::make_unique<DecodeCase>(p, KvFormat::fp32, isa);
                       }));
    for (const KvFormat f : {KvFormat::bf16, KvFormat::int8}) {
      const bool i8 = f == KvFormat::int8;
      KernelEntry e = v.make_entry(i8 ? "attention_decode_int8" : "attention_decode_bf16", Op::attention_decode,
                                   i8 ? "q,o:fp32 kv:int8 + fp16 scale per (token, kv head)" : "q,o:fp32 kv:bf16",
                                   [isa, f](const Problem& p) { return std::make_unique<DecodeCase>(p, f, isa); });
      if (isa == Isa::avx512 && best_isa() == Isa::avx512) e.isa = decode_entry_isa(f);
      r.add(std::move(e));
    }
  }
}

}  // namespace llmroof::kernels
