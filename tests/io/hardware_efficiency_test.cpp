// The optional efficiency.attention_memory / attention_compute keys: read, written back, and absent
// by default (the analyzer then uses efficiency.memory / compute for attention).
#include <doctest/doctest.h>

#include "tests/io/error_of.hpp"

#include <string>

#include "io/catalog.hpp"

using namespace llmroof;

namespace {

const std::string kHw = test::kMinimalCpuHardware;

std::string error_of(const std::string& yaml) {
  return test::input_error_of([&] { parse_hardware_yaml(yaml, "h.yaml"); });
}

}  // namespace

TEST_CASE("attention efficiencies are optional and absent by default") {
  const HardwareSpec h = parse_hardware_yaml(kHw + "efficiency:\n  memory: {value: 0.8, source: \"m\"}\n",
                                             "h.yaml");
  CHECK(h.efficiency.memory == 0.8);
  CHECK_FALSE(h.efficiency.attention_memory);
  CHECK_FALSE(h.efficiency.attention_compute);
  CHECK(hardware_to_yaml(h).find("attention") == std::string::npos);
}

TEST_CASE("attention efficiencies round-trip with their sources") {
  const std::string yaml = kHw +
                           "efficiency:\n"
                           "  memory: {value: 0.85, source: \"gemv\"}\n"
                           "  attention_memory: {value: 0.54, source: \"attention_decode\"}\n"
                           "  attention_compute: {value: 0.47, source: \"attention_prefill\"}\n"
                           "  attention_compute_short: {value: 0.16, source: \"q=64\"}\n";
  const HardwareSpec h = parse_hardware_yaml(yaml, "h.yaml");
  REQUIRE(h.efficiency.attention_memory);
  REQUIRE(h.efficiency.attention_compute);
  CHECK(*h.efficiency.attention_memory == 0.54);
  CHECK(*h.efficiency.attention_compute == 0.47);
  CHECK(h.sources.at("efficiency.attention_memory") == "attention_decode");
  CHECK(h.sources.at("efficiency.attention_compute") == "attention_prefill");
  const HardwareSpec back = parse_hardware_yaml(hardware_to_yaml(h), "back.yaml");
  REQUIRE(back.efficiency.attention_memory);
  REQUIRE(back.efficiency.attention_compute);
  CHECK(*back.efficiency.attention_memory == 0.54);
  CHECK(*back.efficiency.attention_compute == 0.47);
  CHECK(back.efficiency.memory == 0.85);
  CHECK(back.sources.at("efficiency.attention_compute") == "attention_prefill");
  REQUIRE(back.efficiency.attention_compute_short);
  CHECK(*back.efficiency.attention_compute_short == 0.16);
  CHECK(back.sources.at("efficiency.attention_compute_short") == "q=64");
}

TEST_CASE("attention efficiencies are checked like the others") {
  CHECK(error_of(kHw + "efficiency:\n  attention_memory: {value: 1.5, source: \"s\"}\n")
            .find("must be at most 1") != std::string::npos);
  CHECK(error_of(kHw + "efficiency:\n  attention_memroy: {value: 0.5, source: \"s\"}\n")
            .find("unknown key 'attention_memroy'") != std::string::npos);
  CHECK(error_of(kHw + "efficiency:\n  attention_compute: {value: 0.5}\n").find("source") !=
        std::string::npos);
}

TEST_CASE("per-dtype compute efficiencies round-trip and are checked; absent means compute") {
  const std::string yaml = kHw +
                           "efficiency:\n"
                           "  compute: {value: 0.8, source: \"fp32 gemm\"}\n"
                           "  compute_int8: {value: 0.72, source: \"w8a8 gemm\"}\n";
  const HardwareSpec h = parse_hardware_yaml(yaml, "h.yaml");
  REQUIRE(h.efficiency.compute_by_dtype[static_cast<int>(DType::int8)]);
  CHECK(h.efficiency.compute_for(DType::int8) == 0.72);
  CHECK(h.efficiency.compute_for(DType::fp32) == 0.8);  // no compute_fp32: the general factor
  CHECK(h.sources.at("efficiency.compute_int8") == "w8a8 gemm");
  const HardwareSpec back = parse_hardware_yaml(hardware_to_yaml(h), "back.yaml");
  CHECK(back.efficiency.compute_for(DType::int8) == 0.72);
  CHECK_FALSE(back.efficiency.compute_by_dtype[static_cast<int>(DType::bf16)]);
  CHECK(error_of(kHw + "efficiency:\n  compute_int8: {value: 1.2, source: \"s\"}\n")
            .find("must be at most 1") != std::string::npos);
  CHECK(error_of(kHw + "efficiency:\n  compute_int9: {value: 0.5, source: \"s\"}\n")
            .find("unknown key 'compute_int9'") != std::string::npos);
}

