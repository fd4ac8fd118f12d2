// Shared analyzer options -> Settings. Errors name the option so the user knows what to fix.
#include "cli/settings_options.hpp"

#include <array>
#include <utility>

#include "io/errors.hpp"

namespace llmroof::cli {

namespace {

using Choice = std::pair<std::string_view, DType>;

template <size_t N>
DType pick(std::string_view text, std::string_view option, const std::array<Choice, N>& choices) {
  std::string accepted;
  for (const auto& [name, type] : choices) {
    if (text == name) return type;
    accepted += (accepted.empty() ? "" : "|") + std::string(name);
  }
  throw InputError(std::string(option) + ": '" + std::string(text) + "' is not a supported format (" +
                   accepted + ")");
}

void require_positive(int64_t v, std::string_view option) {
  if (v <= 0)
    throw InputError(std::string(option) + " must be a positive integer (got " + std::to_string(v) +
                     ")");
}

// The analyzer's own bounds (analyzer/settings.hpp), checked here too so the message names the option.
void require_at_most(int64_t v, int64_t limit, std::string_view option) {
  if (v > limit)
    throw InputError(std::string(option) + " must be at most " + std::to_string(limit) + " (got " +
                     std::to_string(v) + ")");
}

// Runs before CLI11 converts the text, so "--batch abc" reads "--batch: 'abc' is not an integer"
// rather than CLI11's "Could not convert: --batch = abc".
const CLI::Validator& integer_text() {
  static const CLI::Validator v(
      [](std::string& text) -> std::string {
        size_t i = text.starts_with('-') ? 1 : 0;
        const bool digits =
            i < text.size() && text.find_first_not_of("0123456789", i) == std::string::npos;
        return digits ? "" : "'" + text + "' is not an integer";
      },
      "");
  return v;
}

}  // namespace

DType parse_weight_bits(std::string_view text, std::string_view option) {
  static constexpr std::array<Choice, 6> kChoices = {{{"32", DType::fp32}, {"16", DType::fp16},
                                                      {"bf16", DType::bf16}, {"8", DType::int8},
                                                      {"4", DType::int4}, {"fp8", DType::fp8}}};
  return pick(text, option, kChoices);
}

DType parse_activation_bits(std::string_view text, std::string_view option) {
  static constexpr std::array<Choice, 5> kChoices = {{{"32", DType::fp32}, {"16", DType::fp16},
                                                      {"bf16", DType::bf16}, {"8", DType::int8},
                                                      {"fp8", DType::fp8}}};
  return pick(text, option, kChoices);
}

DType parse_kv_bits(std::string_view text, std::string_view option) {
  static constexpr std::array<Choice, 6> kChoices = {{{"32", DType::fp32}, {"16", DType::fp16},
                                                      {"bf16", DType::bf16}, {"8", DType::int8},
                                                      {"4", DType::int4}, {"fp8", DType::fp8}}};
  return pick(text, option, kChoices);
}

void add_format_options(CLI::App& cmd, SettingsOptions& o) {
  cmd.add_option("--abits", o.abits, "Activations at the linear layers: 32|16|bf16|8|fp8")
      ->capture_default_str();
  cmd.add_option("--kvbits", o.kvbits, "KV cache: 32|16|bf16|8|4|fp8")->capture_default_str();
  cmd.add_option("--group-size", o.group_size,
                 "Group size of quantized weights along k (default: 128 for 4-bit, per-channel for "
                 "8-bit)");
  cmd.add_flag("--flash-attn", o.flash_attention, "Fused FlashAttention instead of qk/softmax/sv");
  cmd.add_option("--mode", o.mode,
                 "roofline: pure bound; realistic: hardware efficiencies and launch overheads")
      ->capture_default_str();
}

void add_settings_options(CLI::App& cmd, SettingsOptions& o) {
  cmd.add_option("--batch", o.batch, "Sequences processed together")
      ->check(integer_text())
      ->capture_default_str();
  cmd.add_option("--prompt-len", o.prompt_len, "Prompt tokens per sequence")
      ->check(integer_text())
      ->capture_default_str();
  cmd.add_option("--gen-len", o.gen_len, "Generated tokens per sequence")
      ->check(integer_text())
      ->capture_default_str();
  cmd.add_option("--wbits", o.wbits, "Linear-layer weights: 32|16|bf16|8|4|fp8")
      ->capture_default_str();
  cmd.add_option("--tp", o.tp, "Tensor-parallel degree (devices)")
      ->check(integer_text())
      ->capture_default_str();
  add_format_options(cmd, o);
}

Settings to_settings(const SettingsOptions& o) {
  require_positive(o.batch, "--batch");
  require_positive(o.prompt_len, "--prompt-len");
  require_positive(o.gen_len, "--gen-len");
  require_positive(o.tp, "--tp");
  require_at_most(o.batch, kMaxBatch, "--batch");
  require_at_most(o.prompt_len, kMaxSequenceTokens, "--prompt-len");
  require_at_most(o.prompt_len + o.gen_len, kMaxSequenceTokens, "--prompt-len + --gen-len");
  require_at_most(o.tp, kMaxTensorParallel, "--tp");
  Settings s;
  s.batch = o.batch;
  s.prompt_len = o.prompt_len;
  s.gen_len = o.gen_len;
  s.tp = o.tp;
  s.flash_attention = o.flash_attention;
  s.quant.weights = parse_weight_bits(o.wbits, "--wbits");
  s.quant.activations = parse_activation_bits(o.abits, "--abits");
  s.quant.kv_cache = parse_kv_bits(o.kvbits, "--kvbits");
  if (o.group_size == SettingsOptions::kAutoGroupSize) {
    s.quant.group_size = s.quant.weights == DType::int4 ? 128 : 0;
  } else {
    require_positive(o.group_size, "--group-size");
    s.quant.group_size = o.group_size;
  }
  if (o.mode == "roofline") {
    s.mode = Mode::roofline;
  } else if (o.mode == "realistic") {
    s.mode = Mode::realistic;
  } else {
    throw InputError("--mode: '" + o.mode + "' is not a mode (roofline|realistic)");
  }
  return s;
}

}  // namespace llmroof::cli
