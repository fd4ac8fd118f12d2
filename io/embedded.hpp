#pragma once
// The model zoo and hardware database as compiled into the binary (generated at build time from
// model_zoo/*.yaml and hardware_db/*.yaml by io/embed_files.cmake), so llmroof works from any
// directory without an install.
#include <string_view>
#include <vector>

namespace llmroof::embedded {

struct File {
  std::string_view name;  // file name, e.g. "llama-2-7b.yaml"
  std::string_view text;
};

const std::vector<File>& model_files();
const std::vector<File>& hardware_files();

}  // namespace llmroof::embedded
