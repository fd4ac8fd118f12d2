#pragma once
// JSON form of a validation run (`--format json`, `--save-baseline`, `--baseline`). Versioned schema,
// documented in docs/validate.md; SI units; every field written. Parsing is strict: a missing key or a
// wrong type is an InputError naming the file and the key.
#include <string>
#include <string_view>

#include "calibrate/validation.hpp"

namespace llmroof::calibrate {

inline constexpr int kValidationSchemaVersion = 1;

std::string validation_to_json(const ValidationRun& run, int indent = 2);
ValidationRun validation_from_json(std::string_view text, std::string_view filename);

// File helpers used by the CLI (thin layer over the text functions).
void save_validation(const ValidationRun& run, const std::string& path);
ValidationRun load_validation(const std::string& path);

}  // namespace llmroof::calibrate
