// The one JSON reader of the library's own files (manifest, records, tuning, schemas, results,
// markers) and of XGBoost models: parse_json() and typed getters that throw ParseError naming the
// file and the JSON pointer of what was wrong. (Feature files have their own SAX parser.)
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/error.hpp"

namespace moodboost::detail {

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

/// Objects and arrays nested deeper than this are refused by every JSON reader here: parse_json()
/// and the feature parser (the library's own files, XGBoost's models and the real feature files
/// nest at most a few levels). RapidJSON's reader recurses once per level, so a file of a million
/// '[' would otherwise exhaust the stack.
inline constexpr std::uint32_t kMaxJsonDepth = 64;

/// The message of that refusal: "objects/arrays nested deeper than 64 levels".
std::string nested_too_deep();

/// Parses \p text (NaN and Infinity accepted, as the writer below emits them); throws
/// ParseError naming \p file and the byte offset, also for objects/arrays nested deeper than
/// kMaxJsonDepth.
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
/// A non-negative integer member.
std::uint64_t get_uint(const rapidjson::Value& object, const char* name,
                       const std::filesystem::path& file, std::string_view where = "");
/// A true/false member.
bool get_bool(const rapidjson::Value& object, const char* name, const std::filesystem::path& file,
              std::string_view where = "");

/// \p value (at JSON pointer \p where) as a string; throws ParseError otherwise.
std::string string_value(const rapidjson::Value& value, const std::filesystem::path& file,
                         std::string_view where);
/// \p value as a non-negative integer.
std::uint64_t uint_value(const rapidjson::Value& value, const std::filesystem::path& file,
                         std::string_view where);
/// \p value as an array of strings.
std::vector<std::string> string_array(const rapidjson::Value& value,
                                      const std::filesystem::path& file, std::string_view where);
/// \p value as an object of string values, in key order.
std::map<std::string, std::string> string_map(const rapidjson::Value& value,
                                              const std::filesystem::path& file,
                                              std::string_view where);

/// Writes \p values as a JSON array of strings.
void write_strings(JsonWriter& writer, const std::vector<std::string>& values);
/// Writes \p entries as a JSON object of strings.
void write_string_map(JsonWriter& writer, const std::map<std::string, std::string>& entries);

/// Writes a double, NaN as null (so that the files stay standard JSON).
inline void write_double(JsonWriter& writer, double value) {
  if (std::isnan(value)) {
    writer.Null();
  } else {
    writer.Double(value);
  }
}

}  // namespace moodboost::detail
