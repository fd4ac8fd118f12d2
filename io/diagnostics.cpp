#include "io/diagnostics.hpp"

#include <algorithm>
#include <numeric>

namespace llmroof::diag {

int edit_distance(std::string_view a, std::string_view b) {
  // One row of the dynamic-programming table at a time.
  std::vector<int> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int above = row[j];
      int replace = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, replace});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  constexpr int kMaxValidEditDistance = 3;
  int best = kMaxValidEditDistance + 1;
  std::string result;
  for (const auto& c : candidates) {
    int d = edit_distance(word, c);
    if (d < best) {
      best = d;
      result = c;
    }
  }
  return result;
}

std::vector<std::string> suggestions(std::string_view word, const std::vector<std::string>& candidates,
                                     size_t max) {
  // A third of the word may be wrong: "llama2-7b" finds "llama-2-13b", "a600" only "a6000".
  const int limit = std::max<int>(1, static_cast<int>(word.size()) / 3);
  std::vector<std::pair<int, std::string>> scored;
  for (const auto& c : candidates) {
    int d = edit_distance(word, c);
    bool contains = !word.empty() && c.find(word) != std::string::npos;
    if (d <= limit || contains) scored.emplace_back(contains ? std::min(d, limit) : d, c);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < max; ++i) out.push_back(scored[i].second);
  return out;
}

std::string located(std::string_view filename, std::string_view text, int line, int col,
                    std::string_view message) {
  std::string out = std::string(filename) + ":" + std::to_string(line) + ":" + std::to_string(col) +
                    ": " + std::string(message);
  if (line < 1 || col < 1) return out;
  size_t start = 0;
  for (int l = 1; l < line; ++l) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return out;
    ++start;
  }
  size_t end = text.find('\n', start);
  std::string_view content = text.substr(start, end == std::string_view::npos ? text.npos : end - start);
  if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
  if (content.empty()) return out;
  // Tabs stay tabs under the caret so it lines up in any terminal.
  std::string pad;
  for (int i = 0; i < col - 1 && i < static_cast<int>(content.size()); ++i)
    pad += content[i] == '\t' ? '\t' : ' ';
  out += "\n  " + std::string(content) + "\n  " + pad + "^";
  return out;
}

LineCol line_col_of_offset(std::string_view text, size_t offset) {
  LineCol lc;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      lc.col = 1;
    } else {
      ++lc.col;
    }
  }
  return lc;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

}  // namespace llmroof::diag
