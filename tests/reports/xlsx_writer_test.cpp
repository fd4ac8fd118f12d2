#include "reports/xlsx_writer.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include "io/errors.hpp"
#include "tests/reports/fake_analysis.hpp"
#include "tests/reports/xlsx_reader.hpp"

using namespace llmroof;
using namespace llmroof::reports;
using namespace llmroof::testing;

namespace {

// "B7" for column 'B', row 7 (appends: GCC 12's -Wrestrict misfires on "B" + std::to_string(7)).
std::string cell(char column, int row) {
  std::string s(1, column);
  s += std::to_string(row);
  return s;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("llmroof_test_" + name)).string();
}

std::string col_letter(size_t c) {
  std::string s;
  for (size_t n = c + 1; n > 0; n = (n - 1) / 26)
    s.insert(s.begin(), static_cast<char>('A' + (n - 1) % 26));
  return s;
}

struct Book {
  std::map<std::string, std::string> files;
  std::vector<std::string> strings;
  explicit Book(const std::string& path) : files(read_zip(path)) {
    strings = shared_strings(files.at("xl/sharedStrings.xml"));
  }
  std::string sheet_xml(int n) const {
    return files.at("xl/worksheets/sheet" + std::to_string(n) + ".xml");
  }
  std::map<std::string, XlsxCell> cells(int n) const { return sheet_cells(sheet_xml(n), strings); }
};

// Column letter of the header cell with this exact text in row 1.
std::string column_of(const std::map<std::string, XlsxCell>& cells, const std::string& header) {
  for (size_t c = 0; c < 40; ++c) {
    auto it = cells.find(col_letter(c) + "1");
    if (it != cells.end() && it->second.text == header) return col_letter(c);
  }
  FAIL("no column '" << header << "'");
  return "";
}

}  // namespace

TEST_CASE("xlsx: sweep workbook has typed numbers in the units its headers name") {
  SweepAxes ax;
  ax.weights = {DType::fp16, DType::int4};
  ax.tp = {1, 3};
  ax.batch = {1, 8, 16};
  const SweepResult r =
      run_sweep(fake_model(), {fake_hardware("gpu-a", 24e9, 8)}, ax, Settings{}, fake_analyze);
  const std::string path = temp_path("sweep.xlsx");
  write_sweep_xlsx(r, path);
  const Book book(path);
  const std::string wb = book.files.at("xl/workbook.xml");
  CHECK(wb.find("<sheet name=\"Summary\"") < wb.find("<sheet name=\"Sweep\""));
  CHECK(wb.find("<sheet name=\"Hardware &amp; settings\"") != std::string::npos);

  const auto cells = book.cells(2);  // Sweep
  const std::string ttft = column_of(cells, "TTFT (ms)");
  const std::string mem = column_of(cells, "Memory/device (GB)");
  const std::string fits = column_of(cells, "Fits");
  const std::string weights = column_of(cells, "Weights");
  const std::string batch = column_of(cells, "Batch");
  for (size_t i = 0; i < r.rows.size(); ++i) {
    const std::string row = std::to_string(i + 2);
    const SweepRow& s = r.rows[i];
    CAPTURE(row);
    CHECK(cells.at(batch + row).type == 'n');
    CHECK(cells.at(batch + row).number == s.settings.batch);
    CHECK(cells.at(weights + row).type == 's');
    CHECK(cells.at(weights + row).text == std::string(to_string(s.settings.quant.weights)));
    if (!s.ok) {  // refused (tp 3): no numbers at all, not "-" strings
      CHECK(cells.count(ttft + row) == 0);
      continue;
    }
    CHECK(cells.at(ttft + row).type == 'n');
    CHECK(cells.at(ttft + row).number == doctest::Approx(s.ttft_s * 1e3));
    CHECK(cells.at(mem + row).number == doctest::Approx(s.memory_per_device_bytes * 1e-9));
    CHECK(cells.at(fits + row).type == 'b');
    CHECK(cells.at(fits + row).number == (s.fits ? 1 : 0));
  }
  // Frozen header row and an autofilter over the whole table.
  const std::string xml = book.sheet_xml(2);
  CHECK(xml.find(
            "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>") !=
        std::string::npos);
  CHECK(xml.find("<autoFilter ref=\"A1:") != std::string::npos);

  // Summary: the fitting row with the most tokens/s per device (int4 tp1 batch 16: 5 + 16 GB).
  const auto summary = book.cells(1);
  CHECK(summary.at(column_of(summary, "Weights") + "2").text == "int4");
  CHECK(summary.at(column_of(summary, "Batch") + "2").number == 16);
  CHECK(summary.count("A3") == 0);

  // Hardware & settings: numbers typed, in the unit the Unit column names.
  const auto hw = book.cells(3);
  bool found = false;
  for (int row = 2; row < 60; ++row) {
    auto name = hw.find(cell('B', row));
    if (name == hw.end() || name->second.text != "Memory") continue;
    CHECK(hw.at(cell('C', row)).type == 'n');
    CHECK(hw.at(cell('C', row)).number == doctest::Approx(24));
    CHECK(hw.at(cell('D', row)).text == "GB");
    found = true;
  }
  CHECK(found);
  std::filesystem::remove(path);
}

