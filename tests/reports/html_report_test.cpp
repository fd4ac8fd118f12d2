#include "reports/html_report.hpp"

#include <doctest/doctest.h>

#include "reports/svg_chart.hpp"
#include "reports/svg_roofline.hpp"
#include "tests/reports/fake_analysis.hpp"

using namespace llmroof;
using namespace llmroof::reports;
using namespace llmroof::testing;

namespace {
size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = s.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}
// Self-contained: no scripts, no external resources (the SVG namespace URI is not a fetch).
void check_self_contained(const std::string& html) {
  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find(" src=") == std::string::npos);
  CHECK(html.find(" href=") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(count(html, "http") == count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
}
}  // namespace

TEST_CASE("tick and rate text") {
  CHECK(tick_text(1e15) == "1P");
  CHECK(tick_text(1e4) == "10K");
  CHECK(tick_text(0.1) == "0.1");
  CHECK(tick_text(2500) == "2.5K");
  CHECK(strip_zeros("10.0 ms") == "10 ms");
  CHECK(strip_zeros("1.50 s") == "1.5 s");
  CHECK(strip_zeros("850 us") == "850 us");
  CHECK(rate_text(154.8e12, "OPS") == "155 TOPS");
  CHECK(rate_text(768e9, "B/s") == "768 GB/s");
  CHECK(rate_text(12, "OPS") == "12.0 OPS");
}

TEST_CASE("axis ticks") {
  Axis a;
  a.log = true;
  a.lo = 1;
  a.hi = 1000;
  CHECK(axis_ticks(a) == std::vector<double>{1, 10, 100, 1000});
  a.hi = 50;  // a short range also gets 2 and 5
  CHECK(axis_ticks(a) == std::vector<double>{1, 2, 5, 10, 20, 50});
  Axis lin = fit_axis(0, 0.68, false, "TTFT");
  CHECK(lin.lo == 0);
  CHECK(lin.hi == doctest::Approx(0.7));
  CHECK(axis_ticks(lin).size() == 8);  // 0, 0.1, ..., 0.7
  CHECK(axis_ticks(lin)[3] == doctest::Approx(0.3));
  Axis wide = fit_axis(0.013, 4200, true, "x");
  CHECK(wide.lo == doctest::Approx(0.01));
  CHECK(wide.hi == doctest::Approx(1e4));
}

TEST_CASE("plot coordinates, by hand") {
  Axis x = fit_axis(1, 100, true, "x");
  Axis y = fit_axis(0, 10, false, "y");
  const SvgPlot p(640, 400, x, y, "t");
  // Plot area: x from 78 to 640 - 24 = 616, y from 40 to 400 - 56 = 344.
  CHECK(p.px(1) == doctest::Approx(78));
  CHECK(p.px(10) == doctest::Approx(347));  // halfway in log space
  CHECK(p.px(100) == doctest::Approx(616));
  CHECK(p.py(0) == doctest::Approx(344));
  CHECK(p.py(5) == doctest::Approx(192));
  CHECK_FALSE(p.inside(0.5, 5));
  CHECK_FALSE(p.inside(10, 11));
}

TEST_CASE("roofline: a ceiling per distinct peak, ridge points, one marker per layer") {
  const HardwareSpec hw = fake_hardware("gpu-a", 48e9, 1);  // fp16 154.8T, int8 309.7T, int4 619T
  HardwareSpec with_bf16 = hw;
  with_bf16.dense_ops_per_s[static_cast<int>(DType::bf16)] = 154.8e12;  // shares fp16's line
  const Analysis a = sample_analysis();
  const auto pts = roofline_points(a);
  REQUIRE(pts.size() == 4);
  CHECK(pts[0].label == "prefill q_proj");
  CHECK(pts[0].ops_per_s == doctest::Approx(68.7e9 / 600e-6));
  CHECK(pts[3].bound == Bound::communication);
  const std::string svg = roofline_svg(with_bf16, pts, "t");
  CHECK(svg.find("int4 619 TOPS, ridge 806 ops/B") != std::string::npos);
  CHECK(svg.find("int8 310 TOPS, ridge 403 ops/B") != std::string::npos);
  CHECK(svg.find("fp16/bf16 155 TOPS, ridge 202 ops/B") != std::string::npos);
  CHECK(count(svg, "ridge point:") == 3);
  CHECK(svg.find("memory 768 GB/s") != std::string::npos);
  // Prefill points are circles, decode points triangles, each with its hover label.
  CHECK(svg.find("<title>prefill q_proj (x32): 68.7 GOPs") != std::string::npos);
  CHECK(svg.find("<title>decode all_reduce (x64)") != std::string::npos);
  CHECK(count(svg, "fill=\"" + std::string(bound_color(Bound::compute)) + "\" fill-opacity") == 1);
  CHECK(count(svg, "fill=\"" + std::string(bound_color(Bound::memory)) + "\" fill-opacity") == 2);
  CHECK(count(svg,
              "fill=\"" + std::string(bound_color(Bound::communication)) + "\" fill-opacity") == 1);
}

