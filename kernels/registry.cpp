#include "kernels/registry.hpp"

#include <stdexcept>

namespace llmroof::kernels {

std::string_view to_string(Op op) {
  switch (op) {
    case Op::rmsnorm: return "rmsnorm";
    case Op::add_rmsnorm: return "add_rmsnorm";
    case Op::rope: return "rope";
    case Op::silu_mul: return "silu_mul";
    case Op::softmax: return "softmax";
    case Op::attention_prefill: return "attention_prefill";
    case Op::attention_decode: return "attention_decode";
    case Op::gemm: return "gemm";
  }
  return "?";
}

std::string_view to_string(Disposition d) {
  switch (d) {
    case Disposition::passed: return "PASSED";
    case Disposition::failed: return "FAILED";
    case Disposition::skipped: return "SKIPPED";
    case Disposition::unsupported: return "UNSUPPORTED";
    case Disposition::mistrusted: return "MISTRUSTED";
  }
  return "?";
}

namespace {

struct Field {
  const char* option;  // CLI option without "--"
  const char* param;   // short name in case names
  std::string value;
};

// The fields each op reads (docs/kernels.md lists the same table).
std::vector<Field> fields(const Problem& p, Op op, bool all) {
  const auto s = [](int64_t v) { return std::to_string(v); };
  std::vector<Field> f;
  const bool gemm = all || op == Op::gemm;
  const bool rows = all || op == Op::rmsnorm || op == Op::add_rmsnorm || op == Op::silu_mul ||
                    op == Op::softmax;
  const bool attn = all || op == Op::attention_prefill || op == Op::attention_decode ||
                    op == Op::rope;
  if (gemm || rows) f.push_back({"m", "m", s(p.m)});
  if (gemm || rows) f.push_back({"n", "n", s(p.n)});
  if (gemm) f.push_back({"k", "k", s(p.k)});
  if (gemm) f.push_back({"group-size", "group", s(p.group_size)});
  if (attn) {
    f.push_back({"batch", "batch", s(p.batch)});
    f.push_back({"q-heads", "q_heads", s(p.q_heads)});
    f.push_back({"kv-heads", "kv_heads", s(p.kv_heads)});
    f.push_back({"head-dim", "head_dim", s(p.head_dim)});
    f.push_back({"q-len", "q_len", s(p.q_len)});
    f.push_back({"kv-len", "kv_len", s(p.kv_len)});
  }
  if (all || op == Op::attention_prefill) f.push_back({"causal", "causal", p.causal ? "1" : "0"});
  if (all || p.seed != 1) f.push_back({"seed", "seed", std::to_string(p.seed)});
  return f;
}

// Appends piece by piece: GCC 12 warns falsely (-Wrestrict) on chained operator+ here.
std::string join(const std::vector<Field>& fs, bool as_args) {
  std::string out;
  for (const Field& f : fs) {
    if (!out.empty()) out.append(as_args ? " " : ",");
    if (as_args) out.append("--").append(f.option).append(" ");
    else out.append(f.param).append("=");
    out.append(f.value);
  }
  return out;
}

}  // namespace

std::string Problem::to_args() const { return join(fields(*this, Op::gemm, true), true); }
std::string Problem::to_args(Op op) const { return join(fields(*this, op, false), true); }
std::string Problem::to_params(Op op) const { return join(fields(*this, op, false), false); }

namespace {
Problem rows(int64_t m, int64_t n) {
  Problem p;
  p.m = m;
  p.n = n;
  return p;
}
Problem gemm(int64_t m, int64_t n, int64_t k) {
  Problem p = rows(m, n);
  p.k = k;
  return p;
}
Problem attn(int64_t batch, int64_t qh, int64_t kvh, int64_t hd, int64_t q_len, int64_t kv_len,
             bool causal = true) {
  Problem p;
  p.batch = batch;
  p.q_heads = qh;
  p.kv_heads = kvh;
  p.head_dim = hd;
  p.q_len = q_len;
  p.kv_len = kv_len;
  p.causal = causal;
  return p;
}
}  // namespace

std::vector<Problem> default_check_problems(Op op) {
  switch (op) {
    case Op::rmsnorm: case Op::add_rmsnorm: case Op::silu_mul: case Op::softmax:
      return {rows(1, 4096), rows(7, 4099), rows(33, 11008), rows(3, 5), rows(2, 64)};
    case Op::rope:  // q_len tokens at positions kv_len - q_len ..
      return {attn(1, 32, 32, 128, 7, 7), attn(2, 32, 8, 128, 5, 300), attn(3, 8, 1, 64, 17, 17),
              attn(1, 4, 4, 10, 3, 4096)};
    case Op::attention_prefill:
      return {attn(1, 4, 4, 64, 1, 1), attn(2, 8, 2, 128, 67, 67), attn(1, 8, 1, 64, 130, 200),
              attn(1, 4, 4, 128, 65, 65, false), attn(2, 4, 1, 64, 3, 129), attn(1, 2, 2, 128, 300, 300)};
    case Op::attention_decode:
      return {attn(1, 32, 32, 128, 1, 1), attn(2, 32, 8, 128, 1, 333), attn(3, 8, 1, 64, 1, 1000),
              attn(1, 4, 4, 64, 1, 17), attn(1, 8, 2, 128, 1, 4096), attn(2, 32, 4, 128, 1, 77)};
    case Op::gemm:
      return {gemm(1, 4096, 4096), gemm(3, 96, 256), gemm(33, 200, 384), gemm(1, 11008, 128)};
  }
  return {};
}

void KernelRegistry::add(KernelEntry e) {
  if (find(e.name)) throw std::logic_error("kernel registered twice: " + e.name);
  entries_.push_back(std::move(e));
}

const KernelEntry* KernelRegistry::find(std::string_view name) const {
  for (const KernelEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace llmroof::kernels
