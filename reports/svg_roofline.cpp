#include "reports/svg_roofline.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "reports/result_table.hpp"
#include "reports/svg_chart.hpp"
#include "reports/units.hpp"

namespace llmroof::reports {

const char* bound_color(Bound b) {
  switch (b) {
    case Bound::compute:
      return "#d62728";
    case Bound::memory:
      return "#1f77b4";
    case Bound::communication:
      return "#2ca02c";
  }
  return "#777";
}

std::vector<RooflinePoint> roofline_points(const Analysis& a) {
  std::vector<RooflinePoint> pts;
  for (const PhaseResult* ph : {&a.prefill, &a.decode}) {
    for (const LayerRow& r : ph->rows) {
      if (r.cost.ops <= 0 || r.time_s <= 0 || r.arithmetic_intensity <= 0) continue;
      RooflinePoint p;
      p.phase = ph->phase;
      p.bound = r.bound;
      p.label = std::string(to_string(ph->phase)) + " " + r.name;
      p.intensity = r.arithmetic_intensity;
      p.ops_per_s = r.cost.ops / r.time_s;
      p.hover = p.label + " (x" + std::to_string(r.count) + "): " + si_unit(r.cost.ops, "OPs") +
                ", " + bytes(r.cost.bytes.total()) + ", intensity " + si(r.arithmetic_intensity) +
                " ops/B, " + rate_text(p.ops_per_s, "OPS") + " predicted, " +
                rate_text(r.attainable_ops_per_s, "OPS") + " attainable, " +
                std::string(to_string(r.bound)) + "-bound, " + seconds(r.time_s) + " each";
      pts.push_back(std::move(p));
    }
  }
  return pts;
}

namespace {

struct Ceiling {
  double peak = 0;
  std::string dtypes;  // "fp16/bf16"
};

// Dtypes with the same peak share one line; sorted from the highest peak down.
std::vector<Ceiling> ceilings(const HardwareSpec& hw) {
  std::map<double, std::string, std::greater<>> by_peak;
  for (int i = 0; i < kNumDTypes; ++i)
    if (auto p = hw.peak(static_cast<DType>(i)); p && *p > 0) {
      std::string& names = by_peak[*p];
      append_joined(names, "/", to_string(static_cast<DType>(i)));
    }
  std::vector<Ceiling> out;
  for (const auto& [peak, names] : by_peak) out.push_back({peak, names});
  return out;
}

std::string marker(const SvgPlot& p, const RooflinePoint& pt) {
  const double x = p.px(pt.intensity), y = p.py(pt.ops_per_s);
  const std::string fill = bound_color(pt.bound);
  std::string shape;
  if (pt.phase == Phase::prefill) {
    shape = "<circle cx=\"" + svg_num(x) + "\" cy=\"" + svg_num(y) + "\" r=\"5.5\"";
  } else {  // triangle pointing up
    shape = "<path d=\"M" + svg_num(x) + "," + svg_num(y - 6.5) + " L" + svg_num(x + 6) + "," +
            svg_num(y + 4.5) + " L" + svg_num(x - 6) + "," + svg_num(y + 4.5) + " Z\"";
  }
  return shape + " fill=\"" + fill +
         "\" fill-opacity=\"0.75\" stroke=\"#222\" stroke-width=\"0.8\">" + "<title>" +
         html_escape(pt.hover) + "</title>" +
         (pt.phase == Phase::prefill ? "</circle>\n" : "</path>\n");
}

std::string roofline_legend(const SvgPlot& p) {
  std::string out;
  const int x = p.right() - 190, y = p.bottom() - 104;
  out += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) +
         "\" width=\"182\" height=\"96\" fill=\"#fff\" fill-opacity=\"0.9\" stroke=\"#ccc\"/>\n";
  int row = y + 18;
  for (Bound b : {Bound::compute, Bound::memory, Bound::communication}) {
    out += "<rect x=\"" + std::to_string(x + 10) + "\" y=\"" + std::to_string(row - 9) +
           "\" width=\"10\" height=\"10\" fill=\"" + bound_color(b) +
           "\"/><text class=\"legend\" x=\"" + std::to_string(x + 28) + "\" y=\"" +
           std::to_string(row) + "\">" + std::string(to_string(b)) + "-bound</text>\n";
    row += 17;
  }
  out += "<circle cx=\"" + std::to_string(x + 15) + "\" cy=\"" + std::to_string(row - 4) +
         "\" r=\"5\" fill=\"#999\"/><text class=\"legend\" x=\"" + std::to_string(x + 28) +
         "\" y=\"" + std::to_string(row) + "\">prefill</text>";
  out += "<path d=\"M" + std::to_string(x + 95) + "," + std::to_string(row - 10) + " L" +
         std::to_string(x + 101) + "," + std::to_string(row + 1) + " L" + std::to_string(x + 89) +
         "," + std::to_string(row + 1) + " Z\" fill=\"#999\"/><text class=\"legend\" x=\"" +
         std::to_string(x + 108) + "\" y=\"" + std::to_string(row) + "\">decode</text>\n";
  return out;
}

}  // namespace

