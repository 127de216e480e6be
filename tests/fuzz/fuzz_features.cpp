// libFuzzer harness: one feature JSON file through the loader's parsers.
//
// The input is the file's bytes. It is parsed
//  1. into a row of the schema of tests/data/good/lowlevel.json (a saved schema, as prediction
//     does), strictly, leniently (ShapePolicy::kMissing) and rejecting non-finite numbers;
//  2. by discovery (discover_fields, select_columns: what training does), then into a row of the
//     schema it discovered, which must also survive its JSON round trip.
// Beyond "no crash, leak or sanitizer report", it checks invariants: only moodboost errors
// escape, every ParseError names the file first, a file the strict parse accepts gives the same
// row bit for bit under the lenient policy (and under the reject policy when it held no NaN/Inf),
// one-hot columns hold 0, 1 or NaN, a discovered schema reads back equal from its JSON, no
// infinity passes the reject policy, and every number of an accepted row is the correctly rounded
// float32 of its text (checked in exact integer arithmetic, tests/exact_float.hpp) or the value
// of its NaN/Inf token. Every number start in the input (a minus or a digit) also goes through
// the loader's number scanner, which must agree with RapidJSON where it takes the number
// (tests/number_scan_check.hpp).
#include <rapidjson/reader.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exact_float.hpp"
#include "fuzz_common.hpp"
#include "moodboost/feature_schema.hpp"
#include "moodboost/features.hpp"
#include "number_scan_check.hpp"

using namespace moodboost;
using moodboost::fuzz::check;

