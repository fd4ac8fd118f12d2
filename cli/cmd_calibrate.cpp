// Placeholder: replaced by the component that owns this command.
#include "cli/commands.hpp"

namespace llmroof::cli {
void add_calibrate_command(CLI::App&, Context&) {}
}  // namespace llmroof::cli
