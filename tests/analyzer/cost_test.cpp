// Hand-derived checks of the per-op cost functions (docs/cost-model.md has the derivations).
#include "analyzer/cost.hpp"

#include <doctest/doctest.h>

using namespace llmroof;

TEST_CASE("gemm: 2 OPs per multiply-add; weights + x + y bytes") {
  const OpCost c = gemm_cost({.m = 2048, .n = 4096, .k = 4096});
  CHECK(c.ops == 2.0 * 2048 * 4096 * 4096);
  CHECK(c.bytes.weights == 4096.0 * 4096 * 2);
  CHECK(c.bytes.act_read == 2048.0 * 4096 * 2);
  CHECK(c.bytes.act_written == 2048.0 * 4096 * 2);
  CHECK(c.arithmetic_intensity() == doctest::Approx(1024).epsilon(1e-12));
}

TEST_CASE("weight bytes carry scales and zero points") {
  // int4, group 128: k*n/2 + n*(k/128) fp16 scales + n*(k/128) 4-bit zeros.
  CHECK(weight_bytes(4096, 4096, DType::int4, 128) == 8388608.0 + 262144.0 + 65536.0);
  // int8 per-channel: one fp16 scale per output column.
  CHECK(weight_bytes(4096, 4096, DType::int8, 0) == 16777216.0 + 8192.0);
  // k not a multiple of the group: the last partial group still has a scale.
  CHECK(weight_bytes(200, 10, DType::int8, 128) == 2000.0 + 10 * 2 * 2.0);
  CHECK(weight_bytes(4096, 4096, DType::fp16, 128) == 33554432.0);
}

TEST_CASE("dequantization is work for weight-only formats, not for W8A8") {
  GemmShape w4a16{.m = 1, .n = 4096, .k = 4096, .weights = DType::int4, .group_size = 128};
  // One conversion per weight element; scale and zero point per group on the partial sums.
  CHECK(gemm_dequant_ops(w4a16) == 1.0 * 4096 * 4096);
  CHECK(gemm_cost(w4a16).ops == 2.0 * 4096 * 4096 + 1.0 * 4096 * 4096);
  // W4A8 unpacks int4 to int8 and subtracts the zero point: 2 OPs per weight element.
  GemmShape w4a8 = w4a16;
  w4a8.activations = DType::int8;
  CHECK(gemm_dequant_ops(w4a8) == 2.0 * 4096 * 4096);
  GemmShape w8a8{.m = 16, .n = 64, .k = 32, .weights = DType::int8,
                 .activations = DType::int8, .group_size = 0};
  CHECK(gemm_dequant_ops(w8a8) == 0);
  // + per-token quantization of x (3/element) and rescale of y (2/element).
  CHECK(gemm_cost(w8a8).ops == 2.0 * 16 * 64 * 32 + 3.0 * 16 * 32 + 2.0 * 16 * 64);
  CHECK(gemm_cost(w8a8).bytes.act_read == 16.0 * 32);
  CHECK(gemm_cost(w8a8).bytes.act_written == 16.0 * 64 * 2);  // y rescaled to fp16
}

TEST_CASE("attention pairs: causal, decode, sliding window") {
  AttentionShape s{.q_heads = 1, .kv_heads = 1, .head_dim = 8, .q_len = 4, .kv_len = 4};
  CHECK(attention_pairs(s) == 10);  // 1 + 2 + 3 + 4
  s.sliding_window = 2;
  CHECK(attention_pairs(s) == 7);  // 1 + 2 + 2 + 2
  s = {.q_len = 1, .kv_len = 10};
  CHECK(attention_pairs(s) == 10);
  s.sliding_window = 4;
  CHECK(attention_pairs(s) == 4);
  s = {.q_len = 3, .kv_len = 5, .causal = true};  // chunk after 2 cached tokens: 3 + 4 + 5
  CHECK(attention_pairs(s) == 12);
  s.causal = false;
  CHECK(attention_pairs(s) == 15);
}

