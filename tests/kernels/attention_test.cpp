// Flash-attention prefill and flash-decoding against the scalar reference: head_dim 64/128 (and an
// odd one that takes the fallback), GQA ratios 1/4/8, sequences 1..4096, batch > 1, fp32/bf16/int8
// caches, and a KV buffer with spare capacity. Hand-derived cases check the reference itself.
#include "kernels/cpu/attention.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/check.hpp"
#include "kernels/cpu/attention_decode.hpp"
#include "kernels/cpu/attention_prefill.hpp"
#include "kernels/cpu_features.hpp"
#include "tests/kernels/attention_check.hpp"

using namespace llmroof::kernels;

using namespace llmroof::kernels::test;

TEST_CASE("reference: one key returns its value; equal keys average the values") {
  const AttentionDims d = dims(1, 1, 1, 2, 1, 2, false);
  const float q[2] = {1, 1}, k[4] = {5, -3, 5, -3}, v[4] = {1, 2, 3, 6};
  float o[2];
  KvCacheView kv;
  kv.k = k;
  kv.v = v;
  attention_ref(q, kv, o, d);
  CHECK(o[0] == doctest::Approx(2));
  CHECK(o[1] == doctest::Approx(4));
  AttentionDims c = dims(1, 1, 1, 2, 2, 2, true);  // causal: query 0 sees key 0 only
  const float q2[4] = {1, 1, 1, 1};
  float o2[4];
  attention_ref(q2, kv, o2, c);
  CHECK(o2[0] == doctest::Approx(1));
  CHECK(o2[1] == doctest::Approx(2));
}

// With an int8 cache every path rounds q to int8 per head first (attention.hpp), the reference
// included. Two keys, one q head: k0 = (0, 10, 0, ...), k1 = 0, v0 = e0, v1 = e1, scale 1, so
// o[0] = sigmoid(10 · q[1]) and o[1] = 1 - o[0]. q = (1, 0.3, 0, ...) has scale max|q| / 127 =
// 1 / 127 and q[1] rounds to 38 / 127 (0.3 · 127 = 38.1); unrounded, o[0] would be sigmoid(3) =
// 0.9525741, 3.6e-4 away. head_dim 64 runs the kernel's vpdpbusd q·k as well as the reference.
TEST_CASE("int8 caches: q is rounded to int8 per head (reference and kernel)") {
  ThreadPool pool(2);
  const int64_t hd = 64;
  AttentionDims d = dims(1, 1, 1, hd, 1, 2, false);
  d.scale = 1;
  std::vector<float> q(hd, 0.f);
  q[0] = 1.f;
  q[1] = 0.3f;
  std::vector<int8_t> k(2 * hd, 0), v(2 * hd, 0);
  k[1] = 10;
  v[0] = 1;
  v[hd + 1] = 1;
  const float ones[2] = {1.f, 1.f};
  KvCacheView kv;
  kv.format = KvFormat::int8;
  kv.k = k.data();
  kv.v = v.data();
  kv.k_scale = kv.v_scale = ones;
  std::vector<float> ref(hd), o(hd);
  attention_ref(q.data(), kv, ref.data(), d);
  attention_decode(q.data(), kv, o.data(), d, pool);
  const double want = 1 / (1 + std::exp(-380.0 / 127));
  CHECK(ref[0] == doctest::Approx(want).epsilon(1e-6));
  CHECK(o[0] == doctest::Approx(want).epsilon(1e-6));
  CHECK(o[1] == doctest::Approx(1 - want).epsilon(1e-5));
}