std::string roofline_svg(const HardwareSpec& hw, const std::vector<RooflinePoint>& points,
                         const std::string& title, int width, int height) {
  const double bw = hw.memory_bandwidth_bytes_per_s;
  const std::vector<Ceiling> roofs = ceilings(hw);
  const double top_peak = roofs.empty() ? 1e12 : roofs.front().peak;
  double x_lo = 0.1, x_hi = bw > 0 ? top_peak / bw * 4 : 1e4, y_lo = 1e12, y_hi = top_peak * 2;
  for (const auto& pt : points) {
    x_lo = std::min(x_lo, pt.intensity / 2);
    x_hi = std::max(x_hi, pt.intensity * 2);
    y_lo = std::min(y_lo, pt.ops_per_s / 2);
  }
  for (const auto& r : roofs) y_lo = std::min(y_lo, r.peak / 4);
  y_lo = std::max(y_lo, y_hi * 1e-7);  // keep the chart about the roofs, not the far tail
  Axis xa =
      fit_axis(x_lo, x_hi, true, "Arithmetic intensity (ops per byte of memory traffic)", true);
  Axis ya = fit_axis(y_lo, y_hi, true, "Performance (ops/s)", true);
  const SvgPlot p(width, height, xa, ya, title);
  std::string out = p.open();

  if (bw > 0) {
    // The memory roof: performance = intensity x bandwidth, up to the highest ridge.
    const double x0 = std::max(xa.lo, ya.lo / bw), x1 = std::min(xa.hi, top_peak / bw);
    out += "<path d=\"M" + svg_num(p.px(x0)) + "," + svg_num(p.py(x0 * bw)) + " L" +
           svg_num(p.px(x1)) + "," + svg_num(p.py(x1 * bw)) +
           "\" stroke=\"#333\" stroke-width=\"2.5\" fill=\"none\"><title>memory bandwidth " +
           rate_text(bw, "B/s") + "</title></path>\n";
    // Label the slope a little way along it, rotated to follow it.
    const double lx = x0 * 2.5;
    const double angle =
        std::atan2(p.py(x1 * bw) - p.py(x0 * bw), p.px(x1) - p.px(x0)) * 180 / M_PI;
    const std::string at = svg_num(p.px(lx)) + "," + svg_num(p.py(lx * bw) - 8);
    out += "<text class=\"roof-label\" transform=\"translate(" + at + ") rotate(" + svg_num(angle) +
           ")\">memory " + html_escape(rate_text(bw, "B/s")) + "</text>\n";
  }
  // Ceiling labels go in a key at the top left (empty in every roofline: the slope starts low),
  // so they never collide with the lines, ridges or points however close the peaks are.
  std::string key;
  int key_rows = 0;
  for (size_t i = 0; i < roofs.size(); ++i) {
    const Ceiling& r = roofs[i];
    if (!p.inside(xa.hi, r.peak)) continue;
    const double ridge = bw > 0 ? r.peak / bw : xa.lo;
    const double x0 = std::max(ridge, xa.lo);
    const std::string y = svg_num(p.py(r.peak));
    out += "<line x1=\"" + svg_num(p.px(x0)) + "\" y1=\"" + y + "\" x2=\"" + svg_num(p.right()) +
           "\" y2=\"" + y + "\" stroke=\"" + palette(i) + "\" stroke-width=\"2.5\"><title>" +
           html_escape(r.dtypes + " peak " + rate_text(r.peak, "OPS")) + "</title></line>\n";
    std::string label = r.dtypes + " " + rate_text(r.peak, "OPS");
    if (bw > 0) label += ", ridge " + tick_text(ridge) + " ops/B";
    const int ky = p.top() + 22 + 17 * key_rows++;
    key += "<line x1=\"" + std::to_string(p.left() + 14) + "\" y1=\"" + std::to_string(ky - 4) +
           "\" x2=\"" + std::to_string(p.left() + 36) + "\" y2=\"" + std::to_string(ky - 4) +
           "\" stroke=\"" + palette(i) + "\" stroke-width=\"2.5\"/><text class=\"legend\" x=\"" +
           std::to_string(p.left() + 42) + "\" y=\"" + std::to_string(ky) + "\">" +
           html_escape(label) + "</text>\n";
    if (bw > 0 && p.inside(ridge, r.peak))
      out += "<circle cx=\"" + svg_num(p.px(ridge)) + "\" cy=\"" + y +
             "\" r=\"4.5\" fill=\"#fff\" " + "stroke=\"" + palette(i) +
             "\" stroke-width=\"2.5\"><title>" +
             html_escape(r.dtypes + " ridge point: " + tick_text(ridge) + " ops/byte") +
             "</title></circle>\n";
  }
  if (key_rows > 0)
    out += "<rect x=\"" + std::to_string(p.left() + 6) + "\" y=\"" + std::to_string(p.top() + 6) +
           "\" width=\"300\" height=\"" + std::to_string(17 * key_rows + 10) +
           "\" fill=\"#fff\" fill-opacity=\"0.9\" stroke=\"#ccc\"/>\n" + key;
  // Decode first so the (usually fewer, larger) prefill points stay on top where they overlap.
  for (Phase ph : {Phase::decode, Phase::prefill})
    for (const auto& pt : points)
      if (pt.phase == ph && p.inside(pt.intensity, pt.ops_per_s)) out += marker(p, pt);
  out += roofline_legend(p);
  return out + p.close();
}

