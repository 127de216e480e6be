// The feature loader on small hand-written documents (every malformed case, options, policies)
// and on the real AcousticBrainz/Essentia samples in ../shared (counts, hand-checked values).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "detail/feature_parser.hpp"
#include "moodboost/error.hpp"
#include "moodboost/features.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

// A small music-1.0-shaped document: a scalar, a stats dict, a vector, a 3x3 matrix, an int,
// a sequence, strings, and metadata (never columns).
const std::string kDoc = R"({
  "lowlevel": {
    "average_loudness": 0.5,
    "dissonance": {"mean": 0.25, "min": 0},
    "mfcc": {"mean": [1.5, -2, 3e-25], "cov": [[1, 2, 3], [2, 4, 5], [3, 5, 6]]}
  },
  "rhythm": {"bpm": 120, "beats_count": 3, "beats_position": [0.5, 1.0, 1.6]},
  "tonal": {"key_key": "A#", "key_scale": "minor", "thpcp": [1, 0.5]},
  "metadata": {"audio_properties": {"length": 30.5, "lossless": true}, "tags": {"file_name": "nan"}}
})";

FeatureSchema doc_schema(const FeatureOptions& options = {}) {
  return select_columns(discover_fields(kDoc, "doc.json"), options);
}

std::vector<float> parse(const std::string& json, const FeatureSchema& schema,
                         const FeatureOptions& options = {}, RowCounts* counts = nullptr) {
  return parse_feature_row(json, schema, options, "48/948.json", counts);
}

float value(const std::vector<float>& row, const FeatureSchema& schema, const std::string& name) {
  const auto i = schema.find(name);
  if (!i) throw std::runtime_error("no column " + name);
  return row[*i];
}

