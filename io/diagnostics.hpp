#pragma once
// Error messages that point at the input: "file:line:col: message", then the offending line and a
// caret under the column (ninja's Lexer::Error style), and edit-distance suggestions for misspelt
// keys and names (ninja's SpellcheckStringV).
#include <string>
#include <string_view>
#include <vector>

namespace llmroof::diag {

// Levenshtein distance (insert / delete / replace, each costing 1).
int edit_distance(std::string_view a, std::string_view b);

// The closest candidate within a small edit distance (<= 3, ninja's limit), or "" when none is close.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

// Up to `max` candidates near `word`, best first: within edit distance max(1, |word|/3), or
// containing `word` as a substring. Empty when nothing is close.
std::vector<std::string> suggestions(std::string_view word, const std::vector<std::string>& candidates,
                                     size_t max = 3);

// "file:line:col: message\n  <line text>\n  <spaces>^". line and col are 1-based; col 0 or a line
// outside the text omits the excerpt.
std::string located(std::string_view filename, std::string_view text, int line, int col,
                    std::string_view message);

// 1-based line and column of a 0-based byte offset into text.
struct LineCol {
  int line = 1;
  int col = 1;
};
LineCol line_col_of_offset(std::string_view text, size_t offset);

// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

}  // namespace llmroof::diag
