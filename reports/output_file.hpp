#pragma once
// Where a report goes: stdout for "" or "-", otherwise the file (InputError naming -o when it
// cannot be opened). Used by sweep and plan; binary mode so the bytes are the same on every
// platform.
#include <string>

namespace llmroof::reports {

void write_text_output(const std::string& text, const std::string& path);

}  // namespace llmroof::reports
