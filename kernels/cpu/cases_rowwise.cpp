// KernelCase wrappers of the row-wise ops: buffers, deterministic inputs, tolerances, costs.
// Tolerances (max |got - ref| / max |ref|): fp32 sums of up to ~10^4 terms differ from the double
// references by a few ulp times sqrt(n) at most; 1e-5 leaves room for that and nothing more.
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "io/errors.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/activation.hpp"
#include "kernels/cpu/cases.hpp"
#include "kernels/cpu/rmsnorm.hpp"
#include "kernels/cpu/rope.hpp"
#include "kernels/cpu/softmax.hpp"
#include "kernels/cpu_features.hpp"

namespace llmroof::kernels {

namespace {
constexpr float kEps = 1e-5f;
const Tolerance kRowTol{Metric::max_norm, 1e-5};

std::vector<float> uniform(int64_t n, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(static_cast<size_t>(n));
  fill_uniform(v, seed, lo, hi);
  return v;
}

KernelCase::Input read_buffer(const std::vector<float>& v) { return {v.data(), v.size() * sizeof(float)}; }
KernelCase::Output written_buffer(std::vector<float>& v) { return {v.data(), v.size() * sizeof(float)}; }

void require_rows(const Problem& p) {
  if (p.m < 1 || p.n < 1) throw InputError("--m and --n must be >= 1");
}

class RmsnormCase : public KernelCase {
 public:
  RmsnormCase(const Problem& p, bool fused) : p_(p), fused_(fused) {
    require_rows(p);
    x_ = uniform(p.m * p.n, p.seed);
    gamma_ = uniform(p.n, p.seed + 1, 0.5f, 1.5f);
    y_.assign(x_.size(), 0.f);
    if (fused_) res0_ = res_ = uniform(p.m * p.n, p.seed + 2);
  }
  void run(ThreadPool& pool) override {
    if (fused_) add_rmsnorm(x_.data(), res_.data(), gamma_.data(), y_.data(), p_.m, p_.n, kEps, pool);
    else rmsnorm(x_.data(), gamma_.data(), y_.data(), p_.m, p_.n, kEps, pool);
  }
  void run_reference() override {
    y_ref_.assign(x_.size(), 0.f);
    if (!fused_) return rmsnorm_ref(x_.data(), gamma_.data(), y_ref_.data(), p_.m, p_.n, kEps);
    res_ref_ = res0_;
    add_rmsnorm_ref(x_.data(), res_ref_.data(), gamma_.data(), y_ref_.data(), p_.m, p_.n, kEps);
  }
  CheckResult compare() const override {
    CheckResult c = check_close(y_, y_ref_, kRowTol);
    return fused_ ? worse_of(c, check_close(res_, res_ref_, kRowTol)) : c;
  }
  OpCost cost() const override {
    return fused_ ? add_rmsnorm_cost(p_.m, p_.n, 4) : rmsnorm_cost(p_.m, p_.n, 4);
  }
  std::vector<Input> inputs() const override {
    std::vector<Input> in{read_buffer(x_), read_buffer(gamma_)};
    if (fused_) in.push_back(read_buffer(res_));
    return in;
  }
  std::vector<Output> outputs() override {
    std::vector<Output> out{written_buffer(y_)};
    if (fused_) out.push_back(written_buffer(res_));
    return out;
  }
  size_t working_set_bytes() const override {
    return (x_.size() + y_.size() + res_.size() + gamma_.size()) * sizeof(float);
  }

 private:
  Problem p_;
  bool fused_;
  std::vector<float> x_, gamma_, y_, res0_, res_, y_ref_, res_ref_;
};

// silu(gate) * up reading the fused gate|up GEMM output [m, 2n].
class SiluMulCase : public KernelCase {
 public:
  explicit SiluMulCase(const Problem& p) : p_(p) {
    require_rows(p);
    gu_ = uniform(p.m * 2 * p.n, p.seed, -6.f, 6.f);
    out_.assign(static_cast<size_t>(p.m * p.n), 0.f);
  }
  void run(ThreadPool& pool) override {
    silu_mul(gu_.data(), gu_.data() + p_.n, out_.data(), p_.m, p_.n, 2 * p_.n, pool);
  }
  void run_reference() override {
    ref_.assign(out_.size(), 0.f);
    silu_mul_ref(gu_.data(), gu_.data() + p_.n, ref_.data(), p_.m, p_.n, 2 * p_.n);
  }
  CheckResult compare() const override { return check_close(out_, ref_, kRowTol); }
  OpCost cost() const override { return activation_cost(p_.m, p_.n, true, 4); }
  std::vector<Input> inputs() const override { return {read_buffer(gu_)}; }
  std::vector<Output> outputs() override { return {written_buffer(out_)}; }
  size_t working_set_bytes() const override { return (gu_.size() + out_.size()) * sizeof(float); }

