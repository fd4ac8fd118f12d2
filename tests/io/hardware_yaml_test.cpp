// parse_hardware_yaml / hardware_to_yaml: units converted to SI, sources kept, bad input located.
#include <doctest/doctest.h>

#include "tests/io/error_of.hpp"

#include <string>

#include "io/catalog.hpp"

using namespace llmroof;

namespace {

const std::string kHw =
    "name: x\n"
    "vendor: V\n"
    "kind: gpu\n"
    "memory_capacity_gb: {value: 48, source: \"sheet\"}\n"
    "memory_bandwidth_gb_per_s: {value: 768, source: \"sheet\"}\n"
    "dense_tops:\n"
    "  fp16: {value: 154.8, source: \"half of sparse\"}\n";

const auto replace = test::replace_once;

std::string error_of(const std::string& yaml) {
  return test::input_error_of([&] { parse_hardware_yaml(yaml, "h.yaml"); });
}

}  // namespace

TEST_CASE("minimal hardware: SI units, sources, defaults") {
  HardwareSpec h = parse_hardware_yaml(kHw, "h.yaml");
  CHECK(h.memory_bytes == 48e9);
  CHECK(h.memory_bandwidth_bytes_per_s == 768e9);
  REQUIRE(h.peak(DType::fp16));
  CHECK(*h.peak(DType::fp16) == doctest::Approx(154.8e12).epsilon(1e-12));
  CHECK_FALSE(h.peak(DType::fp32));  // absent = unsupported
  CHECK(*h.ridge_ops_per_byte(DType::fp16) == doctest::Approx(201.5625));
  CHECK(h.sources.at("dense_ops_per_s.fp16") == "half of sparse");
  CHECK(h.devices_per_node == 1);
  CHECK(h.efficiency.memory == 1.0);
}

TEST_CASE("every optional group converts to SI") {
  HardwareSpec h = parse_hardware_yaml(
      kHw +
          "sparse_tops:\n  fp16: {value: 309.7, source: s}\n"
          "num_cores: {value: 84, source: s}\n"
          "onchip_kib_per_core: {value: 128, source: s}\n"
          "onchip_mib_total: {value: 6, source: s}\n"
          "kernel_launch_overhead_us: {value: 5, source: s}\n"
          "kernel_launch_overhead_hot_us: {value: 0.4, source: hot}\n"
          "interconnect:\n"
          "  name: NVLink\n"
          "  bandwidth_gb_per_s_per_direction: {value: 56.25, source: s}\n"
          "  latency_us: {value: 5, source: s}\n"
          "  devices_per_node: {value: 2, source: s}\n"
          "efficiency:\n  memory: {value: 0.8, source: e}\n",
      "h.yaml");
  CHECK(*h.sparse_ops_per_s[static_cast<int>(DType::fp16)] == doctest::Approx(309.7e12));
  CHECK(h.num_cores == 84);
  CHECK(h.onchip_bytes_per_core == 131072);
  CHECK(h.onchip_bytes_total == 6 * 1048576);
  CHECK(h.kernel_launch_overhead_s == doctest::Approx(5e-6));
  REQUIRE(h.kernel_launch_overhead_hot_s);
  CHECK(*h.kernel_launch_overhead_hot_s == doctest::Approx(0.4e-6));
  CHECK(h.sources.at("kernel_launch_overhead_hot_s") == "hot");
  CHECK_FALSE(parse_hardware_yaml(kHw, "h.yaml").kernel_launch_overhead_hot_s);  // optional
  CHECK(h.interconnect_name == "NVLink");
  CHECK(h.interconnect_bandwidth_bytes_per_s == 56.25e9);
  CHECK(h.interconnect_latency_s == doctest::Approx(5e-6));
  CHECK(h.devices_per_node == 2);
  CHECK(h.efficiency.memory == 0.8);
  CHECK(h.efficiency.compute == 1.0);
  // Round trip through the writer `calibrate` uses.
  HardwareSpec r = parse_hardware_yaml(hardware_to_yaml(h), "r.yaml");
  CHECK(hardware_to_yaml(r) == hardware_to_yaml(h));
  CHECK(r.sources == h.sources);
  CHECK(r.onchip_bytes_per_core == h.onchip_bytes_per_core);
  CHECK(*r.kernel_launch_overhead_hot_s == doctest::Approx(0.4e-6));
  CHECK(*r.peak(DType::fp16) == *h.peak(DType::fp16));
}

