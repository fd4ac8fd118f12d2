#include "reports/option_lists.hpp"

#include <doctest/doctest.h>

#include "io/errors.hpp"

using namespace llmroof;
using namespace llmroof::reports;

namespace {
std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("integer lists: items, ranges, steps, sorted and unique") {
  CHECK(parse_int_list("1,2,4,8", "--batch") == std::vector<int64_t>{1, 2, 4, 8});
  CHECK(parse_int_list("8, 1 ,4", "--batch") == std::vector<int64_t>{1, 4, 8});
  CHECK(parse_int_list("1-256:x2", "--batch") ==
        std::vector<int64_t>{1, 2, 4, 8, 16, 32, 64, 128, 256});
  CHECK(parse_int_list("1-100:x4", "--batch") == std::vector<int64_t>{1, 4, 16, 64});
  CHECK(parse_int_list("128-512:+128", "--prompt-len") == std::vector<int64_t>{128, 256, 384, 512});
  CHECK(parse_int_list("3-5", "--tp") == std::vector<int64_t>{3, 4, 5});
  CHECK(parse_int_list("7-7", "--tp") == std::vector<int64_t>{7});
  CHECK(parse_int_list("2,1-4:x2,3", "--batch") == std::vector<int64_t>{1, 2, 3, 4});
  // The end is never exceeded, even when the step overshoots it.
  CHECK(parse_int_list("100-250:+100", "--gen-len") == std::vector<int64_t>{100, 200});
}

TEST_CASE("integer lists: errors name the option and the item") {
  CHECK(error_of([] { parse_int_list("1,x,4", "--batch"); }) ==
        "--batch: 'x' is not a number or a range (expected N, A-B, A-B:xF or A-B:+S, e.g. 1,2,4 "
        "or 1-256:x2)");
  CHECK(error_of([] { parse_int_list("0,1", "--tp"); }) == "--tp: '0' must be a positive integer");
  CHECK(error_of([] { parse_int_list("-3", "--tp"); }) == "--tp: '-3' must be a positive integer");
  CHECK(error_of([] { parse_int_list("8-2", "--batch"); }) ==
        "--batch: '8-2' is an empty range (end before start)");
  CHECK(error_of([] { parse_int_list("1-8:x1", "--batch"); }) ==
        "--batch: '1-8:x1' needs a factor of at least 2 after 'x'");
  CHECK(error_of([] {
          parse_int_list("1-8:*2", "--batch");
        }).starts_with("--batch: '1-8:*2' has a step that is neither xF nor +S"));
  CHECK(error_of([] { parse_int_list("1,,2", "--batch"); }) ==
        "--batch: '1,,2' has an empty item (two commas in a row?)");
  CHECK(error_of([] { parse_int_list("", "--batch"); }).starts_with("--batch: '' is empty"));
  CHECK(error_of([] { parse_int_list("1-1000000", "--prompt-len"); }) ==
        "--prompt-len: '1-1000000' expands to more than 100000 values");
  // Huge geometric ranges stop before overflowing.
  CHECK(parse_int_list("1-9223372036854775807:x2", "--batch").size() == 63);
}

TEST_CASE("durations need a unit and are returned in seconds") {
  CHECK(parse_duration_s("500ms", "--ttft-slo") == doctest::Approx(0.5));
  CHECK(parse_duration_s("0.5s", "--ttft-slo") == doctest::Approx(0.5));
  CHECK(parse_duration_s("50ms", "--tpot-slo") == doctest::Approx(0.05));
  CHECK(parse_duration_s("200us", "--tpot-slo") == doctest::Approx(200e-6));
  CHECK(parse_duration_s("1e6ns", "--tpot-slo") == doctest::Approx(1e-3));
  CHECK(parse_duration_s(" 2 s ", "--tpot-slo") == doctest::Approx(2.0));
  CHECK(error_of([] { parse_duration_s("500", "--ttft-slo"); }) ==
        "--ttft-slo: '500' is not a duration (expected a number with a unit: 500ms, 0.5s, 200us, "
        "1e6ns)");
  CHECK(error_of([] { parse_duration_s("fast", "--ttft-slo"); }).starts_with("--ttft-slo: 'fast'"));
  CHECK(error_of([] { parse_duration_s("0ms", "--ttft-slo"); }) ==
        "--ttft-slo: '0ms' must be a positive duration");
}

TEST_CASE("names and numbers") {
  CHECK(parse_name_list("a100,h100,a100", "HARDWARE") == std::vector<std::string>{"a100", "h100"});
  CHECK(error_of([] { parse_name_list("a100,", "HARDWARE"); }) ==
        "HARDWARE: 'a100,' has an empty name (two commas in a row?)");
  CHECK(parse_positive_number("2.5", "--rate") == 2.5);
  CHECK(error_of([] { parse_positive_number("-1", "--rate"); }) == "--rate: '-1' must be positive");
}
