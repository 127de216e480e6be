// Small RapidJSON helpers for the model directory's own files (manifest, records, tuning):
// typed getters that throw ParseError naming the file and the member.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>

#include "moodboost/error.hpp"

namespace moodboost::detail {

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

/// Parses \p text (NaN and Infinity accepted, as the writer below emits them); throws
/// ParseError naming \p file and the byte offset.
rapidjson::Document parse_json(std::string_view text, const std::filesystem::path& file);

/// A member of \p object; throws ParseError("<file>: /<name>: missing") when absent.
const rapidjson::Value& member(const rapidjson::Value& object, const char* name,
                               const std::filesystem::path& file, std::string_view where = "");
/// A string member.
std::string get_string(const rapidjson::Value& object, const char* name,
                       const std::filesystem::path& file, std::string_view where = "");
/// A number member (null reads as NaN).
double get_double(const rapidjson::Value& object, const char* name,
                  const std::filesystem::path& file, std::string_view where = "");
/// An integer member.
std::int64_t get_int(const rapidjson::Value& object, const char* name,
                     const std::filesystem::path& file, std::string_view where = "");

/// Writes a double, NaN as null (so that the files stay standard JSON).
inline void write_double(JsonWriter& writer, double value) {
  if (std::isnan(value)) {
    writer.Null();
  } else {
    writer.Double(value);
  }
}

}  // namespace moodboost::detail
