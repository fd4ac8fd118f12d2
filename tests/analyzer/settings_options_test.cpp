// The shared CLI options (cli/settings_options.cpp) -> Settings, and their error messages.
#include "cli/settings_options.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "io/errors.hpp"

using namespace llmroof;

namespace {

Settings parse(std::vector<std::string> args) {
  CLI::App app;
  cli::SettingsOptions o;
  cli::add_settings_options(app, o);
  std::vector<std::string> rev(args.rbegin(), args.rend());
  app.parse(rev);  // CLI11 takes the arguments reversed
  return cli::to_settings(o);
}

}  // namespace

TEST_CASE("defaults: Llama-2 table settings, realistic mode") {
  const Settings s = parse({});
  CHECK(s.batch == 1);
  CHECK(s.prompt_len == 2048);
  CHECK(s.gen_len == 128);
  CHECK(s.quant.weights == DType::fp16);
  CHECK(s.quant.kv_cache == DType::fp16);
  CHECK(s.mode == Mode::realistic);
  CHECK_FALSE(s.flash_attention);
}

TEST_CASE("every option lands in Settings") {
  const Settings s = parse({"--batch", "8", "--prompt-len", "512", "--gen-len", "64", "--wbits",
                            "4", "--abits", "16", "--kvbits", "8", "--flash-attn", "--tp", "2",
                            "--mode", "roofline"});
  CHECK(s.batch == 8);
  CHECK(s.prompt_len == 512);
  CHECK(s.gen_len == 64);
  CHECK(s.quant.weights == DType::int4);
  CHECK(s.quant.group_size == 128);  // int4 default
  CHECK(s.quant.kv_cache == DType::int8);
  CHECK(s.flash_attention);
  CHECK(s.tp == 2);
  CHECK(s.mode == Mode::roofline);
  CHECK(parse({"--wbits", "8"}).quant.group_size == 0);  // per-channel
  CHECK(parse({"--wbits", "4", "--group-size", "64"}).quant.group_size == 64);
  CHECK(parse({"--wbits", "fp8", "--abits", "fp8"}).quant.activations == DType::fp8);
  CHECK(parse({"--wbits", "32", "--abits", "32"}).quant.weights == DType::fp32);
}

TEST_CASE("bad values name the option") {
  CHECK_THROWS_WITH_AS(parse({"--batch", "0"}), "--batch must be a positive integer (got 0)",
                       InputError);
  CHECK_THROWS_WITH_AS(parse({"--gen-len", "-3"}), "--gen-len must be a positive integer (got -3)",
                       InputError);
  CHECK_THROWS_WITH_AS(parse({"--group-size", "0"}),
                       "--group-size must be a positive integer (got 0)", InputError);
  CHECK_THROWS_WITH_AS(parse({"--kvbits", "2"}),
                       "--kvbits: '2' is not a supported format (32|16|bf16|8|4|fp8)", InputError);
  CHECK_THROWS_WITH_AS(parse({"--abits", "4"}),
                       "--abits: '4' is not a supported format (32|16|bf16|8|fp8)", InputError);
  CHECK_THROWS_WITH_AS(parse({"--mode", "fast"}),
                       "--mode: 'fast' is not a mode (roofline|realistic)", InputError);
  CHECK_THROWS_AS(parse({"--tp", "0"}), InputError);
}

TEST_CASE("values past the analyzer's bounds name the option (no int64 overflow)") {
  CHECK_THROWS_WITH_AS(parse({"--batch", "99999999999999"}),
                       "--batch must be at most 1048576 (got 99999999999999)", InputError);
  CHECK_THROWS_WITH_AS(parse({"--prompt-len", "16777216", "--gen-len", "1"}),
                       "--prompt-len + --gen-len must be at most 16777216 (got 16777217)",
                       InputError);
  CHECK_THROWS_WITH_AS(parse({"--tp", "2048"}), "--tp must be at most 1024 (got 2048)", InputError);
}

TEST_CASE("non-integer text names the option (not CLI11's 'Could not convert')") {
  CHECK_THROWS_WITH_AS(parse({"--batch", "abc"}), "--batch: 'abc' is not an integer",
                       CLI::ValidationError);
  CHECK_THROWS_WITH_AS(parse({"--prompt-len", "1e3"}), "--prompt-len: '1e3' is not an integer",
                       CLI::ValidationError);
  CHECK_THROWS_WITH_AS(parse({"--tp", "2.0"}), "--tp: '2.0' is not an integer",
                       CLI::ValidationError);
  CHECK(parse({"--batch", "12"}).batch == 12);
}
