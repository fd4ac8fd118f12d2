// The MoE block (calibrate/moe_block.hpp) against per-token dense math on the selected experts,
// the routing kernels against their references, the q/k/v bias, and a tiny sparse model run end to
// end through DecoderStack with the analyzer's row names.
#include "calibrate/moe_block.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "analyzer/analyzer.hpp"
#include "calibrate/model_runner.hpp"
#include "calibrate/validate.hpp"
#include "io/catalog.hpp"
#include "kernels/check.hpp"
#include "kernels/cpu/topk.hpp"

using namespace llmroof;
using namespace llmroof::calibrate;
using kernels::WeightFormat;

namespace {

// Relative error max |got - ref| / max |ref|, refusing NaN and all-zero references.
double max_norm_err(const std::vector<float>& got, const std::vector<double>& ref) {
  REQUIRE(got.size() == ref.size());
  double err = 0, scale = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    REQUIRE(std::isfinite(got[i]));
    err = std::max(err, std::fabs(got[i] - ref[i]));
    scale = std::max(scale, std::fabs(ref[i]));
  }
  REQUIRE(scale > 0);
  return err / scale;
}

// y[n] = x[k] . W (dequantized), double sums.
std::vector<double> matvec(const double* x, const kernels::PackedWeights& w) {
  std::vector<double> y(static_cast<size_t>(w.n), 0.0);
  for (int64_t j = 0; j < w.n; ++j)
    for (int64_t i = 0; i < w.k; ++i) y[j] += x[i] * kernels::dequantized_weight(w, i, j);
  return y;
}

std::vector<double> expert_ref(const double* x, const ExpertWeights& e) {
  const auto g = matvec(x, e.gate), u = matvec(x, e.up);
  std::vector<double> a(g.size());
  for (size_t i = 0; i < g.size(); ++i) a[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
  return matvec(a.data(), e.down);
}

MoeShape small_shape(bool renormalize) {
  MoeShape s;
  s.hidden = 64;
  s.experts = 8;
  s.top_k = 2;
  s.expert_inter = 64;
  s.shared_inter = 96;
  s.shared_gate = true;
  s.renormalize = renormalize;
  return s;
}

void check_block(const MoeShape& s, WeightFormat f, double tol) {
  const int64_t rows = 7, h = s.hidden, k = s.top_k;
  const MoeWeights w = make_moe_weights(s, f, /*router_bf16=*/false, 32, 3, s.experts);
  std::vector<float> x(static_cast<size_t>(rows * h)), y(x.size());
  kernels::fill_uniform(x, 5);
  kernels::ThreadPool pool(2);
  MoeBuffers buf(s, rows);
  std::vector<std::string> laps;
  moe_forward(s, w, x.data(), rows, y.data(), buf, pool, [&](const char* n) { laps.push_back(n); });
  CHECK(laps == std::vector<std::string>{"router", "experts", "shared_expert"});

  // Reference routing (double logits, full sort), then per token the dense math on its experts.
  std::vector<float> logits(static_cast<size_t>(rows * s.experts)),
      wts(static_cast<size_t>(rows * k));
  std::vector<int32_t> ids(wts.size());
  kernels::router_logits_ref(x.data(), rows, w.router, logits.data());
  kernels::softmax_top_k_ref(logits.data(), rows, s.experts, k, s.renormalize, ids.data(),
                             wts.data());
  CHECK(ids == buf.ids);
  std::vector<double> ref(y.size(), 0.0);
  for (int64_t t = 0; t < rows; ++t) {
    std::vector<double> xt(x.begin() + t * h, x.begin() + (t + 1) * h);
    double* rt = ref.data() + t * h;
    for (int64_t j = 0; j < k; ++j) {
      const auto out = expert_ref(xt.data(), w.experts[static_cast<size_t>(ids[t * k + j])]);
      for (int64_t i = 0; i < h; ++i) rt[i] += wts[t * k + j] * out[i];
    }
    double gl = 0;
    for (int64_t i = 0; i < h; ++i) gl += xt[i] * w.shared_gate.at(0, i);
    const auto sh = expert_ref(xt.data(), w.shared);
    for (int64_t i = 0; i < h; ++i) rt[i] += sh[i] / (1 + std::exp(-gl));
  }
  // fp32 accumulation over k = 64..96 terms against double: ~1e-6 relative; the bound leaves room.
  CHECK(max_norm_err(y, ref) < tol);
}

ModelSpec tiny_moe() {
  ModelSpec m;
  m.name = "tiny-moe";
  m.family = "qwen2_moe";
  m.hidden_size = 64;
  m.num_layers = 2;
  m.num_attention_heads = 4;
  m.num_key_value_heads = 2;
  m.head_dim = 16;
  m.intermediate_size = 128;
  m.vocab_size = 256;
  m.max_position_embeddings = 128;
  m.qkv_bias = true;
  MoeSpec e;
  e.num_experts = 4;
  e.experts_per_token = 2;
  e.expert_intermediate_size = 32;
  e.num_shared_experts = 1;
  e.shared_expert_intermediate_size = 64;
  e.shared_expert_gate = true;
  m.moe = e;
  return m;
}

}  // namespace

