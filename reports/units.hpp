#pragma once
// Human units for table / Markdown / HTML output. JSON and CSV keep SI base units; only these
// printers scale. One place, so every format rounds the same way.
#include <string>

namespace llmroof::reports {

// 3 significant digits with an SI prefix (K, M, G, T, P), as the published roofline tables write
// them: 69e9 -> "69G", 1.55e14 -> "155T", 1.25 -> "1.25", 0 -> "0".
std::string si(double value, int significant = 3);
// Seconds with a fitting unit: "12.3 ms", "850 us", "1.20 s".
std::string seconds(double s);
// Bytes in decimal units (GB = 1e9 B, as vendors quote memory): "13.5 GB", "512 MB".
std::string bytes(double b);
// Bytes in binary units for capacities users think of as powers of two: "80.0 GiB".
std::string bytes_binary(double b);
// A value with its SI prefix joined to the unit, spaced for reading: (1.55e14, "OPS") -> "155 TOPS",
// (336, "OPs") -> "336 OPs". Every printed rate and OP count goes through it.
std::string si_unit(double value, const std::string& unit);
// Rates: "768 GB/s", "155 TOPS" ("OPS" counting a multiply-add as 2).
std::string bytes_per_s(double bps);
std::string ops_per_s(double ops);
// Fixed decimals ("0.92"), percent ("91.5 %").
std::string fixed(double v, int decimals);
std::string percent(double fraction, int decimals = 1);

}  // namespace llmroof::reports