// bf16 caches round q to bf16 too (attention.hpp), in the reference and in every kernel path. Two
// keys, k0 = (0, 2, 0, ...), k1 = 0, v0 = e0, v1 = e1, scale 1, so o[0] = sigmoid(2 · q[1]). q[1]
// = 1 + 3 · 2^-9 lies between the bf16 neighbours 1 and 1 + 2^-7 and rounds up to 1.0078125;
// unrounded, o[0] would be 4.1e-4 lower. 8 q heads on 1 kv head with head_dim 32 take the
// vdpbf16ps q·k and P·V on AVX512_BF16 CPUs; Isa::avx2 the pair-split AVX2 path; scalar the
// reference. Where P·V is on vdpbf16ps (decode_bf16_dot_products) v1's weight p1 = e^(-2 ·
// 1.0078125) = 0.13325 is rounded to bf16, 136 · 2^-10 = 0.13281, in the numerator only (the running
// sum keeps p1), so o[1] = bf16(p1) / (1 + p1), 0.3 % below 1 - o[0].
TEST_CASE("bf16 caches: q is rounded to bf16 (reference and every kernel path)") {
  ThreadPool pool(2);
  const int64_t hd = 32, heads = 8;
  AttentionDims d = dims(1, heads, 1, hd, 1, 2, false);
  d.scale = 1;
  std::vector<float> q(heads * hd, 0.f);
  for (int64_t h = 0; h < heads; ++h) {
    q[h * hd] = 0.25f * static_cast<float>(h);  // meets k = 0: no effect
    q[h * hd + 1] = 1.f + 3.f / 512;
  }
  std::vector<uint16_t> k(2 * hd, 0), v(2 * hd, 0);
  k[1] = float_to_bf16(2.f);
  v[0] = float_to_bf16(1.f);
  v[hd + 1] = float_to_bf16(1.f);
  KvCacheView kv;
  kv.format = KvFormat::bf16;
  kv.k = k.data();
  kv.v = v.data();
  const double p1 = std::exp(-2 * 1.0078125), want = 1 / (1 + p1);
  const double p1_bf16 = bf16_to_float(float_to_bf16(static_cast<float>(p1)));
  REQUIRE(p1_bf16 == 136.0 / 1024);
  std::vector<float> ref(q.size());
  attention_ref(q.data(), kv, ref.data(), d);
  for (Isa isa : {best_isa(), Isa::avx2, Isa::scalar}) {
    CAPTURE(static_cast<int>(isa));
    std::vector<float> o(q.size(), -1.f);
    attention_decode(q.data(), kv, o.data(), d, pool, isa);
    const double want1 = decode_bf16_dot_products(kv, d, isa) ? p1_bf16 / (1 + p1) : 1 - want;
    for (int64_t h = 0; h < heads; ++h) {
      CAPTURE(h);
      CHECK(ref[h * hd] == doctest::Approx(want).epsilon(1e-6));
      CHECK(o[h * hd] == doctest::Approx(want).epsilon(1e-6));
      CHECK(o[h * hd + 1] == doctest::Approx(want1).epsilon(1e-5));
    }
  }
  // Only AVX512_BF16 CPUs take that path, and only at GQA >= 8 with head_dim % 32 == 0.
  CHECK(decode_bf16_dot_products(kv, d) == (best_isa() == Isa::avx512 && cpu_features().avx512_bf16));
  CHECK_FALSE(decode_bf16_dot_products(kv, d, Isa::avx2));
  CHECK_FALSE(decode_bf16_dot_products(kv, dims(1, 4, 1, hd, 1, 2)));
  CHECK_FALSE(decode_bf16_dot_products(kv, dims(1, 8, 1, 48, 1, 2)));
}

namespace {
// Sets detail::decode_amx_allowed() for one scope (on CPUs without AMX it changes nothing).
struct DecodeAmx {
  bool saved = detail::decode_amx_allowed();
  explicit DecodeAmx(bool allowed) { detail::decode_amx_allowed() = allowed; }
  ~DecodeAmx() { detail::decode_amx_allowed() = saved; }
};

bool amx_bf16_host() {
  return best_isa() == Isa::avx512 && cpu_features().amx_bf16 && enable_amx();
}
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}
bool amx_int8_host() {
  return best_isa() == Isa::avx512 && cpu_features().avx512_vnni && cpu_features().amx_int8 &&
         enable_amx();
}
}  // namespace

// Where the probabilities are rounded to bf16 the check against the reference is statistical
// (attention_tolerance.hpp); with q = 0 every weight is 2^0 = 1, exact in bf16, so o must be the
// mean of the V rows to fp32 accuracy. That holds the vdpbf16ps P·V (token pairs, the odd last
// token of a block, the channel order it keeps over a split) to 1e-5 for every block fill, and on
// AMX-BF16 CPUs the tile path's as well (its P tile's token pairs, Vp's channel order, the
// repeated rows of a partial 32-token block, tiles of 8, 12 and 16 heads).
TEST_CASE("bf16 decode with bf16 probabilities is exact where the weights are: o = mean of V at q = 0") {
  ThreadPool pool(2);
  const Tolerance exact{Metric::max_norm, 1e-5};
  for (const bool amx : {true, false})
    for (const AttentionDims& d :
         {dims(1, 8, 1, 128, 1, 1), dims(1, 8, 1, 128, 1, 2), dims(1, 8, 1, 128, 1, 15),
          dims(2, 8, 1, 128, 1, 17), dims(1, 16, 1, 64, 1, 33), dims(2, 32, 4, 128, 1, 47),
          dims(1, 8, 1, 96, 1, 100), dims(1, 8, 1, 128, 1, 1000), dims(1, 24, 1, 64, 1, 31),
          dims(2, 32, 1, 128, 1, 65, true, 70), dims(1, 12, 1, 256, 1, 32)}) {
      const DecodeAmx knob(amx);
      CAPTURE(amx);
      CAPTURE(d.q_heads);
      CAPTURE(d.kv_heads);
      CAPTURE(d.head_dim);
      CAPTURE(d.kv_len);
      const Cache c = make_cache(d, KvFormat::bf16, true);
      const std::vector<float> q(static_cast<size_t>(d.batch * d.q_heads * d.head_dim), 0.f);
      std::vector<float> o(q.size()), ref(q.size());
      attention_decode(q.data(), c.view, o.data(), d, pool);
      attention_ref(q.data(), c.view, ref.data(), d);
      const CheckResult r = check_close(o, ref, exact);
      INFO(r.detail, " error ", r.error);
      CHECK(r.disposition == Disposition::passed);
    }
}

