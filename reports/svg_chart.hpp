#pragma once
// Small, dependency-free SVG charts for the HTML reports: linear or log axes with readable ticks,
// line/scatter series with hover labels (<title>), a legend. Deterministic text output.
#include <functional>
#include <string>
#include <vector>

#include "reports/result_table.hpp"  // rate_text

namespace llmroof::reports {

struct Axis {
  double lo = 1, hi = 10;
  bool log = false;
  std::string label;
  std::function<std::string(double)> format;  // tick text; null: 3 significant digits, SI prefix
  std::vector<double> ticks;                  // explicit ticks; empty: chosen automatically
};

// Maps data to pixels inside a plot area and draws the frame, grid, ticks and axis labels.
class SvgPlot {
 public:
  // `extra_bottom`: room under the x-axis label for a note; `extra_right`: room for a legend.
  SvgPlot(int width, int height, Axis x, Axis y, std::string title, int extra_bottom = 0,
          int extra_right = 0);
  double px(double x) const;
  double py(double y) const;
  bool inside(double x, double y) const;
  int left() const { return left_; }
  int right() const { return width_ - right_margin_; }
  int top() const { return top_; }
  int bottom() const { return height_ - bottom_; }
  int height() const { return height_; }
  std::string open() const;   // <svg ...> + background + title + grid + axes
  std::string close() const;  // </svg>
  const Axis& x() const { return x_; }
  const Axis& y() const { return y_; }

 private:
  std::string axis_svg(bool horizontal) const;
  int width_, height_;
  int left_ = 78, right_margin_ = 24, top_ = 40, bottom_ = 56;
  Axis x_, y_;
  std::string title_;
};

// Tick positions for an axis: decades (with 2 and 5 when the range is short) or 1-2-5 steps.
std::vector<double> axis_ticks(const Axis& a);
// The range [lo, hi] widened to whole decades (log) or nice round numbers (linear); with `exact`,
// a log axis keeps [lo, hi] as given (ticks still fall on decades).
Axis fit_axis(double lo, double hi, bool log, std::string label, bool exact = false);
// Tick text: 3 significant digits with an SI prefix, trailing zeros dropped ("10P", "0.1", "2.5K").
std::string tick_text(double v);
// Drops trailing zeros of the first decimal number in a label: "10.0 ms" -> "10 ms".
std::string strip_zeros(const std::string& s);

struct Series {
  std::string name;
  std::string color;                    // CSS colour
  std::vector<double> x = {}, y = {};   // same length
  std::vector<std::string> hover = {};  // one per point (may be empty)
  bool line = true;
  bool markers = true;
  bool dashed = false;
};

struct LineChart {
  std::string title;
  Axis x, y;
  std::vector<Series> series;
  std::string note;  // small text under the plot ("batch 1, prompt 2048")
  int width = 640, height = 380;
  // Vertical and horizontal reference lines (e.g. an SLO): value, label.
  std::vector<std::pair<double, std::string>> x_marks, y_marks;
};
std::string line_chart_svg(const LineChart& chart);

// Distinct colours for up to 10 series (Tableau 10), repeating after that.
const std::string& palette(size_t i);
// Number formatting for SVG text: "%g"-like with few digits, never locale dependent.
std::string svg_num(double v);

}  // namespace llmroof::reports
