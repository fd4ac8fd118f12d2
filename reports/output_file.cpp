#include "reports/output_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "io/errors.hpp"

namespace llmroof::reports {

namespace {

// Why PATH cannot be a new output file, or "" when nothing is visibly wrong.
std::string path_problem(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    return "directory '" + parent.string() + "' does not exist";
  if (fs::is_directory(path, ec)) return "is a directory";
  return "";
}

}  // namespace

void throw_cannot_open(const std::string& path) {
  const int err = errno;  // of the failed open, before the file-system queries below
  std::string why = path_problem(path);
  if (why.empty()) {
    why = "cannot open for writing";
    if (err != 0) why += " (" + std::string(std::strerror(err)) + ")";
  }
  throw InputError("-o " + path + ": " + why);
}

void check_output_path(const std::string& path) {
  if (path.empty() || path == "-") return;
  if (const std::string why = path_problem(path); !why.empty())
    throw InputError("-o " + path + ": " + why);
}

void write_text_output(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout << text << std::flush;
    return;
  }
  errno = 0;
  std::ofstream f(path, std::ios::binary);
  if (!f) throw_cannot_open(path);
  f << text;
  if (!f.flush()) throw std::runtime_error("-o " + path + ": write failed");
}

}  // namespace llmroof::reports
