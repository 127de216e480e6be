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
// one-hot columns hold 0, 1 or NaN, and a discovered schema reads back equal from its JSON.
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "moodboost/feature_schema.hpp"
#include "moodboost/features.hpp"

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
    check(lenient && same_bits(*strict, *lenient),
          "the lenient policy changed a row the strict parse accepted");
    if (counts.nonfinite_values == 0) {
      check(reject && same_bits(*strict, *reject),
            "the reject policy changed a row without non-finite numbers");
    }
  }
  if (reject) {
    check(strict && same_bits(*strict, *reject), "the reject policy accepted what strict did not");
    // Not checked yet: no infinity in the row. A finite double beyond the float range (1e39)
    // becomes inf in the float matrix and passes the reject policy (a known gap, reported:
    // tests/data/bad/json/float_overflow.json, open in cases.tsv). Restore once it is closed:
    //   for (const float v : *reject) check(!std::isinf(v), "an infinity passed the policy");
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

// Known gap, reported (tests/data/bad/json/inf_exponent.json, status open-cli in cases.tsv):
// RapidJSON 1.1.0 with kParseNanAndInfFlag and kParseFullPrecisionFlag goes on after NaN/Inf into
// a fraction or exponent ("Infe308", "NaN.5") and calls StrtodFullPrecision with no digits, which
// asserts in a debug build and reads before its buffer otherwise. Such inputs are skipped so that
// the runs look for other bugs; remove this once the loader refuses them.
bool known_rapidjson_nan_inf_gap(std::string_view json) {
  for (const std::string_view token : {"NaN", "Inf", "nan", "inf"}) {
    for (std::size_t at = json.find(token); at != std::string_view::npos;
         at = json.find(token, at + 1)) {
      std::size_t end = at + token.size();
      if (json.substr(end, 5) == "inity") end += 5;
      if (end < json.size() && (json[end] == '.' || json[end] == 'e' || json[end] == 'E')) {
        return true;
      }
    }
  }
  return false;
}

// Known gap, reported (tests/data/bad/json/zero_exponent.json): RapidJSON 1.1.0's full-precision
// path mis-reads a zero significand with a large decimal exponent ("0e200" and "0." followed by
// 80 zeros give inf, after clz(0)). Inputs holding a run of zeros (with a point) that is followed
// by an exponent or is 18 or more characters long are skipped.
bool known_rapidjson_zero_exponent_gap(std::string_view json) {
  std::size_t i = 0;
  while (i < json.size()) {
    if (json[i] != '0' || (i > 0 && std::isdigit(static_cast<unsigned char>(json[i - 1])))) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < json.size() && (json[end] == '0' || json[end] == '.')) ++end;
    const bool exponent = end < json.size() && (json[end] == 'e' || json[end] == 'E');
    const bool zeros_only =
        end == json.size() || !std::isdigit(static_cast<unsigned char>(json[end]));
    if (zeros_only && (exponent || end - i >= 18)) return true;
    i = end;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  if (known_rapidjson_nan_inf_gap(json) || known_rapidjson_zero_exponent_gap(json)) {
    return -1;  // -1: libFuzzer keeps the input out of the corpus
  }
  // Known gap, reported (tests/data/bad/json/nul_in_key.json, open in cases.tsv): a key holding
  // \u0000 goes raw into an error's JSON pointer, and the NUL cuts what() short.
  if (json.find("\\u0000") != std::string_view::npos) return -1;
  with_schema(json, setup().fixture_schema);
  with_schema(json, setup().upper_schema);
  discovered(json);
  return 0;
}