// bf16 caches from GQA 8 on AMX-BF16 CPUs run q·k and P·V on tiles (attention_decode_amx.cpp):
// every fill of its 32-token blocks (the last one's K rows copied, V rows repeated under weight
// 0), tiles of 8, 12 and 16 q heads (groups 8, 12, 16, 24 = 12 + 12, 32 = 16 + 16), head_dim 32
// to 256, batch > 1 with spare capacity, a peaked softmax (the running max rising inside a split,
// which rescales o in memory between tile stores). The same shapes with the knob off run the
// vdpbf16ps path, so both stay covered on AMX CPUs. The tolerance is decode_tolerance's NMSE (the
// probabilities are rounded to bf16 on both paths).
TEST_CASE("bf16 decode on AMX tiles matches the reference; the knob turns it off") {
  ThreadPool pool(2);
  for (bool amx : {true, false}) {
    CAPTURE(amx);
    const DecodeAmx knob(amx);
    for (int64_t n : {1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100}) {
      CAPTURE(n);
      check_decode(dims(1, 8, 1, 128, 1, n), KvFormat::bf16, pool);
      check_decode(dims(2, 24, 2, 64, 1, n, true, n + 7), KvFormat::bf16, pool);  // tiles of 12
      check_decode(dims(1, 32, 1, 32, 1, n), KvFormat::bf16, pool);               // tiles of 16
    }
    check_decode(dims(3, 32, 4, 128, 1, 530, true, 600), KvFormat::bf16, pool, true, 12.f);
    check_decode(dims(1, 64, 4, 64, 1, 4096), KvFormat::bf16, pool, true, 12.f);  // group 16
    check_decode(dims(2, 12, 1, 256, 1, 77), KvFormat::bf16, pool);
    check_decode(dims(1, 16, 2, 160, 1, 333), KvFormat::bf16, pool, true, 12.f);
    const AttentionDims d8 = dims(1, 32, 4, 128, 1, 100);
    KvCacheView kv;
    kv.format = KvFormat::bf16;
    CHECK(decode_bf16_amx(kv, d8) == (amx && amx_bf16_host()));
    CHECK(decode_bf16_dot_products(kv, d8) ==
          (best_isa() == Isa::avx512 && cpu_features().avx512_bf16));
  }
  KvCacheView kv;
  kv.format = KvFormat::bf16;
  CHECK_FALSE(decode_bf16_amx(kv, dims(1, 16, 4, 128, 1, 100)));  // GQA 4
  CHECK_FALSE(decode_bf16_amx(kv, dims(1, 17, 1, 128, 1, 100)));  // no equal tiles <= 16
  CHECK_FALSE(decode_bf16_amx(kv, dims(1, 8, 1, 48, 1, 100)));    // head_dim % 32
  CHECK_FALSE(decode_bf16_amx(kv, dims(1, 8, 1, 128, 1, 100), Isa::avx2));
  kv.format = KvFormat::int8;
  CHECK_FALSE(decode_bf16_amx(kv, dims(1, 8, 1, 128, 1, 100)));
  CHECK(decode_amx_heads_per_tile(8) == 8);
  CHECK(decode_amx_heads_per_tile(24) == 12);
  CHECK(decode_amx_heads_per_tile(48) == 16);
  CHECK(decode_amx_heads_per_tile(17) == 0);
}

