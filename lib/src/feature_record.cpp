#include "moodboost/feature_record.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "detail/enum_names.hpp"
#include "detail/json_util.hpp"

namespace moodboost {
namespace {

constexpr detail::EnumName<CovarianceColumns> kCovarianceNames[] = {
    {CovarianceColumns::kFull, "full"},
    {CovarianceColumns::kUpperTriangle, "upper"},
    {CovarianceColumns::kNone, "none"}};
constexpr detail::EnumName<NonFinitePolicy> kNonFiniteNames[] = {
    {NonFinitePolicy::kAccept, "accept"}, {NonFinitePolicy::kReject, "reject"}};
constexpr detail::EnumName<MissingFilePolicy> kMissingNames[] = {
    {MissingFilePolicy::kError, "error"}, {MissingFilePolicy::kSkip, "skip"}};

// A string member of \p object parsed with \p parse; a bad name is a ParseError at its place.
template <typename Parse>
auto named(const rapidjson::Value& object, const char* name, const std::filesystem::path& file,
           Parse parse) {
  const std::string text = detail::get_string(object, name, file, "/loader_options");
  try {
    return parse(text);
  } catch (const InvalidArgument& e) {
    throw ParseError(file, std::string("/loader_options/") + name, e.what());
  }
}

}  // namespace

std::string to_string(CovarianceColumns covariance) {
  return detail::name_of(kCovarianceNames, covariance);
}
CovarianceColumns parse_covariance(std::string_view text) {
  return detail::parse_name(kCovarianceNames, text, "covariance");
}
std::string to_string(NonFinitePolicy policy) { return detail::name_of(kNonFiniteNames, policy); }
NonFinitePolicy parse_non_finite(std::string_view text) {
  return detail::parse_name(kNonFiniteNames, text, "non-finite policy");
}
std::string to_string(MissingFilePolicy policy) { return detail::name_of(kMissingNames, policy); }
MissingFilePolicy parse_missing_files(std::string_view text) {
  return detail::parse_name(kMissingNames, text, "missing-file policy");
}

std::string to_json(const FeatureRecord& r) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  const FeatureOptions& o = r.options;
  w.StartObject();
  w.Key("features_dir");
  w.String(r.features_dir.string().c_str());
  w.Key("columns");
  w.Uint64(r.columns);
  w.Key("synthetic");
  w.Bool(r.synthetic);
  w.Key("loader_options");
  w.StartObject();
  w.Key("covariance");
  w.String(to_string(o.covariance).c_str());
  w.Key("basic");
  w.Bool(o.basic_preset);
  w.Key("include");
  w.StartArray();
  for (const auto& g : o.include) w.String(g.c_str());
  w.EndArray();
  w.Key("exclude");
  w.StartArray();
  for (const auto& g : o.exclude) w.String(g.c_str());
  w.EndArray();
  w.Key("drop_constant");
  w.Bool(o.drop_constant);
  w.Key("beats_summary");
  w.Bool(o.summarize_beats);
  w.Key("non_finite");
  w.String(to_string(o.non_finite).c_str());
  w.Key("lenient");
  w.Bool(o.shape_mismatch == ShapePolicy::kMissing);
  w.Key("missing");
  w.String(to_string(o.missing_files).c_str());
  w.Key("max_file_bytes");
  w.Uint64(o.max_file_bytes);
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

FeatureRecord feature_record_from_json(std::string_view text, const std::filesystem::path& file) {
  const rapidjson::Document doc = detail::parse_json(text, file);
  FeatureRecord r;
  r.features_dir = detail::get_string(doc, "features_dir", file);
  r.columns = static_cast<std::size_t>(detail::get_uint(doc, "columns", file));
  r.synthetic = detail::get_bool(doc, "synthetic", file);
  const auto& o = detail::member(doc, "loader_options", file);
  const char* where = "/loader_options";
  r.options.covariance = named(o, "covariance", file, parse_covariance);
  r.options.basic_preset = detail::get_bool(o, "basic", file, where);
  r.options.include = detail::string_array(detail::member(o, "include", file, where), file,
                                           "/loader_options/include");
  r.options.exclude = detail::string_array(detail::member(o, "exclude", file, where), file,
                                           "/loader_options/exclude");
  r.options.drop_constant = detail::get_bool(o, "drop_constant", file, where);
  r.options.summarize_beats = detail::get_bool(o, "beats_summary", file, where);
  r.options.non_finite = named(o, "non_finite", file, parse_non_finite);
  r.options.shape_mismatch =
      detail::get_bool(o, "lenient", file, where) ? ShapePolicy::kMissing : ShapePolicy::kError;
  r.options.missing_files = named(o, "missing", file, parse_missing_files);
  if (o.HasMember("max_file_bytes")) {
    r.options.max_file_bytes = detail::get_uint(o, "max_file_bytes", file, where);
  }
  return r;
}

}  // namespace moodboost
