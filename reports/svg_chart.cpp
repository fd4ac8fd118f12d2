#include "reports/svg_chart.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "reports/result_table.hpp"
#include "reports/units.hpp"

namespace llmroof::reports {

std::string svg_num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

const std::string& palette(size_t i) {
  static const std::string kColors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                        "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kColors[i % 10];
}

std::string strip_zeros(const std::string& s) {
  const size_t dot = s.find('.');
  if (dot == std::string::npos) return s;
  size_t end = dot + 1;
  while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
  size_t cut = end;
  while (cut > dot + 1 && s[cut - 1] == '0') --cut;
  if (cut == dot + 1) cut = dot;  // "10." -> "10"
  return s.substr(0, cut) + s.substr(end);
}

std::string tick_text(double v) { return strip_zeros(si(v)); }

Axis fit_axis(double lo, double hi, bool log, std::string label, bool exact) {
  Axis a;
  a.log = log;
  a.label = std::move(label);
  if (!(hi > lo)) hi = lo > 0 ? lo * 2 : lo + 1;
  if (log && exact && lo > 0) {
    a.lo = lo;
    a.hi = hi;
  } else if (log) {
    lo = std::max(lo, 1e-30);
    a.lo = std::pow(10.0, std::floor(std::log10(lo)));
    a.hi = std::pow(10.0, std::ceil(std::log10(hi)));
    if (a.hi <= a.lo) a.hi = a.lo * 10;
  } else {
    const double span = hi - lo;
    const double step = std::pow(10.0, std::floor(std::log10(span)));
    a.lo = lo >= 0 && lo < span ? 0 : std::floor(lo / step) * step;
    a.hi = std::ceil(hi / step) * step;
  }
  return a;
}

std::vector<double> axis_ticks(const Axis& a) {
  if (!a.ticks.empty()) {
    std::vector<double> t;
    for (double v : a.ticks)
      if (v >= a.lo * (1 - 1e-9) && v <= a.hi * (1 + 1e-9)) t.push_back(v);
    return t;
  }
  std::vector<double> t;
  if (a.log) {
    const int d0 = static_cast<int>(std::floor(std::log10(a.lo) + 1e-9));
    const int d1 = static_cast<int>(std::floor(std::log10(a.hi) + 1e-9));
    const int decades = d1 - d0;
    const int stride = std::max(1, (decades + 7) / 8);  // at most ~8 labelled decades
    auto in = [&](double v) { return v >= a.lo * (1 - 1e-9) && v <= a.hi * (1 + 1e-9); };
    for (int d = d0; d <= d1; ++d) {
      const double base = std::pow(10.0, d);
      if ((d - d0) % stride == 0 && in(base)) t.push_back(base);
      if (decades <= 1)  // a short range: label 2 and 5 too
        for (double m : {2.0, 5.0})
          if (in(base * m)) t.push_back(base * m);
    }
    std::sort(t.begin(), t.end());
    return t;
  }
  const double span = a.hi - a.lo;
  double step = std::pow(10.0, std::floor(std::log10(span)));
  for (double m : {0.5, 0.2, 0.1}) {  // refine until there are at least 4 ticks
    if (span / step >= 4) break;
    step = std::pow(10.0, std::floor(std::log10(span))) * m;
  }
  for (double v = std::ceil(a.lo / step) * step; v <= a.hi + step * 1e-9; v += step)
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

SvgPlot::SvgPlot(int width, int height, Axis x, Axis y, std::string title, int extra_bottom,
                 int extra_right)
    : width_(width),
      height_(height + extra_bottom),
      right_margin_(24 + extra_right),
      bottom_(56 + extra_bottom),
      x_(std::move(x)),
      y_(std::move(y)),
      title_(std::move(title)) {}

double SvgPlot::px(double x) const {
  const double f =
      x_.log ? (std::log10(x) - std::log10(x_.lo)) / (std::log10(x_.hi) - std::log10(x_.lo))
             : (x - x_.lo) / (x_.hi - x_.lo);
  return left() + f * (right() - left());
}

double SvgPlot::py(double y) const {
  const double f =
      y_.log ? (std::log10(y) - std::log10(y_.lo)) / (std::log10(y_.hi) - std::log10(y_.lo))
             : (y - y_.lo) / (y_.hi - y_.lo);
  return bottom() - f * (bottom() - top());
}

bool SvgPlot::inside(double x, double y) const {
  if (!std::isfinite(x) || !std::isfinite(y)) return false;
  if ((x_.log && x <= 0) || (y_.log && y <= 0)) return false;
  const double eps = 1e-9;
  return x >= x_.lo * (1 - eps) && x <= x_.hi * (1 + eps) && y >= y_.lo * (1 - eps) &&
         y <= y_.hi * (1 + eps);
}

std::string SvgPlot::axis_svg(bool horizontal) const {
  const Axis& a = horizontal ? x_ : y_;
  std::string out;
  for (double t : axis_ticks(a)) {
    const std::string text = html_escape(a.format ? strip_zeros(a.format(t)) : tick_text(t));
    if (horizontal) {
      const std::string x = svg_num(px(t));
      out += "<line class=\"grid\" x1=\"" + x + "\" y1=\"" + std::to_string(top()) + "\" x2=\"" +
             x + "\" y2=\"" + std::to_string(bottom()) + "\"/>";
      out += "<text class=\"tick\" x=\"" + x + "\" y=\"" + std::to_string(bottom() + 18) +
             "\" text-anchor=\"middle\">" + text + "</text>\n";
    } else {
      const std::string y = svg_num(py(t));
      out += "<line class=\"grid\" x1=\"" + std::to_string(left()) + "\" y1=\"" + y + "\" x2=\"" +
             std::to_string(right()) + "\" y2=\"" + y + "\"/>";
      out += "<text class=\"tick\" x=\"" + std::to_string(left() - 6) + "\" y=\"" + y +
             "\" dy=\"4\" text-anchor=\"end\">" + text + "</text>\n";
    }
  }
  if (horizontal)
    out += "<text class=\"axis-label\" x=\"" + svg_num((left() + right()) / 2.0) + "\" y=\"" +
           std::to_string(bottom() + 40) + "\" text-anchor=\"middle\">" + html_escape(a.label) +
           "</text>\n";
  else
    out += "<text class=\"axis-label\" transform=\"translate(18," +
           svg_num((top() + bottom()) / 2.0) + ") rotate(-90)\" text-anchor=\"middle\">" +
           html_escape(a.label) + "</text>\n";
  return out;
}

std::string SvgPlot::open() const {
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" +
                    std::to_string(width_) + "\" height=\"" + std::to_string(height_) +
                    "\" viewBox=\"0 0 " + std::to_string(width_) + " " + std::to_string(height_) +
                    "\" font-family=\"system-ui, sans-serif\">\n";
  out += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(width_) + "\" height=\"" +
         std::to_string(height_) + "\" fill=\"#fff\"/>\n";
  out += "<text class=\"chart-title\" x=\"" + std::to_string(left()) + "\" y=\"24\">" +
         html_escape(title_) + "</text>\n";
  out += axis_svg(true) + axis_svg(false);
  out += "<rect class=\"frame\" x=\"" + std::to_string(left()) + "\" y=\"" + std::to_string(top()) +
         "\" width=\"" + std::to_string(right() - left()) + "\" height=\"" +
         std::to_string(bottom() - top()) + "\"/>\n";
  return out;
}

std::string SvgPlot::close() const { return "</svg>\n"; }

namespace {

// The legend sits right of the plot area (the chart reserves the room), so it never hides data.
std::string legend(const SvgPlot& p, const std::vector<Series>& series) {
  std::string out;
  int y = p.top() + 4;
  const int x = p.right() + 14;
  for (const auto& s : series) {
    out += "<line x1=\"" + std::to_string(x) + "\" y1=\"" + std::to_string(y + 5) + "\" x2=\"" +
           std::to_string(x + 20) + "\" y2=\"" + std::to_string(y + 5) + "\" stroke=\"" + s.color +
           "\" stroke-width=\"2.5\"" + (s.dashed ? " stroke-dasharray=\"5,3\"" : "") +
           (s.line ? "" : " stroke-opacity=\"0\"") + "/>";
    if (s.markers)
      out += "<circle cx=\"" + std::to_string(x + 10) + "\" cy=\"" + std::to_string(y + 5) +
             "\" r=\"4\" fill=\"" + s.color + "\"/>";
    out += "<text class=\"legend\" x=\"" + std::to_string(x + 26) + "\" y=\"" +
           std::to_string(y + 9) + "\">" + html_escape(s.name) + "</text>\n";
    y += 18;
  }
  return out;
}

}  // namespace

std::string line_chart_svg(const LineChart& c) {
  size_t longest = 0;
  for (const auto& s : c.series) longest = std::max(longest, s.name.size());
  const int legend_width = c.series.empty() ? 0 : static_cast<int>(longest) * 7 + 44;
  const SvgPlot p(c.width, c.height, c.x, c.y, c.title, c.note.empty() ? 0 : 18, legend_width);
  std::string out = p.open();
  for (const auto& [v, label] : c.x_marks) {
    if (!p.inside(v, c.y.log ? c.y.lo * 1.0000001 : c.y.lo)) continue;
    const std::string x = svg_num(p.px(v));
    out += "<line class=\"mark\" x1=\"" + x + "\" y1=\"" + std::to_string(p.top()) + "\" x2=\"" +
           x + "\" y2=\"" + std::to_string(p.bottom()) + "\"/><text class=\"mark-label\" x=\"" + x +
           "\" y=\"" + std::to_string(p.top() - 4) + "\" text-anchor=\"middle\">" +
           html_escape(label) + "</text>\n";
  }
  for (const auto& [v, label] : c.y_marks) {
    if (!p.inside(c.x.log ? c.x.lo * 1.0000001 : c.x.lo, v)) continue;
    const std::string y = svg_num(p.py(v));
    out += "<line class=\"mark\" x1=\"" + std::to_string(p.left()) + "\" y1=\"" + y + "\" x2=\"" +
           std::to_string(p.right()) + "\" y2=\"" + y + "\"/><text class=\"mark-label\" x=\"" +
           std::to_string(p.right() - 4) + "\" y=\"" + y + "\" dy=\"-4\" text-anchor=\"end\">" +
           html_escape(label) + "</text>\n";
  }
  for (const auto& s : c.series) {
    std::string path;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!p.inside(s.x[i], s.y[i])) continue;
      path += (path.empty() ? "M" : " L") + svg_num(p.px(s.x[i])) + "," + svg_num(p.py(s.y[i]));
    }
    if (s.line && !path.empty())
      out += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + s.color +
             "\" stroke-width=\"2\"" + (s.dashed ? " stroke-dasharray=\"5,3\"" : "") + "/>\n";
    if (!s.markers) continue;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!p.inside(s.x[i], s.y[i])) continue;
      out += "<circle cx=\"" + svg_num(p.px(s.x[i])) + "\" cy=\"" + svg_num(p.py(s.y[i])) +
             "\" r=\"4\" fill=\"" + s.color + "\" stroke=\"#fff\" stroke-width=\"1\">";
      if (i < s.hover.size()) out += "<title>" + html_escape(s.hover[i]) + "</title>";
      out += "</circle>\n";
    }
  }
  if (!c.series.empty()) out += legend(p, c.series);
  if (!c.note.empty())
    out += "<text class=\"note\" x=\"" + std::to_string(p.left()) + "\" y=\"" +
           std::to_string(p.height() - 6) + "\">" + html_escape(c.note) + "</text>\n";
  return out + p.close();
}

}  // namespace llmroof::reports