// int8 caches from GQA 8 on AMX-INT8 CPUs run q·k and P·V on tiles (attention_decode_amx_int8.cpp)
// with the u8 probabilities of the vpdpbusd path, which the reference models bit for bit: so
// kernel and reference differ by fp32 sums only (<= 1e-6 of max|o|; one weight off by one unit
// shows as >= ~1e-4, see the u8 test above). Every fill of a 32-token block (the last block's K
// rows copied, its V rows repeated under weight 0); tiles of 8 heads (groups 8, 16 = 8 + 8, 24,
// 32), of 6 (group 12); 1, 2, 3 and 20 kv heads (the block's scales flat where kv_heads divides
// 16, by rows otherwise, in chunks of 16 above 16); head_dim 64 to 256; batch > 1 with spare
// capacity; fp16 and fp32 scales; a block whose V is all zero (vmax 0: its weights are 0); a
// peaked softmax. With the knob off the same shapes run the vpdpbusd path.
TEST_CASE(
    "int8 decode on AMX tiles: the reference's u8 weights bit for bit; the knob turns it off") {
  ThreadPool pool(2);
  const auto run = [&](const AttentionDims& d, bool fp16_scales, float gain, bool zero_block) {
    CAPTURE(d.batch);
    CAPTURE(d.q_heads);
    CAPTURE(d.kv_heads);
    CAPTURE(d.head_dim);
    CAPTURE(d.kv_len);
    CAPTURE(gain);
    Cache c = make_cache(d, KvFormat::int8, fp16_scales);
    if (zero_block) {  // tokens 32..63 of batch row 0: V and its scales 0
      const int64_t row = d.kv_heads * d.head_dim;
      std::fill(c.i8[1].begin() + 32 * row, c.i8[1].begin() + 64 * row, int8_t{0});
      std::fill(c.s16[1].begin() + 32 * d.kv_heads, c.s16[1].begin() + 64 * d.kv_heads,
                uint16_t{0});
      std::fill(c.s32[1].begin() + 32 * d.kv_heads, c.s32[1].begin() + 64 * d.kv_heads, 0.f);
    }
    std::vector<float> q = uniform(d.batch * d.q_heads * d.head_dim, 4);
    for (float& x : q) x *= gain;
    std::vector<float> o(q.size()), ref(q.size());
    attention_decode(q.data(), c.view, o.data(), d, pool);
    REQUIRE(decode_quantizes_p(c.view, d));
    attention_ref(q.data(), c.view, ref.data(), d, true);
    double omax = 0;
    for (float x : ref) omax = std::max(omax, std::fabs(static_cast<double>(x)));
    CHECK(omax > 1e-3);
    CHECK(max_abs_diff(o, ref) <= 1e-6 * omax);
  };
  for (bool amx : {true, false}) {
    CAPTURE(amx);
    const DecodeAmx knob(amx);
    for (int64_t n : {1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100}) {
      CAPTURE(n);
      run(dims(1, 8, 1, 128, 1, n), true, 1.f, false);
      run(dims(2, 16, 2, 64, 1, n, true, n + 7), true, 1.f, false);
      run(dims(1, 24, 3, 128, 1, n), true, 12.f, false);
    }
    run(dims(1, 12, 1, 128, 1, 77), true, 1.f, false);               // tiles of 6
    run(dims(2, 32, 2, 128, 1, 530, true, 600), true, 12.f, false);  // 8 + 8
    run(dims(1, 48, 2, 64, 1, 333), false, 1.f, false);              // 8 + 8 + 8, fp32 scales
    run(dims(1, 32, 1, 256, 1, 100), true, 12.f, false);
    run(dims(1, 160, 20, 64, 1, 50), true, 1.f, false);  // 20 kv heads
    run(dims(1, 8, 1, 128, 1, 100), true, 1.f, true);    // a block of zero V
    run(dims(1, 32, 4, 128, 1, 4096), true, 12.f, false);
    KvCacheView kv;
    kv.format = KvFormat::int8;
    CHECK(decode_int8_amx(kv, dims(1, 32, 4, 128, 1, 100)) == (amx && amx_int8_host()));
  }
  KvCacheView kv;
  kv.format = KvFormat::int8;
  CHECK_FALSE(decode_int8_amx(kv, dims(1, 16, 4, 128, 1, 100)));  // GQA 4
  CHECK_FALSE(decode_int8_amx(kv, dims(1, 20, 1, 128, 1, 100)));  // no equal tiles <= 8
  CHECK_FALSE(decode_int8_amx(kv, dims(1, 8, 1, 96, 1, 100)));    // head_dim % 64
  CHECK_FALSE(decode_int8_amx(kv, dims(1, 8, 1, 128, 1, 100), Isa::avx2));
  kv.format = KvFormat::bf16;
  CHECK_FALSE(decode_int8_amx(kv, dims(1, 8, 1, 128, 1, 100)));
  CHECK(decode_amx_heads_per_tile(12, 8) == 6);
  CHECK(decode_amx_heads_per_tile(16, 8) == 8);
  CHECK(decode_amx_heads_per_tile(20, 8) == 0);
}

TEST_CASE("flash prefill matches the reference") {
  ThreadPool pool(2);
  SUBCASE("head_dim 64 and 128, GQA 1/4/8, batch > 1") {
    check_prefill(dims(2, 8, 8, 64, 67, 67), pool);
    check_prefill(dims(1, 8, 2, 128, 130, 130), pool);
    check_prefill(dims(2, 8, 1, 64, 64, 64), pool);
  }
  SUBCASE("short and chunked (kv_len > q_len), non-causal, spare capacity") {
    check_prefill(dims(1, 4, 4, 128, 1, 1), pool);
    check_prefill(dims(1, 4, 1, 64, 3, 129), pool);
    check_prefill(dims(1, 8, 2, 128, 70, 200), pool);
    check_prefill(dims(1, 4, 4, 128, 65, 65, false), pool);
    check_prefill(dims(2, 4, 2, 64, 40, 50, true, 77), pool);
  }
  SUBCASE("odd head_dim takes the reference path") { check_prefill(dims(1, 2, 1, 24, 9, 9), pool); }
  SUBCASE("long: 4096 keys") { check_prefill(dims(1, 1, 1, 128, 4096, 4096), pool); }
}

