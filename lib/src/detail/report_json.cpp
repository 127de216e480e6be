#include "detail/report_json.hpp"

#include "detail/report_render.hpp"
#include "moodboost/version.hpp"

namespace moodboost::detail::report {

void json_text(JsonWriter& writer, std::string_view text) {
  const std::string clean = sanitize_utf8(text);
  writer.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

JsonReport::JsonReport(std::string_view format) : writer_(buffer_) {
  writer_.SetIndent(' ', 2);
  writer_.StartObject();
  json_text(writer_, "format");
  json_text(writer_, format);
  json_text(writer_, "version");
  writer_.Int(1);
  json_text(writer_, "moodboost");
  json_text(writer_, version());
}

std::string JsonReport::finish() {
  writer_.EndObject();
  return std::string(buffer_.GetString(), buffer_.GetSize()) + "\n";
}

}  // namespace moodboost::detail::report
