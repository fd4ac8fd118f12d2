#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/check.hpp"

using namespace llmroof::kernels;

TEST_CASE("check_close passes equal outputs and states its metric") {
  std::vector<float> ref{1, -2, 3, 4};
  const CheckResult c = check_close(ref, ref, {Metric::max_abs, 0.0});
  CHECK(c.disposition == Disposition::passed);
  CHECK(c.metric == "max_abs");
  CHECK(c.error == 0.0);
}

TEST_CASE("check_close metrics match hand-computed values") {
  std::vector<float> ref{1, -2, 3, 4}, got{1, -2, 3.5f, 4};
  const ErrorStats s = error_stats(got, ref);
  CHECK(s.value(Metric::max_abs) == doctest::Approx(0.5));
  CHECK(s.value(Metric::max_norm) == doctest::Approx(0.5 / 4));
  CHECK(s.value(Metric::nmse) == doctest::Approx(0.25 / 30));
  CHECK(check_close(got, ref, {Metric::max_abs, 0.4}).disposition == Disposition::failed);
  CHECK(check_close(got, ref, {Metric::max_abs, 0.5}).disposition == Disposition::passed);
}

TEST_CASE("NaN and Inf in the output fail even within tolerance") {
  std::vector<float> ref{1, 2, 3, 4}, got{1, NAN, 3, INFINITY};
  const CheckResult c = check_close(got, ref, {Metric::max_abs, 1e9});
  CHECK(c.disposition == Disposition::failed);
  CHECK(c.detail.find("1 NaN and 1 Inf") != std::string::npos);
}

TEST_CASE("an output that is mostly zeros is mistrusted, not passed") {
  std::vector<float> ref(100, 0.f), got(100, 0.f);
  ref[3] = got[3] = 1.f;
  CHECK(check_close(got, ref, {Metric::max_abs, 1e-6}).disposition == Disposition::mistrusted);
}

TEST_CASE("size mismatch fails") {
  std::vector<float> a{1, 2}, b{1, 2, 3};
  CHECK(check_close(a, b, {}).disposition == Disposition::failed);
}

TEST_CASE("fills are deterministic, integer-valued or away from zero and denormals") {
  std::vector<float> a(1000), b(1000), c(1000);
  fill_integers(a, 7, -3, 3);
  fill_integers(b, 7, -3, 3);
  CHECK(a == b);
  for (float v : a) CHECK((v == std::round(v) && v >= -3 && v <= 3));
  fill_uniform(c, 9, -1, 1);
  for (float v : c) CHECK((std::fabs(v) >= 1e-3f && std::fabs(v) <= 1.f));
}

TEST_CASE("worse_of keeps the worse disposition") {
  CheckResult p, f;
  p.disposition = Disposition::passed;
  f.disposition = Disposition::failed;
  CHECK(worse_of(p, f).disposition == Disposition::failed);
  CHECK(worse_of(f, p).disposition == Disposition::failed);
}