TEST_CASE("qk/sv: causal halving, Q by query heads, K/V by KV heads") {
  // GQA 8 query heads over 2 KV heads, d = 16, a 32-token prompt, batch 2.
  AttentionShape s{.batch = 2, .q_heads = 8, .kv_heads = 2, .head_dim = 16, .q_len = 32,
                   .kv_len = 32, .act_bytes = 2, .kv = DType::fp16};
  const double pairs = 32 * 33 / 2.0;
  const OpCost qk = qk_matmul_cost(s);
  CHECK(qk.ops == 2.0 * 2 * 8 * pairs * 16);
  CHECK(qk.bytes.act_read == 2.0 * 32 * 8 * 16 * 2);  // Q: query heads
  CHECK(qk.bytes.kv_read == 2.0 * 32 * 2 * 16 * 2);   // K: KV heads
  CHECK(qk.bytes.act_written == 2.0 * 8 * pairs * 2);
  const OpCost sv = sv_matmul_cost(s);
  CHECK(sv.ops == qk.ops);
  CHECK(sv.bytes.act_read == 2.0 * 8 * pairs * 2);
  CHECK(sv.bytes.kv_read == qk.bytes.kv_read);
  CHECK(sv.bytes.act_written == 2.0 * 32 * 8 * 16 * 2);
  const OpCost sm = attention_softmax_cost(s);
  CHECK(sm.ops == 5.0 * 2 * 8 * pairs);
}

TEST_CASE("int8 KV: per-token-per-head fp16 scale and dequantization work") {
  CHECK(kv_bytes_per_token_head(128, DType::int8) == 130);
  CHECK(kv_bytes_per_token_head(128, DType::int4) == 68);
  AttentionShape s{.q_heads = 4, .kv_heads = 1, .head_dim = 128, .q_len = 1, .kv_len = 100,
                   .kv = DType::int8};
  const OpCost qk = qk_matmul_cost(s);
  CHECK(qk.bytes.kv_read == 100.0 * 130);
  CHECK(qk.ops == 2.0 * 4 * 100 * 128 + 100.0 * 128);
}

TEST_CASE("FlashAttention IO: Q once, O once, K/V once per query tile, causal tiles skipped") {
  // One head, d = 64, fp16; 32 KiB on chip = 16384 elements -> B_r = min(ceil(16384/256), 64) = 64.
  AttentionShape s{.q_heads = 1, .kv_heads = 1, .head_dim = 64, .q_len = 256, .kv_len = 256,
                   .act_bytes = 2, .onchip_bytes = 32768};
  CHECK(flash_q_tile_rows(64, 2, 32768) == 64);
  const OpCost f = fused_attention_cost(s);
  // 4 query tiles see 64, 128, 192, 256 keys: 640 K rows and 640 V rows of 64 fp16 elements.
  CHECK(f.bytes.kv_read == 2.0 * 640 * 64 * 2);
  CHECK(f.bytes.act_read == 256.0 * 64 * 2);
  CHECK(f.bytes.act_written == 256.0 * 64 * 2);  // O is s x d, never s x s
  CHECK(f.ops == (256.0 * 257 / 2) * (4 * 64 + 5));
  // GQA packs the 4 query heads of a KV head into a tile: 16 positions per tile, so the K/V of a
  // decode step is read once per KV head, not once per query head.
  AttentionShape d{.q_heads = 4, .kv_heads = 1, .head_dim = 64, .q_len = 1, .kv_len = 1000,
                   .onchip_bytes = 32768};
  CHECK(fused_attention_cost(d).bytes.kv_read == 2.0 * 1000 * 64 * 2);
  // Unknown on-chip size: 64-row tiles.
  CHECK(flash_q_tile_rows(128, 2, 0) == 64);
}

TEST_CASE("elementwise ops") {
  const OpCost n = rmsnorm_cost(10, 100, 2);
  CHECK(n.ops == 4.0 * 1000 + 20);
  CHECK(n.bytes.total() == 1000 * 2 * 2 + 100 * 2);
  const OpCost a = add_cost(10, 100, 4);
  CHECK(a.bytes.act_read == 8000);
  CHECK(a.bytes.act_written == 4000);
  const OpCost act = activation_cost(2, 11008, true, 2);
  CHECK(act.ops == 5.0 * 2 * 11008);
  CHECK(act.bytes.act_read == 2.0 * 2 * 11008 * 2);
  const OpCost ar = add_rmsnorm_cost(10, 100, 2);
  CHECK(ar.bytes.act_read == 4000);
  CHECK(ar.bytes.act_written == 4000);
  const OpCost r = rope_cost(3, 4, 2, 8, 2);
  CHECK(r.ops == 3.0 * 3 * 6 * 8);
}
