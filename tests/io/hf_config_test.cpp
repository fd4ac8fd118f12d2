// parse_hf_config on the shipped configs (real files) and on inline JSON for the error cases.
#include <doctest/doctest.h>

#include "tests/io/error_of.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyzer/model_stats.hpp"
#include "io/catalog.hpp"

using namespace llmroof;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string error_of(const std::string& json, const std::string& file = "c.json") {
  return test::input_error_of([&] { parse_hf_config(json, file); });
}

// The config converts to exactly the shipped zoo entry (which was produced by import-hf and then
// given its Hugging Face id as source).
void check_matches_zoo(const fs::path& config) {
  CAPTURE(config.string());
  ModelSpec hf = parse_hf_config(slurp(config), config.string());
  ModelSpec zoo = Catalog().model(config.stem().string());
  hf.source = zoo.source;
  CHECK(model_to_yaml(hf) == model_to_yaml(zoo));
}

const fs::path kData = fs::path(LLMROOF_SOURCE_DIR) / "tests/io/data";

}  // namespace

TEST_CASE("the configs copied into tests/io/data convert to their zoo entries") {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kData))
    if (e.path().extension() == ".json") {
      check_matches_zoo(e.path());
      ++n;
    }
  CHECK(n >= 6);
}

TEST_CASE("every shared reference config converts to its zoo entry (when shared/ is beside the repo)") {
  const fs::path shared = fs::path(LLMROOF_SOURCE_DIR) / "../shared/reference/hf-configs";
  if (!fs::is_directory(shared)) return;  // CI clones the repo alone sometimes; data/ covers it
  int n = 0;
  for (const auto& e : fs::directory_iterator(shared))
    if (e.path().extension() == ".json") {
      check_matches_zoo(e.path());
      ++n;
    }
  CHECK(n == 15);
}

TEST_CASE("family specifics") {
  ModelSpec glm = parse_hf_config(slurp(kData / "chatglm3-6b.json"), "chatglm3-6b.json");
  CHECK(glm.num_key_value_heads == 2);  // multi_query_group_num
  CHECK(glm.head_dim == 128);           // kv_channels
  CHECK(glm.qkv_bias);
  CHECK(glm.intermediate_size == 13696);
  CHECK(glm.max_position_embeddings == 8192);

  ModelSpec b13 = parse_hf_config(slurp(kData / "baichuan2-13b.json"), "baichuan2-13b.json");
  CHECK(b13.positional_encoding == PositionalEncoding::alibi);
  CHECK(b13.max_position_embeddings == 4096);  // model_max_length

  ModelSpec moe = parse_hf_config(slurp(kData / "qwen1.5-moe-a2.7b.json"), "x.json");
  REQUIRE(moe.moe);
  CHECK(moe.moe->num_shared_experts == 1);
  CHECK(moe.moe->shared_expert_gate);
  CHECK(moe.moe->shared_expert_intermediate_size == 5632);
  CHECK(moe.qkv_bias);

  ModelSpec q05 = parse_hf_config(slurp(kData / "qwen2-0.5b.json"), "q.json");
  CHECK(q05.tied_embeddings);
}

TEST_CASE("mistral and gemma (inline configs) and names from checkpoint directories") {
  // mistralai/Mistral-7B-v0.1: 7,241,732,096 parameters, sliding window 4096.
  ModelSpec mistral = parse_hf_config(
      R"({"model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
          "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
          "vocab_size": 32000, "max_position_embeddings": 32768, "hidden_act": "silu",
          "sliding_window": 4096, "tie_word_embeddings": false})",
      "ckpt/Mistral-7B-v0.1/config.json");
  CHECK(mistral.name == "Mistral-7B-v0.1");
  CHECK(mistral.sliding_window == 4096);
  CHECK(model_stats(mistral).total_params == 7241732096);
  // google/gemma-7b: head_dim 256 (16 x 256 != 3072), tied embeddings, 8.54 B parameters.
  ModelSpec gemma = parse_hf_config(
      R"({"model_type": "gemma", "hidden_size": 3072, "intermediate_size": 24576,
          "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 16,
          "head_dim": 256, "vocab_size": 256000, "max_position_embeddings": 8192,
          "hidden_act": "gelu", "hidden_activation": "gelu_pytorch_tanh"})",
      "gemma-7b.json");
  CHECK(gemma.head_dim == 256);
  CHECK(gemma.tied_embeddings);
  CHECK(gemma.activation == Activation::gelu_tanh);
  CHECK(model_stats(gemma).total_params == 8537680896);
  // The YAML it converts to needs head_dim, and reads back the same.
  CHECK(model_to_yaml(parse_model_yaml(model_to_yaml(gemma), "g.yaml")) == model_to_yaml(gemma));
}

TEST_CASE("config.json errors") {
  CHECK(error_of("{\"model_type\": \"llama\",\n  \"hidden_size\": 4096,,\n}") ==
        "c.json:2:23: malformed JSON: syntax error while parsing object key - unexpected ','; "
        "expected string literal\n"
        "    \"hidden_size\": 4096,,\n"
        "                        ^");
  CHECK(error_of("{\"model_type\": \"gpt2\", \"n_embd\": 768}") ==
        "c.json:1:2: unsupported model_type 'gpt2'; supported: baichuan, chatglm, gemma, llama, "
        "mistral, mixtral, qwen2, qwen2_moe\n"
        "  {\"model_type\": \"gpt2\", \"n_embd\": 768}\n"
        "   ^");
  CHECK(error_of("{\"hidden_size\": 1}") ==
        "c.json:1:1: missing required key 'model_type'\n"
        "  {\"hidden_size\": 1}\n"
        "  ^");
  CHECK(error_of("{\"model_type\": \"llama\",\n \"hidden_size\": \"4096\"}") ==
        "c.json:2:2: 'hidden_size' must be an integer, got \"4096\"\n"
        "   \"hidden_size\": \"4096\"}\n"
        "   ^");
  CHECK(error_of("{\"model_type\": \"llama\", \"hidden_size\": 4096}") ==
        "c.json:1:1: missing required key 'num_hidden_layers'\n"
        "  {\"model_type\": \"llama\", \"hidden_size\": 4096}\n"
        "  ^");
  CHECK(error_of(R"({"model_type": "mixtral", "hidden_size": 64, "num_hidden_layers": 1,
 "num_attention_heads": 4, "vocab_size": 10, "max_position_embeddings": 16,
 "num_local_experts": 2, "num_experts_per_tok": 3, "intermediate_size": 32})") ==
        "c.json:3:26: moe.experts_per_token (3) is greater than moe.num_experts (2)\n"
        "   \"num_local_experts\": 2, \"num_experts_per_tok\": 3, \"intermediate_size\": 32}\n"
        "                           ^");
}
