// The JSON side of the reports (compare.json, importance.json, explain JSON): one document
// shape (format name, version, moodboost version first), text sanitised to valid UTF-8.
#pragma once

#include <string>
#include <string_view>

#include "detail/json_util.hpp"

namespace moodboost::detail::report {

/// Writes \p text as a JSON string (key or value) after sanitize_utf8().
void json_text(JsonWriter& writer, std::string_view text);

/// A pretty-printed JSON object that starts with {"format": <format>, "version": 1,
/// "moodboost": <version>}; members are added through writer().
class JsonReport {
 public:
  /// Starts the object and writes the three leading members.
  explicit JsonReport(std::string_view format);
  /// The writer, positioned inside the top-level object.
  JsonWriter& writer() noexcept { return writer_; }
  /// Ends the object and returns the text with a final newline.
  std::string finish();

 private:
  rapidjson::StringBuffer buffer_;
  JsonWriter writer_;
};

}  // namespace moodboost::detail::report
