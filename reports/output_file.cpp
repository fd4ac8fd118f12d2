#include "reports/output_file.hpp"

#include <fstream>
#include <iostream>
#include <stdexcept>

#include "io/errors.hpp"

namespace llmroof::reports {

void write_text_output(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout << text << std::flush;
    return;
  }
  std::ofstream f(path, std::ios::binary);
  if (!f) throw InputError("-o " + path + ": cannot open for writing");
  f << text;
  if (!f.flush()) throw std::runtime_error("-o " + path + ": write failed");
}

}  // namespace llmroof::reports