// The message of the ParseError parsing \p json throws (empty when it does not throw).
std::string parse_error(const std::string& json, const FeatureSchema& schema,
                        const FeatureOptions& options = {}) {
  try {
    (void)parse(json, schema, options);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("fixture lacks " + from);
  return text.replace(at, from.size(), to);
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

const char* const kMusic1Samples[] = {"ab-server_0dad432b_lowlevel_2.1-beta2.json",
                                      "ab-server_335679c3_lowlevel_2.1-dev_raw-essentia.json",
                                      "ab-labs_00c47ea6-0_lowlevel_2.1-beta1.json",
                                      "mirdata_be9e01e5_lowlevel_2.1-beta2_ab-genre-dataset.json"};
constexpr const char* kMusic2Sample = "essentia-notebook_dubstep_music-2.0_mean-stdev.json";

}  // namespace

// --- flattening ------------------------------------------------------------------------------

TEST_CASE("features: a document flattens to named columns in canonical order", "[features]") {
  const FeatureSchema schema = doc_schema();
  const std::vector<std::string> expected = {"lowlevel.average_loudness",
                                             "lowlevel.dissonance.mean",
                                             "lowlevel.dissonance.min",
                                             "lowlevel.mfcc.cov.0.0",
                                             "lowlevel.mfcc.cov.0.1",
                                             "lowlevel.mfcc.cov.0.2",
                                             "lowlevel.mfcc.cov.1.0",
                                             "lowlevel.mfcc.cov.1.1",
                                             "lowlevel.mfcc.cov.1.2",
                                             "lowlevel.mfcc.cov.2.0",
                                             "lowlevel.mfcc.cov.2.1",
                                             "lowlevel.mfcc.cov.2.2",
                                             "lowlevel.mfcc.mean.0",
                                             "lowlevel.mfcc.mean.1",
                                             "lowlevel.mfcc.mean.2",
                                             "rhythm.beats_count",
                                             "rhythm.bpm",
                                             "tonal.key_key=A",
                                             "tonal.key_key=A#",
                                             "tonal.key_key=B",
                                             "tonal.key_key=C",
                                             "tonal.key_key=C#",
                                             "tonal.key_key=D",
                                             "tonal.key_key=D#",
                                             "tonal.key_key=E",
                                             "tonal.key_key=F",
                                             "tonal.key_key=F#",
                                             "tonal.key_key=G",
                                             "tonal.key_key=G#",
                                             "tonal.key_scale=major",
                                             "tonal.key_scale=minor",
                                             "tonal.thpcp.0",
                                             "tonal.thpcp.1"};
  CHECK(schema.column_names() == expected);
  CHECK(schema.numeric_count() == 19);
  CHECK(schema.counts_per_section() ==
        std::map<std::string, std::size_t>{{"lowlevel", 15}, {"rhythm", 2}, {"tonal", 16}});

  const auto row = parse(kDoc, schema);
  CHECK(value(row, schema, "lowlevel.average_loudness") == 0.5f);
  CHECK(value(row, schema, "lowlevel.dissonance.min") == 0.0f);  // an integer is a number
  CHECK(value(row, schema, "lowlevel.mfcc.mean.1") == -2.0f);
  CHECK(value(row, schema, "lowlevel.mfcc.mean.2") == static_cast<float>(3e-25));
  CHECK(value(row, schema, "lowlevel.mfcc.cov.1.2") == 5.0f);  // row-major
  CHECK(value(row, schema, "lowlevel.mfcc.cov.2.0") == 3.0f);
  CHECK(value(row, schema, "rhythm.bpm") == 120.0f);
  CHECK(value(row, schema, "tonal.key_key=A#") == 1.0f);
  CHECK(value(row, schema, "tonal.key_key=A") == 0.0f);
  CHECK(value(row, schema, "tonal.key_key=G#") == 0.0f);
  CHECK(value(row, schema, "tonal.key_scale=minor") == 1.0f);
  CHECK(value(row, schema, "tonal.key_scale=major") == 0.0f);
  CHECK(value(row, schema, "tonal.thpcp.1") == 0.5f);
}

// The parser finds a key by comparing it with the schema's keys word by word (two overlapping
// words for a short key): every length up to 40 bytes, and a difference at any byte.
TEST_CASE("features: the compiled schema tells keys apart at every length and byte", "[features]") {
  std::vector<FeatureField> fields;
  for (std::size_t length = 1; length <= 40; ++length) {
    std::string key(length, 'k');
    for (std::size_t i = 0; i < length; ++i)
      key[i] = static_cast<char>('a' + (i * 7 + length) % 26);
    fields.push_back({{"lowlevel", key}, FieldKind::kScalar, 1, 1, {}});
  }
  const FeatureSchema schema = FeatureSchema::all_columns(fields, true);
  const detail::CompiledSchema compiled(schema);
  const std::uint32_t lowlevel = compiled.child(detail::CompiledSchema::kRoot, "lowlevel", 8);
  REQUIRE(lowlevel != detail::CompiledSchema::kNone);
  for (const FeatureField& f : fields) {
    const std::string& key = f.path[1];
    // In a larger buffer, as the parser sees keys: the bytes around it must not count.
    const std::string padded = "\"" + key + "\": 1";
    const char* text = padded.data() + 1;
    const std::uint32_t id = compiled.child(lowlevel, text, key.size());
    REQUIRE(id != detail::CompiledSchema::kNone);
    CHECK(compiled.dotted(id) == "lowlevel." + key);
    CHECK(compiled.is_child(id, lowlevel, text, key.size()));
    CHECK_FALSE(compiled.is_child(id, detail::CompiledSchema::kRoot, text, key.size()));
    for (std::size_t i = 0; i < key.size(); ++i) {
      std::string other = key;
      other[i] = static_cast<char>(other[i] ^ 0x20);  // the same letter, other case
      CHECK_FALSE(compiled.is_child(id, lowlevel, other.data(), other.size()));
      CHECK(compiled.child(lowlevel, other.data(), other.size()) == detail::CompiledSchema::kNone);
    }
    CHECK_FALSE(compiled.is_child(id, lowlevel, text, key.size() - 1));  // a prefix
    CHECK(compiled.child(lowlevel, text, key.size() + 1) == detail::CompiledSchema::kNone);
  }
}

TEST_CASE("features: metadata never becomes a column, whatever it holds", "[features]") {
  const FeatureSchema schema = doc_schema();
  for (const auto& c : schema.columns()) CHECK(c.section != "metadata");
  const auto with_numbers =
      replace(kDoc, R"("length": 30.5)", R"("length": [1, 2, 3], "sample_rate": 44100)");
  CHECK(select_columns(discover_fields(with_numbers, "x.json"), {}) == schema);
  RowCounts counts;
  (void)parse(with_numbers, schema, {}, &counts);
  CHECK(counts.unknown_fields.empty());  // metadata is known to be ignored, not "unknown"
}

TEST_CASE("features: key order, indentation and CRLF do not change columns or values",
          "[features]") {
  const std::string reordered =
      R"({"metadata":{},"tonal":{"thpcp":[1,0.5],"key_scale":"minor","key_key":"A#"},)"
      "\r\n"
      R"( "rhythm" : {"beats_position":[0.5,1.0,1.6],"beats_count":3,"bpm":120},)"
      "\r\n\t"
      R"("lowlevel":{"mfcc":{"cov":[[1,2,3],[2,4,5],[3,5,6]],"mean":[1.5,-2,3e-25]},)"
      R"("dissonance":{"min":0,"mean":0.25},"average_loudness":0.5}})";
  const FeatureSchema schema = doc_schema();
  CHECK(select_columns(discover_fields(reordered, "r.json"), {}) == schema);
  const auto a = parse(kDoc, schema);
  const auto b = parse(reordered, schema);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(same_bits(a[i], b[i]));
}

TEST_CASE("features: column families and report groups", "[features]") {
  const FeatureSchema schema = doc_schema();
  const Column& cov = schema.columns()[*schema.find("lowlevel.mfcc.cov.1.2")];
  CHECK(cov.section == "lowlevel");
  CHECK(cov.descriptor == "mfcc");
  CHECK(cov.statistic == "cov");
  CHECK(cov.group == "lowlevel.mfcc");
  CHECK(cov.element == 5);
  const Column& loud = schema.columns()[*schema.find("lowlevel.average_loudness")];
  CHECK(loud.descriptor == "average_loudness");
  CHECK(loud.statistic.empty());
  const Column& key = schema.columns()[*schema.find("tonal.key_key=A#")];
  CHECK(key.descriptor == "key_key");
  CHECK(key.group == "tonal.key_*");
  CHECK(key.element == 1);

  const auto fields = discover_fields(
      R"({"lowlevel": {"silence_rate_20dB": {"mean": 1}, "barkbands": {"mean": [1]}, "barkbands_crest": {"mean": 2},
          "loudness_ebu128": {"momentary": {"mean": 1}}},
          "rhythm": {"bpm_histogram_first_peak_bpm": {"mean": 90}, "bpm_histogram": [0, 1]},
          "tonal": {"key_edma": {"key": "C", "scale": "major", "strength": 0.5}}})",
      "g.json");
  const FeatureSchema g = select_columns(fields, {});
  auto group = [&](const std::string& name) { return g.columns()[*g.find(name)].group; };
  CHECK(group("lowlevel.silence_rate_20dB.mean") == "lowlevel.silence_rate_*");
  CHECK(group("lowlevel.barkbands.mean.0") == "lowlevel.barkbands");
  CHECK(group("lowlevel.barkbands_crest.mean") == "lowlevel.barkbands_*");
  CHECK(group("rhythm.bpm_histogram_first_peak_bpm.mean") == "rhythm.bpm_histogram_*");
  CHECK(group("rhythm.bpm_histogram.1") == "rhythm.bpm_histogram");
  CHECK(group("tonal.key_edma.key=C") == "tonal.key_*");
  const Column& momentary = g.columns()[*g.find("lowlevel.loudness_ebu128.momentary.mean")];
  CHECK(momentary.descriptor == "loudness_ebu128.momentary");
  CHECK(momentary.statistic == "mean");
  CHECK(momentary.group == "lowlevel.loudness_ebu128");
}

