#pragma once
// Shape consistency of a ModelSpec, shared by the YAML and the config.json readers so both reject the
// same models with the same words. `fail(field, message)` must throw (it adds the location).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/model_spec.hpp"

namespace llmroof {

using FailAt = std::function<void(std::string_view field, const std::string& message)>;

// Fills head_dim when it is 0 (hidden / heads) and checks: heads divide hidden without head_dim,
// kv heads <= heads and dividing heads, experts_per_token <= num_experts, shared-expert fields
// consistent, dense layers have an intermediate_size, first_sparse_layer < num_layers.
void complete_and_check(ModelSpec& m, const FailAt& fail);

const std::vector<std::string>& activation_names();
const std::vector<std::string>& norm_names();
const std::vector<std::string>& positional_encoding_names();
Activation activation_from_string(std::string_view s);  // s must be one of activation_names()
NormType norm_from_string(std::string_view s);
PositionalEncoding positional_encoding_from_string(std::string_view s);

}  // namespace llmroof
