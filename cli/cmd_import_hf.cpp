// Placeholder: replaced by the component that owns this command.
#include "cli/commands.hpp"

namespace llmroof::cli {
void add_import_hf_command(CLI::App&, Context&) {}
}  // namespace llmroof::cli
