#pragma once
// Helpers shared by the io tests: a minimal hardware file, the message of the InputError a call throws, and a one-place
// text edit that fails the test when the text to replace is absent (so a mutation can't be a no-op).
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "io/errors.hpp"

namespace llmroof::test {

// The smallest valid CPU hardware file: the tests of optional keys append theirs to it.
inline const std::string kMinimalCpuHardware =
    "name: x\n"
    "vendor: V\n"
    "kind: cpu\n"
    "memory_capacity_gb: {value: 24, source: \"os\"}\n"
    "memory_bandwidth_gb_per_s: {value: 20, source: \"measured\"}\n"
    "dense_tops:\n"
    "  fp32: {value: 0.1, source: \"measured\"}\n";

inline std::string input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

inline std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  return text.replace(pos, from.size(), to);
}

}  // namespace llmroof::test