TEST_CASE("softmax_top_k and router_logits match their scalar references") {
  const int64_t rows = 9, n = 60, hidden = 200;  // hidden not a multiple of 16: the masked tail
  std::vector<float> logits(static_cast<size_t>(rows * n));
  kernels::fill_uniform(logits, 1, -3.f, 3.f);
  // 60 logits: three 16-lane steps of the vector exp-sum and a masked tail of 12; 8 (Mixtral):
  // the tail alone.
  for (auto [renorm, cols] : {std::pair{false, n}, {true, n}, {false, int64_t{8}}}) {
    std::vector<int32_t> ids(rows * 4), ids_ref(rows * 4);
    std::vector<float> w(rows * 4), w_ref(rows * 4);
    kernels::softmax_top_k(logits.data(), rows, cols, 4, renorm, ids.data(), w.data());
    kernels::softmax_top_k_ref(logits.data(), rows, cols, 4, renorm, ids_ref.data(),
                               w_ref.data());
    CHECK(ids == ids_ref);
    for (size_t i = 0; i < w.size(); ++i) CHECK(w[i] == doctest::Approx(w_ref[i]).epsilon(1e-5));
    if (renorm) CHECK(w[0] + w[1] + w[2] + w[3] == doctest::Approx(1.0).epsilon(1e-6));
  }
  std::vector<float> x(static_cast<size_t>(rows * hidden)), wr(static_cast<size_t>(n * hidden));
  kernels::fill_uniform(x, 2);
  kernels::fill_uniform(wr, 3);
  kernels::ThreadPool pool(2);
  // 60 experts: 4 x 4 tiles and one-token edges; 10: also the experts left over from the tiles.
  for (auto [bf16, n] :
       {std::pair{false, n}, {true, n}, {false, int64_t{10}}, {true, int64_t{10}}}) {
    const auto r = kernels::pack_router(wr.data(), n, hidden, bf16);
    CHECK(r.bytes() == n * hidden * (bf16 ? 2 : 4));
    std::vector<float> got(static_cast<size_t>(rows * n)), ref(got.size());
    kernels::router_logits(x.data(), rows, r, got.data(), pool);
    kernels::router_logits_ref(x.data(), rows, r, ref.data());
    CHECK(max_norm_err(got, std::vector<double>(ref.begin(), ref.end())) < 1e-5);
  }
}

TEST_CASE("the MoE block equals per-token dense math on the selected experts") {
  check_block(small_shape(false), WeightFormat::fp32, 1e-5);
  check_block(small_shape(true), WeightFormat::fp32, 1e-5);
  // Quantized experts: the reference multiplies by the same dequantized weights.
  check_block(small_shape(false), WeightFormat::int4, 1e-5);
  check_block(small_shape(true), WeightFormat::int8, 1e-5);
}

