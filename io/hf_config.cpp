// Hugging Face config.json -> ModelSpec for the decoder-only families llmroof knows. Each family's
// keys and defaults follow its transformers configuration class (or, for chatglm and baichuan, the
// remote code shipped with the checkpoint); see docs/model-schema.md "import-hf".
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>

#include "io/catalog.hpp"
#include "io/diagnostics.hpp"
#include "io/model_checks.hpp"

namespace llmroof {
namespace {

using nlohmann::json;

// Typed, located access to the top-level object of a config.json. Values carry no positions in
// nlohmann::json, so a key's position is found in the text ("key" followed by a colon).
class JsonReader {
 public:
  JsonReader(std::string_view text, std::string_view filename) : text_(text), filename_(filename) {
    try {
      j_ = json::parse(text_.begin(), text_.end());
    } catch (const json::parse_error& e) {
      // e.byte is 1-based and points at the last character read.
      diag::LineCol lc = diag::line_col_of_offset(text_, e.byte > 0 ? e.byte - 1 : 0);
      std::string what = e.what();
      auto pos = what.find("parse error");
      std::string detail = what.substr(what.find(": ", pos == what.npos ? 0 : pos) + 2);
      throw InputError(diag::located(filename_, text_, lc.line, lc.col, "malformed JSON: " + detail));
    }
    if (!j_.is_object()) fail("", "a config.json must be a JSON object");
  }

  [[noreturn]] void fail(std::string_view key, const std::string& message) const {
    diag::LineCol lc = diag::line_col_of_offset(text_, locate(key));
    throw InputError(diag::located(filename_, text_, lc.line, lc.col, message));
  }

  // Present and not null (HF writes null for "not used", e.g. sliding_window).
  bool has(std::string_view key) const {
    auto it = j_.find(std::string(key));
    return it != j_.end() && !it->is_null();
  }
  const json& at(std::string_view key) const {
    if (!has(key)) fail("", "missing required key '" + std::string(key) + "'");
    return j_.at(std::string(key));
  }
  int64_t positive_int(std::string_view key) const {
    const json& v = at(key);
    if (!v.is_number_integer())
      fail(key, "'" + std::string(key) + "' must be an integer, got " + v.dump());
    int64_t n = v.get<int64_t>();
    if (n <= 0) fail(key, "'" + std::string(key) + "' must be positive, got " + v.dump());
    return n;
  }
  std::optional<int64_t> opt_positive_int(std::string_view key) const {
    if (!has(key)) return std::nullopt;
    return positive_int(key);
  }
  bool boolean(std::string_view key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = at(key);
    if (!v.is_boolean()) fail(key, "'" + std::string(key) + "' must be true or false, got " + v.dump());
    return v.get<bool>();
  }
  std::string string(std::string_view key, std::string fallback) const {
    if (!has(key)) return fallback;
    const json& v = at(key);
    if (!v.is_string()) fail(key, "'" + std::string(key) + "' must be a string, got " + v.dump());
    return v.get<std::string>();
  }
  const json& raw() const { return j_; }

 private:
  size_t locate(std::string_view key) const {
    const std::string quoted = "\"" + std::string(key) + "\"";
    for (size_t p = key.empty() ? text_.npos : text_.find(quoted); p != text_.npos;
         p = text_.find(quoted, p + 1)) {
      size_t q = text_.find_first_not_of(" \t\r\n", p + quoted.size());
      if (q != text_.npos && text_[q] == ':') return p;
    }
    size_t first = text_.find_first_not_of(" \t\r\n");  // the object's opening brace
    return first == text_.npos ? 0 : first;
  }

