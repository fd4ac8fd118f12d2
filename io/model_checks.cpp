#include "io/model_checks.hpp"

namespace llmroof {

void complete_and_check(ModelSpec& m, const FailAt& fail) {
  const auto s = [](int64_t v) { return std::to_string(v); };
  // Far above any real model, and low enough that the analyzer's products of sizes (tokens x
  // hidden x intermediate) stay exact in int64 and double: 2^24 for widths, 2^16 for counts.
  const auto at_most = [&](std::string_view field, int64_t v, int64_t limit) {
    if (v > limit)
      fail(field, std::string(field) + " (" + s(v) + ") is larger than llmroof supports (" +
                      s(limit) + ")");
  };
  constexpr int64_t kWidth = int64_t{1} << 24, kCount = int64_t{1} << 16;
  at_most("hidden_size", m.hidden_size, kWidth);
  at_most("intermediate_size", m.intermediate_size, kWidth);
  at_most("vocab_size", m.vocab_size, kWidth);
  at_most("head_dim", m.head_dim, kWidth);
  at_most("num_layers", m.num_layers, kCount);
  at_most("num_attention_heads", m.num_attention_heads, kCount);
  if (m.moe) {
    at_most("moe.num_experts", m.moe->num_experts, kCount);
    at_most("moe.expert_intermediate_size", m.moe->expert_intermediate_size, kWidth);
    at_most("moe.shared_expert_intermediate_size", m.moe->shared_expert_intermediate_size, kWidth);
  }
  if (m.head_dim == 0) {
    if (m.hidden_size % m.num_attention_heads != 0)
      fail("num_attention_heads", "num_attention_heads (" + s(m.num_attention_heads) +
                                      ") does not divide hidden_size (" + s(m.hidden_size) +
                                      "); give head_dim explicitly");
    m.head_dim = m.hidden_size / m.num_attention_heads;
  }
  if (m.num_key_value_heads > m.num_attention_heads)
    fail("num_key_value_heads", "num_key_value_heads (" + s(m.num_key_value_heads) +
                                    ") is greater than num_attention_heads (" +
                                    s(m.num_attention_heads) + ")");
  if (m.num_attention_heads % m.num_key_value_heads != 0)
    fail("num_key_value_heads", "num_key_value_heads (" + s(m.num_key_value_heads) +
                                    ") does not divide num_attention_heads (" +
                                    s(m.num_attention_heads) + ")");
  if (!m.moe) {
    if (m.intermediate_size <= 0) fail("intermediate_size", "missing required key 'intermediate_size'");
    return;
  }
  const MoeSpec& e = *m.moe;
  if (e.experts_per_token > e.num_experts)
    fail("moe.experts_per_token", "moe.experts_per_token (" + s(e.experts_per_token) +
                                      ") is greater than moe.num_experts (" + s(e.num_experts) +
                                      ")");
  if (e.first_sparse_layer >= m.num_layers)
    fail("moe.first_sparse_layer", "moe.first_sparse_layer (" + s(e.first_sparse_layer) +
                                       ") must be less than num_layers (" + s(m.num_layers) + ")");
  if (e.num_shared_experts > 0 && e.shared_expert_intermediate_size <= 0)
    fail("moe.num_shared_experts",
         "moe.num_shared_experts is " + s(e.num_shared_experts) +
             " but moe.shared_expert_intermediate_size is not given");
  if (e.num_shared_experts == 0 && e.shared_expert_intermediate_size > 0)
    fail("moe.shared_expert_intermediate_size",
         "moe.shared_expert_intermediate_size is given but moe.num_shared_experts is 0");
  if (e.num_shared_experts == 0 && e.shared_expert_gate)
    fail("moe.shared_expert_gate", "moe.shared_expert_gate is true but there is no shared expert");
  if (m.num_sparse_layers() < m.num_layers && m.intermediate_size <= 0)
    fail("intermediate_size", "missing required key 'intermediate_size' (the model has " +
                                  s(m.num_layers - m.num_sparse_layers()) + " dense layers)");
}

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> v = {"silu", "gelu", "gelu_tanh", "relu"};
  return v;
}
const std::vector<std::string>& norm_names() {
  static const std::vector<std::string> v = {"rmsnorm", "layernorm"};
  return v;
}
const std::vector<std::string>& positional_encoding_names() {
  static const std::vector<std::string> v = {"rope", "alibi", "learned", "none"};
  return v;
}

Activation activation_from_string(std::string_view s) {
  if (s == "gelu") return Activation::gelu;
  if (s == "gelu_tanh") return Activation::gelu_tanh;
  if (s == "relu") return Activation::relu;
  return Activation::silu;
}
NormType norm_from_string(std::string_view s) {
  return s == "layernorm" ? NormType::layernorm : NormType::rmsnorm;
}
PositionalEncoding positional_encoding_from_string(std::string_view s) {
  if (s == "alibi") return PositionalEncoding::alibi;
  if (s == "learned") return PositionalEncoding::learned;
  if (s == "none") return PositionalEncoding::none;
  return PositionalEncoding::rope;
}

}  // namespace llmroof