// --- options ---------------------------------------------------------------------------------

TEST_CASE("features: covariance options keep the upper triangle or drop the matrices",
          "[features]") {
  FeatureOptions upper;
  upper.covariance = CovarianceColumns::kUpperTriangle;
  const FeatureSchema u = doc_schema(upper);
  CHECK(u.find("lowlevel.mfcc.cov.0.2"));
  CHECK(u.find("lowlevel.mfcc.cov.1.1"));
  CHECK_FALSE(u.find("lowlevel.mfcc.cov.1.0"));
  CHECK_FALSE(u.find("lowlevel.mfcc.cov.2.1"));
  CHECK(u.numeric_count() == 19 - 3);
  const auto row = parse(kDoc, u);
  CHECK(value(row, u, "lowlevel.mfcc.cov.1.2") == 5.0f);

  FeatureOptions none;
  none.covariance = CovarianceColumns::kNone;
  CHECK(doc_schema(none).numeric_count() == 19 - 9);
}

TEST_CASE("features: include/exclude globs match column or field names", "[features]") {
  FeatureOptions o;
  o.include = {"lowlevel.*"};
  o.exclude = {"*.cov*", "lowlevel.dissonance"};  // a descriptor's name matches all its columns
  const auto names = doc_schema(o).column_names();
  CHECK(names == std::vector<std::string>{"lowlevel.average_loudness", "lowlevel.mfcc.mean.0",
                                          "lowlevel.mfcc.mean.1", "lowlevel.mfcc.mean.2"});
  FeatureOptions nothing;
  nothing.include = {"nomatch.*"};
  CHECK_THROWS_AS(doc_schema(nothing), InvalidArgument);
}

TEST_CASE("features: the beats summary gives count, mean and std of the inter-beat intervals",
          "[features]") {
  FeatureOptions o;
  o.summarize_beats = true;
  const FeatureSchema schema = doc_schema(o);
  const auto row = parse(kDoc, schema);
  // beats 0.5, 1.0, 1.6 s: intervals 0.5 and 0.6, mean 0.55, population std 0.05.
  CHECK(value(row, schema, "rhythm.beats_position.count") == 3.0f);
  CHECK(value(row, schema, "rhythm.beats_position.interval_mean") == Approx(0.55f));
  CHECK(value(row, schema, "rhythm.beats_position.interval_std") == Approx(0.05f));
  CHECK(schema.columns()[*schema.find("rhythm.beats_position.interval_std")].statistic ==
        "interval_std");
  const auto one = parse(replace(kDoc, "[0.5, 1.0, 1.6]", "[0.5]"), schema);
  CHECK(value(one, schema, "rhythm.beats_position.count") == 1.0f);
  CHECK(std::isnan(value(one, schema, "rhythm.beats_position.interval_mean")));
  CHECK_FALSE(doc_schema().find("rhythm.beats_position.count"));  // off by default
}

// --- irregular values --------------------------------------------------------------------------

