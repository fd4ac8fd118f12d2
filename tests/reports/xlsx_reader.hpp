#pragma once
// Reads an .xlsx back for tests: the ZIP container (central directory + zlib raw inflate) and the
// cells of a worksheet (typed numbers vs shared strings vs booleans). Just enough of OOXML to check
// what llmroof writes; not a general reader.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmroof::testing {

inline uint32_t le(const std::string& b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b.at(at + i));
  return v;
}

// Every member of the archive: name -> uncompressed bytes.
inline std::map<std::string, std::string> read_zip(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  const std::string z((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t eocd = z.size() >= 22 ? z.size() - 22 : std::string::npos;
  while (eocd != std::string::npos && le(z, eocd, 4) != 0x06054b50)
    eocd = eocd ? eocd - 1 : std::string::npos;
  if (eocd == std::string::npos) throw std::runtime_error(path + ": not a zip file");
  const uint32_t entries = le(z, eocd + 10, 2);
  size_t at = le(z, eocd + 16, 4);
  std::map<std::string, std::string> out;
  for (uint32_t e = 0; e < entries; ++e) {
    if (le(z, at, 4) != 0x02014b50) throw std::runtime_error("bad central directory");
    const uint32_t method = le(z, at + 10, 2), csize = le(z, at + 20, 4), usize = le(z, at + 24, 4);
    const uint32_t nlen = le(z, at + 28, 2), xlen = le(z, at + 30, 2), clen = le(z, at + 32, 2);
    const uint32_t local = le(z, at + 42, 4);
    const std::string name = z.substr(at + 46, nlen);
    const size_t data = local + 30 + le(z, local + 26, 2) + le(z, local + 28, 2);
    std::string bytes(usize, '\0');
    if (method == 0) {
      bytes = z.substr(data, csize);
    } else if (method == 8) {
      z_stream s{};
      inflateInit2(&s, -MAX_WBITS);
      s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data() + data));
      s.avail_in = csize;
      s.next_out = reinterpret_cast<Bytef*>(bytes.data());
      s.avail_out = usize;
      const int rc = inflate(&s, Z_FINISH);
      inflateEnd(&s);
      if (rc != Z_STREAM_END) throw std::runtime_error(name + ": inflate failed");
    } else {
      throw std::runtime_error(name + ": unsupported compression");
    }
    out[name] = std::move(bytes);
    at += 46 + nlen + xlen + clen;
  }
  return out;
}

inline std::string unescape_xml(std::string s) {
  const std::pair<const char*, const char*> kRep[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : kRep)
    for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += std::strlen(to))
      s.replace(p, std::strlen(from), to);
  return s;
}

// Shared strings in order (<si><t>text</t></si>).
inline std::vector<std::string> shared_strings(const std::string& xml) {
  std::vector<std::string> out;
  for (size_t p = 0; (p = xml.find("<si>", p)) != std::string::npos; ++p) {
    const size_t t = xml.find('>', xml.find("<t", p)) + 1;
    out.push_back(unescape_xml(xml.substr(t, xml.find("</t>", t) - t)));
  }
  return out;
}

struct XlsxCell {
  char type = 'n';   // 'n' number, 's' shared string, 'b' boolean
  std::string text;  // the string (for 's'), or the <v> text
  double number = 0;
};

// Cells of one worksheet by reference ("B2").
inline std::map<std::string, XlsxCell> sheet_cells(const std::string& xml,
                                                   const std::vector<std::string>& strings) {
  std::map<std::string, XlsxCell> out;
  for (size_t p = 0; (p = xml.find("<c r=\"", p)) != std::string::npos; ++p) {
    const size_t ref0 = p + 6, ref1 = xml.find('"', ref0);
    const size_t tag_end = xml.find('>', p);
    const std::string tag = xml.substr(p, tag_end - p);
    if (xml[tag_end - 1] == '/') continue;  // empty cell
    XlsxCell c;
    if (auto t = tag.find(" t=\""); t != std::string::npos) c.type = tag[t + 4];
    const size_t v0 = xml.find("<v>", tag_end), v1 = xml.find("</v>", v0);
    c.text = xml.substr(v0 + 3, v1 - v0 - 3);
    if (c.type == 's')
      c.text = strings.at(std::stoul(c.text));
    else
      c.number = std::stod(c.text);
    out[xml.substr(ref0, ref1 - ref0)] = c;
  }
  return out;
}

}  // namespace llmroof::testing