TEST_CASE("routing is deterministic and reads top_k experts per decode token") {
  MoeShape s = small_shape(false);
  s.hidden = 256;
  s.experts = 60;
  s.top_k = 4;
  s.expert_inter = 16;
  s.shared_inter = 0;
  s.shared_gate = false;
  const MoeWeights w1 = make_moe_weights(s, WeightFormat::fp32, false, 32, 9);
  const MoeWeights w2 = make_moe_weights(s, WeightFormat::fp32, false, 32, 9);
  kernels::ThreadPool pool(2);
  const int64_t T = 16;
  std::vector<float> x(static_cast<size_t>(T * s.hidden)), y1(x.size()), y2(x.size());
  kernels::fill_uniform(x, 4);
  MoeBuffers b1(s, T), b2(s, T);
  moe_forward(s, w1, x.data(), T, y1.data(), b1, pool, {});
  moe_forward(s, w2, x.data(), T, y2.data(), b2, pool, {});
  CHECK(b1.ids == b2.ids);
  CHECK(y1 == y2);
  moe_forward(s, w1, x.data(), 1, y1.data(), b1, pool, {});  // one decode token
  CHECK(b1.distinct_experts == 4);
  // Uniform routing: 16 tokens over 60 experts, 4 each, E (1 - (1 - k/E)^T) = 40.1 expected. The
  // mean over 50 seeded calls (sd of one call ~2.2, of the mean ~0.3) within 1.5 of it; the same
  // seed repeats the same routing.
  s.uniform_routing = true;
  const double expect = expected_distinct_experts(60, 4, 16);
  CHECK(expect == doctest::Approx(40.1).epsilon(0.01));
  MoeBuffers u1(s, T), u2(s, T);
  double sum = 0;
  for (int call = 0; call < 50; ++call) {
    moe_forward(s, w1, x.data(), T, y1.data(), u1, pool, {});
    moe_forward(s, w1, x.data(), T, y2.data(), u2, pool, {});
    CHECK(u1.ids == u2.ids);
    sum += static_cast<double>(u1.distinct_experts);
  }
  CHECK(std::fabs(sum / 50 - expect) < 1.5);
}

TEST_CASE("uniform routing: the table drawn before the call is the one top-k reads, once") {
  MoeShape s = small_shape(false);
  s.hidden = 64;
  s.experts = 60;
  s.top_k = 4;
  s.expert_inter = 16;
  s.shared_inter = 0;
  s.shared_gate = false;
  s.uniform_routing = true;
  const MoeWeights w = make_moe_weights(s, WeightFormat::fp32, false, 32, 9);
  kernels::ThreadPool pool(1);
  const int64_t T = 8;
  std::vector<float> x(static_cast<size_t>(T * s.hidden)), y(x.size());
  kernels::fill_uniform(x, 4);
  MoeBuffers b(s, T);
  b.routing_seed = 77;
  draw_uniform_routing(s, T, b);  // what the runner does before starting the block's timer
  CHECK(b.routing_seed == 78);
  CHECK(b.uniform_rows == T);
  const std::vector<float> table(b.uniform_logits.begin(), b.uniform_logits.begin() + T * 60);
  for (float v : table) CHECK((v >= 0.f && v < 4.f));
  moe_forward(s, w, x.data(), T, y.data(), b, pool, {});
  CHECK(b.routing_seed == 78);  // the call drew nothing itself
  CHECK(b.uniform_rows == 0);   // and the next call draws afresh
  std::vector<int32_t> ids(static_cast<size_t>(T * 4));
  std::vector<float> wts(ids.size());
  kernels::softmax_top_k_ref(table.data(), T, 60, 4, s.renormalize, ids.data(), wts.data());
  CHECK(std::equal(ids.begin(), ids.end(), b.ids.begin()));
  moe_forward(s, w, x.data(), T, y.data(), b, pool, {});  // untimed caller: draws its own
  CHECK(b.routing_seed == 79);
}

TEST_CASE("q/k/v bias: linear() is x . W + b") {
  const int64_t rows = 3, k = 64, n = 40;
  std::vector<float> x(rows * k), w(k * n), b(n), got(rows * n), ref(rows * n);
  kernels::fill_integers(x, 1);
  kernels::fill_integers(w, 2);
  kernels::fill_integers(b, 3);
  const auto pw = kernels::pack_weights(w.data(), k, n, WeightFormat::fp32);
  kernels::ThreadPool pool(2);
  linear(x.data(), rows, pw, b.data(), got.data(), pool);
  kernels::gemm_ref(x.data(), rows, pw, ref.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j)
      CHECK(got[r * n + j] == ref[r * n + j] + b[j]);  // integers: exact
  // The analyzer's bias cost is what linear() does: the n bias floats read once, rows x n adds.
  GemmShape g = pw.shape(rows);
  const OpCost plain = gemm_cost(g);
  g.bias = true;
  const OpCost with = gemm_cost(g);
  CHECK(with.bytes.weights - plain.bytes.weights == 4.0 * n);
  CHECK(with.ops - plain.ops == static_cast<double>(rows * n));
}

