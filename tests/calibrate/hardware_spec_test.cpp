// to_hardware_spec: the efficiency factors come from calibrate's own kernel measurements.
#include <doctest/doctest.h>

#include "calibrate/calibrate.hpp"

using namespace llmroof;
using namespace llmroof::calibrate;

namespace {

Calibration synthetic(bool with_attention) {
  Calibration c;
  c.cpu = "Test CPU";
  c.date = "2026-01-01";
  c.threads = 1;
  c.dram_bytes_per_s = 40e9;
  // Decode GEMVs at 30 and 34 GB/s (median 0.8), prefill GEMM at 80 of 100 GOPS.
  c.kernels.push_back({"gemm_fp32", "m=1", true, 30e9, 40e9});
  c.kernels.push_back({"gemm_bf16", "m=1", true, 34e9, 40e9});
  c.kernels.push_back({"gemm_fp32", "m=512", false, 80e9, 100e9});
  if (with_attention) {
    c.kernels.push_back({"attention_decode", "kv=2048", true, 22e9, 40e9});
    c.kernels.push_back({"attention_prefill", "q=512", false, 45e9, 100e9});
  }
  return c;
}

}  // namespace

TEST_CASE("calibrate writes the attention factors it measured, and none after --quick") {
  const HardwareSpec hw = to_hardware_spec(synthetic(true), "host");
  CHECK(hw.efficiency.memory == doctest::Approx(0.8));
  CHECK(hw.efficiency.compute == doctest::Approx(0.8));
  REQUIRE(hw.efficiency.attention_memory);
  REQUIRE(hw.efficiency.attention_compute);
  CHECK(*hw.efficiency.attention_memory == doctest::Approx(0.55));
  CHECK(*hw.efficiency.attention_compute == doctest::Approx(0.45));
  CHECK(hw.sources.at("efficiency.attention_memory").find("attention_decode") != std::string::npos);
  CHECK(hw.sources.at("efficiency.attention_compute").find("attention_prefill") !=
        std::string::npos);
  CHECK_FALSE(hw.efficiency.compute_by_dtype[static_cast<int>(DType::int8)]);  // no W8A8 run
  Calibration with_w8a8 = synthetic(true);
  with_w8a8.kernels.push_back({"gemm_w8a8", "m=512", false, 720e9, 1000e9});
  const HardwareSpec hw8 = to_hardware_spec(with_w8a8, "host");
  CHECK(hw8.efficiency.compute_for(DType::int8) == doctest::Approx(0.72));
  CHECK(hw8.efficiency.compute_for(DType::fp32) == doctest::Approx(0.8));
  CHECK(hw8.sources.at("efficiency.compute_int8").find("W8A8") != std::string::npos);
  // Each decode GEMV's format gets its own memory factor: fp32 30/40, bf16 34/40.
  CHECK(hw8.efficiency.memory_for(DType::fp32) == doctest::Approx(0.75));
  CHECK(hw8.efficiency.memory_for(DType::bf16) == doctest::Approx(0.85));
  CHECK(hw8.efficiency.memory_for(DType::int4) == doctest::Approx(0.8));  // not measured: median
  // The bf16 / int8 KV decode runs become attention_memory_<dtype>: 18/40 and 26/40.
  Calibration kv = synthetic(true);
  kv.kernels.push_back({"attention_decode_bf16", "kv=2048 bf16 KV", true, 18e9, 40e9});
  kv.kernels.push_back({"attention_decode_int8", "kv=2048 int8 KV", true, 26e9, 40e9});
  const HardwareSpec hwkv = to_hardware_spec(kv, "host");
  CHECK(hwkv.efficiency.attention_memory_for(DType::bf16) == doctest::Approx(0.45));
  CHECK(hwkv.efficiency.attention_memory_for(DType::int8) == doctest::Approx(0.65));
  CHECK(hwkv.efficiency.attention_memory_for(DType::fp32) == doctest::Approx(0.55));
  CHECK(hwkv.efficiency.memory == doctest::Approx(0.8));  // attention runs are not GEMVs
  CHECK(hwkv.sources.at("efficiency.attention_memory_int8").find("int8 KV") != std::string::npos);
  const HardwareSpec quick = to_hardware_spec(synthetic(false), "host");
  CHECK_FALSE(quick.efficiency.attention_memory);
  CHECK_FALSE(quick.efficiency.attention_compute);
}