TEST_CASE("features: bare nan/-nan/inf/-inf and NaN/Infinity are read, or rejected", "[features]") {
  const FeatureSchema schema = doc_schema();
  for (const char* token : {"nan", "-nan", "NaN", "-NaN"}) {
    RowCounts counts;
    const auto row = parse(
        replace(kDoc, "\"average_loudness\": 0.5", std::string("\"average_loudness\": ") + token),
        schema, {}, &counts);
    CHECK(std::isnan(value(row, schema, "lowlevel.average_loudness")));
    CHECK(counts.nonfinite_values == 1);
    CHECK(value(row, schema, "rhythm.bpm") == 120.0f);
  }
  for (const auto& [token, sign] : std::vector<std::pair<std::string, float>>{
           {"inf", 1.0f}, {"-inf", -1.0f}, {"Infinity", 1.0f}, {"-Infinity", -1.0f}}) {
    const auto row =
        parse(replace(kDoc, "[1.5, -2, 3e-25]", "[1.5, " + token + ", 3e-25]"), schema);
    const float v = value(row, schema, "lowlevel.mfcc.mean.1");
    CHECK(std::isinf(v));
    CHECK(std::signbit(v) == (sign < 0));
  }
  // A string that reads "nan" is left alone (metadata tag), and the row is otherwise intact.
  const auto both = parse(replace(kDoc, "[[1, 2, 3]", "[[1, nan, 3]"), schema);
  CHECK(std::isnan(value(both, schema, "lowlevel.mfcc.cov.0.1")));

  FeatureOptions reject;
  reject.non_finite = NonFinitePolicy::kReject;
  CHECK(parse_error(replace(kDoc, "[[1, 2, 3]", "[[1, -nan, 3]"), schema, reject) ==
        "48/948.json: /lowlevel/mfcc/cov/0/1: non-finite number (NaN or infinity) rejected by the "
        "non-finite policy");
  CHECK(parse_error(replace(kDoc, "\"bpm\": 120", "\"bpm\": Infinity"), schema, reject) ==
        "48/948.json: /rhythm/bpm: non-finite number (NaN or infinity) rejected by the non-finite "
        "policy");
  // Bare tokens that are not whole tokens stay a syntax error.
  CHECK_THAT(parse_error(replace(kDoc, "\"bpm\": 120", "\"bpm\": nanx"), schema),
             Catch::StartsWith("48/948.json: byte ") && Catch::Contains("invalid JSON"));
}

TEST_CASE("features: bools are 0/1, null and missing fields are NaN", "[features]") {
  const std::string doc =
      replace(replace(kDoc, "\"bpm\": 120", "\"bpm\": true"), "\"average_loudness\": 0.5,", "");
  const FeatureSchema schema = doc_schema();
  const auto row = parse(replace(doc, "\"beats_count\": 3", "\"beats_count\": null"), schema);
  CHECK(value(row, schema, "rhythm.bpm") == 1.0f);
  CHECK(std::isnan(value(row, schema, "lowlevel.average_loudness")));  // missing
  CHECK(std::isnan(value(row, schema, "rhythm.beats_count")));         // null
  const auto no_key = parse(replace(kDoc, "\"key_key\": \"A#\",", ""), schema);
  CHECK(std::isnan(value(no_key, schema, "tonal.key_key=A")));
  CHECK(std::isnan(value(no_key, schema, "tonal.key_key=A#")));
  const auto null_matrix =
      parse(replace(kDoc, "[[1, 2, 3], [2, 4, 5], [3, 5, 6]]", "null"), schema);
  CHECK(std::isnan(value(null_matrix, schema, "lowlevel.mfcc.cov.1.1")));
  CHECK(value(null_matrix, schema, "lowlevel.mfcc.mean.0") == 1.5f);
}

TEST_CASE("features: unknown fields are ignored and counted", "[features]") {
  const FeatureSchema schema = doc_schema();
  RowCounts counts;
  const std::string extra =
      replace(replace(kDoc, "\"bpm\": 120", "\"bpm\": 120, \"new_thing\": {\"mean\": [1, 2]}"),
              "\"mean\": [1.5, -2, 3e-25]", "\"mean\": [1.5, -2, 3e-25], \"stdev\": [1, 1, 1]");
  const auto row = parse(extra, schema, {}, &counts);
  CHECK(counts.unknown_fields ==
        std::vector<std::string>{"lowlevel.mfcc.stdev", "rhythm.new_thing"});
  CHECK(value(row, schema, "rhythm.bpm") == 120.0f);
  CHECK(value(row, schema, "lowlevel.mfcc.mean.0") == 1.5f);
}

// --- shapes ------------------------------------------------------------------------------------

TEST_CASE("features: a field of the wrong shape is an error naming file and JSON pointer",
          "[features]") {
  const FeatureSchema schema = doc_schema();
  CHECK(parse_error(replace(kDoc, "[2, 4, 5]", "[2, 4]"), schema) ==
        "48/948.json: /lowlevel/mfcc/cov/1: expected 3 numbers, found 2");
  CHECK(parse_error(replace(kDoc, "[2, 4, 5]", "[2, 4, 5, 6]"), schema) ==
        "48/948.json: /lowlevel/mfcc/cov/1: expected 3 numbers, found 4");
  CHECK(parse_error(replace(kDoc, ", [3, 5, 6]]", "]"), schema) ==
        "48/948.json: /lowlevel/mfcc/cov: expected 3 rows of 3 numbers, found 2 rows");
  CHECK(parse_error(replace(kDoc, "[1.5, -2, 3e-25]", "[1.5, -2]"), schema) ==
        "48/948.json: /lowlevel/mfcc/mean: expected 3 numbers, found 2");
  CHECK(parse_error(replace(kDoc, "[2, 4, 5]", "7"), schema) ==
        "48/948.json: /lowlevel/mfcc/cov/1: expected an array of 3 numbers, found a number");
  CHECK(parse_error(replace(kDoc, "[1.5, -2, 3e-25]", "[1.5, [-2], 3e-25]"), schema) ==
        "48/948.json: /lowlevel/mfcc/mean/1: expected a number, found an array");
  CHECK(parse_error(replace(kDoc, "\"bpm\": 120", "\"bpm\": [120]"), schema) ==
        "48/948.json: /rhythm/bpm: expected a number, found an array");
  CHECK(parse_error(replace(kDoc, "\"bpm\": 120", "\"bpm\": \"fast\""), schema) ==
        "48/948.json: /rhythm/bpm: expected a number, found a string");
  CHECK(parse_error(replace(kDoc, "\"bpm\": 120", "\"bpm\": {\"mean\": 1}"), schema) ==
        "48/948.json: /rhythm/bpm: expected a number, found an object");
  CHECK(parse_error(replace(kDoc, "[1.5, -2, 3e-25]", "1.5"), schema) ==
        "48/948.json: /lowlevel/mfcc/mean: expected an array of 3 numbers, found a number");
  CHECK(parse_error(replace(kDoc, "{\"mean\": 0.25, \"min\": 0}", "0.25"), schema) ==
        "48/948.json: /lowlevel/dissonance: expected an object, found a number");
  CHECK(parse_error(replace(kDoc, "\"key_key\": \"A#\"", "\"key_key\": 3"), schema) ==
        "48/948.json: /tonal/key_key: expected a string, found a number");
}

