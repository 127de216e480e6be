#include "moodboost/feature_schema.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <array>
#include <set>
#include <unordered_map>

#include "detail/json_util.hpp"
#include "moodboost/error.hpp"
#include "moodboost/io.hpp"

namespace moodboost {
namespace {

constexpr std::string_view kFormatName = "moodboost-feature-schema";

// Essentia's statistics names (music extractor profiles, "lowlevelStats" etc.).
constexpr std::array<std::string_view, 12> kStatistics = {"mean", "stdev", "var",   "median",
                                                          "min",  "max",   "dmean", "dmean2",
                                                          "dvar", "dvar2", "cov",   "icov"};

// Descriptors sharing one report group, per section (see Column::group in the header).
struct Bundle {
  std::string_view section;
  std::string_view prefix;
};
constexpr std::array<Bundle, 10> kBundles = {{{"lowlevel", "barkbands_"},
                                              {"lowlevel", "erbbands_"},
                                              {"lowlevel", "melbands_"},
                                              {"lowlevel", "silence_rate_"},
                                              {"lowlevel", "spectral_contrast_"},
                                              {"lowlevel", "spectral_energyband_"},
                                              {"rhythm", "bpm_histogram_"},
                                              {"tonal", "chords_"},
                                              {"tonal", "key_"},
                                              {"tonal", "tuning_"}}};

constexpr std::array<std::string_view, 3> kSections = {"lowlevel", "rhythm", "tonal"};

bool is_statistic(std::string_view key) {
  return std::find(kStatistics.begin(), kStatistics.end(), key) != kStatistics.end();
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string join(const std::vector<std::string>& parts, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    if (i > begin) out += '.';
    out += parts[i];
  }
  return out;
}

std::string group_of(const std::vector<std::string>& path) {
  const std::string& section = path[0];
  if (path.size() < 2) return section;
  const std::string& first = path[1];
  for (const Bundle& b : kBundles) {
    if (b.section == section && first.starts_with(b.prefix)) {
      return section + "." + std::string(b.prefix) + "*";
    }
  }
  return section + "." + first;
}

// The family part of every column of \p field (name and element are filled in by the caller).
Column family_of(const FeatureField& field, std::size_t field_index) {
  Column c;
  const auto& path = field.path;
  c.section = path[0];
  c.group = group_of(path);
  c.field = field_index;
  if (field.kind == FieldKind::kSequence) {
    c.descriptor = join(path, 1, path.size());
  } else if (path.size() >= 3 && is_statistic(path.back())) {
    c.descriptor = join(path, 1, path.size() - 1);
    c.statistic = path.back();
  } else {
    c.descriptor = join(path, 1, path.size());
  }
  return c;
}

void check_field(const FeatureField& f) {
  const std::string name = f.path.empty() ? std::string("(empty path)") : f.name();
  if (f.path.size() < 2)
    throw DataError("feature field '" + name + "': a field path needs a section and a key");
  if (std::find(kSections.begin(), kSections.end(), f.path[0]) == kSections.end()) {
    throw DataError("feature field '" + name + "': section must be lowlevel, rhythm or tonal");
  }
  for (const auto& key : f.path) {
    if (key.empty()) throw DataError("feature field '" + name + "': empty key in its path");
  }
  const bool vector_shape = f.kind == FieldKind::kVector && f.rows == 1;
  const bool matrix_shape = f.kind == FieldKind::kMatrix && f.rows > 0 && f.cols > 0;
  const bool unit_shape =
      f.kind != FieldKind::kVector && f.kind != FieldKind::kMatrix && f.rows == 1 && f.cols == 1;
  if (!vector_shape && !matrix_shape && !unit_shape) {
    throw DataError("feature field '" + name + "': invalid shape " + std::to_string(f.rows) + "x" +
                    std::to_string(f.cols) + " for a " + std::string(to_string(f.kind)));
  }
  if ((f.kind == FieldKind::kCategory) == f.vocabulary.empty()) {
    throw DataError("feature field '" + name +
                    "': only a category field has (and needs) a vocabulary");
  }
}

}  // namespace

std::string_view to_string(FieldKind kind) noexcept {
  switch (kind) {
    case FieldKind::kScalar:
      return "scalar";
    case FieldKind::kVector:
      return "vector";
    case FieldKind::kMatrix:
      return "matrix";
    case FieldKind::kCategory:
      return "category";
    case FieldKind::kSequence:
      return "sequence";
    case FieldKind::kIgnored:
      return "ignored";
  }
  return "unknown";
}

std::string FeatureField::name() const { return join(path, 0, path.size()); }

std::size_t FeatureField::numbers() const noexcept {
  switch (kind) {
    case FieldKind::kScalar:
      return 1;
    case FieldKind::kVector:
    case FieldKind::kMatrix:
      return rows * cols;
    default:
      return 0;
  }
}

std::string FeatureField::shape_text() const {
  switch (kind) {
    case FieldKind::kScalar:
      return "a number";
    case FieldKind::kVector:
      return std::to_string(cols) + " numbers";
    case FieldKind::kMatrix:
      return std::to_string(rows) + "x" + std::to_string(cols) + " numbers";
    case FieldKind::kCategory:
      return "a string over " + std::to_string(vocabulary.size()) + " values";
    case FieldKind::kSequence:
      return "a list of numbers";
    case FieldKind::kIgnored:
      return "a value without columns";
  }
  return "?";
}

std::vector<std::string> category_vocabulary(std::string_view last_key) {
  if (last_key == "key" || ends_with(last_key, "_key")) {
    return {std::begin(kKeyVocabulary), std::end(kKeyVocabulary)};
  }
  if (last_key == "scale" || ends_with(last_key, "_scale")) {
    return {std::begin(kScaleVocabulary), std::end(kScaleVocabulary)};
  }
  return {};
}

bool is_sequence_field(const std::vector<std::string>& path) {
  return path.size() == 2 && path[0] == "rhythm" && path[1] == "beats_position";
}

std::vector<std::string> FeatureSchema::column_names_of(const FeatureField& field) {
  const std::string base = field.name();
  std::vector<std::string> names;
  switch (field.kind) {
    case FieldKind::kScalar:
      names.push_back(base);
      break;
    case FieldKind::kVector:
      for (std::size_t i = 0; i < field.cols; ++i) names.push_back(base + "." + std::to_string(i));
      break;
    case FieldKind::kMatrix:
      for (std::size_t r = 0; r < field.rows; ++r) {
        for (std::size_t c = 0; c < field.cols; ++c) {
          names.push_back(base + "." + std::to_string(r) + "." + std::to_string(c));
        }
      }
      break;
    case FieldKind::kCategory:
      for (const auto& v : field.vocabulary) names.push_back(base + "=" + v);
      break;
    case FieldKind::kSequence:
      for (const char* s : kSequenceSummary) names.push_back(base + "." + s);
      break;
    case FieldKind::kIgnored:
      break;
  }
  return names;
}

FeatureSchema::FeatureSchema(std::vector<FeatureField> fields,
                             const std::vector<std::string>& column_names)
    : fields_(std::move(fields)) {
  // Every field is valid, and no field path equals or extends another (a key cannot be both a
  // leaf and an object).
  std::set<std::vector<std::string>> paths;
  for (const auto& f : fields_) {
    check_field(f);
    if (!paths.insert(f.path).second)
      throw DataError("feature field '" + f.name() + "' is listed twice");
  }
  for (const auto& f : fields_) {
    std::vector<std::string> prefix;
    for (std::size_t i = 0; i + 1 < f.path.size(); ++i) {
      prefix.push_back(f.path[i]);
      if (paths.count(prefix) != 0) {
        throw DataError("feature field '" + f.name() + "' lies inside the field '" +
                        join(prefix, 0, prefix.size()) + "'");
      }
    }
  }

  struct Source {
    std::size_t field;
    std::size_t element;
  };
  std::unordered_map<std::string, Source> by_name;
  for (std::size_t fi = 0; fi < fields_.size(); ++fi) {
    const auto names = column_names_of(fields_[fi]);
    for (std::size_t e = 0; e < names.size(); ++e) {
      if (!by_name.emplace(names[e], Source{fi, e}).second) {
        throw DataError("two feature fields generate the column name '" + names[e] + "'");
      }
    }
  }
  std::set<std::string_view> seen;
  columns_.reserve(column_names.size());
  for (const auto& name : column_names) {
    const auto it = by_name.find(name);
    if (it == by_name.end())
      throw DataError("column '" + name + "' does not come from any feature field of the schema");
    if (!seen.insert(it->first).second) throw DataError("column '" + name + "' is listed twice");
    Column c = family_of(fields_[it->second.field], it->second.field);
    c.name = name;
    c.element = it->second.element;
    if (fields_[c.field].kind == FieldKind::kSequence) c.statistic = kSequenceSummary[c.element];
    columns_.push_back(std::move(c));
  }
}

FeatureSchema FeatureSchema::all_columns(std::vector<FeatureField> fields,
                                         bool summarize_sequences) {
  std::vector<std::string> names;
  for (const auto& f : fields) {
    if (f.kind == FieldKind::kSequence && !summarize_sequences) continue;
    auto more = column_names_of(f);
    names.insert(names.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  }
  return FeatureSchema(std::move(fields), names);
}

std::vector<std::string> FeatureSchema::column_names() const {
  std::vector<std::string> names;
  names.reserve(columns_.size());
  for (const auto& c : columns_) names.push_back(c.name);
  return names;
}

std::optional<std::size_t> FeatureSchema::find(std::string_view name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  return std::nullopt;
}

std::map<std::string, std::size_t> FeatureSchema::counts_per_section() const {
  std::map<std::string, std::size_t> counts;
  for (const auto& c : columns_) ++counts[c.section];
  return counts;
}

std::map<std::string, std::size_t> FeatureSchema::counts_per_group() const {
  std::map<std::string, std::size_t> counts;
  for (const auto& c : columns_) ++counts[c.group];
  return counts;
}

std::size_t FeatureSchema::numeric_count() const noexcept {
  return static_cast<std::size_t>(std::count_if(
      columns_.begin(), columns_.end(),
      [&](const Column& c) { return fields_[c.field].kind != FieldKind::kCategory; }));
}

std::string FeatureSchema::to_json() const {
  rapidjson::StringBuffer out;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(out);
  w.SetIndent(' ', 2);
  w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
  w.StartObject();
  w.Key("format");
  w.String(kFormatName.data(), static_cast<rapidjson::SizeType>(kFormatName.size()));
  w.Key("version");
  w.Int(kFormatVersion);
  w.Key("column_count");
  w.Uint64(columns_.size());
  w.Key("fields");
  w.StartArray();
  for (const auto& f : fields_) {
    w.StartObject();
    w.Key("path");
    w.StartArray();
    for (const auto& k : f.path) w.String(k);
    w.EndArray();
    w.Key("kind");
    const auto kind = to_string(f.kind);
    w.String(kind.data(), static_cast<rapidjson::SizeType>(kind.size()));
    if (f.kind == FieldKind::kVector || f.kind == FieldKind::kMatrix) {
      w.Key("rows");
      w.Uint64(f.rows);
      w.Key("cols");
      w.Uint64(f.cols);
    }
    if (f.kind == FieldKind::kCategory) {
      w.Key("values");
      w.StartArray();
      for (const auto& v : f.vocabulary) w.String(v);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("columns");
  w.SetFormatOptions(rapidjson::kFormatDefault);
  w.StartArray();
  for (const auto& c : columns_) w.String(c.name);
  w.EndArray();
  w.EndObject();
  std::string text(out.GetString(), out.GetSize());
  text += '\n';
  return text;
}

namespace {

// Reads the pieces of a schema document, throwing ParseError with the JSON pointer on a mismatch.
// The schema file's reader: detail/json_util's getters, bound to one file.
class SchemaReader {
 public:
  explicit SchemaReader(const std::filesystem::path& file) : file_(file) {}

  [[noreturn]] void fail(const std::string& place, const std::string& message) const {
    throw ParseError(file_, place, message);
  }
  const rapidjson::Value& member(const rapidjson::Value& obj, const char* key,
                                 const std::string& place) const {
    return detail::member(obj, key, file_, place == "/" ? "" : place);
  }
  std::size_t size_value(const rapidjson::Value& v, const std::string& place) const {
    return static_cast<std::size_t>(detail::uint_value(v, file_, place));
  }
  std::string string_value(const rapidjson::Value& v, const std::string& place) const {
    return detail::string_value(v, file_, place);
  }
  std::vector<std::string> strings(const rapidjson::Value& v, const std::string& place) const {
    return detail::string_array(v, file_, place);
  }

 private:
  const std::filesystem::path& file_;
};

FieldKind kind_from(std::string_view text, const SchemaReader& r, const std::string& place) {
  for (const FieldKind k : {FieldKind::kScalar, FieldKind::kVector, FieldKind::kMatrix,
                            FieldKind::kCategory, FieldKind::kSequence, FieldKind::kIgnored}) {
    if (to_string(k) == text) return k;
  }
  r.fail(place, "unknown field kind \"" + std::string(text) + "\"");
}

}  // namespace

FeatureSchema FeatureSchema::from_json(std::string_view text, const std::filesystem::path& file) {
  const rapidjson::Document doc = detail::parse_json(text, file);
  SchemaReader r(file);
  if (r.string_value(r.member(doc, "format", "/"), "/format") != kFormatName) {
    r.fail("/format",
           "expected \"" + std::string(kFormatName) + "\" (not a moodboost feature schema)");
  }
  const std::size_t version = r.size_value(r.member(doc, "version", "/"), "/version");
  if (version != static_cast<std::size_t>(kFormatVersion)) {
    r.fail("/version", "unsupported schema version " + std::to_string(version) +
                           " (this moodboost reads version " + std::to_string(kFormatVersion) +
                           ")");
  }
  const auto& jfields = r.member(doc, "fields", "/");
  if (!jfields.IsArray()) r.fail("/fields", "expected an array");
  std::vector<FeatureField> fields;
  for (rapidjson::SizeType i = 0; i < jfields.Size(); ++i) {
    const std::string place = "/fields/" + std::to_string(i);
    const auto& jf = jfields[i];
    if (!jf.IsObject()) r.fail(place, "expected an object");
    FeatureField f;
    f.path = r.strings(r.member(jf, "path", place), place + "/path");
    f.kind =
        kind_from(r.string_value(r.member(jf, "kind", place), place + "/kind"), r, place + "/kind");
    if (f.kind == FieldKind::kVector || f.kind == FieldKind::kMatrix) {
      f.rows = r.size_value(r.member(jf, "rows", place), place + "/rows");
      f.cols = r.size_value(r.member(jf, "cols", place), place + "/cols");
    }
    if (f.kind == FieldKind::kCategory)
      f.vocabulary = r.strings(r.member(jf, "values", place), place + "/values");
    fields.push_back(std::move(f));
  }
  const auto names = r.strings(r.member(doc, "columns", "/"), "/columns");
  if (r.size_value(r.member(doc, "column_count", "/"), "/column_count") != names.size()) {
    r.fail("/column_count", "says " + std::to_string(doc["column_count"].GetUint64()) +
                                " but \"columns\" lists " + std::to_string(names.size()));
  }
  try {
    return FeatureSchema(std::move(fields), names);
  } catch (const DataError& e) {
    r.fail("/", e.what());
  }
}

void FeatureSchema::save(const std::filesystem::path& path) const {
  write_file_atomic(path, to_json());
}

FeatureSchema FeatureSchema::load(const std::filesystem::path& path) {
  return from_json(read_file(path), path);
}

}  // namespace moodboost
