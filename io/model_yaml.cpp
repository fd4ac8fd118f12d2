// model_zoo/*.yaml <-> ModelSpec. Schema: docs/model-schema.md.
#include <sstream>

#include "io/catalog.hpp"
#include "io/model_checks.hpp"
#include "io/yaml_reader.hpp"

namespace llmroof {
namespace {

const std::vector<std::string> kModelKeys = {
    "name", "family", "source", "hidden_size", "num_layers", "num_attention_heads",
    "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size",
    "max_position_embeddings", "activation", "gated_mlp", "norm", "positional_encoding",
    "qkv_bias", "tied_embeddings", "sliding_window", "moe"};
const std::vector<std::string> kMoeKeys = {
    "num_experts", "experts_per_token", "expert_intermediate_size", "num_shared_experts",
    "shared_expert_intermediate_size", "shared_expert_gate", "sparse_step", "first_sparse_layer"};

MoeSpec read_moe(const yamlio::MapReader& r) {
  MoeSpec e;
  e.num_experts = r.positive_int("num_experts");
  e.experts_per_token = r.positive_int("experts_per_token");
  e.expert_intermediate_size = r.positive_int("expert_intermediate_size");
  e.num_shared_experts = r.opt_nonnegative_int("num_shared_experts").value_or(0);
  e.shared_expert_intermediate_size = r.opt_positive_int("shared_expert_intermediate_size").value_or(0);
  e.shared_expert_gate = r.opt_boolean("shared_expert_gate").value_or(false);
  e.sparse_step = r.opt_positive_int("sparse_step").value_or(1);
  e.first_sparse_layer = r.opt_nonnegative_int("first_sparse_layer").value_or(0);
  return e;
}

}  // namespace

ModelSpec parse_model_yaml(std::string_view text, std::string_view filename) {
  const yamlio::Document doc{filename, text};
  const YAML::Node root = yamlio::load(doc);
  const yamlio::MapReader r(doc, root, "", kModelKeys, YAML::Mark());

  ModelSpec m;
  m.name = r.string("name");
  m.family = r.string("family");
  m.source = r.opt_string("source").value_or("");
  m.hidden_size = r.positive_int("hidden_size");
  m.num_layers = r.positive_int("num_layers");
  m.num_attention_heads = r.positive_int("num_attention_heads");
  m.num_key_value_heads = r.positive_int("num_key_value_heads");
  m.head_dim = r.opt_positive_int("head_dim").value_or(0);
  m.intermediate_size = r.opt_positive_int("intermediate_size").value_or(0);
  m.vocab_size = r.positive_int("vocab_size");
  m.max_position_embeddings = r.positive_int("max_position_embeddings");
  m.activation = activation_from_string(r.choice("activation", activation_names()));
  m.gated_mlp = r.boolean("gated_mlp");
  m.norm = norm_from_string(r.choice("norm", norm_names()));
  m.positional_encoding =
      positional_encoding_from_string(r.choice("positional_encoding", positional_encoding_names()));
  m.qkv_bias = r.boolean("qkv_bias");
  m.tied_embeddings = r.boolean("tied_embeddings");
  m.sliding_window = r.opt_positive_int("sliding_window").value_or(0);
  if (r.has("moe")) m.moe = read_moe(r.map("moe", kMoeKeys));

  complete_and_check(m, [&](std::string_view field, const std::string& message) {
    // "moe.x" lives in the nested map; point at it there.
    if (field.substr(0, 4) == "moe.") r.map("moe", kMoeKeys).fail_at(field.substr(4), message);
    r.fail_at(field, message);
  });
  return m;
}

std::string model_to_yaml(const ModelSpec& m) {
  std::ostringstream o;
  const auto b = [](bool v) { return v ? "true" : "false"; };
  o << "# " << m.name << ": llmroof model description (schema: docs/model-schema.md)\n";
  o << "name: " << yamlio::scalar_text(m.name) << "\n";
  o << "family: " << yamlio::scalar_text(m.family) << "\n";
  if (!m.source.empty()) o << "source: " << yamlio::quote(m.source) << "\n";
  o << "hidden_size: " << m.hidden_size << "\n";
  o << "num_layers: " << m.num_layers << "\n";
  o << "num_attention_heads: " << m.num_attention_heads << "\n";
  o << "num_key_value_heads: " << m.num_key_value_heads << "\n";
  if (m.head_dim != 0 && m.head_dim * m.num_attention_heads != m.hidden_size)
    o << "head_dim: " << m.head_dim << "\n";
  if (m.intermediate_size > 0) o << "intermediate_size: " << m.intermediate_size << "\n";
  o << "vocab_size: " << m.vocab_size << "\n";
  o << "max_position_embeddings: " << m.max_position_embeddings << "\n";
  o << "activation: " << to_string(m.activation) << "\n";
  o << "gated_mlp: " << b(m.gated_mlp) << "\n";
  o << "norm: " << to_string(m.norm) << "\n";
  o << "positional_encoding: " << to_string(m.positional_encoding) << "\n";
  o << "qkv_bias: " << b(m.qkv_bias) << "\n";
  o << "tied_embeddings: " << b(m.tied_embeddings) << "\n";
  if (m.sliding_window > 0) o << "sliding_window: " << m.sliding_window << "\n";
  if (m.moe) {
    const MoeSpec& e = *m.moe;
    o << "moe:\n";
    o << "  num_experts: " << e.num_experts << "\n";
    o << "  experts_per_token: " << e.experts_per_token << "\n";
    o << "  expert_intermediate_size: " << e.expert_intermediate_size << "\n";
    if (e.num_shared_experts > 0) {
      o << "  num_shared_experts: " << e.num_shared_experts << "\n";
      o << "  shared_expert_intermediate_size: " << e.shared_expert_intermediate_size << "\n";
      o << "  shared_expert_gate: " << b(e.shared_expert_gate) << "\n";
    }
    o << "  sparse_step: " << e.sparse_step << "\n";
    o << "  first_sparse_layer: " << e.first_sparse_layer << "\n";
  }
  return o.str();
}

}  // namespace llmroof