TEST_CASE("features: a categorical value outside the vocabulary is an error, or NaN when lenient",
          "[features]") {
  const FeatureSchema schema = doc_schema();
  // Flat spellings are their sharp equivalents.
  for (const auto& [flat_key, sharp_key] :
       std::vector<std::pair<std::string, std::string>>{{"Ab", "G#"},
                                                        {"Bb", "A#"},
                                                        {"Db", "C#"},
                                                        {"Eb", "D#"},
                                                        {"Gb", "F#"},
                                                        {"Cb", "B"},
                                                        {"Fb", "E"}}) {
    const auto row = parse(replace(kDoc, "\"A#\"", "\"" + flat_key + "\""), schema);
    CHECK(value(row, schema, "tonal.key_key=" + sharp_key) == 1.0f);
    CHECK(value(row, schema, "tonal.key_key=A#") == (sharp_key == "A#" ? 1.0f : 0.0f));
  }
  const std::string flat = replace(kDoc, "\"A#\"", "\"H\"");
  CHECK(parse_error(flat, schema) ==
        "48/948.json: /tonal/key_key: unknown value \"H\", expected one of A A# B C C# D D# E F F# "
        "G G#");
  CHECK_THAT(
      parse_error(replace(kDoc, "\"minor\"", "\"Minor\""), schema),
      Catch::EndsWith("/tonal/key_scale: unknown value \"Minor\", expected one of major minor"));
  FeatureOptions lenient;
  lenient.shape_mismatch = ShapePolicy::kMissing;
  RowCounts counts;
  const auto row = parse(flat, schema, lenient, &counts);
  CHECK(std::isnan(value(row, schema, "tonal.key_key=A")));
  CHECK(std::isnan(value(row, schema, "tonal.key_key=A#")));
  CHECK(value(row, schema, "tonal.key_scale=minor") == 1.0f);
  CHECK(counts.shape_mismatches == 1);
}

TEST_CASE("features: lenient mode turns a malformed field into NaN and keeps the rest",
          "[features]") {
  const FeatureSchema schema = doc_schema();
  FeatureOptions lenient;
  lenient.shape_mismatch = ShapePolicy::kMissing;
  const auto check_rest = [&](const std::vector<float>& row) {
    CHECK(value(row, schema, "lowlevel.mfcc.mean.0") == 1.5f);
    CHECK(value(row, schema, "rhythm.bpm") == 120.0f);
    CHECK(value(row, schema, "tonal.thpcp.1") == 0.5f);
    CHECK(value(row, schema, "tonal.key_key=A#") == 1.0f);
  };
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"[2, 4, 5]", "[2, 4]"},
                                                        {"[2, 4, 5]", "[2, [4], 5]"},
                                                        {"[2, 4, 5]", "{\"a\": 1}"},
                                                        {", [3, 5, 6]]", "]"},
                                                        {"[2, 4, 5]", "[2, 4, 5, 6, 7]"},
                                                        {"[[1, 2, 3]", "[7, [1, 2, 3]"}}) {
    RowCounts counts;
    const auto row = parse(replace(kDoc, from, to), schema, lenient, &counts);
    CHECK(counts.shape_mismatches == 1);
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) {
        CHECK(std::isnan(value(
            row, schema, "lowlevel.mfcc.cov." + std::to_string(r) + "." + std::to_string(c))));
      }
    }
    check_rest(row);
  }
  RowCounts counts;
  const auto row =
      parse(replace(kDoc, "\"bpm\": 120", "\"bpm\": [120, 121]"), schema, lenient, &counts);
  CHECK(std::isnan(value(row, schema, "rhythm.bpm")));
  CHECK(value(row, schema, "rhythm.beats_count") == 3.0f);
}

// --- malformed files ---------------------------------------------------------------------------