namespace {

const std::filesystem::path kFile = "00/fuzz.json";

struct Setup {
  FeatureSchema fixture_schema;  // the fixture's columns, all of them
  FeatureSchema upper_schema;    // upper-triangle covariances and the beats summary
  FeatureOptions strict;
  FeatureOptions lenient;
  FeatureOptions reject;
};

const Setup& setup() {
  static const Setup s = [] {
    Setup out;
    const std::string fixture = fuzz::read_bytes(MOODBOOST_FUZZ_FIXTURE);
    const auto fields = discover_fields(fixture, MOODBOOST_FUZZ_FIXTURE);
    out.fixture_schema = select_columns(fields, {});
    FeatureOptions upper;
    upper.covariance = CovarianceColumns::kUpperTriangle;
    upper.summarize_beats = true;
    out.upper_schema = select_columns(fields, upper);
    out.lenient.shape_mismatch = ShapePolicy::kMissing;
    out.reject.non_finite = NonFinitePolicy::kReject;
    return out;
  }();
  return s;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// The row, or nothing when the parse threw (a ParseError naming kFile: anything else aborts).
std::optional<std::vector<float>> parse_row(std::string_view json, const FeatureSchema& schema,
                                            const FeatureOptions& options, RowCounts* counts) {
  std::optional<std::vector<float>> row;
  fuzz::guarded(
      "parse_feature_row", [&] { row = parse_feature_row(json, schema, options, kFile, counts); },
      [&](const Error& e) {
        const auto* parse_error = dynamic_cast<const ParseError*>(&e);
        check(parse_error != nullptr,
              std::string("parse_feature_row threw a non-ParseError: ") + e.what());
        fuzz::check_names_file(*parse_error, kFile);
      });
  if (row) check(row->size() == schema.size(), "a row of the wrong length");
  return row;
}

// The last value of every path of a JSON text (keys, and array indices as decimal strings):
// a number's text, or nothing for any other value. RapidJSON reads the numbers as text.
class LastValues : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, LastValues> {
 public:
  using Path = std::vector<std::string>;
  std::map<Path, std::optional<std::string>> values;

  bool Default() { return set(std::nullopt); }
  bool RawNumber(const char* str, rapidjson::SizeType size, bool) {
    return set(std::string(str, size));
  }
  bool Key(const char* str, rapidjson::SizeType size, bool) {
    path_.back().assign(str, size);
    return true;
  }
  bool StartObject() { return open(false); }
  bool StartArray() { return open(true); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool EndArray(rapidjson::SizeType) { return close(); }

 private:
  bool set(std::optional<std::string> value) {
    if (!path_.empty()) values[path_] = std::move(value);
    next();
    return true;
  }
  void next() {
    if (!index_.empty() && index_.back() >= 0) path_.back() = std::to_string(++index_.back());
  }
  bool open(bool array) {
    if (!path_.empty()) values[path_] = std::nullopt;  // an object or array: no number here
    if (path_.size() > 64) return false;
    path_.emplace_back(array ? "0" : "");
    index_.push_back(array ? 0 : -1);
    return true;
  }
  bool close() {
    path_.pop_back();
    index_.pop_back();
    next();
    return true;
  }
  Path path_;
  std::vector<long> index_;  // per level: the array index, or -1 in an object
};

// Every scalar, vector or matrix column of \p row holds what its number's text says: the correctly
// rounded float32 of a decimal, NaN for a NaN token, +-inf for an Inf token.
void check_numbers(std::string_view json, const std::vector<float>& row,
                   const FeatureSchema& schema) {
  LastValues walker;
  rapidjson::Reader reader;
  const std::string text(json);
  rapidjson::StringStream stream(text.c_str());
  // Essentia's bare nan/inf (rewritten by the loader) are no JSON to RapidJSON: not checked here.
  if (!reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseNanAndInfFlag>(
          stream, walker)) {
    return;
  }
  for (std::size_t c = 0; c < schema.size(); ++c) {
    const Column& column = schema.columns()[c];
    const FeatureField& field = schema.fields()[column.field];
    LastValues::Path path = field.path;
    if (field.kind == FieldKind::kVector) {
      path.push_back(std::to_string(column.element));
    } else if (field.kind == FieldKind::kMatrix) {
      path.push_back(std::to_string(column.element / field.cols));
      path.push_back(std::to_string(column.element % field.cols));
    } else if (field.kind != FieldKind::kScalar) {
      continue;
    }
    const auto it = walker.values.find(path);
    if (it == walker.values.end() || !it->second) continue;
    const std::string& number = *it->second;
    const float v = row[c];
    if (const auto decimal = test::parse_decimal(number)) {
      check(test::is_correctly_rounded(*decimal, v), column.name + " = " + number + " read as " +
                                                         std::to_string(v) +
                                                         ", not its correctly rounded float32");
    } else if (number.find('N') != std::string::npos) {
      check(std::isnan(v), column.name + " = " + number + " read as " + std::to_string(v));
    } else {
      check(std::isinf(v) && std::signbit(v) == (number[0] == '-'),
            column.name + " = " + number + " read as " + std::to_string(v));
    }
  }
}

void check_one_hot(const std::vector<float>& row, const FeatureSchema& schema) {
  for (std::size_t i = 0; i < schema.size(); ++i) {
    if (schema.fields()[schema.columns()[i].field].kind != FieldKind::kCategory) continue;
    check(std::isnan(row[i]) || row[i] == 0.0f || row[i] == 1.0f,
          "one-hot column " + schema.columns()[i].name + " holds " + std::to_string(row[i]));
  }
}

void with_schema(std::string_view json, const FeatureSchema& schema) {
  const Setup& s = setup();
  RowCounts counts;
  const auto strict = parse_row(json, schema, s.strict, &counts);
  const auto lenient = parse_row(json, schema, s.lenient, nullptr);
  const auto reject = parse_row(json, schema, s.reject, nullptr);
  if (strict) {
    check_one_hot(*strict, schema);
    check_numbers(json, *strict, schema);
    check(lenient && same_bits(*strict, *lenient),
          "the lenient policy changed a row the strict parse accepted");
    if (counts.nonfinite_values == 0) {
      check(reject && same_bits(*strict, *reject),
            "the reject policy changed a row without non-finite numbers");
    }
  }
  if (reject) {
    check(strict && same_bits(*strict, *reject), "the reject policy accepted what strict did not");
    for (const float v : *reject) check(!std::isinf(v), "an infinity passed the reject policy");
  }
  if (lenient) check_one_hot(*lenient, schema);
}

void discovered(std::string_view json) {
  std::vector<FeatureField> fields;
  bool ok = false;
  fuzz::guarded(
      "discover_fields",
      [&] {
        fields = discover_fields(json, kFile);
        ok = true;
      },
      [&](const Error& e) {
        if (const auto* parse_error = dynamic_cast<const ParseError*>(&e)) {
          fuzz::check_names_file(*parse_error, kFile);
        } else {
          // A key given twice with two shapes: FieldUnion's DataError names the file.
          check(dynamic_cast<const DataError*>(&e) != nullptr &&
                    std::string_view(e.what()).find(kFile.string()) != std::string_view::npos,
                std::string("discover_fields threw: ") + e.what());
        }
      });
  if (!ok) return;
  FeatureOptions options;
  options.summarize_beats = true;
  fuzz::guarded(
      "select_columns",
      [&] {
        const FeatureSchema schema = select_columns(fields, options);
        const FeatureSchema back = FeatureSchema::from_json(schema.to_json(), "schema.json");
        check(back == schema, "a discovered schema changed in its JSON round trip");
        RowCounts counts;
        (void)parse_row(json, schema, setup().lenient, &counts);
      },
      [](const Error& e) {
        // No column at all (a file of strings, say) is the one refusal expected here.
        check(dynamic_cast<const InvalidArgument*>(&e) != nullptr ||
                  dynamic_cast<const DataError*>(&e) != nullptr,
              std::string("select_columns/schema round trip threw: ") + e.what());
      });
}

// The scanner at every byte that can start a number, on a copy ending in a NUL and the
// read-ahead, as the loader's buffer does.
void scanned_numbers(std::string_view json) {
  std::string text(json);
  text.append(1 + detail::kScanReadAhead, '\0');
  for (std::size_t i = 0; i < json.size(); ++i) {
    if (json[i] != '-' && (json[i] < '0' || json[i] > '9')) continue;
    if (i > 0 && json[i - 1] >= '0' && json[i - 1] <= '9') continue;  // inside a run of digits
    const std::string wrong = test::scan_disagreement(text.c_str() + i);
    check(wrong.empty(), "the number scanner at byte " + std::to_string(i) + ": " + wrong);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  with_schema(json, setup().fixture_schema);
  with_schema(json, setup().upper_schema);
  discovered(json);
  scanned_numbers(json);
  return 0;
}
