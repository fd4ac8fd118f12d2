// Edit distance, suggestions and located messages (io/diagnostics).
#include <doctest/doctest.h>

#include "io/diagnostics.hpp"

using namespace llmroof::diag;

TEST_CASE("edit distance") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("hiden_size", "hidden_size") == 1);
}

TEST_CASE("closest and suggestions") {
  const std::vector<std::string> keys = {"hidden_size", "num_layers", "vocab_size"};
  CHECK(closest("hiden_size", keys) == "hidden_size");
  CHECK(closest("colour", keys) == "");
  const std::vector<std::string> names = {"llama-2-7b", "llama-2-13b", "mixtral-8x7b", "qwen2-7b"};
  CHECK(suggestions("llama2-7b", names) == std::vector<std::string>{"llama-2-7b", "llama-2-13b"});
  CHECK(suggestions("mixtral", names) == std::vector<std::string>{"mixtral-8x7b"});
  CHECK(suggestions("gpt-j", names).empty());
}

TEST_CASE("located messages keep tabs under the caret") {
  CHECK(located("f", "a\n\tbc\n", 2, 3, "m") == "f:2:3: m\n  \tbc\n  \t ^");
  CHECK(located("f", "a\n", 5, 1, "m") == "f:5:1: m");
  CHECK(line_col_of_offset("ab\ncd", 4).line == 2);
  CHECK(line_col_of_offset("ab\ncd", 4).col == 2);
}