// A work item is a group of query tiles reading the same K and V (attention_prefill.hpp): tiles of
// different causal horizons in one group, GQA heads in chunks, a last partial tile. The plan is
// checked first, so these shapes keep exercising groups if the planning rule changes.
TEST_CASE("flash prefill in groups of query tiles sharing K and V matches the reference") {
  ThreadPool pool(1);
  const auto plan = [](const AttentionDims& d) {
    const FlashPlan p = flash_prefill_plan(d, 1);
    return std::vector<int64_t>{p.heads, p.chunks, p.span};
  };
  const AttentionDims spans8 = dims(1, 4, 4, 64, 520, 520);             // tiles {0-7} {8}
  const AttentionDims spans2 = dims(1, 2, 2, 128, 520, 520);            // tiles {0,1} ... {8}
  const AttentionDims gqa2 = dims(2, 4, 2, 64, 300, 330, true, 400);    // 2 heads × {0-3} {4}
  const AttentionDims noncausal = dims(1, 4, 4, 128, 200, 250, false);  // tiles {0-2} {3}
  const AttentionDims gqa16 = dims(1, 16, 1, 64, 100, 100);             // 8 heads, 2 chunks
  CHECK(plan(spans8) == std::vector<int64_t>{1, 1, 8});
  CHECK(plan(spans2) == std::vector<int64_t>{1, 1, 2});
  CHECK(plan(gqa2) == std::vector<int64_t>{2, 1, 4});
  CHECK(plan(noncausal) == std::vector<int64_t>{1, 1, 3});
  CHECK(plan(gqa16) == std::vector<int64_t>{8, 2, 1});
  CHECK(flash_prefill_plan(spans8, 2).span == 2);  // 8 items per thread
  for (const AttentionDims& d : {spans8, spans2, gqa2, noncausal, gqa16}) {
    CAPTURE(d.q_heads);
    CAPTURE(d.q_len);
    check_prefill(d, pool);
    check_prefill(d, pool, Isa::avx2);  // the AVX2 tile runs a group's tiles one by one
  }
}

// On a key tile the causal mask cuts, QK skips the 16-query vectors that see none of a 6-key
// block's keys (attention_prefill_avx512.cpp, qk_tile). Which vectors those are depends on where
// the diagonal falls in the tile: every offset kv_len - q_len of one period (48 = lcm(6, 16)), both
// head dims, a second query tile (q0 = 64) and a partial one.
TEST_CASE(
    "flash prefill: every position of the causal diagonal in a key tile matches the reference") {
  ThreadPool pool(1);
  for (int64_t off = 0; off < 48; ++off) {
    CAPTURE(off);
    check_prefill(dims(1, 1, 1, 64, 64, 64 + off), pool);
    check_prefill(dims(1, 2, 1, 128, 100, 100 + off), pool);
  }
}

TEST_CASE("flash decoding matches the reference for fp32, bf16 and int8 caches") {
  ThreadPool pool(2);
  for (KvFormat f : {KvFormat::fp32, KvFormat::bf16, KvFormat::int8}) {
    CAPTURE(static_cast<int>(f));
    check_decode(dims(1, 32, 32, 128, 1, 1), f, pool);
    check_decode(dims(2, 32, 8, 128, 1, 333), f, pool);
    check_decode(dims(3, 8, 1, 64, 1, 1000), f, pool);
    check_decode(dims(1, 12, 4, 64, 1, 17), f, pool);  // group of 3: the 2 + 1 head paths
    check_decode(dims(1, 8, 2, 128, 1, 4096, true, 4100), f, pool);
  }
  check_decode(dims(2, 8, 2, 64, 1, 500), KvFormat::int8, pool, false);  // fp32 scales
}

// GQA 8 and 16 run 8 q heads per K/V load (for int8 on VNNI CPUs integer q·k and P·V: q·k is exact
// on the int8-rounded q the reference uses too, and the reference models the u8 rounding of the
// probabilities in P·V; see the u8 test below).
TEST_CASE("flash decoding: GQA 8 and 16, odd lengths, both int8 scale types") {
  ThreadPool pool(2);
  for (KvFormat f : {KvFormat::fp32, KvFormat::bf16, KvFormat::int8}) {
    CAPTURE(static_cast<int>(f));
    check_decode(dims(2, 32, 4, 128, 1, 777), f, pool);
    check_decode(dims(1, 16, 1, 128, 1, 301), f, pool);
    check_decode(dims(1, 24, 1, 64, 1, 2049), f, pool);  // group 24: 8 + 8 + 8
    check_decode(dims(1, 8, 1, 48, 1, 100), f, pool);     // head_dim not a multiple of 32
  }
  check_decode(dims(2, 32, 4, 128, 1, 4096), KvFormat::int8, pool, false);
}

