#pragma once
// The analyzer: a pure function. No I/O, no globals, no environment. Throws AnalysisError for
// settings it cannot honour (e.g. a dtype the hardware lacks, tp not dividing the heads).
#include <stdexcept>

#include "analyzer/analysis.hpp"
#include "analyzer/hardware_spec.hpp"
#include "analyzer/model_spec.hpp"
#include "analyzer/settings.hpp"

namespace llmroof {

struct AnalysisError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Analysis analyze(const ModelSpec& model, const HardwareSpec& hw, const Settings& settings);

}  // namespace llmroof