TEST_CASE("features: malformed files give clear ParseErrors", "[features]") {
  const FeatureSchema schema = doc_schema();
  CHECK(parse_error("", schema) == "48/948.json: the file is empty, expected a JSON object");
  CHECK(parse_error(" \n\t ", schema) ==
        "48/948.json: the file holds only whitespace, expected a JSON object");
  CHECK_THAT(parse_error(kDoc.substr(0, 200), schema),
             Catch::StartsWith("48/948.json: byte 200 (line ") &&
                 Catch::Contains("unexpected end of file, the file is truncated"));
  CHECK_THAT(
      parse_error("\xEF\xBB\xBF" + kDoc, schema),
      Catch::StartsWith("48/948.json: byte 0: the file starts with a UTF-8 byte-order mark"));
  CHECK_THAT(parse_error("\xFF\xFE{\0\"\0", schema), Catch::Contains("UTF-16"));
  CHECK_THAT(parse_error(std::string("\x7F"
                                     "ELF\x02\x01\x01\0\0\0",
                                     10),
                         schema),
             Catch::Contains("binary data (a NUL byte)"));
  CHECK_THAT(parse_error(kDoc + std::string("\0\x01\x02", 3), schema),
             Catch::Contains("binary data (a NUL byte)"));
  CHECK_THAT(
      parse_error(replace(kDoc, "\"file_name\": \"nan\"", "\"file_name\": \"caf\xE9\""), schema),
      Catch::Contains("invalid UTF-8 in a string"));
  CHECK(parse_error("[1, 2]", schema) ==
        "48/948.json: /: expected a JSON object at the top level, found an array");
  CHECK(parse_error("42", schema) ==
        "48/948.json: /: expected a JSON object at the top level, found a number");
  CHECK(parse_error("\"lowlevel\"", schema) ==
        "48/948.json: /: expected a JSON object at the top level, found a string");
  CHECK_THAT(parse_error(kDoc + "{}", schema),
             Catch::Contains("unexpected data after the end of the JSON object"));
  CHECK_THAT(parse_error(replace(kDoc, "\"bpm\": 120", "\"bpm\": 12 0"), schema),
             Catch::StartsWith("48/948.json: byte ") && Catch::Contains("(line 7, column ") &&
                 Catch::Contains("invalid JSON"));
  CHECK(
      parse_error(R"({"highlevel": {"mood_happy": {}}, "metadata": {}})", schema) ==
      "48/948.json: /: no lowlevel, rhythm or tonal section (top-level keys: highlevel, metadata) "
      "(an AcousticBrainz high-level file? the loader reads low-level files)");
  CHECK(parse_error("{}", schema) ==
        "48/948.json: /: no lowlevel, rhythm or tonal section (top-level keys: none)");
}

TEST_CASE("features: deep nesting is refused without exhausting the stack", "[features]") {
  const FeatureSchema schema = doc_schema();
  for (const std::string& inner :
       {std::string(100000, '['), std::string(100000, '[') + std::string(100000, ']')}) {
    CHECK_THAT(parse_error(R"({"lowlevel": {"x": )" + inner + "}}", schema),
               Catch::Contains("nested deeper than 64 levels"));
  }
  std::string objects;
  for (int i = 0; i < 50000; ++i) objects += "{\"a\":";
  CHECK_THAT(parse_error(R"({"metadata": )" + objects, schema),
             Catch::Contains("nested deeper than 64 levels"));
  CHECK_THROWS_WITH(
      discover_fields(R"({"lowlevel": {"x": )" + std::string(100000, '[') + "}}", "deep.json"),
      Catch::Contains("nested deeper than 64 levels"));
}

TEST_CASE("features: discovery errors name the file and place", "[features]") {
  CHECK_THROWS_WITH(discover_fields(replace(kDoc, "[2, 4, 5]", "[2, 4]"), "00/1.json"),
                    "00/1.json: /lowlevel/mfcc/cov/1: expected 3 numbers (as row 0), found 2");
  CHECK_THROWS_WITH(discover_fields("[]", "00/1.json"),
                    "00/1.json: /: expected a JSON object at the top level, found an array");
  CHECK_THROWS_WITH(discover_fields(R"({"lowlevel": 3})", "00/1.json"),
                    "00/1.json: /lowlevel: expected an object, found a number");
  // A list of strings or a string outside the key/scale vocabularies gives no column.
  const auto fields = discover_fields(
      R"({"tonal": {"chords_progression": ["A", "B"], "label": "x", "key_key": "C"}})", "t.json");
  REQUIRE(fields.size() == 3);
  CHECK(fields[0].kind == FieldKind::kIgnored);
  CHECK(fields[1].kind == FieldKind::kCategory);
  CHECK(fields[2].kind == FieldKind::kIgnored);
}

// --- schema files ------------------------------------------------------------------------------

TEST_CASE("feature schema: JSON round trip, versioning and validation", "[features]") {
  FeatureOptions o;
  o.summarize_beats = true;
  o.covariance = CovarianceColumns::kUpperTriangle;
  const FeatureSchema schema = doc_schema(o);
  const std::string json = schema.to_json();
  CHECK(json.find("\"format\": \"moodboost-feature-schema\"") != std::string::npos);
  CHECK(json.find("\"version\": 1") != std::string::npos);
  CHECK(FeatureSchema::from_json(json, "s.json") == schema);
  test::TempDir dir;
  schema.save(dir / "schema.json");
  CHECK(FeatureSchema::load(dir / "schema.json") == schema);
  CHECK_FALSE(FeatureSchema::from_json(json, "s.json") == doc_schema());

  CHECK_THROWS_WITH(
      FeatureSchema::from_json(replace(json, "\"version\": 1", "\"version\": 2"), "s.json"),
      Catch::StartsWith("s.json: /version: unsupported schema version 2"));
  CHECK_THROWS_WITH(
      FeatureSchema::from_json(replace(json, "moodboost-feature-schema", "other"), "s.json"),
      Catch::StartsWith("s.json: /format: expected"));
  CHECK_THROWS_WITH(
      FeatureSchema::from_json(replace(json, "\"tonal.thpcp.1\"", "\"tonal.thpcp.7\""), "s.json"),
      Catch::Contains("column 'tonal.thpcp.7' does not come from any feature field"));
  CHECK_THROWS_WITH(
      FeatureSchema::from_json(replace(json, "\"tonal.thpcp.1\"", "\"tonal.thpcp.0\""), "s.json"),
      Catch::Contains("listed twice"));
  CHECK_THROWS_AS(FeatureSchema::from_json(json.substr(0, 100), "s.json"), ParseError);
}

