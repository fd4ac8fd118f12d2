// llmroof: how fast an LLM runs on an accelerator, how much memory it needs, and whether the
// prediction holds on the machine at hand. Only this file turns exceptions into exit codes.
#include <cstdio>
#include <exception>
#include <iostream>

#include "analyzer/analyzer.hpp"
#include "cli/commands.hpp"
#include "io/errors.hpp"

int main(int argc, char** argv) {
  using namespace llmroof;
  CLI::App app{"llmroof: roofline performance and memory model for LLM inference, checked against "
               "real kernels on this machine"};
  app.set_version_flag("--version", std::string("llmroof ") + LLMROOF_VERSION);
  app.require_subcommand(0, 1);
  app.fallthrough();  // global options (--search-path) may follow the subcommand too
  cli::Context ctx;
  app.add_option("--search-path", ctx.search_paths,
                 "Extra directory of model/hardware YAML files (searched before the built-in zoo)")
      ->check(CLI::ExistingDirectory);

  cli::add_analyze_command(app, ctx);
  cli::add_list_show_commands(app, ctx);
  cli::add_import_hf_command(app, ctx);
  cli::add_kernels_command(app, ctx);
  cli::add_calibrate_command(app, ctx);
  cli::add_validate_command(app, ctx);
  cli::add_sweep_command(app, ctx);
  cli::add_plan_command(app, ctx);

  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty()) {
      std::cout << app.help();
      return 0;
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "llmroof: error: " << e.what() << "\n";
    return 2;
  } catch (const InputError& e) {
    std::cerr << "llmroof: error: " << e.what() << "\n";
    return 2;
  } catch (const AnalysisError& e) {
    std::cerr << "llmroof: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "llmroof: failed: " << e.what() << "\n";
    return 1;
  }
  return ctx.exit_code;
}
