// The optional last_level_cache and write_allocate keys (the cache-residency model's inputs): read
// in SI units with their sources, written back, absent by default, and located errors when wrong.
#include <doctest/doctest.h>

#include "tests/io/error_of.hpp"

#include <string>

#include "io/catalog.hpp"

using namespace llmroof;

namespace {

const std::string kHw = test::kMinimalCpuHardware;

const std::string kCache =
    "last_level_cache:\n"
    "  capacity_mib: {value: 32, source: \"sysfs\"}\n"
    "  read_gb_per_s: {value: 62.5, source: \"reread\"}\n"
    "write_allocate: {value: true, source: \"copy 1.3 x nt copy\"}\n"
    "write_back_cost: {value: 0.05, source: \"update 1.05 x read\"}\n";

std::string error_of(const std::string& yaml) {
  return test::input_error_of([&] { parse_hardware_yaml(yaml, "h.yaml"); });
}

}  // namespace

TEST_CASE("cache fields are absent by default and not written") {
  const HardwareSpec h = parse_hardware_yaml(kHw, "h.yaml");
  CHECK_FALSE(h.last_level_cache);
  CHECK_FALSE(h.write_allocate);
  const std::string out = hardware_to_yaml(h);
  CHECK(out.find("last_level_cache") == std::string::npos);
  CHECK(out.find("write_allocate") == std::string::npos);
  CHECK(h.write_back_cost == 1.0);
  CHECK(out.find("write_back_cost") == std::string::npos);
}

TEST_CASE("cache fields are read in SI units with their sources and round-trip") {
  const HardwareSpec h = parse_hardware_yaml(kHw + kCache, "h.yaml");
  REQUIRE(h.last_level_cache);
  CHECK(h.last_level_cache->capacity_bytes == 32.0 * 1024 * 1024);
  CHECK(h.last_level_cache->read_bytes_per_s == 62.5e9);
  CHECK(h.write_allocate);
  CHECK(h.sources.at("last_level_cache.capacity_bytes") == "sysfs");
  CHECK(h.sources.at("last_level_cache.read_bytes_per_s") == "reread");
  CHECK(h.sources.at("write_allocate") == "copy 1.3 x nt copy");
  CHECK(h.write_back_cost == 0.05);
  const HardwareSpec back = parse_hardware_yaml(hardware_to_yaml(h), "back.yaml");
  REQUIRE(back.last_level_cache);
  CHECK(back.last_level_cache->capacity_bytes == h.last_level_cache->capacity_bytes);
  CHECK(back.last_level_cache->read_bytes_per_s == 62.5e9);
  CHECK(back.write_allocate);
  CHECK(back.sources.at("write_allocate") == "copy 1.3 x nt copy");
  CHECK(back.write_back_cost == 0.05);
  CHECK(back.sources.at("write_back_cost") == "update 1.05 x read");
}

TEST_CASE("a measured write_allocate: false is kept with its source") {
  const HardwareSpec h = parse_hardware_yaml(
      kHw + "write_allocate: {value: false, source: \"copy 1.0 x\"}\n", "h.yaml");
  CHECK_FALSE(h.write_allocate);
  const HardwareSpec back = parse_hardware_yaml(hardware_to_yaml(h), "back.yaml");
  CHECK_FALSE(back.write_allocate);
  CHECK(back.sources.at("write_allocate") == "copy 1.0 x");
}

TEST_CASE("wrong cache fields are located errors") {
  using test::replace_once;
  const std::string ok = kHw + kCache;
  // A missing bandwidth names the map it is missing from.
  const std::string no_bw = replace_once(ok, "  read_gb_per_s: {value: 62.5, source: \"reread\"}\n", "");
  CHECK(error_of(no_bw).find("read_gb_per_s") != std::string::npos);
  CHECK(error_of(no_bw).find("h.yaml:8:") != std::string::npos);
  // Unknown keys are errors, with a suggestion.
  const std::string typo = replace_once(ok, "capacity_mib", "capacity_mb");
  CHECK(error_of(typo).find("unknown key 'capacity_mb'") != std::string::npos);
  CHECK(error_of(typo).find("h.yaml:9:3") != std::string::npos);
  // Numbers must be positive; write_allocate must be a bool, not a string or number.
  CHECK(error_of(replace_once(ok, "value: 32,", "value: 0,")).find("h.yaml:9:") !=
        std::string::npos);
  CHECK(error_of(replace_once(ok, "value: true,", "value: \"yes\",")).find("h.yaml:11:") !=
        std::string::npos);
  CHECK(error_of(replace_once(ok, "value: true,", "value: 1,")).find("write_allocate") !=
        std::string::npos);
  // write_back_cost is a fraction in (0, 1].
  CHECK(error_of(replace_once(ok, "value: 0.05,", "value: 1.5,")).find("h.yaml:12:") !=
        std::string::npos);
  CHECK(error_of(replace_once(ok, "value: 0.05,", "value: 0,")).find("write_back_cost") !=
        std::string::npos);
  // Both need a source.
  CHECK(error_of(replace_once(ok, ", source: \"copy 1.3 x nt copy\"", "")).find("source") !=
        std::string::npos);
}