TEST_CASE("feature schema: a saved schema fixes columns and order for prediction", "[features]") {
  FeatureOptions o;
  o.include = {"rhythm.*", "tonal.thpcp*"};
  const FeatureSchema saved = FeatureSchema::from_json(doc_schema(o).to_json(), "s.json");
  // A file with different key order, an extra field and a missing one.
  const std::string other = R"({"tonal": {"thpcp": [1, 0.25], "brand_new": 1},
                                 "rhythm": {"beats_count": 7}, "lowlevel": {"average_loudness": 0.9}})";
  RowCounts counts;
  const auto row = parse_feature_row(other, saved, {}, "p.json", &counts);
  CHECK(saved.column_names() == std::vector<std::string>{"rhythm.beats_count", "rhythm.bpm",
                                                         "tonal.thpcp.0", "tonal.thpcp.1"});
  REQUIRE(row.size() == 4);
  CHECK(row[0] == 7.0f);
  CHECK(std::isnan(row[1]));
  CHECK(row[3] == 0.25f);
  CHECK(counts.unknown_fields ==
        std::vector<std::string>{"tonal.brand_new"});  // known-but-unused fields are not
}

// --- the real samples -------------------------------------------------------------------------

TEST_CASE("features: every real music-1.0 sample gives 2647 numeric columns in one schema",
          "[features][shared]") {
  if (!test::require_shared(test::samples_dir())) return;
  std::vector<FeatureSchema> schemas;
  for (const char* name : kMusic1Samples) {
    INFO(name);
    schemas.push_back(schema_of_file(test::samples_dir() / name, {}));
    CHECK(schemas.back().numeric_count() == 2647);
    CHECK(schemas.back().size() == 2647 + 28);
    CHECK(schemas.back().counts_per_section() ==
          std::map<std::string, std::size_t>{
              {"lowlevel", 2117}, {"rhythm", 121}, {"tonal", 409 + 28}});
  }
  // Sorted 2-space, Essentia-native 4-space and compact unsorted files: the same columns, same
  // order.
  for (const auto& s : schemas) CHECK(s == schemas.front());
}

TEST_CASE("features: real sample values match the JSON, checked by hand", "[features][shared]") {
  if (!test::require_shared(test::samples_dir())) return;
  const fs::path file = test::samples_dir() / "ab-server_0dad432b_lowlevel_2.1-beta2.json";
  FeatureOptions o;
  o.summarize_beats = true;
  const FeatureSchema schema = schema_of_file(file, o);
  const auto row = parse_feature_row(test::read_text(file), schema, {}, "0dad432b.json");
  // Values read off the file (line numbers in the 2-space-indented original).
  CHECK(value(row, schema, "lowlevel.mfcc.cov.3.7") == 2.044444561f);    // line 1681
  CHECK(value(row, schema, "lowlevel.mfcc.cov.7.3") == 2.044444561f);    // line 1737, symmetric
  CHECK(value(row, schema, "tonal.hpcp.dmean2.35") == 0.142427116632f);  // line 2979
  CHECK(value(row, schema, "tonal.thpcp.0") == 1.0f);
  CHECK(value(row, schema, "tonal.thpcp.5") == 0.181419640779f);                   // line 3268
  CHECK(value(row, schema, "lowlevel.spectral_spread.var") == 17197295468500.0f);  // line 2392
  CHECK(value(row, schema, "lowlevel.spectral_spread.dmean2") == 520908.0f);       // an integer
  CHECK(value(row, schema, "lowlevel.barkbands.min.0") == 7.10034127178e-25f);     // line 209
  CHECK(value(row, schema, "lowlevel.average_loudness") == 0.048737552017f);
  CHECK(value(row, schema, "rhythm.beats_count") == 241.0f);
  CHECK(value(row, schema, "tonal.chords_strength.min") == -1.0f);
  CHECK(value(row, schema, "tonal.key_key=D") == 1.0f);  // "key_key": "D", line 3259
  CHECK(value(row, schema, "tonal.key_key=A") == 0.0f);
  CHECK(value(row, schema, "tonal.key_scale=major") == 1.0f);
  CHECK(value(row, schema, "tonal.chords_key=B") == 1.0f);
  CHECK(value(row, schema, "rhythm.beats_position.count") == 241.0f);
  // numpy.diff(beats_position).mean() and .std() of the file.
  CHECK(value(row, schema, "rhythm.beats_position.interval_mean") ==
        Approx(0.4433560062207333).epsilon(1e-6));
  CHECK(value(row, schema, "rhythm.beats_position.interval_std") ==
        Approx(0.05749857948318305).epsilon(1e-5));
}

