#pragma once
// The roofline chart of one analysis as inline SVG: log-log, arithmetic intensity (ops/byte)
// against performance (ops/s). One flat ceiling per dtype the hardware has (dtypes with the same
// peak share a line), the memory-bandwidth slope, a marked ridge point per ceiling, and one point
// per layer and phase (circle = prefill, triangle = decode) coloured by bound, with a hover label
// (<title>). The points are the predicted rates ops / time, so in realistic mode they sit under the
// roofs by the efficiency factors and launch overheads.
#include <string>
#include <vector>

#include "analyzer/analysis.hpp"
#include "analyzer/hardware_spec.hpp"

namespace llmroof::reports {

struct RooflinePoint {
  std::string label;  // "prefill q_proj"
  Phase phase = Phase::prefill;
  Bound bound = Bound::memory;
  double intensity = 0;  // ops / byte
  double ops_per_s = 0;  // predicted: ops / time
  std::string hover;     // full hover text
};

// The points of an analysis (rows with no ops or no time are skipped: they have no place on a
// log-log chart).
std::vector<RooflinePoint> roofline_points(const Analysis& a);
std::string roofline_svg(const HardwareSpec& hw, const std::vector<RooflinePoint>& points,
                         const std::string& title, int width = 1000, int height = 560);

// Memory use against capacity as a horizontal stacked bar: weights, KV cache, activations.
std::string memory_bar_svg(const MemoryResult& m, int width = 900);

const char* bound_color(Bound b);

}  // namespace llmroof::reports
