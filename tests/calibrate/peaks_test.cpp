// The int8 peak is the one of the instruction the W8A8 GEMM runs on: AMX's tdpbusd where gemm()
// takes the AMX tile, vpdpbusd elsewhere; the other is kept for the record, not put in the spec.
// The same for bf16 and the bf16-weight GEMM: tdpbf16ps on AMX-BF16, else vdpbf16ps.
#include <doctest/doctest.h>

#include <string>

#include "calibrate/calibrate.hpp"
#include "calibrate/microbench.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu_features.hpp"

using namespace llmroof;
using namespace llmroof::calibrate;

TEST_CASE("only the in-spec int8 peak becomes dense_ops_per_s.int8; the other goes to notes") {
  Calibration c;
  c.cpu = "Test CPU";
  c.date = "2026-01-01";
  c.threads = 2;
  c.dram_bytes_per_s = 40e9;
  const PeakPoint amx{DType::int8, "tdpbusd tmm (AMX)", 12.5e12};
  const PeakPoint record{DType::int8, "vpdpbusd zmm", 1.7e12, false};
  // Both orders: a lookup that ignored in_spec would take the first, an assignment the last.
  for (const bool record_first : {true, false}) {
    CAPTURE(record_first);
    c.peaks = {{DType::fp32, "vfmadd231ps zmm", 400e9},
               record_first ? record : amx,
               record_first ? amx : record};
    CHECK(c.peak(DType::int8) == doctest::Approx(12.5e12));
    CHECK(c.peak(DType::bf16) == 0);
    const HardwareSpec hw = to_hardware_spec(c, "host");
    REQUIRE(hw.peak(DType::int8));
    CHECK(*hw.peak(DType::int8) == doctest::Approx(12.5e12));
    CHECK(hw.sources.at("dense_ops_per_s.int8").find("tdpbusd") != std::string::npos);
    CHECK(hw.notes.find("vpdpbusd zmm peak") != std::string::npos);
  }
  CHECK(format_calibration(c).find("for the record") != std::string::npos);
}

TEST_CASE("measure_peaks takes the AMX loops exactly where the GEMMs run on AMX") {
  kernels::ThreadPool pool(2);
  const auto peaks = measure_peaks(pool, 0.002);
  const bool amx8 = kernels::gemm_w8a8_uses_amx(), amx16 = kernels::gemm_bf16_uses_amx();
  const auto& f = kernels::cpu_features();
  int in_spec_int8 = 0, in_spec_bf16 = 0, records = 0;
  for (const PeakPoint& p : peaks) {
    CAPTURE(p.instruction);
    CHECK(p.ops_per_s > 0);
    if (!p.in_spec) {
      ++records;
      CHECK(p.instruction == (p.dtype == DType::int8 ? "vpdpbusd zmm" : "vdpbf16ps zmm"));
    } else if (p.dtype == DType::int8) {
      ++in_spec_int8;
      CHECK((p.instruction == "tdpbusd tmm (AMX)") == amx8);
    } else if (p.dtype == DType::bf16) {
      ++in_spec_bf16;
      CHECK((p.instruction == "tdpbf16ps tmm (AMX)") == amx16);
    }
  }
  CHECK(records == (amx8 && f.avx512_vnni ? 1 : 0) + (amx16 && f.avx512_bf16 ? 1 : 0));
  CHECK(in_spec_int8 == (amx8 || f.avx512_vnni ? 1 : 0));
  CHECK(in_spec_bf16 == (amx16 || f.avx512_bf16 ? 1 : 0));
  if (!amx8) MESSAGE("this CPU runs W8A8 without AMX: the tdpbusd loop was not exercised");
  if (!amx16)
    MESSAGE("this CPU runs bf16 weights without AMX: the tdpbf16ps loop was not exercised");
}

TEST_CASE("run_peak_loop runs about the ops asked, in whole iterations of the dtype's loop") {
  kernels::ThreadPool pool(2);
  // An iteration on 2 threads: 16 x 32 768 ops (tdpbusd) or 16 x 128 (vpdpbusd).
  const double per_iter = kernels::gemm_w8a8_uses_amx() ? 2 * 16 * 32768.0 : 2 * 16 * 128.0;
  const double asked = 100.5 * per_iter;
  const double ran = run_peak_loop(pool, DType::int8, asked);
  if (ran == 0) {
    CHECK_FALSE(kernels::cpu_features().avx512_vnni);  // no int8 loop on this CPU
    return;
  }
  CHECK(ran == doctest::Approx(100 * per_iter));
  // bf16: 16 x 16 384 ops (tdpbf16ps) or 16 x 64 (vdpbf16ps) an iteration and thread
  const double per_iter16 = kernels::gemm_bf16_uses_amx() ? 2 * 16 * 16384.0 : 2 * 16 * 64.0;
  const double ran16 = run_peak_loop(pool, DType::bf16, 100.5 * per_iter16);
  if (ran16 == 0) {
    CHECK_FALSE(kernels::cpu_features().avx512_bf16);  // no bf16 loop on this CPU
    return;
  }
  CHECK(ran16 == doctest::Approx(100 * per_iter16));
}
