#pragma once
// Loading model and hardware descriptions. Parsers take text (so tests can pass inline YAML and
// assert the exact error); the file system is the thin Catalog layer on top. Every parser throws
// InputError with file:line:col, the offending line, a caret, and a did-you-mean for unknown keys.
// Schemas: docs/model-schema.md, docs/hardware-schema.md.
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/hardware_spec.hpp"
#include "analyzer/model_spec.hpp"
#include "io/errors.hpp"

namespace llmroof {

ModelSpec parse_model_yaml(std::string_view text, std::string_view filename);
HardwareSpec parse_hardware_yaml(std::string_view text, std::string_view filename);
// A Hugging Face config.json; the model name comes from the file name (or its directory's name
// when the file is called config.json).
ModelSpec parse_hf_config(std::string_view json_text, std::string_view filename);

std::string model_to_yaml(const ModelSpec& m);         // zoo format; import-hf writes this
std::string hardware_to_yaml(const HardwareSpec& hw);  // schema format incl. per-field sources

// The HF model_type values parse_hf_config understands.
std::vector<std::string> supported_hf_model_types();

// Built-in (embedded at build time) zoo + hardware database, overridden/extended by search paths.
// A search path DIR contributes DIR/model_zoo/*.yaml, DIR/hardware_db/*.yaml, and YAML files directly
// in DIR (a file with a top-level `hidden_size:` line is a model, one with
// `memory_bandwidth_gb_per_s:` is hardware). Earlier search paths win over later ones, and all win
// over the built-in entries. An entry's name is its file name without .yaml.
class Catalog {
 public:
  explicit Catalog(std::vector<std::string> search_paths = {});
  // A zoo name, a path to a .yaml, or a path to an HF config.json (or a directory holding one).
  ModelSpec model(std::string_view name_or_path) const;
  // A db name or a path to a .yaml.
  HardwareSpec hardware(std::string_view name_or_path) const;
  std::vector<std::string> model_names() const;     // sorted
  std::vector<std::string> hardware_names() const;  // sorted

 private:
  std::vector<std::string> search_paths_;
};

}  // namespace llmroof