TEST_CASE("per-weight-format memory efficiencies round-trip; absent means memory") {
  const std::string yaml = kHw +
                           "efficiency:\n"
                           "  memory: {value: 0.9, source: \"median gemv\"}\n"
                           "  memory_int4: {value: 0.7, source: \"int4 gemv\"}\n";
  const HardwareSpec h = parse_hardware_yaml(yaml, "h.yaml");
  CHECK(h.efficiency.memory_for(DType::int4) == 0.7);
  CHECK(h.efficiency.memory_for(DType::bf16) == 0.9);
  const HardwareSpec back = parse_hardware_yaml(hardware_to_yaml(h), "back.yaml");
  CHECK(back.efficiency.memory_for(DType::int4) == 0.7);
  CHECK(back.sources.at("efficiency.memory_int4") == "int4 gemv");
  CHECK(error_of(kHw + "efficiency:\n  memory_int4: {value: 0, source: \"s\"}\n").find("value") !=
        std::string::npos);
}

TEST_CASE("the W8A8 memory efficiency round-trips; absent means memory_int8, then memory") {
  const std::string yaml = kHw +
                           "efficiency:\n"
                           "  memory: {value: 0.9, source: \"median gemv\"}\n"
                           "  memory_int8: {value: 0.8, source: \"w8a16 gemv\"}\n"
                           "  memory_w8a8: {value: 0.75, source: \"w8a8 gemv\"}\n";
  const HardwareSpec h = parse_hardware_yaml(yaml, "h.yaml");
  CHECK(h.efficiency.memory_for(DType::int8, DType::int8) == 0.75);
  CHECK(h.efficiency.memory_for(DType::int8, DType::fp32) == 0.8);  // W8A16
  CHECK(h.efficiency.memory_for(DType::int4, DType::int8) == 0.9);  // W4A8: neither key
  const HardwareSpec back = parse_hardware_yaml(hardware_to_yaml(h), "back.yaml");
  CHECK(back.efficiency.memory_w8a8 == 0.75);
  CHECK(back.sources.at("efficiency.memory_w8a8") == "w8a8 gemv");
  const HardwareSpec no_key = parse_hardware_yaml(
      kHw + "efficiency:\n  memory_int8: {value: 0.8, source: \"s\"}\n", "h.yaml");
  CHECK(!no_key.efficiency.memory_w8a8);
  CHECK(no_key.efficiency.memory_for(DType::int8, DType::int8) == 0.8);
  CHECK(error_of(kHw + "efficiency:\n  memory_w8a8: {value: 1.5, source: \"s\"}\n").find("memory_w8a8") !=
        std::string::npos);
}

TEST_CASE("per-KV-dtype attention efficiencies round-trip; absent means attention_memory, then memory") {
  const std::string yaml = kHw +
                           "efficiency:\n"
                           "  memory: {value: 0.9, source: \"gemv\"}\n"
                           "  attention_memory: {value: 0.6, source: \"fp32 kv\"}\n"
                           "  attention_memory_int8: {value: 0.55, source: \"int8 kv\"}\n";
  const HardwareSpec h = parse_hardware_yaml(yaml, "h.yaml");
  CHECK(h.efficiency.attention_memory_for(DType::int8) == 0.55);
  CHECK(h.efficiency.attention_memory_for(DType::bf16) == 0.6);  // not given: attention_memory
  CHECK(h.sources.at("efficiency.attention_memory_int8") == "int8 kv");
  const HardwareSpec back = parse_hardware_yaml(hardware_to_yaml(h), "back.yaml");
  CHECK(back.efficiency.attention_memory_for(DType::int8) == 0.55);
  CHECK(back.sources.at("efficiency.attention_memory_int8") == "int8 kv");
  const HardwareSpec plain = parse_hardware_yaml(kHw + "efficiency:\n  memory: {value: 0.9, source: \"m\"}\n",
                                                 "h.yaml");
  CHECK(plain.efficiency.attention_memory_for(DType::int8) == 0.9);  // neither: memory
  CHECK(error_of(kHw + "efficiency:\n  attention_memory_int9: {value: 0.5, source: \"s\"}\n")
            .find("unknown key 'attention_memory_int9'") != std::string::npos);
}
