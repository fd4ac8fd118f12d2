// analyzer/model_stats on the shipped zoo, against published parameter counts.
#include <doctest/doctest.h>

#include "analyzer/model_stats.hpp"
#include "io/catalog.hpp"

using namespace llmroof;

namespace {
ModelStats stats(const char* name) { return model_stats(Catalog().model(name)); }
// Published sizes are rounded: within half a unit of the last published digit.
void check_near(int64_t value, double published, double half_unit) {
  CHECK(static_cast<double>(value) >= published - half_unit);
  CHECK(static_cast<double>(value) <= published + half_unit);
}
}  // namespace

TEST_CASE("Llama-2-7b: exact breakdown") {
  // 32 x (4 x 4096^2 + 3 x 4096 x 11008 + 2 x 4096) + 2 x 32000 x 4096 + 4096.
  const ModelStats s = stats("llama-2-7b");
  CHECK(s.total_params == 6738415616);
  CHECK(s.active_params == s.total_params);
  CHECK(s.params.embedding == 131072000);
  CHECK(s.params.lm_head == 131072000);
  CHECK(s.params.final_norm == 4096);
  CHECK(s.params.num_dense_blocks == 32);
  CHECK(s.params.dense_block.attention() == 4 * 4096LL * 4096);
  CHECK(s.params.dense_block.dense_mlp == 3 * 4096LL * 11008);
  CHECK(s.params.dense_block.norms == 2 * 4096);
  CHECK(s.weight_bytes_16bit == 2.0 * 6738415616);
  CHECK(s.weight_bytes_8bit == 6738415616.0);
  CHECK(s.weight_bytes_4bit == 0.5 * 6738415616);
  CHECK(s.kv_cache_bytes_per_token_16bit == 2.0 * 32 * 4096 * 2);  // 512 KiB
}

TEST_CASE("published totals") {
  check_near(stats("llama-2-70b").total_params, 68.98e9, 0.005e9);
  CHECK(stats("llama-2-70b").total_params == 68976648192);
  CHECK(stats("llama-3-8b").total_params == 8030261248);
  check_near(stats("llama-3-70b").total_params, 70.6e9, 0.05e9);
  check_near(stats("llama-3.1-405b").total_params, 405.9e9, 0.05e9);
  check_near(stats("qwen2-7b").total_params, 7.62e9, 0.005e9);
  check_near(stats("qwen2-72b").total_params, 72.7e9, 0.05e9);
  check_near(stats("chatglm3-6b").total_params, 6.24e9, 0.005e9);
  check_near(stats("baichuan2-7b").total_params, 7.51e9, 0.005e9);
  check_near(stats("baichuan2-13b").total_params, 13.9e9, 0.05e9);
}

TEST_CASE("qwen2-0.5b: tied embeddings and q/k/v biases") {
  const ModelStats s = stats("qwen2-0.5b");
  CHECK(s.total_params == 494032768);
  CHECK(s.params.lm_head == 0);
  CHECK(s.params.dense_block.attn_q_bias == 896);
  CHECK(s.params.dense_block.attn_k_bias == 128);
  CHECK(s.kv_cache_bytes_per_token_16bit == 2.0 * 24 * 128 * 2);
}

TEST_CASE("MoE: total and active") {
  const ModelStats mix = stats("mixtral-8x7b");
  CHECK(mix.total_params == 46702792704);   // 46.7 B
  CHECK(mix.active_params == 12879925248);  // 12.9 B
  CHECK(mix.params.num_sparse_blocks == 32);
  CHECK(mix.params.sparse_block.router == 4096 * 8);
  CHECK(mix.params.sparse_block.routed_expert == 3 * 4096LL * 14336);

  const ModelStats q = stats("qwen1.5-moe-a2.7b");
  check_near(q.total_params, 14.3e9, 0.05e9);
  check_near(q.active_params, 2.7e9, 0.05e9);
  CHECK(q.params.sparse_block.shared_expert == 3 * 2048LL * 5632);
  CHECK(q.params.sparse_block.shared_expert_gate == 2048);

  const ModelStats q57 = stats("qwen2-57b-a14b");
  check_near(q57.total_params, 57.4e9, 0.05e9);
  check_near(q57.active_params, 14.2e9, 0.05e9);
}

TEST_CASE("mixed dense/sparse layers and learned positions") {
  ModelSpec m = Catalog().model("tiny-test");
  m.num_layers = 4;
  m.moe = MoeSpec{.num_experts = 4, .experts_per_token = 2, .expert_intermediate_size = 128,
                  .sparse_step = 2, .first_sparse_layer = 1};
  const ParamBreakdown p = count_params(m);
  CHECK(p.num_sparse_blocks == 2);  // layers 1 and 3
  CHECK(p.num_dense_blocks == 2);
  CHECK(p.dense_block.dense_mlp == 3 * 256 * 512);
  CHECK(p.sparse_block.dense_mlp == 0);
  CHECK(p.total() - p.active() == 2 * 2 * (3 * 256 * 128));  // 2 idle experts in 2 blocks
  m.moe.reset();
  m.positional_encoding = PositionalEncoding::learned;
  m.norm = NormType::layernorm;
  const ParamBreakdown l = count_params(m);
  CHECK(l.position_embedding == 2048 * 256);
  CHECK(l.final_norm == 2 * 256);
  CHECK(l.dense_block.norms == 4 * 256);
}