 private:
  Problem p_;
  std::vector<float> gu_, out_, ref_;
};

class SoftmaxCase : public KernelCase {
 public:
  explicit SoftmaxCase(const Problem& p) : p_(p) {
    require_rows(p);
    x_ = uniform(p.m * p.n, p.seed, -8.f, 8.f);
    y_.assign(x_.size(), 0.f);
  }
  void run(ThreadPool& pool) override { softmax(x_.data(), y_.data(), p_.m, p_.n, pool); }
  void run_reference() override {
    ref_.assign(y_.size(), 0.f);
    softmax_ref(x_.data(), ref_.data(), p_.m, p_.n);
  }
  CheckResult compare() const override { return check_close(y_, ref_, kRowTol); }
  OpCost cost() const override { return softmax_cost(p_.m, p_.n, 4); }
  std::vector<Input> inputs() const override { return {read_buffer(x_)}; }
  std::vector<Output> outputs() override { return {written_buffer(y_)}; }
  size_t working_set_bytes() const override { return (x_.size() + y_.size()) * sizeof(float); }

 private:
  Problem p_;
  std::vector<float> x_, y_, ref_;
};

// RoPE on q [batch, q_len, q_heads, d] and k [batch, q_len, kv_heads, d] at positions
// kv_len - q_len ... kv_len - 1 (the new tokens of a context of kv_len).
class RopeCase : public KernelCase {
 public:
  explicit RopeCase(const Problem& p) : p_(p) {
    if (p.head_dim < 2 || p.head_dim % 2) throw InputError("--head-dim must be even for rope");
    if (p.kv_len < p.q_len || p.q_len < 1 || p.batch < 1 || p.q_heads < 1 || p.kv_heads < 1)
      throw InputError("rope needs --kv-len >= --q-len >= 1 and positive --batch/--q-heads/--kv-heads");
    const int64_t tokens = p.batch * p.q_len;
    q0_ = q_ = uniform(tokens * p.q_heads * p.head_dim, p.seed);
    k0_ = k_ = uniform(tokens * p.kv_heads * p.head_dim, p.seed + 1);
    table_ = make_rope_table(p.head_dim, p.kv_len);
  }
  void run(ThreadPool& pool) override {
    rope(q_.data(), k_.data(), table_, p_.batch, p_.q_len, p_.q_heads, p_.kv_heads,
         p_.kv_len - p_.q_len, pool);
  }
  void run_reference() override {
    q_ref_ = q0_;
    k_ref_ = k0_;
    rope_ref(q_ref_.data(), k_ref_.data(), p_.head_dim, table_.theta, p_.batch, p_.q_len, p_.q_heads,
             p_.kv_heads, p_.kv_len - p_.q_len);
  }
  CheckResult compare() const override {
    return worse_of(check_close(q_, q_ref_, kRowTol), check_close(k_, k_ref_, kRowTol));
  }
  OpCost cost() const override {
    return rope_cost(p_.batch * p_.q_len, p_.q_heads, p_.kv_heads, p_.head_dim, 4);
  }
  // q and k in place, and the cos and sin rows of the q_len positions, once (the kernel reads them
  // once per batch row, and rope_cost counts them per token: docs/kernels.md).
  std::vector<Input> inputs() const override {
    const size_t row = static_cast<size_t>(p_.head_dim / 2), first = (p_.kv_len - p_.q_len) * row;
    const size_t bytes = static_cast<size_t>(p_.q_len) * row * sizeof(float);
    return {read_buffer(q_), read_buffer(k_), {table_.cos.data() + first, bytes}, {table_.sin.data() + first, bytes}};
  }
  std::vector<Output> outputs() override { return {written_buffer(q_), written_buffer(k_)}; }
  size_t working_set_bytes() const override { return (q_.size() + k_.size()) * sizeof(float); }

 private:
  Problem p_;
  std::vector<float> q0_, k0_, q_, k_, q_ref_, k_ref_;
  RopeTable table_;
};

KernelEntry entry(const char* name, Op op, const char* dtypes,
                  std::function<std::unique_ptr<KernelCase>(const Problem&)> make) {
  KernelEntry e;
  e.name = name;
  e.op = op;
  e.dtypes = dtypes;
  e.isa = rowwise_isa();
  e.supported = [] { return true; };  // the scalar path runs anywhere
  e.make = std::move(make);
  return e;
}
}  // namespace

std::string rowwise_isa() { return std::string(to_string(best_isa())); }

void register_rowwise_kernels(KernelRegistry& r) {
  r.add(entry("rmsnorm", Op::rmsnorm, "x:fp32 gamma:fp32 y:fp32",
              [](const Problem& p) { return std::make_unique<RmsnormCase>(p, false); }));
  r.add(entry("add_rmsnorm", Op::add_rmsnorm, "x:fp32 residual:fp32 (in/out) gamma:fp32 y:fp32",
              [](const Problem& p) { return std::make_unique<RmsnormCase>(p, true); }));
  r.add(entry("rope", Op::rope, "q,k:fp32 in place, table cos/sin:fp32",
              [](const Problem& p) { return std::make_unique<RopeCase>(p); }));
  r.add(entry("silu_mul", Op::silu_mul, "gate|up:fp32 [m,2n] out:fp32 [m,n]",
              [](const Problem& p) { return std::make_unique<SiluMulCase>(p); }));
  r.add(entry("softmax", Op::softmax, "x:fp32 y:fp32",
              [](const Problem& p) { return std::make_unique<SoftmaxCase>(p); }));
}

}  // namespace llmroof::kernels
