#include "detail/json_util.hpp"

#include <rapidjson/error/en.h>

namespace moodboost::detail {
namespace {

std::string place(std::string_view where, const char* name) {
  return std::string(where) + "/" + name;
}

}  // namespace

rapidjson::Document parse_json(std::string_view text, const std::filesystem::path& file) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseNanAndInfFlag | rapidjson::kParseFullPrecisionFlag>(text.data(),
                                                                                 text.size());
  if (doc.HasParseError()) {
    throw ParseError(
        file, "byte " + std::to_string(doc.GetErrorOffset()),
        std::string("invalid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) throw ParseError(file, "/", "expected a JSON object");
  return doc;
}

const rapidjson::Value& member(const rapidjson::Value& object, const char* name,
                               const std::filesystem::path& file, std::string_view where) {
  if (!object.IsObject()) throw ParseError(file, std::string(where), "expected an object");
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd()) throw ParseError(file, place(where, name), "missing");
  return it->value;
}

std::string get_string(const rapidjson::Value& object, const char* name,
                       const std::filesystem::path& file, std::string_view where) {
  const auto& value = member(object, name, file, where);
  if (!value.IsString()) throw ParseError(file, place(where, name), "expected a string");
  return std::string(value.GetString(), value.GetStringLength());
}

double get_double(const rapidjson::Value& object, const char* name,
                  const std::filesystem::path& file, std::string_view where) {
  const auto& value = member(object, name, file, where);
  if (value.IsNull()) return std::numeric_limits<double>::quiet_NaN();
  if (!value.IsNumber()) throw ParseError(file, place(where, name), "expected a number");
  return value.GetDouble();
}

std::int64_t get_int(const rapidjson::Value& object, const char* name,
                     const std::filesystem::path& file, std::string_view where) {
  const auto& value = member(object, name, file, where);
  if (!value.IsInt64()) throw ParseError(file, place(where, name), "expected an integer");
  return value.GetInt64();
}

}  // namespace moodboost::detail
