#pragma once
// A decoder-only transformer as llmroof sees it. Plain value struct: filled by io/ from
// model_zoo/*.yaml or a Hugging Face config.json, consumed by the analyzer. Schema: docs/model-schema.md.
#include <cstdint>
#include <optional>
#include <string>

namespace llmroof {

enum class Activation { silu, gelu, gelu_tanh, relu };
enum class NormType { rmsnorm, layernorm };
enum class PositionalEncoding { rope, alibi, learned, none };

struct MoeSpec {
  int64_t num_experts = 0;
  int64_t experts_per_token = 0;
  int64_t expert_intermediate_size = 0;  // per routed expert
  int64_t num_shared_experts = 0;        // 0 = none
  int64_t shared_expert_intermediate_size = 0;  // total size of the shared expert(s) MLP
  bool shared_expert_gate = false;       // qwen2_moe: sigmoid gate on the shared expert output
  // Which layers are sparse: layer i is MoE iff i >= first_sparse_layer and
  // (i - first_sparse_layer) % sparse_step == 0 (HF: decoder_sparse_step / first_k_dense_replace).
  int64_t sparse_step = 1;
  int64_t first_sparse_layer = 0;
};

struct ModelSpec {
  std::string name;    // zoo id, e.g. "llama-2-7b"
  std::string family;  // e.g. "llama"
  std::string source;  // Hugging Face id, e.g. "meta-llama/Llama-2-7b-hf"

  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // always set after loading (hidden/heads when not given)
  int64_t intermediate_size = 0;  // dense MLP size (unused by sparse layers)
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;

  Activation activation = Activation::silu;
  bool gated_mlp = true;  // SwiGLU-style gate/up/down vs. up/down
  NormType norm = NormType::rmsnorm;
  PositionalEncoding positional_encoding = PositionalEncoding::rope;
  bool qkv_bias = false;
  bool tied_embeddings = false;
  int64_t sliding_window = 0;  // 0 = full attention

  std::optional<MoeSpec> moe;

  bool is_moe() const { return moe.has_value() && moe->num_experts > 0; }
  bool layer_is_sparse(int64_t layer) const {
    if (!is_moe() || layer < moe->first_sparse_layer) return false;
    return (layer - moe->first_sparse_layer) % moe->sparse_step == 0;
  }
  int64_t num_sparse_layers() const {
    int64_t n = 0;
    for (int64_t i = 0; i < num_layers; ++i) n += layer_is_sparse(i) ? 1 : 0;
    return n;
  }
  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }
};

std::string_view to_string(Activation a);
std::string_view to_string(NormType n);
std::string_view to_string(PositionalEncoding p);

}  // namespace llmroof
