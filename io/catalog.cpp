// The file-system layer over the parsers: built-in entries, search paths, and paths given directly.
#include "io/catalog.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "io/diagnostics.hpp"
#include "io/embedded.hpp"

namespace llmroof {
namespace fs = std::filesystem;
namespace {

enum class Kind { model, hardware };

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read '" + path + "': " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has_extension(std::string_view s, std::string_view ext) {
  return s.size() > ext.size() && s.substr(s.size() - ext.size()) == ext;
}

// A command-line argument names a file (rather than a catalog entry) when it has a directory part,
// a YAML/JSON extension, or is an existing directory (an HF checkpoint directory with config.json).
bool looks_like_path(std::string_view s) {
  return s.find('/') != s.npos || has_extension(s, ".yaml") || has_extension(s, ".yml") ||
         has_extension(s, ".json") || fs::is_directory(fs::path(std::string(s)));
}

// Whether a YAML file in a flat search directory describes a model or a hardware entry: by a
// top-level key only that schema has.
std::optional<Kind> classify(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("hidden_size:", 0) == 0) return Kind::model;
    if (line.rfind("memory_bandwidth_gb_per_s:", 0) == 0) return Kind::hardware;
  }
  return std::nullopt;
}

struct Found {
  std::string origin;  // path, or "<built-in>/model_zoo/x.yaml"
  std::string text;
};

// Every entry of one kind by name; earlier sources win.
std::map<std::string, Found> entries(const std::vector<std::string>& search_paths, Kind kind) {
  std::map<std::string, Found> out;
  const char* subdir = kind == Kind::model ? "model_zoo" : "hardware_db";
  for (const std::string& dir : search_paths) {
    for (const fs::path& d : {fs::path(dir) / subdir, fs::path(dir)}) {
      std::error_code ec;
      if (!fs::is_directory(d, ec)) continue;
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(d, ec))
        if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        std::string text = read_file(f.string());
        if (d == fs::path(dir) && classify(text) != kind) continue;
        out.try_emplace(f.stem().string(), Found{f.string(), std::move(text)});
      }
    }
  }
  const auto& builtin = kind == Kind::model ? embedded::model_files() : embedded::hardware_files();
  for (const embedded::File& f : builtin) {
    std::string name(f.name.substr(0, f.name.size() - 5));  // drop ".yaml"
    out.try_emplace(name, Found{"<built-in>/" + std::string(subdir) + "/" + std::string(f.name),
                                std::string(f.text)});
  }
  return out;
}

[[noreturn]] void unknown(std::string_view what, std::string_view name,
                          const std::map<std::string, Found>& known) {
  std::vector<std::string> names;
  for (const auto& [n, _] : known) names.push_back(n);
  std::vector<std::string> close = diag::suggestions(name, names);
  std::string msg = "unknown " + std::string(what) + " '" + std::string(name) + "'";
  if (!close.empty())
    msg += "; did you mean: " + diag::join(close) + "?";
  else
    msg += "; known: " + diag::join(names);
  throw InputError(msg);
}

// An entry found by name must call itself by that name, or `--model x` would silently load "y".
template <typename Spec>
Spec checked_name(Spec spec, const std::string& name, const Found& f) {
  if (spec.name != name)
    throw InputError(f.origin + ": declares name '" + spec.name + "' but the file is " + name +
                     ".yaml; the two must agree");
  return spec;
}

}  // namespace

Catalog::Catalog(std::vector<std::string> search_paths) : search_paths_(std::move(search_paths)) {}

ModelSpec Catalog::model(std::string_view name_or_path) const {
  if (looks_like_path(name_or_path)) {
    std::string path(name_or_path);
    if (fs::is_directory(fs::path(path))) path = (fs::path(path) / "config.json").string();
    std::string text = read_file(path);
    if (has_extension(path, ".json")) return parse_hf_config(text, path);
    return parse_model_yaml(text, path);
  }
  const auto all = entries(search_paths_, Kind::model);
  auto it = all.find(std::string(name_or_path));
  if (it == all.end()) unknown("model", name_or_path, all);
  return checked_name(parse_model_yaml(it->second.text, it->second.origin), it->first, it->second);
}

HardwareSpec Catalog::hardware(std::string_view name_or_path) const {
  if (looks_like_path(name_or_path)) {
    std::string path(name_or_path);
    return parse_hardware_yaml(read_file(path), path);
  }
  const auto all = entries(search_paths_, Kind::hardware);
  auto it = all.find(std::string(name_or_path));
  if (it == all.end()) unknown("hardware", name_or_path, all);
  return checked_name(parse_hardware_yaml(it->second.text, it->second.origin), it->first,
                      it->second);
}

std::vector<std::string> Catalog::model_names() const {
  std::vector<std::string> names;
  for (const auto& [n, _] : entries(search_paths_, Kind::model)) names.push_back(n);
  return names;
}

std::vector<std::string> Catalog::hardware_names() const {
  std::vector<std::string> names;
  for (const auto& [n, _] : entries(search_paths_, Kind::hardware)) names.push_back(n);
  return names;
}

}  // namespace llmroof
