// parse_model_yaml: every kind of bad input gets its exact message, pointing at the input.
#include <doctest/doctest.h>

#include "tests/io/error_of.hpp"

#include <string>

#include "io/catalog.hpp"

using namespace llmroof;

namespace {

// A valid model; tests edit one line at a time.
const std::string kTiny =
    "name: t\n"
    "family: llama\n"
    "hidden_size: 256\n"
    "num_layers: 2\n"
    "num_attention_heads: 4\n"
    "num_key_value_heads: 2\n"
    "intermediate_size: 512\n"
    "vocab_size: 1000\n"
    "max_position_embeddings: 2048\n"
    "activation: silu\n"
    "gated_mlp: true\n"
    "norm: rmsnorm\n"
    "positional_encoding: rope\n"
    "qkv_bias: false\n"
    "tied_embeddings: false\n";

const auto replace = test::replace_once;

std::string error_of(const std::string& yaml) {
  return test::input_error_of([&] { parse_model_yaml(yaml, "m.yaml"); });
}

const std::string kMoe =
    "moe:\n"
    "  num_experts: 8\n"
    "  experts_per_token: 2\n"
    "  expert_intermediate_size: 1024\n";

}  // namespace

TEST_CASE("a valid model parses, with head_dim derived") {
  ModelSpec m = parse_model_yaml(kTiny, "m.yaml");
  CHECK(m.name == "t");
  CHECK(m.hidden_size == 256);
  CHECK(m.head_dim == 64);
  CHECK(m.kv_dim() == 128);
  CHECK_FALSE(m.is_moe());
  CHECK(m.sliding_window == 0);
}

TEST_CASE("model_to_yaml round-trips") {
  ModelSpec m = parse_model_yaml(kTiny + kMoe + "  num_shared_experts: 1\n"
                                 "  shared_expert_intermediate_size: 2048\n"
                                 "  shared_expert_gate: true\n"
                                 "  sparse_step: 2\n"
                                 "  first_sparse_layer: 1\n", "m.yaml");
  ModelSpec r = parse_model_yaml(model_to_yaml(m), "r.yaml");
  CHECK(model_to_yaml(r) == model_to_yaml(m));
  REQUIRE(r.moe);
  CHECK(r.moe->shared_expert_intermediate_size == 2048);
  CHECK(r.moe->sparse_step == 2);
  CHECK(r.moe->first_sparse_layer == 1);
  CHECK(r.num_sparse_layers() == 1);
}

TEST_CASE("unknown key: file:line:col, the line, a caret, did-you-mean") {
  CHECK(error_of(replace(kTiny, "hidden_size: 256", "hiden_size: 256")) ==
        "m.yaml:3:1: unknown key 'hiden_size' (did you mean 'hidden_size'?)\n"
        "  hiden_size: 256\n"
        "  ^");
  CHECK(error_of(kTiny + "colour: blue\n") ==
        "m.yaml:16:1: unknown key 'colour'\n"
        "  colour: blue\n"
        "  ^");
  CHECK(error_of(kTiny + kMoe + "  num_expert: 3\n") ==
        "m.yaml:20:3: unknown key 'num_expert' in 'moe' (did you mean 'num_experts'?)\n"
        "    num_expert: 3\n"
        "    ^");
}

TEST_CASE("duplicate key") {
  CHECK(error_of(kTiny + "vocab_size: 2000\n") ==
        "m.yaml:16:1: duplicate key 'vocab_size'\n"
        "  vocab_size: 2000\n"
        "  ^");
}

TEST_CASE("missing required key points at the enclosing map") {
  CHECK(error_of(replace(kTiny, "vocab_size: 1000\n", "")) ==
        "m.yaml:1:1: missing required key 'vocab_size'\n"
        "  name: t\n"
        "  ^");
  CHECK(error_of(kTiny + "moe:\n  num_experts: 8\n  experts_per_token: 2\n") ==
        "m.yaml:16:1: missing required key 'moe.expert_intermediate_size'\n"
        "  moe:\n"
        "  ^");
  CHECK(error_of(replace(kTiny, "intermediate_size: 512\n", "")) ==
        "m.yaml:1:1: missing required key 'intermediate_size'\n"
        "  name: t\n"
        "  ^");
}

TEST_CASE("an all-sparse MoE model needs no intermediate_size") {
  ModelSpec m = parse_model_yaml(replace(kTiny, "intermediate_size: 512\n", "") + kMoe, "m.yaml");
  CHECK(m.intermediate_size == 0);
  CHECK(m.num_sparse_layers() == 2);
}