// The AVX-512 driver rounds q with quantize_q8_avx512; the reference with quantize_int8_rows. They
// must agree bit for bit (one q8 unit off moves a logit by max|q_h| / 127 · k, far above the 1e-4
// tolerance), ties included: a row with max 127 has scale 1, so x.5 values are exact ties.
TEST_CASE("quantize_q8_avx512 equals quantize_int8_rows bit for bit, ties included") {
  if (!cpu_features().avx512f) return;
  const int64_t rows = 5, hd = 64;
  std::vector<float> q = uniform(rows * hd, 7);
  for (int64_t c = 0; c < hd; ++c) q[c] = c == 0 ? 127.f : static_cast<float>(c % 9) - 4.5f;  // ties
  for (int64_t c = 0; c < hd; ++c) q[hd + c] = 0.f;                                           // zero row
  for (int64_t c = 0; c < hd; ++c) q[2 * hd + c] *= 1e-3f;
  std::vector<int8_t> a(q.size()), b(q.size());
  std::vector<float> sa(rows), sb(rows), qr(q.size());
  std::vector<int32_t> bias(rows);
  quantize_int8_rows(q.data(), a.data(), sa.data(), rows, hd);
  quantize_q8_avx512(q.data(), b.data(), sb.data(), bias.data(), qr.data(), rows, hd);
  CHECK(a == b);
  CHECK(sa == sb);
  CHECK(b[1] == -4);  // -3.5 -> -4 (ties to even)
  CHECK(b[2] == -2);  // -2.5 -> -2
  for (int64_t r = 0; r < rows; ++r) {
    int32_t sum = 0;
    for (int64_t c = 0; c < hd; ++c) {
      sum += a[r * hd + c];
      CHECK(qr[r * hd + c] == a[r * hd + c] * sa[r]);
    }
    CHECK(bias[r] == 128 * sum);
  }
}

// The u8 probabilities of the int8 GQA >= 8 path (attention.hpp). The reference models them bit
// for bit, so kernel and reference differ only by fp32 sums: 1e-6 of max|o| here, where one weight
// off by one unit (vmax / 255) would show as >= ~1e-4 (a few dozen tokens: ws · |v| / Σ p). The
// 32-aligned splits make the result independent of the thread count (1, 2 and 3 threads agree to
// fp32 merge rounding). Against unrounded probabilities (the plain fp64 reference on the same
// cache) each weight e_t · vscale_t moves by at most max vscale / 510, so |Δo| <= 32 · 127 · max
// vscale / 510 per 32-token block and in total (a weighted mean of blocks, each with e = 1 at its
// max); the test checks that bound and that the rounding is visible at all (> 1e-7, else the path
// is not what runs). Measured here with 32-token blocks: 6.9e-5 - 1.1e-3 at gain 1 (max|o| 0.06 -
// 0.46), 1.4e-3 - 5.5e-3 at gain 12 (max|o| 0.86 - 0.98), i.e. 0.12 - 0.56 % of max|o| (16-token
// blocks: 0.1 - 0.37 %; the int8 cache's own rounding of V is up to 0.39 % of max|v|).
TEST_CASE("int8 GQA >= 8 decode: u8 probabilities, modelled bit for bit, within the rounding bound") {
  const AttentionDims shapes[] = {dims(1, 8, 1, 128, 1, 17), dims(2, 32, 4, 128, 1, 777),
                                  dims(1, 16, 1, 64, 1, 301), dims(1, 8, 1, 128, 1, 4096),
                                  dims(1, 12, 1, 128, 1, 99)};  // group 12: 8 + 4 heads
  if (!decode_quantizes_p(make_cache(shapes[0], KvFormat::int8, true).view, shapes[0])) {
    MESSAGE("no AVX-512 VNNI: the u8 P path does not run here");
    return;
  }
  ThreadPool one(1), two(2), three(3);
  for (const AttentionDims& d : shapes)
    for (float gain : {1.f, 12.f}) {
      CAPTURE(d.kv_len);
      CAPTURE(gain);
      const Cache c = make_cache(d, KvFormat::int8, true);
      std::vector<float> q = uniform(d.batch * d.q_heads * d.head_dim, 4);
      for (float& x : q) x *= gain;
      std::vector<float> o1(q.size()), o2(q.size()), o3(q.size()), ref(q.size()), exact(q.size());
      attention_decode(q.data(), c.view, o1.data(), d, one);
      attention_decode(q.data(), c.view, o2.data(), d, two);
      attention_decode(q.data(), c.view, o3.data(), d, three);
      attention_ref(q.data(), c.view, ref.data(), d, true);
      attention_ref(q.data(), c.view, exact.data(), d);
      double omax = 0, vsmax = 0;
      for (float x : ref) omax = std::max(omax, std::fabs(static_cast<double>(x)));
      for (uint16_t h : c.s16[1]) vsmax = std::max(vsmax, static_cast<double>(half_to_float(h)));
      CHECK(max_abs_diff(o2, ref) <= 1e-6 * omax);
      CHECK(max_abs_diff(o1, o2) <= 1e-6 * omax);
      CHECK(max_abs_diff(o3, o2) <= 1e-6 * omax);
      const double dq = max_abs_diff(ref, exact);
      CHECK(dq <= kDecodeU8Block * 127 * vsmax / 510);
      CHECK(dq > 1e-7);
    }
}

