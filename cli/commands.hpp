#pragma once
// Each subcommand lives in its own cli/cmd_*.cpp and registers itself on the root app here.
// Commands report their exit status through Context::exit_code; errors are exceptions that main()
// turns into messages and exit codes (2 = bad input, 1 = failure/gate tripped, 0 = success).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace llmroof::cli {

struct Context {
  std::vector<std::string> search_paths;  // --search-path: extra directories of model/hardware YAML
  int exit_code = 0;
};

void add_analyze_command(CLI::App& app, Context& ctx);
void add_list_show_commands(CLI::App& app, Context& ctx);
void add_import_hf_command(CLI::App& app, Context& ctx);
void add_kernels_command(CLI::App& app, Context& ctx);
void add_calibrate_command(CLI::App& app, Context& ctx);
void add_validate_command(CLI::App& app, Context& ctx);
void add_sweep_command(CLI::App& app, Context& ctx);
void add_plan_command(CLI::App& app, Context& ctx);

}  // namespace llmroof::cli
