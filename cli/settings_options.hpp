#pragma once
// The workload and deployment options every analyzer-driven command shares (analyze, validate,
// sweep, plan): --batch --prompt-len --gen-len --wbits --abits --kvbits --group-size --flash-attn
// --tp --mode. Bind them with add_settings_options, then turn them into Settings with to_settings,
// which throws InputError naming the option for a zero, negative or unknown value.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "analyzer/settings.hpp"

namespace llmroof::cli {

struct SettingsOptions {
  // Raw values as typed; the initial values are the defaults shown in --help.
  int64_t batch = 1;
  int64_t prompt_len = 2048;
  int64_t gen_len = 128;
  std::string wbits = "16";   // 32 | 16 | bf16 | 8 | 4 | fp8
  std::string abits = "16";   // 32 | 16 | bf16 | 8 | fp8
  std::string kvbits = "16";  // 32 | 16 | bf16 | 8 | 4 | fp8
  // Not given (kAutoGroupSize): 128 for int4, per-channel for int8 / fp8.
  static constexpr int64_t kAutoGroupSize = -(int64_t{1} << 62);
  int64_t group_size = kAutoGroupSize;
  bool flash_attention = false;
  int64_t tp = 1;
  std::string mode = "realistic";
};

// Adds the options to `cmd`, bound to `o` (its current values become the defaults).
void add_settings_options(CLI::App& cmd, SettingsOptions& o);
// Only the options sweep and plan do not turn into lists: --abits --kvbits --group-size
// --flash-attn --mode (add_settings_options adds these too).
void add_format_options(CLI::App& cmd, SettingsOptions& o);
// Validates and converts. Throws InputError("--batch must be a positive integer (got 0)").
Settings to_settings(const SettingsOptions& o);

// One format option: "--wbits" "4" -> int4. Throws InputError listing the accepted values.
DType parse_weight_bits(std::string_view text, std::string_view option);
DType parse_activation_bits(std::string_view text, std::string_view option);
DType parse_kv_bits(std::string_view text, std::string_view option);

}  // namespace llmroof::cli