TEST_CASE("wrong types are errors, never 'missing'") {
  CHECK(error_of(replace(kTiny, "hidden_size: 256", "hidden_size: big")) ==
        "m.yaml:3:14: 'hidden_size' must be an integer, got 'big'\n"
        "  hidden_size: big\n"
        "               ^");
  CHECK(error_of(replace(kTiny, "hidden_size: 256", "hidden_size: \"256\"")) ==
        "m.yaml:3:14: 'hidden_size' must be an integer, got the string \"256\"\n"
        "  hidden_size: \"256\"\n"
        "               ^");
  CHECK(error_of(replace(kTiny, "hidden_size: 256", "hidden_size: 256.5")) ==
        "m.yaml:3:14: 'hidden_size' must be an integer, got '256.5'\n"
        "  hidden_size: 256.5\n"
        "               ^");
  CHECK(error_of(replace(kTiny, "hidden_size: 256", "hidden_size: [256]")) ==
        "m.yaml:3:14: 'hidden_size' must be an integer, got a list\n"
        "  hidden_size: [256]\n"
        "               ^");
  CHECK(error_of(replace(kTiny, "hidden_size: 256", "hidden_size:")) ==
        "m.yaml:3:1: 'hidden_size' must be an integer, got null\n"
        "  hidden_size:\n"
        "  ^");
  CHECK(error_of(replace(kTiny, "gated_mlp: true", "gated_mlp: yes")) ==
        "m.yaml:11:12: 'gated_mlp' must be true or false, got 'yes'\n"
        "  gated_mlp: yes\n"
        "             ^");
  CHECK(error_of(replace(kTiny, "norm: rmsnorm", "norm: rms_norm")) ==
        "m.yaml:12:7: 'norm' must be one of rmsnorm, layernorm, got 'rms_norm' (did you mean "
        "'rmsnorm'?)\n"
        "  norm: rms_norm\n"
        "        ^");
  CHECK(error_of(kTiny + "moe: 3\n") ==
        "m.yaml:16:6: 'moe' must be a map of fields, got '3'\n"
        "  moe: 3\n"
        "       ^");
}

TEST_CASE("zero, negative and non-finite numbers") {
  CHECK(error_of(replace(kTiny, "num_layers: 2", "num_layers: 0")) ==
        "m.yaml:4:13: 'num_layers' must be positive, got 0\n"
        "  num_layers: 0\n"
        "              ^");
  CHECK(error_of(replace(kTiny, "vocab_size: 1000", "vocab_size: -5")) ==
        "m.yaml:8:13: 'vocab_size' must be positive, got -5\n"
        "  vocab_size: -5\n"
        "              ^");
  CHECK(error_of(replace(kTiny, "vocab_size: 1000", "vocab_size: .inf")) ==
        "m.yaml:8:13: 'vocab_size' must be an integer, got '.inf'\n"
        "  vocab_size: .inf\n"
        "              ^");
}

TEST_CASE("inconsistent shapes name the field and its place") {
  CHECK(error_of(replace(kTiny, "num_attention_heads: 4", "num_attention_heads: 6")) ==
        "m.yaml:5:22: num_attention_heads (6) does not divide hidden_size (256); give head_dim "
        "explicitly\n"
        "  num_attention_heads: 6\n"
        "                       ^");
  // With head_dim, heads need not divide hidden (q_dim = 6 * 32 = 192).
  ModelSpec m = parse_model_yaml(
      replace(replace(kTiny, "num_attention_heads: 4", "num_attention_heads: 6"),
              "num_key_value_heads: 2", "num_key_value_heads: 2\nhead_dim: 32"),
      "m.yaml");
  CHECK(m.q_dim() == 192);
  CHECK(error_of(replace(kTiny, "num_key_value_heads: 2", "num_key_value_heads: 8")) ==
        "m.yaml:6:22: num_key_value_heads (8) is greater than num_attention_heads (4)\n"
        "  num_key_value_heads: 8\n"
        "                       ^");
  CHECK(error_of(replace(kTiny, "num_key_value_heads: 2", "num_key_value_heads: 3")) ==
        "m.yaml:6:22: num_key_value_heads (3) does not divide num_attention_heads (4)\n"
        "  num_key_value_heads: 3\n"
        "                       ^");
  CHECK(error_of(kTiny + replace(kMoe, "experts_per_token: 2", "experts_per_token: 9")) ==
        "m.yaml:18:22: moe.experts_per_token (9) is greater than moe.num_experts (8)\n"
        "    experts_per_token: 9\n"
        "                       ^");
  CHECK(error_of(kTiny + kMoe + "  first_sparse_layer: 2\n") ==
        "m.yaml:20:23: moe.first_sparse_layer (2) must be less than num_layers (2)\n"
        "    first_sparse_layer: 2\n"
        "                        ^");
}

TEST_CASE("absurd sizes are refused (they once overflowed the analyzer into negative OPs)") {
  CHECK(error_of(replace(kTiny, "hidden_size: 256", "hidden_size: 4611686018427387904")) ==
        "m.yaml:3:14: hidden_size (4611686018427387904) is larger than llmroof supports "
        "(16777216)\n"
        "  hidden_size: 4611686018427387904\n"
        "               ^");
  CHECK(error_of(kTiny + replace(kMoe, "num_experts: 8", "num_experts: 100000")) ==
        "m.yaml:17:16: moe.num_experts (100000) is larger than llmroof supports (65536)\n"
        "    num_experts: 100000\n"
        "                 ^");
}

TEST_CASE("not a map, empty, or not YAML") {
  CHECK(error_of("") == "m.yaml:1:1: the document must be a map of fields, got an empty document");
  CHECK(error_of("- a\n- b\n") ==
        "m.yaml:1:1: the document must be a map of fields, got a list\n"
        "  - a\n"
        "  ^");
  CHECK(error_of("name: [unclosed\n") ==
        "m.yaml:2:1: invalid YAML: end of sequence flow not found");
}