TEST_CASE("the fixed cost per kernel is the small ops' time beyond their bandwidth term") {
  Calibration c = synthetic(false);
  c.dispatch_overhead_s = 10e-9;
  // At 32 GB/s (40 GB/s x the GEMV efficiency 0.8): 48 KiB take 1.536 us, 128 KiB 4.096 us.
  // Fixed parts 2.0, 2.5 and 1.0 us: the median is 2.0 us.
  c.small_ops = {{"add", 49152, 3.536e-6, 0.1},
                 {"silu_mul", 131072, 6.596e-6, 0.1},
                 {"rmsnorm", 49152, 2.536e-6, 0.1}};
  const HardwareSpec hw = to_hardware_spec(c, "host");
  CHECK(hw.kernel_launch_overhead_s == doctest::Approx(2.0e-6).epsilon(1e-9));
  CHECK(hw.sources.at("kernel_launch_overhead_s").find("started cold") != std::string::npos);
  // Never below the empty fork/join (small ops faster than their bandwidth term, or none run).
  c.small_ops = {{"add", 49152, 1.0e-6, 0.1}};
  CHECK(to_hardware_spec(c, "host").kernel_launch_overhead_s == doctest::Approx(10e-9));
  c.small_ops.clear();
  const HardwareSpec none = to_hardware_spec(c, "host");
  CHECK(none.kernel_launch_overhead_s == doctest::Approx(10e-9));
  CHECK(none.sources.at("kernel_launch_overhead_s").find("empty job") != std::string::npos);
}

TEST_CASE("the hot fixed cost: small ops with their inputs in the L3, against its read-back rate") {
  Calibration c = synthetic(false);
  c.dispatch_overhead_s = 10e-9;
  c.small_ops = {{"add", 49152, 3.536e-6, 0.1}};  // cold: 2.0 us fixed, as above
  // Hot, at 80 GB/s read back from the L3: 12 KiB take 153.6 ns, 33 KiB 422.4 ns. Fixed parts
  // 100, 300 and -50 ns (faster than the read-back rate): the median is 100 ns.
  c.small_ops.push_back({"add", 12288, 253.6e-9, 0.1, true});
  c.small_ops.push_back({"silu_mul", 33792, 722.4e-9, 0.1, true});
  c.small_ops.push_back({"rmsnorm", 12288, 103.6e-9, 0.1, true});
  // Without a measured read-back rate (no last_level_cache) the spec has no hot figure.
  CHECK_FALSE(to_hardware_spec(c, "host").kernel_launch_overhead_hot_s);
  c.caches.l3_bytes_total = 32 << 20;
  c.cache_probe.reread_bytes_per_s = 80e9;
  const HardwareSpec hw = to_hardware_spec(c, "host");
  REQUIRE(hw.last_level_cache);
  REQUIRE(hw.kernel_launch_overhead_hot_s);
  CHECK(*hw.kernel_launch_overhead_hot_s == doctest::Approx(100e-9).epsilon(1e-6));
  CHECK(hw.sources.at("kernel_launch_overhead_hot_s").find("in the L3") != std::string::npos);
  // The cold figure ignores the hot samples (median of the cold ones alone).
  CHECK(hw.kernel_launch_overhead_s == doctest::Approx(2.0e-6).epsilon(1e-9));
  // Never below the empty fork/join.
  c.small_ops.back().time_s = 0;
  c.small_ops[2].time_s = 0;
  CHECK(*to_hardware_spec(c, "host").kernel_launch_overhead_hot_s == doctest::Approx(10e-9));
}