TEST_CASE("features: presets on a real sample give SCHEMA.md's counts", "[features][shared]") {
  if (!test::require_shared(test::samples_dir())) return;
  const fs::path file = test::samples_dir() / kMusic1Samples[0];
  FeatureOptions upper;
  upper.covariance = CovarianceColumns::kUpperTriangle;
  CHECK(schema_of_file(file, upper).numeric_count() == 2335);
  FeatureOptions basic;
  basic.basic_preset = true;
  const FeatureSchema b = schema_of_file(file, basic);
  CHECK(b.numeric_count() == 675);
  CHECK(b.size() == 675 + 28);
  CHECK(b.counts_per_section() ==
        std::map<std::string, std::size_t>{{"lowlevel", 487}, {"rhythm", 43}, {"tonal", 145 + 28}});
  CHECK_FALSE(b.find("tonal.thpcp.0"));
  CHECK_FALSE(b.find("lowlevel.silence_rate_20dB.mean"));
  CHECK(b.find("lowlevel.mfcc.mean.12"));
}

TEST_CASE("features: the music-2.0 sample loads with its own columns", "[features][shared]") {
  if (!test::require_shared(test::samples_dir())) return;
  const fs::path file = test::samples_dir() / kMusic2Sample;
  const FeatureSchema schema = schema_of_file(file, {});
  CHECK(schema.numeric_count() == 1700);  // SCHEMA.md section 5 (mean/stdev profile)
  CHECK(schema.size() ==
        1700 + 4 * 14);  // chords_key/scale + key_{edma,krumhansl,temperley} key/scale
  for (const char* name :
       {"lowlevel.loudness_ebu128.integrated", "lowlevel.loudness_ebu128.momentary.stdev",
        "lowlevel.melbands128.mean.127", "rhythm.bpm_histogram.249", "tonal.key_edma.key=A",
        "tonal.key_temperley.scale=minor", "tonal.key_krumhansl.strength", "tonal.hpcp_crest.mean",
        "rhythm.bpm_histogram_first_peak_bpm"}) {
    CHECK(schema.find(name));
  }
  const auto row =
      parse_feature_row(test::read_text(file), schema, {}, "dubstep.json");  // CRLF line endings
  CHECK(value(row, schema, "rhythm.bpm_histogram_first_peak_bpm") == 140.0f);
  CHECK(value(row, schema, "lowlevel.average_loudness") == 0.980225086212f);
  CHECK(value(row, schema, "tonal.chords_key=E") == 1.0f);
  CHECK(value(row, schema, "tonal.key_temperley.key=G#") == 1.0f);  // written "Ab"
  CHECK(value(row, schema, "tonal.key_edma.key=C#") == 1.0f);
  // A music-1.0 file read with the 2.0 schema: the bpm peaks are stats dicts in 1.0 but numbers
  // in 2.0, an error unless lenient; then 2.0-only columns are NaN and 1.0-only fields unknown.
  const std::string music1 = test::read_text(test::samples_dir() / kMusic1Samples[0]);
  CHECK(parse_error(music1, schema) ==
        "48/948.json: /rhythm/bpm_histogram_first_peak_bpm: expected a number, found an object");
  FeatureOptions lenient;
  lenient.shape_mismatch = ShapePolicy::kMissing;
  RowCounts counts;
  const auto old = parse_feature_row(music1, schema, lenient, "old.json", &counts);
  CHECK(counts.shape_mismatches ==
        5);  // bpm_histogram_{first,second}_peak_{bpm,weight}, second_peak_spread
  CHECK(std::isnan(value(old, schema, "rhythm.bpm_histogram.0")));
  CHECK(std::find(counts.unknown_fields.begin(), counts.unknown_fields.end(), "tonal.key_key") !=
        counts.unknown_fields.end());
}

TEST_CASE("features: the high-level sample is refused with a clear message", "[features][shared]") {
  if (!test::require_shared(test::samples_dir())) return;
  CHECK_THROWS_WITH(
      schema_of_file(test::samples_dir() / "ab-server_0dad432b_highlevel.json", {}),
      Catch::EndsWith(
          "/: no lowlevel, rhythm or tonal section (top-level keys: highlevel, metadata) "
          "(an AcousticBrainz high-level file? the loader reads low-level files)"));
}

TEST_CASE("features: mutated documents parse or throw ParseError, never anything else",
          "[features]") {
  const FeatureSchema schema = doc_schema();
  FeatureOptions lenient;
  lenient.shape_mismatch = ShapePolicy::kMissing;
  std::uint64_t state = 12345;
  auto next = [&] {  // splitmix64: a fixed, portable sequence of mutations
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  static const char kAlphabet[] = "{}[]:,\"0123456789.-eE nNaiIftrul\\\xC3\xFF";
  const std::string alphabet(kAlphabet, sizeof(kAlphabet));  // with the final NUL byte
  std::size_t parsed = 0, refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = kDoc;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = next() % (text.size() + 1);
      const char c = alphabet[next() % alphabet.size()];
      switch (next() % 4) {
        case 0:
          if (at < text.size()) text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        case 2:
          if (at < text.size()) text.erase(at, 1 + next() % 8);
          break;
        default:
          text.resize(at);
          break;
      }
    }
    const FeatureOptions strict;
    for (const FeatureOptions* o : {&strict, static_cast<const FeatureOptions*>(&lenient)}) {
      try {
        (void)parse(text, schema, *o);
        (void)discover_fields(text, "m.json");
        ++parsed;
      } catch (const ParseError&) {
        ++refused;
      } catch (const DataError&) {
        ++refused;  // discover_fields: a field that is both a leaf and an object, duplicated keys
      }
    }
  }
  CHECK(parsed + refused == 6000);
  CHECK(parsed > 100);
  CHECK(refused > 1000);
}
