// Helpers of the report tests (compare, importance, reference): reading the TSV and number text
// the reports write, so that a test can compare them with the library's values.
#pragma once

#include <catch2/catch.hpp>
#include <charconv>
#include <sstream>
#include <string>
#include <vector>

namespace moodboost::test {

/// The tab-separated fields of every line of \p text (LF or CRLF line ends).
inline std::vector<std::vector<std::string>> tsv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(fields);
  }
  return rows;
}

/// \p text as a number; fails the test unless all of it is one.
inline double number(const std::string& text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  INFO("'" << text << "'");
  REQUIRE(ec == std::errc());
  REQUIRE(end == text.data() + text.size());
  return value;
}

}  // namespace moodboost::test
