#pragma once
// Errors in user input: a file, an option, a name. The message is complete and points at the input
// ("model_zoo/x.yaml:7:3: unknown key 'hiden_size' (did you mean 'hidden_size'?)" plus the line and a
// caret). cli/main.cpp prints it and exits 2.
#include <stdexcept>
#include <string>

namespace llmroof {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace llmroof