  std::string_view text_;
  std::string_view filename_;
  json j_;
};

Activation activation(const JsonReader& r, std::string_view key) {
  const std::string act = r.string(key, "silu");
  static const std::map<std::string, Activation> known = {
      {"silu", Activation::silu},           {"swish", Activation::silu},
      {"gelu", Activation::gelu},           {"gelu_pytorch_tanh", Activation::gelu_tanh},
      {"gelu_new", Activation::gelu_tanh},  {"gelu_fast", Activation::gelu_tanh},
      {"relu", Activation::relu}};
  auto it = known.find(act);
  if (it == known.end()) r.fail(key, "unsupported activation '" + act + "'");
  return it->second;
}

// The fields every Llama-like configuration class shares (LlamaConfig and its descendants).
ModelSpec llama_like(const JsonReader& r, bool tied_default) {
  ModelSpec m;
  m.hidden_size = r.positive_int("hidden_size");
  m.num_layers = r.positive_int("num_hidden_layers");
  m.num_attention_heads = r.positive_int("num_attention_heads");
  m.num_key_value_heads = r.opt_positive_int("num_key_value_heads").value_or(m.num_attention_heads);
  m.head_dim = r.opt_positive_int("head_dim").value_or(0);
  m.vocab_size = r.positive_int("vocab_size");
  m.max_position_embeddings = r.positive_int("max_position_embeddings");
  m.activation = activation(r, "hidden_act");
  m.tied_embeddings = r.boolean("tie_word_embeddings", tied_default);
  return m;
}

ModelSpec from_llama(const JsonReader& r) {
  ModelSpec m = llama_like(r, false);
  m.intermediate_size = r.positive_int("intermediate_size");
  // LlamaConfig.attention_bias also biases o_proj (hidden_size values per layer, not modelled).
  m.qkv_bias = r.boolean("attention_bias", false);
  return m;
}

ModelSpec from_mistral(const JsonReader& r) {
  ModelSpec m = llama_like(r, false);
  m.intermediate_size = r.positive_int("intermediate_size");
  m.sliding_window = r.opt_positive_int("sliding_window").value_or(0);
  return m;
}

ModelSpec from_mixtral(const JsonReader& r) {
  ModelSpec m = llama_like(r, false);
  m.sliding_window = r.opt_positive_int("sliding_window").value_or(0);
  MoeSpec e;  // every layer is sparse; intermediate_size is the expert's width
  e.num_experts = r.positive_int("num_local_experts");
  e.experts_per_token = r.positive_int("num_experts_per_tok");
  e.expert_intermediate_size = r.positive_int("intermediate_size");
  m.moe = e;
  return m;
}

ModelSpec from_qwen2(const JsonReader& r) {
  ModelSpec m = llama_like(r, false);
  m.intermediate_size = r.positive_int("intermediate_size");
  m.qkv_bias = true;  // Qwen2Attention: q/k/v projections with bias, o without
  if (r.boolean("use_sliding_window", false))
    m.sliding_window = r.opt_positive_int("sliding_window").value_or(0);
  return m;
}

ModelSpec from_qwen2_moe(const JsonReader& r) {
  ModelSpec m = from_qwen2(r);
  if (r.has("mlp_only_layers") && !r.raw().at("mlp_only_layers").empty())
    r.fail("mlp_only_layers", "'mlp_only_layers' (an explicit list of dense layers) is not supported");
  MoeSpec e;
  e.num_experts = r.positive_int("num_experts");
  e.experts_per_token = r.positive_int("num_experts_per_tok");
  e.expert_intermediate_size = r.positive_int("moe_intermediate_size");
  if (auto shared = r.opt_positive_int("shared_expert_intermediate_size")) {
    e.num_shared_experts = 1;  // Qwen2MoeSparseMoeBlock: one shared expert behind a sigmoid gate
    e.shared_expert_intermediate_size = *shared;
    e.shared_expert_gate = true;
  }
  // Layer i is sparse when (i + 1) % decoder_sparse_step == 0.
  e.sparse_step = r.opt_positive_int("decoder_sparse_step").value_or(1);
  e.first_sparse_layer = e.sparse_step - 1;
  m.moe = e;
  return m;
}

ModelSpec from_gemma(const JsonReader& r) {
  ModelSpec m = llama_like(r, true);
  m.intermediate_size = r.positive_int("intermediate_size");
  // GemmaConfig: hidden_activation wins over the legacy hidden_act.
  m.activation = activation(r, r.has("hidden_activation") ? "hidden_activation" : "hidden_act");
  return m;
}

// THUDM ChatGLM2/3 (configuration_chatglm.py): GLM block with multi-query groups and SwiGLU.
ModelSpec from_chatglm(const JsonReader& r) {
  ModelSpec m;
  m.hidden_size = r.positive_int("hidden_size");
  m.num_layers = r.positive_int("num_layers");
  m.num_attention_heads = r.positive_int("num_attention_heads");
  m.num_key_value_heads = r.boolean("multi_query_attention", false)
                              ? r.positive_int("multi_query_group_num")
                              : m.num_attention_heads;
  m.head_dim = r.opt_positive_int("kv_channels").value_or(0);
  m.intermediate_size = r.positive_int("ffn_hidden_size");
  m.vocab_size = r.positive_int("padded_vocab_size");
  m.max_position_embeddings = r.positive_int("seq_length");
  m.qkv_bias = r.boolean("add_qkv_bias", false);
  if (r.boolean("add_bias_linear", false))
    r.fail("add_bias_linear", "'add_bias_linear: true' (biases on every linear layer) is not supported");
  m.norm = r.boolean("rmsnorm", true) ? NormType::rmsnorm : NormType::layernorm;
  m.tied_embeddings = false;  // output_layer is its own matrix
  return m;
}

// Baichuan / Baichuan2 (remote code): the 7B uses RoPE and has max_position_embeddings; the 13B
// modelling code uses ALiBi and its config only has model_max_length.
ModelSpec from_baichuan(const JsonReader& r) {
  ModelSpec m;
  m.hidden_size = r.positive_int("hidden_size");
  m.num_layers = r.positive_int("num_hidden_layers");
  m.num_attention_heads = r.positive_int("num_attention_heads");
  m.num_key_value_heads = m.num_attention_heads;
  m.intermediate_size = r.positive_int("intermediate_size");
  m.vocab_size = r.positive_int("vocab_size");
  m.activation = activation(r, "hidden_act");
  m.tied_embeddings = r.boolean("tie_word_embeddings", false);
  if (r.has("max_position_embeddings")) {
    m.max_position_embeddings = r.positive_int("max_position_embeddings");
  } else {
    m.max_position_embeddings = r.positive_int("model_max_length");
    m.positional_encoding = PositionalEncoding::alibi;
  }
  return m;
}

using Converter = std::function<ModelSpec(const JsonReader&)>;
const std::map<std::string, Converter>& converters() {
  static const std::map<std::string, Converter> c = {
      {"baichuan", from_baichuan}, {"chatglm", from_chatglm}, {"gemma", from_gemma},
      {"llama", from_llama},       {"mistral", from_mistral}, {"mixtral", from_mixtral},
      {"qwen2", from_qwen2},       {"qwen2_moe", from_qwen2_moe}};
  return c;
}

std::string name_from_path(std::string_view filename) {
  std::filesystem::path p{std::string(filename)};
  std::string stem = p.stem().string();
  if (stem == "config" && p.has_parent_path()) {
    std::string dir = p.parent_path().filename().string();
    if (!dir.empty() && dir != "." && dir != "..") return dir;
  }
  return stem;
}

}  // namespace

std::vector<std::string> supported_hf_model_types() {
  std::vector<std::string> v;
  for (const auto& [k, _] : converters()) v.push_back(k);
  return v;
}

ModelSpec parse_hf_config(std::string_view json_text, std::string_view filename) {
  const JsonReader r(json_text, filename);
  const std::string type = r.string("model_type", "");
  if (type.empty()) r.fail("", "missing required key 'model_type'");
  auto it = converters().find(type);
  if (it == converters().end())
    r.fail("model_type", "unsupported model_type '" + type +
                             "'; supported: " + diag::join(supported_hf_model_types()));
  ModelSpec m = it->second(r);
  m.name = name_from_path(filename);
  m.family = type;
  m.source = r.string("_name_or_path", "");
  // Shape errors name the YAML field; point at the config key it came from where one exists.
  const std::map<std::string, std::string> json_key = {
      {"num_attention_heads", "num_attention_heads"},
      {"num_key_value_heads", type == "chatglm" ? "multi_query_group_num" : "num_key_value_heads"},
      {"moe.experts_per_token", "num_experts_per_tok"},
      {"intermediate_size", "intermediate_size"}};
  complete_and_check(m, [&](std::string_view field, const std::string& message) {
    auto k = json_key.find(std::string(field));
    r.fail(k == json_key.end() ? "" : k->second, message);
  });
  return m;
}

}  // namespace llmroof
