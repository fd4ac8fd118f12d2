// Placeholder: replaced by the component that owns this command.
#include "cli/commands.hpp"

namespace llmroof::cli {
void add_analyze_command(CLI::App&, Context&) {}
}  // namespace llmroof::cli
