// Line-by-line iteration over text in memory, accepting LF and CRLF endings.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace moodboost::detail {

/// Walks \p text line by line. A final line without a newline is still a line; a final newline
/// does not start an empty line. One trailing '\r' is removed from each line (CRLF files).
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  /// Sets \p line to the next line and returns true, or returns false at the end.
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    const std::size_t end = text_.find('\n', pos_);
    const std::size_t stop = end == std::string_view::npos ? text_.size() : end;
    line = text_.substr(pos_, stop - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end == std::string_view::npos ? text_.size() : end + 1;
    ++number_;
    return true;
  }
  /// 1-based number of the line last returned by next().
  [[nodiscard]] std::size_t number() const noexcept { return number_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t number_ = 0;
};

/// Splits \p line at every \p sep into \p fields (cleared first); "a\t\tb" gives 3 fields.
inline void split_fields(std::string_view line, char sep, std::vector<std::string_view>& fields) {
  fields.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(sep, start);
    if (end == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return;
    }
    fields.push_back(line.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace moodboost::detail