TEST_CASE("the writer quotes what YAML would misread") {
  HardwareSpec h = parse_hardware_yaml(kHw, "h.yaml");
  h.name = "my gpu: #1";
  h.vendor = "yes";
  h.notes = "say \"hi\"\nbye";
  HardwareSpec r = parse_hardware_yaml(hardware_to_yaml(h), "r.yaml");
  CHECK(r.name == h.name);
  CHECK(r.vendor == "yes");
  CHECK(r.notes == h.notes);
}

TEST_CASE("hardware errors") {
  CHECK(error_of(replace(kHw, "memory_bandwidth_gb_per_s", "memory_bandwith_gb_per_s")) ==
        "h.yaml:5:1: unknown key 'memory_bandwith_gb_per_s' (did you mean "
        "'memory_bandwidth_gb_per_s'?)\n"
        "  memory_bandwith_gb_per_s: {value: 768, source: \"sheet\"}\n"
        "  ^");
  CHECK(error_of(replace(kHw, "fp16: {", "fp17: {")) ==
        "h.yaml:7:3: unknown key 'fp17' in 'dense_tops' (did you mean 'fp16'?)\n"
        "    fp17: {value: 154.8, source: \"half of sparse\"}\n"
        "    ^");
  CHECK(error_of(replace(kHw, "{value: 768, source: \"sheet\"}", "{value: 768}")) ==
        "h.yaml:5:1: missing required key 'memory_bandwidth_gb_per_s.source'\n"
        "  memory_bandwidth_gb_per_s: {value: 768}\n"
        "  ^");
  CHECK(error_of(replace(kHw, "{value: 768, source: \"sheet\"}", "768")) ==
        "h.yaml:5:28: 'memory_bandwidth_gb_per_s' must be a map of fields, got '768'\n"
        "  memory_bandwidth_gb_per_s: 768\n"
        "                             ^");
  CHECK(error_of(replace(kHw, "value: 768", "value: .nan")) ==
        "h.yaml:5:36: 'memory_bandwidth_gb_per_s.value' must be a finite number, got .nan\n"
        "  memory_bandwidth_gb_per_s: {value: .nan, source: \"sheet\"}\n"
        "                                     ^");
  CHECK(error_of(replace(kHw, "value: 768", "value: 0")) ==
        "h.yaml:5:36: 'memory_bandwidth_gb_per_s.value' must be positive, got 0\n"
        "  memory_bandwidth_gb_per_s: {value: 0, source: \"sheet\"}\n"
        "                                     ^");
  CHECK(error_of(replace(kHw, "kind: gpu", "kind: tpu")) ==
        "h.yaml:3:7: 'kind' must be one of gpu, npu, xpu, cpu, got 'tpu' (did you mean 'gpu'?)\n"
        "  kind: tpu\n"
        "        ^");
  CHECK(error_of(kHw + "efficiency:\n  memory: {value: 1.2, source: e}\n") ==
        "h.yaml:9:19: 'efficiency.memory.value' must be at most 1 (a fraction of peak), got 1.2\n"
        "    memory: {value: 1.2, source: e}\n"
        "                    ^");
  CHECK(error_of(kHw + "low_confidence: true\n") ==
        "h.yaml:8:17: low_confidence is true: say why in 'notes'\n"
        "  low_confidence: true\n"
        "                  ^");
  CHECK(error_of(replace(kHw, "kind: gpu\n", "")) ==
        "h.yaml:1:1: missing required key 'kind'\n"
        "  name: x\n"
        "  ^");
}