TEST_CASE("xlsx: analysis workbook with per-layer sheets") {
  const Analysis a = sample_analysis();
  const std::string path = temp_path("analysis.xlsx");
  write_analysis_xlsx(a, fake_hardware("gpu-a", 48e9, 1), path);
  const Book book(path);
  const std::string wb = book.files.at("xl/workbook.xml");
  for (const char* name : {"Summary", "Prefill layers", "Decode layers", "Hardware &amp; settings"})
    CHECK(wb.find(std::string("<sheet name=\"") + name + "\"") != std::string::npos);
  const auto prefill = book.cells(2);
  CHECK(prefill.at("A2").text == "q_proj");
  CHECK(prefill.at(column_of(prefill, "OPs (MOP)") + "2").number == doctest::Approx(68.7e3));
  CHECK(prefill.at(column_of(prefill, "Time each (us)") + "2").number == doctest::Approx(600));
  CHECK(prefill.at(column_of(prefill, "Time all (us)") + "2").number == doctest::Approx(600 * 32));
  CHECK(prefill.at(column_of(prefill, "Bound") + "3").text == "memory");
  const auto decode = book.cells(3);
  CHECK(decode.at("A3").text == "all_reduce");
  CHECK(decode.at(column_of(decode, "Bound") + "3").text == "communication");
  const auto summary = book.cells(1);
  bool ttft = false;
  for (int row = 2; row < 30; ++row) {
    auto it = summary.find(cell('B', row));
    if (it != summary.end() && it->second.text == "TTFT") {
      CHECK(summary.at(cell('C', row)).number == doctest::Approx(282));
      CHECK(summary.at(cell('D', row)).text == "ms");
      ttft = true;
    }
  }
  CHECK(ttft);
  std::filesystem::remove(path);
}

TEST_CASE("xlsx: plan workbook and an unwritable path") {
  PlanRequest req;
  req.prompt_len = 1000;
  req.gen_len = 100;
  req.weights = {DType::fp16, DType::int4};
  req.tp = {1, 2};
  req.batch = {1, 4, 16};
  const PlanResult r = plan(fake_model(), {fake_hardware("gpu-a", 24e9, 8)}, req, fake_analyze);
  const std::string path = temp_path("plan.xlsx");
  write_plan_xlsx(r, path);
  const Book book(path);
  const std::string wb = book.files.at("xl/workbook.xml");
  CHECK(wb.find("<sheet name=\"Pareto\"") < wb.find("<sheet name=\"Candidates\""));
  const auto pareto = book.cells(1);
  const auto all = book.cells(2);
  size_t pareto_rows = 0, all_rows = 0;
  while (pareto.count(cell('A', pareto_rows + 2))) ++pareto_rows;
  while (all.count(cell('A', all_rows + 2))) ++all_rows;
  CHECK(pareto_rows == r.pareto[0].size());
  CHECK(all_rows == r.candidates.size());
  CHECK(pareto.at(column_of(pareto, "Rank") + "2").number == 1);
  std::filesystem::remove(path);

  CHECK_THROWS_WITH_AS(write_plan_xlsx(r, "/nonexistent-dir/x.xlsx"),
                       "-o /nonexistent-dir/x.xlsx: directory '/nonexistent-dir' does not exist",
                       InputError);
}

TEST_CASE("xlsx: the same report is the same bytes (fixed creation date)") {
  PlanRequest req;
  req.weights = {DType::fp16};
  req.tp = {1};
  req.batch = {1, 4};
  const PlanResult r = plan(fake_model(), {fake_hardware("gpu-a", 24e9, 8)}, req, fake_analyze);
  const std::string a = temp_path("same_a.xlsx"), b = temp_path("same_b.xlsx");
  write_plan_xlsx(r, a);
  const auto first = read_zip(a);
  write_plan_xlsx(r, b);  // core.xml once carried the wall-clock creation time, to the second
  const auto second = read_zip(b);
  CHECK(first == second);
  CHECK(first.at("docProps/core.xml").find("2000-01-01T00:00:00Z") != std::string::npos);
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}
