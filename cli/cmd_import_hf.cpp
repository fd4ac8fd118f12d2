// llmroof import-hf CONFIG [-o OUT]: a Hugging Face config.json -> model_zoo YAML.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "io/catalog.hpp"
#include "reports/output_file.hpp"

namespace llmroof::cli {
namespace {

struct ImportOptions {
  std::string config;
  std::string output;
  std::string name;
  std::string source;
};

void run_import(const ImportOptions& opt) {
  // Catalog::model reads config.json files (and directories holding one) with file:line:col errors.
  std::string path = opt.config;
  const bool json = path.size() > 5 && path.substr(path.size() - 5) == ".json";
  if (path.find('/') == std::string::npos && !json) path = "./" + path;  // a file, never a zoo name
  ModelSpec m = Catalog().model(path);
  if (!opt.name.empty()) m.name = opt.name;
  if (!opt.source.empty()) m.source = opt.source;
  const std::string yaml = model_to_yaml(m);
  reports::write_text_output(yaml, opt.output);  // same -o handling and messages as analyze
  if (opt.output.empty() || opt.output == "-") return;
  std::cerr << "wrote " << opt.output << " (model '" << m.name << "')\n";
}

}  // namespace

void add_import_hf_command(CLI::App& app, Context&) {
  auto opt = std::make_shared<ImportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "import-hf",
      "Convert a Hugging Face config.json (llama, mistral, mixtral, qwen2, qwen2_moe, gemma, "
      "chatglm, baichuan) to llmroof's model YAML");
  cmd->add_option("config", opt->config, "config.json, or a checkpoint directory holding one")
      ->required();
  cmd->add_option("-o,--output", opt->output, "Write the YAML here instead of stdout");
  cmd->add_option("--name", opt->name,
                  "Model name (default: the file name, or the directory name for config.json)");
  cmd->add_option("--source", opt->source, "Hugging Face id to record as the model's source");
  cmd->callback([opt] { run_import(*opt); });
}

}  // namespace llmroof::cli
