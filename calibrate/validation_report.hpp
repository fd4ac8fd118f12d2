#pragma once
// Printers for a validation run: table (human units), md, json (validation_json.hpp), csv (SI units).
#include <string>
#include <string_view>

#include "calibrate/validation.hpp"

namespace llmroof::calibrate {

// format: "table", "md", "json" or "csv"; throws InputError for anything else.
std::string format_validation(const ValidationRun& run, std::string_view format);

}  // namespace llmroof::calibrate