TEST_CASE("split_pairs: each 32-element chunk becomes its even elements, then its odd ones") {
  std::vector<float> x(2 * 64), y(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  split_pairs(x.data(), y.data(), 2, 64);
  CHECK(y[0] == 0.f);
  CHECK(y[1] == 2.f);
  CHECK(y[15] == 30.f);
  CHECK(y[16] == 1.f);
  CHECK(y[31] == 31.f);
  CHECK(y[32] == 32.f);   // second chunk of row 0
  CHECK(y[48] == 33.f);
  CHECK(y[64 + 17] == 64 + 3.f);  // row 1, first chunk, odd half
}

// int8 caches on VNNI CPUs: q·k on vpdpbusd (exact integer sums on the int8-rounded q), and from
// GQA 8 up P·V on u8 probabilities (times the V scales), rounded per absolute 32-token block and q
// head, which the reference then models (decode_quantizes_p). A peaked softmax (q × 12: one or two
// tokens per block dominate, the rest round to a few units) and odd lengths (a partial group of 4
// tokens at the block tail) are the hard cases for the P quantization.
TEST_CASE("int8 decode: integer dot-product paths match the reference, peaked softmax included") {
  ThreadPool pool(2);
  for (float gain : {1.f, 12.f}) {
    CAPTURE(gain);
    check_decode(dims(2, 32, 8, 128, 1, 333), KvFormat::int8, pool, true, gain);   // GQA 4
    check_decode(dims(1, 32, 4, 128, 1, 1001), KvFormat::int8, pool, true, gain);  // GQA 8
    check_decode(dims(1, 16, 1, 64, 1, 47), KvFormat::int8, pool, false, gain);    // GQA 16
    check_decode(dims(3, 8, 1, 128, 1, 1), KvFormat::int8, pool, true, gain);      // one token
  }
}

// int8 on VNNI CPUs with head_dim % 64 == 0: q·k on vpdpbusd by token rows below GQA 4 and with
// the block's tokens in the vector lanes from GQA 4 (K transposed per block and kv head,
// DecodeSplit::k_lanes); bf16 (pair-split below GQA 8, vdpbf16ps q·k from 8 on AVX512_BF16 CPUs,
// else the plain conversion) alongside. Every
// block fill from 1 to 17 tokens (the slots past the end repeat the last token and must be
// masked), two blocks and a bit, and for the u8 P·V path's 32-token blocks (GQA >= 8) fills of 31,
// 32 and 48 and two of its blocks and a bit; head_dim 64 and 128, GQA 1, 2, 4, 8 and 16, batch > 1
// with spare capacity, and a peaked softmax.
TEST_CASE("int8 and bf16 decode: every path matches the reference for every block fill") {
  ThreadPool pool(2);
  for (KvFormat f : {KvFormat::int8, KvFormat::bf16}) {
    CAPTURE(static_cast<int>(f));
    for (int64_t n : {1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 48, 65}) {
      CAPTURE(n);
      check_decode(dims(1, 8, 1, 128, 1, n), f, pool);
      check_decode(dims(2, 16, 1, 64, 1, n, true, n + 5), f, pool, false);
      check_decode(dims(1, 8, 2, 64, 1, n), f, pool);   // GQA 4
      check_decode(dims(1, 4, 2, 128, 1, n), f, pool);  // GQA 2
      check_decode(dims(2, 4, 4, 64, 1, n), f, pool);   // GQA 1
    }
    check_decode(dims(3, 32, 4, 128, 1, 530, true, 600), f, pool, true, 12.f);
    check_decode(dims(1, 64, 4, 64, 1, 4096), f, pool, true, 12.f);
    check_decode(dims(1, 32, 32, 128, 1, 999), f, pool, true, 12.f);
    check_decode(dims(2, 12, 1, 160, 1, 77), f, pool);  // group 12 = 8 + 4, head_dim not 64 / 128
  }
}

// GQA 1 takes its kv heads 4 at a time, alternating between them every 4 tokens in QK and every 8
// in PV (interleave_heads in attention_decode_avx512.cpp): int8 always, fp32 and bf16 where a cache
// row is a multiple of 4 KiB. Every block fill, a last group of 2 heads (6 kv heads) and of 2 with
// 4 KiB rows (head_dim 1024), in every format.
TEST_CASE("GQA 1 decode with interleaved kv heads matches the reference for every block fill") {
  ThreadPool pool(2);
  for (KvFormat f : {KvFormat::fp32, KvFormat::bf16, KvFormat::int8}) {
    CAPTURE(static_cast<int>(f));
    for (int64_t n : {1, 3, 4, 5, 8, 9, 15, 16, 17, 40}) {
      CAPTURE(n);
      check_decode(dims(1, 16, 16, 128, 1, n), f, pool);  // rows of 8 / 4 / 2 KiB
      check_decode(dims(2, 6, 6, 128, 1, n), f, pool);    // int8: groups of 4 + 2
    }
    check_decode(dims(1, 2, 2, 1024, 1, 37), f, pool);       // 4 KiB rows (bf16): one group of 2
    check_decode(dims(1, 32, 32, 128, 1, 2000), f, pool, true, 12.f);
  }
}

TEST_CASE("bf16 decode: pair-split path (head_dim % 32 == 0) matches the reference at GQA 1..4") {
  // The even/odd conversion path reorders q and the output rows; every q head and output element
  // must land back in place, including 1-token and partial (nt < 16) blocks. (GQA 8 and up take
  // vdpbf16ps or the plain conversion, covered by the cases above.)
  ThreadPool pool(2);
  check_decode(dims(1, 8, 8, 32, 1, 1), KvFormat::bf16, pool);
  check_decode(dims(2, 16, 4, 96, 1, 19), KvFormat::bf16, pool);
  check_decode(dims(1, 16, 4, 160, 1, 65), KvFormat::bf16, pool);
}

TEST_CASE("decode equals the last row of prefill over the same context") {
  ThreadPool pool(2);
  const AttentionDims pd = dims(1, 8, 2, 128, 33, 33);
  const int64_t n = 33 * 2 * 128;
  const auto k = uniform(n, 2), v = uniform(n, 3), q = uniform(33 * 8 * 128, 1);
  std::vector<float> o(q.size()), od(8 * 128);
  attention_prefill(q.data(), k.data(), v.data(), o.data(), pd, pool);
  KvCacheView kv;
  kv.k = k.data();
  kv.v = v.data();
  attention_decode(q.data() + 32 * 8 * 128, kv, od.data(), dims(1, 8, 2, 128, 1, 33), pool);
  const std::vector<float> last(o.end() - 8 * 128, o.end());
  CHECK(check_close(od, last, kAttentionTolerance).disposition == Disposition::passed);
}

TEST_CASE("bad attention shapes are rejected with the field named") {
  ThreadPool pool(1);
  std::vector<float> x(4096);
  KvCacheView kv;
  kv.k = kv.v = x.data();
  CHECK_THROWS_WITH_AS(attention_decode(x.data(), kv, x.data(), dims(1, 6, 4, 16, 1, 1), pool),
                       doctest::Contains("q_heads (6) must be a multiple of kv_heads (4)"),
                       std::invalid_argument);
  CHECK_THROWS_AS(attention_decode(x.data(), kv, x.data(), dims(1, 4, 4, 16, 2, 2), pool),
                  std::invalid_argument);
}

TEST_CASE("KV format helpers round-trip") {
  CHECK(bf16_to_float(float_to_bf16(1.5f)) == 1.5f);
  CHECK(bf16_to_float(float_to_bf16(1.0f + 1.0f / 256)) == 1.0f);  // ties to even
  for (float v : {1.0f, 0.5f, -2.25f, 0.007874f, 65504.f, 6.1035e-5f})
    CHECK(half_to_float(float_to_half(v)) == doctest::Approx(v).epsilon(1e-3));
  const float x[4] = {1, -2, 0.5f, 127};
  int8_t q[4];
  float s;
  quantize_int8_rows(x, q, &s, 1, 4);
  CHECK(s == 1.f);
  CHECK(q[1] == -2);
  CHECK(q[3] == 127);
}

TEST_CASE("float_to_bf16_row is float_to_bf16 bit for bit: ties to even, NaN, infinities, the tail") {
  // 37 values: 2 full 16-lane steps and a 5-element scalar tail.
  std::vector<float> x = {1.0f + 1.0f / 256,  // tie, rounds down to even
                          1.0f + 3.0f / 256,  // tie, rounds up to even
                          -0.0f, 1e-40f, -3.5f, std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::max()};
  uint32_t snan_bits = 0x7f800001u;  // signalling NaN: the kernel quiets it
  float snan;
  std::memcpy(&snan, &snan_bits, 4);
  x.push_back(snan);
  std::vector<float> rnd(27);
  fill_uniform(rnd, 3, -100.f, 100.f);
  x.insert(x.end(), rnd.begin(), rnd.end());
  REQUIRE(x.size() == 37);
  std::vector<uint16_t> got(x.size());
  float_to_bf16_row(x.data(), got.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) CHECK(got[i] == float_to_bf16(x[i]));
  CHECK(got[0] == 0x3f80);
  CHECK(got[1] == 0x3f82);
}