std::string memory_bar_svg(const MemoryResult& m, int width) {
  const int left = 10, right = width - 10, bar_y = 30, bar_h = 26;
  const double scale_max = std::max({m.total_bytes, m.capacity_bytes, 1.0});
  auto x = [&](double b) { return left + b / scale_max * (right - left); };
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" +
                    std::to_string(width) + "\" height=\"96\" viewBox=\"0 0 " +
                    std::to_string(width) + " 96\" font-family=\"system-ui, sans-serif\">\n";
  out += "<rect x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(bar_y) + "\" width=\"" +
         svg_num(x(m.capacity_bytes) - left) + "\" height=\"" + std::to_string(bar_h) +
         "\" fill=\"#eef1f5\" stroke=\"#bbb\"/>\n";
  struct Part {
    const char* name;
    double bytes;
    const char* color;
  };
  const Part parts[] = {{"weights", m.weights_bytes, "#4e79a7"},
                        {"KV cache", m.kv_cache_bytes, "#f28e2b"},
                        {"activations", m.activation_peak_bytes, "#59a14f"}};
  double at = 0;
  std::string legend;
  int lx = left;
  for (const Part& part : parts) {
    out += "<rect x=\"" + svg_num(x(at)) + "\" y=\"" + std::to_string(bar_y) + "\" width=\"" +
           svg_num(x(at + part.bytes) - x(at)) + "\" height=\"" + std::to_string(bar_h) +
           "\" fill=\"" + part.color + "\"><title>" + part.name + ": " + bytes(part.bytes) +
           "</title></rect>\n";
    at += part.bytes;
    const std::string text = std::string(part.name) + " " + bytes(part.bytes);
    legend += "<rect x=\"" + std::to_string(lx) + "\" y=\"72\" width=\"12\" height=\"12\" fill=\"" +
              part.color + "\"/><text class=\"legend\" x=\"" + std::to_string(lx + 17) +
              "\" y=\"82\">" + html_escape(text) + "</text>";
    lx += static_cast<int>(text.size()) * 7 + 40;
  }
  const std::string cx = svg_num(x(m.capacity_bytes));
  out += "<line x1=\"" + cx + "\" y1=\"" + std::to_string(bar_y - 8) + "\" x2=\"" + cx +
         "\" y2=\"" + std::to_string(bar_y + bar_h + 6) +
         "\" stroke=\"#222\" stroke-width=\"2\"/>\n";
  const std::string status =
      "total " + bytes(m.total_bytes) + " of " + bytes(m.capacity_bytes) + " (" +
      percent(m.capacity_bytes > 0 ? m.total_bytes / m.capacity_bytes : 0, 0) + ")" +
      (m.fits ? "" : ": does not fit");
  out += "<text class=\"legend\" x=\"" + std::to_string(left) + "\" y=\"18\"" +
         (m.fits ? "" : " fill=\"#c00\" font-weight=\"bold\"") + ">" + html_escape(status) +
         "</text>\n";
  out += "<text class=\"legend\" x=\"" + cx +
         "\" y=\"18\" text-anchor=\"end\" dx=\"-4\">capacity " +
         html_escape(bytes(m.capacity_bytes)) + "</text>\n";
  return out + legend + "\n</svg>\n";
}

}  // namespace llmroof::reports
