// The decode attention probe of calibrate and validate's device check (calibrate/attention_probe.hpp)
// and validate's note on it (attention_probe_note): sizes and ratios hand-derived, no timings.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "calibrate/attention_probe.hpp"
#include "calibrate/validate.hpp"
#include "kernels/thread_pool.hpp"

using namespace llmroof;
using namespace llmroof::calibrate;

TEST_CASE("kv_copy_bytes: K and V of every (token, head), int8 with an fp16 scale per row") {
  // 2 tokens x 1 head x 16: K and V of 32 elements each.
  CHECK(kv_copy_bytes(kernels::KvFormat::fp32, 2, 1, 16) == 2 * 32 * 4);
  CHECK(kv_copy_bytes(kernels::KvFormat::bf16, 2, 1, 16) == 2 * 32 * 2);
  CHECK(kv_copy_bytes(kernels::KvFormat::int8, 2, 1, 16) == 2 * (32 + 2 * 2));
}

TEST_CASE("DecodeAttentionProbe: enough copies to span the rotation, at least min_copies") {
  kernels::AttentionDims d;
  d.batch = 2;
  d.q_heads = 4;
  d.kv_heads = 2;
  d.head_dim = 16;
  d.kv_len = 8;
  // One copy: 2 x 8 tokens x 2 heads x 16 fp32 = 2048 bytes of K, as many of V: 4096 bytes.
  DecodeAttentionProbe p(d, kernels::KvFormat::fp32, 9000, 1);
  CHECK(p.copies() == 3);  // ceil(9000 / 4096)
  CHECK(DecodeAttentionProbe(d, kernels::KvFormat::fp32, 100, 2).copies() == 2);
  CHECK(p.dims().q_len == 1);
  kernels::ThreadPool pool(1);
  for (size_t i = 0; i < 4; ++i) p.run(i, pool);  // every copy is a valid cache (int8 too)
  DecodeAttentionProbe q8(d, kernels::KvFormat::int8, 0, 1);
  q8.run(0, pool);
}

TEST_CASE("attention_probe_note: measured / kernel alone and kernel alone / predicted") {
  OpResult r;
  r.phase = "decode";
  r.name = "fused_attention";
  r.predicted_s = 700e-6;
  r.measured_s = 880e-6;
  // Probe samples 800, 800, 820 us: median 800 us. 880 / 800 = 1.10, 800 / 700 = 1.14.
  const std::vector<double> probe{800e-6, 820e-6, 800e-6};
  const std::string line = attention_probe_note(probe, &r);
  CHECK(line.find("median [p25-p75]: 800 [800-810] us") != std::string::npos);
  CHECK(line.find("measured 1.10 x it") != std::string::npos);
  CHECK(line.find("1.14 x the prediction") != std::string::npos);
  CHECK(line.find("ran more than 10 % below its calibration") != std::string::npos);
  CHECK(line.find("slower than the kernel alone") == std::string::npos);  // 1.10 is not above 1.1
  r.measured_s = 1000e-6;  // 1.25 x the kernel alone
  CHECK(attention_probe_note(probe, &r).find("slower than the kernel alone") != std::string::npos);
  r.predicted_s = 800e-6;  // the kernel alone on its prediction: no flag
  CHECK(attention_probe_note(probe, &r).find("below its calibration") == std::string::npos);
  CHECK(attention_probe_note({}, &r).empty());
  CHECK(attention_probe_note(probe, nullptr).empty());
  r.measured_s = 0;
  CHECK(attention_probe_note(probe, &r).empty());
}
