#include "detail/json_util.hpp"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace moodboost::detail {
namespace {

std::string place(std::string_view where, const char* name) {
  return std::string(where) + "/" + name;
}

// Passes the SAX events of a parse on to \p out, and stops it at an object or array nested
// deeper than kMaxJsonDepth.
template <typename Handler>
class DepthLimit {
 public:
  explicit DepthLimit(Handler& out) : out_(out) {}
  [[nodiscard]] bool exceeded() const noexcept { return depth_ > kMaxJsonDepth; }

  bool Null() { return out_.Null(); }
  bool Bool(bool b) { return out_.Bool(b); }
  bool Int(int i) { return out_.Int(i); }
  bool Uint(unsigned u) { return out_.Uint(u); }
  bool Int64(std::int64_t i) { return out_.Int64(i); }
  bool Uint64(std::uint64_t u) { return out_.Uint64(u); }
  bool Double(double d) { return out_.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return out_.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return out_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return out_.Key(s, n, copy); }
  bool StartObject() { return ++depth_ <= kMaxJsonDepth && out_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) { return --depth_, out_.EndObject(members); }
  bool StartArray() { return ++depth_ <= kMaxJsonDepth && out_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return --depth_, out_.EndArray(elements); }

 private:
  Handler& out_;
  std::uint32_t depth_ = 0;
};

}  // namespace

std::string nested_too_deep() {
  return "objects/arrays nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

rapidjson::Document parse_json(std::string_view text, const std::filesystem::path& file) {
  constexpr unsigned kFlags = rapidjson::kParseNanAndInfFlag | rapidjson::kParseFullPrecisionFlag;
  rapidjson::Document doc;
  rapidjson::ParseResult result;
  bool too_deep = false;
  // What Document::Parse does, with the depth limit between the reader and the document.
  auto generate = [&](rapidjson::Document& out) {
    rapidjson::MemoryStream bytes(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(bytes);
    DepthLimit<rapidjson::Document> limit(out);
    rapidjson::Reader reader;
    result = reader.Parse<kFlags>(stream, limit);
    too_deep = limit.exceeded();
    return !result.IsError();
  };
  doc.Populate(generate);
  if (too_deep) {
    // The reader stopped just after the bracket that went one level too deep.
    throw ParseError(file, "byte " + std::to_string(result.Offset() - 1), nested_too_deep());
  }
  if (result.IsError()) {
    throw ParseError(file, "byte " + std::to_string(result.Offset()),
                     std::string("invalid JSON: ") + rapidjson::GetParseError_En(result.Code()));
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

std::uint64_t get_uint(const rapidjson::Value& object, const char* name,
                       const std::filesystem::path& file, std::string_view where) {
  return uint_value(member(object, name, file, where), file, place(where, name));
}

bool get_bool(const rapidjson::Value& object, const char* name, const std::filesystem::path& file,
              std::string_view where) {
  const auto& value = member(object, name, file, where);
  if (!value.IsBool()) throw ParseError(file, place(where, name), "expected true or false");
  return value.GetBool();
}

std::string string_value(const rapidjson::Value& value, const std::filesystem::path& file,
                         std::string_view where) {
  if (!value.IsString()) throw ParseError(file, std::string(where), "expected a string");
  return std::string(value.GetString(), value.GetStringLength());
}

std::uint64_t uint_value(const rapidjson::Value& value, const std::filesystem::path& file,
                         std::string_view where) {
  if (!value.IsUint64()) {
    throw ParseError(file, std::string(where), "expected a non-negative integer");
  }
  return value.GetUint64();
}

std::vector<std::string> string_array(const rapidjson::Value& value,
                                      const std::filesystem::path& file, std::string_view where) {
  if (!value.IsArray()) throw ParseError(file, std::string(where), "expected an array of strings");
  std::vector<std::string> out;
  out.reserve(value.Size());
  for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
    out.push_back(string_value(value[i], file, std::string(where) + "/" + std::to_string(i)));
  }
  return out;
}

std::map<std::string, std::string> string_map(const rapidjson::Value& value,
                                              const std::filesystem::path& file,
                                              std::string_view where) {
  if (!value.IsObject()) throw ParseError(file, std::string(where), "expected an object");
  std::map<std::string, std::string> out;
  for (const auto& m : value.GetObject()) {
    const std::string key(m.name.GetString(), m.name.GetStringLength());
    out[key] = string_value(m.value, file, std::string(where) + "/" + key);
  }
  return out;
}

void write_strings(JsonWriter& writer, const std::vector<std::string>& values) {
  writer.StartArray();
  for (const auto& v : values) writer.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  writer.EndArray();
}

void write_string_map(JsonWriter& writer, const std::map<std::string, std::string>& entries) {
  writer.StartObject();
  for (const auto& [key, value] : entries) {
    writer.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    writer.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  writer.EndObject();
}

}  // namespace moodboost::detail
