#pragma once
// Where a report goes: stdout for "" or "-", otherwise the file (InputError naming -o when it
// cannot be opened). Used by analyze, sweep and plan; binary mode so the bytes are the same on
// every platform.
#include <string>

namespace llmroof::reports {

void write_text_output(const std::string& text, const std::string& path);

// Throws InputError("-o PATH: ...") saying why PATH cannot be written: its directory is missing,
// it is a directory, or the system's reason (errno at the failed open).
[[noreturn]] void throw_cannot_open(const std::string& path);
// The same checks before any work (a long sweep should not fail at its last step): throws when the
// directory of PATH is missing or PATH is a directory; "" and "-" (stdout) pass.
void check_output_path(const std::string& path);

}  // namespace llmroof::reports