TEST_CASE("block_bytes of a sparse block counts every expert, router, shared expert and bias") {
  const ModelSpec m = tiny_moe();
  StackConfig cfg;
  cfg.max_context = 10;
  // Attention: q 64x64, k and v 64x32, o 64x64 fp32 = 49152; bias (64 + 32 + 32) x 4 = 512;
  // router 4 x 64 x 4 = 1024; experts 4 x (2 x 64x32 + 32x64) x 4 = 98304; shared expert
  // 3 x 64x64 x 4 = 49152 and its gate 64 x 4 = 256; KV 2 x 10 x 32 x 4 = 2560.
  CHECK(DecoderStack::block_bytes(m, cfg) == 49152 + 512 + 1024 + 98304 + 49152 + 256 + 2560);
}

TEST_CASE("Mixtral's fp32 block holds all 8 experts: 5.8 GB, so one block by default") {
  const ModelSpec m = Catalog().model("mixtral-8x7b");
  StackConfig cfg;  // fp32, batch 1, KV capacity 1
  // q, o 4096x4096 and k, v 4096x1024 fp32 = 167772160; router 8 x 4096 x 4 = 131072;
  // experts 8 x 3 x 14336 x 4096 x 4 = 5637144576; KV 2 x 1024 x 4 = 8192.
  CHECK(DecoderStack::block_bytes(m, cfg) == 167772160.0 + 131072 + 5637144576.0 + 8192);
  Settings s;
  s.quant.weights = DType::fp32;
  s.prompt_len = 1;
  s.gen_len = 1;
  CHECK(default_layer_count(m, s, 6.0 * (1ull << 30)) == 1);
}

TEST_CASE(
    "a tiny sparse model runs, named as the analyzer's rows (router, experts, shared_expert)") {
  const ModelSpec m = tiny_moe();
  CHECK(unsupported_reason(m).empty());
  HardwareSpec hw;
  hw.name = "test-cpu";
  hw.kind = DeviceKind::cpu;
  hw.memory_bytes = 16e9;
  hw.memory_bandwidth_bytes_per_s = 30e9;
  hw.dense_ops_per_s[static_cast<int>(DType::fp32)] = 500e9;
  hw.num_cores = 2;
  Settings s;
  s.prompt_len = 12;
  s.gen_len = 4;
  s.quant.weights = DType::fp32;
  std::vector<std::string> notes;
  const Analysis a = analyze(m, hw, cpu_kernel_settings(s, notes));
  kernels::ThreadPool pool(2);
  StackConfig cfg;
  cfg.max_tokens = 12;
  cfg.max_context = 16;
  cfg.layers = m.num_layers;
  cfg.model_level = true;
  {
    // Hidden-state routing: one token id everywhere makes every position identical, hence routed
    // alike (2 experts); distinct ids spread.
    StackConfig real = cfg;
    real.uniform_routing = false;
    DecoderStack st(m, real, pool);
    st.forward(12, 0, nullptr);
    CHECK(st.distinct_experts_last_pass() == 2);
    std::vector<int32_t> ids(12);
    for (int i = 0; i < 12; ++i) ids[i] = 7 * i + 3;
    st.set_tokens(ids);
    st.forward(12, 0, nullptr);
    CHECK(st.distinct_experts_last_pass() > 2);
    CHECK(st.output_ok());
  }
  DecoderStack stack(m, cfg, pool);  // uniform routing (the default): identical tokens spread
  OpTimes pre, dec;
  stack.forward(12, 0, &pre);
  CHECK(stack.distinct_experts_last_pass() > 2);
  stack.set_tokens(stack.argmax_tokens());
  stack.forward(1, 12, &dec);
  CHECK(stack.distinct_experts_last_pass() == 2);
  CHECK(stack.output_ok());
  for (const auto& [times, rows] : {std::pair{&pre, &a.prefill.rows}, {&dec, &a.decode.rows}}) {
    std::set<std::string> names;
    for (const auto& r : *rows) names.insert(r.name);
    CHECK(names.count("router") == 1);
    CHECK(names.count("shared_expert") == 1);
    CHECK(std::set<std::string>(times->names().begin(), times->names().end()) == names);
  }
  ModelSpec alibi = m;
  alibi.positional_encoding = PositionalEncoding::alibi;
  CHECK(unsupported_reason(alibi).find("positional_encoding: alibi") != std::string::npos);
}