TEST_CASE("memory bar") {
  const std::string svg = memory_bar_svg(sample_analysis().memory, 900);
  CHECK(svg.find("total 15.2 GB of 48.0 GB (32 %)") != std::string::npos);
  CHECK(svg.find("weights 13.5 GB") != std::string::npos);
  CHECK(svg.find("KV cache 1.14 GB") != std::string::npos);
  CHECK(svg.find("activations 554 MB") != std::string::npos);
  MemoryResult over = sample_analysis().memory;
  over.total_bytes = 60e9;
  over.fits = false;
  CHECK(memory_bar_svg(over).find(": does not fit") != std::string::npos);
}

TEST_CASE("analysis HTML: self-contained, roofline, memory bar and both layer tables") {
  const std::string html = analysis_html(sample_analysis(), fake_hardware("gpu-a", 48e9, 1));
  check_self_contained(html);
  CHECK(html.find("<h1>toy-7b on gpu-a</h1>") != std::string::npos);
  CHECK(count(html, "<svg") == 2);
  CHECK(html.find("<h2>Prefill layers</h2>") < html.find("<h2>Decode layers</h2>"));
  CHECK(html.find("<td>softmax</td>") != std::string::npos);
  CHECK(html.find("<td>all_reduce</td>") != std::string::npos);
  CHECK(html.find("<td class=\"num\">282 ms</td>") == std::string::npos);  // cards, not cells
  CHECK(html.find("<div class=\"v\">282 ms</div>") != std::string::npos);
}

TEST_CASE("sweep HTML: curves when there is something to draw, truncated tables") {
  SweepAxes ax;
  ax.batch = {1, 2, 4, 8};
  ax.prompt_len = {512, 1024, 2048};
  ax.tp = {1, 2};
  const SweepResult r =
      run_sweep(fake_model(), {fake_hardware("gpu-a", 80e9, 8)}, ax, Settings{}, fake_analyze);
  const std::string html = sweep_html(r);
  check_self_contained(html);
  CHECK(html.find("Output tokens/s against batch") != std::string::npos);
  CHECK(html.find("TTFT against prompt length") != std::string::npos);
  CHECK(html.find(">gpu-a fp16 tp1</text>") != std::string::npos);  // legend
  CHECK(html.find(">gpu-a fp16 tp2</text>") != std::string::npos);
  // tokens/s vs batch: 4 points per curve at prompt 512; TTFT vs prompt: 3 per curve at batch 1.
  CHECK(count(html, "<circle cx=") == 2 * 4 + 2 * 3 + 2 + 2);  // + legend markers

  SweepAxes big;
  big.batch.resize(kHtmlMaxRows + 5);
  for (size_t i = 0; i < big.batch.size(); ++i) big.batch[i] = static_cast<int64_t>(i + 1);
  const SweepResult many =
      run_sweep(fake_model(), {fake_hardware("gpu-a", 80e9, 8)}, big, Settings{}, fake_analyze);
  const std::string long_html = sweep_html(many);
  CHECK(long_html.find("Showing the first 2000 of 2005 rows") != std::string::npos);
}

TEST_CASE("plan HTML: frontier chart with the SLO, Pareto table per hardware") {
  PlanRequest req;
  req.prompt_len = 1000;
  req.gen_len = 100;
  req.weights = {DType::fp16, DType::int4};
  req.tp = {1, 2};
  req.batch = {1, 2, 4, 8, 16};
  const PlanResult r = plan(fake_model(), {fake_hardware("gpu-a", 24e9, 8)}, req, fake_analyze);
  const std::string html = plan_html(r);
  check_self_contained(html);
  CHECK(html.find("gpu-a: throughput per device against TPOT") != std::string::npos);
  CHECK(html.find(">TPOT SLO 50.0 ms</text>") != std::string::npos);
  CHECK(html.find("<p>Pareto set, best rank first:</p>") != std::string::npos);
  CHECK(html.find("<summary>Every candidate (") != std::string::npos);
}
