// load_features(): directories of feature files, row order, missing files, discovery across
// files, constant columns, threads, the synthetic marker, and the real samples against an
// independent flattening in Python.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "moodboost/error.hpp"
#include "moodboost/features.hpp"
#include "moodboost/npy.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

// A small feature file whose values depend on \p k, so that rows can be told apart.
std::string doc(int k, const std::string& extra_lowlevel = "") {
  return "{\"lowlevel\": {\"loud\": " + std::to_string(k) +
         ".5, \"flat\": 7, \"mfcc\": {\"mean\": [" + std::to_string(k) + ", 2]}" + extra_lowlevel +
         "}, \"tonal\": {\"key_key\": \"" + std::string(1, static_cast<char>('A' + k % 7)) +
         "\"}, \"metadata\": {\"n\": " + std::to_string(k) + "}}";
}

struct Set {
  test::TempDir dir;
  std::vector<std::string> paths;
  std::vector<std::string> ids;

  void add(const std::string& rel, const std::string& content) {
    test::write_text(dir / rel, content);
    paths.push_back(rel);
    ids.push_back("track_" + std::to_string(ids.size()));
  }
};

// n files NN/<k>.json, each doc(k).
void fill(Set& set, int n) {
  for (int k = 0; k < n; ++k)
    set.add(
        std::to_string(k % 100 / 10) + std::to_string(k % 10) + "/" + std::to_string(k) + ".json",
        doc(k));
}

float at(const LoadedFeatures& f, std::size_t row, const std::string& name) {
  const auto c = f.schema.find(name);
  if (!c) throw std::runtime_error("no column " + name);
  return f.matrix(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(*c));
}

bool same_matrix(const FeatureMatrix& a, const FeatureMatrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("load_features: rows follow the request order, ids and report", "[features][loading]") {
  Set set;
  fill(set, 5);
  std::vector<std::string> paths(set.paths.rbegin(), set.paths.rend());
  std::vector<std::string> ids(set.ids.rbegin(), set.ids.rend());
  FeatureOptions o;
  o.threads = 2;
  const LoadedFeatures f = load_features(set.dir.path(), paths, ids, o);
  REQUIRE(f.matrix.rows() == 5);
  CHECK(f.schema.column_names() ==
        std::vector<std::string>{
            "lowlevel.flat", "lowlevel.loud", "lowlevel.mfcc.mean.0", "lowlevel.mfcc.mean.1",
            "tonal.key_key=A", "tonal.key_key=A#", "tonal.key_key=B", "tonal.key_key=C",
            "tonal.key_key=C#", "tonal.key_key=D", "tonal.key_key=D#", "tonal.key_key=E",
            "tonal.key_key=F", "tonal.key_key=F#", "tonal.key_key=G", "tonal.key_key=G#"});
  for (std::size_t r = 0; r < 5; ++r) {
    const int k = 4 - static_cast<int>(r);
    CHECK(at(f, r, "lowlevel.loud") == static_cast<float>(k) + 0.5f);
    CHECK(at(f, r, "lowlevel.mfcc.mean.0") == static_cast<float>(k));
  }
  CHECK(f.row_ids == ids);
  CHECK(f.kept_rows == std::vector<std::size_t>{0, 1, 2, 3, 4});
  CHECK(f.report.files_requested == 5);
  CHECK(f.report.files_loaded == 5);
  CHECK(f.report.files_parsed == 5);
  CHECK(f.report.bytes_parsed == [&] {
    std::uintmax_t b = 0;
    for (const auto& p : set.paths) b += fs::file_size(set.dir / p);
    return b;
  }());
  CHECK(f.report.nan_cells == 0);
  CHECK(f.report.cache == CacheStatus::kDisabled);
  CHECK_FALSE(f.report.synthetic);
  CHECK(f.report.threads == 2);
}

TEST_CASE("load_features: one and two threads give bit-identical matrices", "[features][loading]") {
  Set set;
  fill(set, 40);
  FeatureOptions one, two;
  one.threads = 1;
  two.threads = 2;
  const LoadedFeatures a = load_features(set.dir.path(), set.paths, set.ids, one);
  const LoadedFeatures b = load_features(set.dir.path(), set.paths, set.ids, two);
  CHECK(a.schema == b.schema);
  CHECK(same_matrix(a.matrix, b.matrix));
}

TEST_CASE("load_features: missing files are an error naming them, or skipped rows",
          "[features][loading]") {
  Set set;
  fill(set, 3);
  std::vector<std::string> paths = set.paths, ids = set.ids;
  for (int k = 0; k < 7; ++k) {
    paths.insert(paths.begin() + 1, "99/missing" + std::to_string(k) + ".json");
    ids.insert(ids.begin() + 1, "gone" + std::to_string(k));
  }
  CHECK_THROWS_AS(load_features(set.dir.path(), paths, ids, {}), DataError);
  CHECK_THROWS_WITH(
      load_features(set.dir.path(), paths, ids, {}),
      Catch::StartsWith("7 of 10 feature files are missing in ") &&
          Catch::Contains("(first: 99/missing6.json, 99/missing5.json, 99/missing4.json, "
                          "99/missing3.json, 99/missing2.json, ...)"));
  FeatureOptions skip;
  skip.missing_files = MissingFilePolicy::kSkip;
  const LoadedFeatures f = load_features(set.dir.path(), paths, ids, skip);
  CHECK(f.matrix.rows() == 3);
  CHECK(f.kept_rows == std::vector<std::size_t>{0, 8, 9});
  CHECK(f.row_ids == std::vector<std::string>{"track_0", "track_1", "track_2"});
  CHECK(at(f, 1, "lowlevel.loud") == 1.5f);
  CHECK(f.report.files_missing == 7);
  CHECK(f.report.missing_examples.size() == 5);
  CHECK_THROWS_AS(load_features(set.dir.path(), {"a.json"}, {"a"}, skip), DataError);
  CHECK_THROWS_AS(load_features(set.dir.path(), set.paths, {"too", "few"}, {}), InvalidArgument);
  CHECK_THROWS_AS(load_features(set.dir / "nope", set.paths, set.ids, {}), IoError);
}

TEST_CASE("load_features: without a cache, the parse itself finds the missing files",
          "[features][loading]") {
  // 40 files and 3 missing ones at positions outside the discovery sample (16 of the 43 evenly
  // spaced: 0, 2, 5, ...): no file is stat'ed before the parse.
  Set set;
  fill(set, 40);
  std::vector<std::string> paths = set.paths, ids = set.ids;
  for (const std::size_t at : {1, 3, 4}) {
    paths.insert(paths.begin() + static_cast<std::ptrdiff_t>(at),
                 "77/gone" + std::to_string(at) + ".json");
    ids.insert(ids.begin() + static_cast<std::ptrdiff_t>(at), "gone" + std::to_string(at));
  }
  const LoadedFeatures all = load_features(set.dir.path(), set.paths, set.ids, {});
  for (const int threads : {1, 2}) {
    FeatureOptions skip;
    skip.threads = threads;
    skip.missing_files = MissingFilePolicy::kSkip;
    for (const FeatureSchema* schema : {static_cast<const FeatureSchema*>(nullptr), &all.schema}) {
      const LoadedFeatures f = load_features(set.dir.path(), paths, ids, skip, schema);
      CHECK(f.schema == all.schema);
      CHECK(same_matrix(f.matrix, all.matrix));  // the rows of the missing files are dropped
      CHECK(f.row_ids == set.ids);
      CHECK(f.kept_rows.size() == 40);
      CHECK(f.kept_rows[1] == 2);
      CHECK(f.kept_rows[2] == 5);
      CHECK(f.report.files_missing == 3);
      CHECK(f.report.files_loaded == 40);
      CHECK(f.report.missing_examples ==
            std::vector<std::string>{"77/gone1.json", "77/gone3.json", "77/gone4.json"});
    }
  }
  // The error policy names them, also when a file before them is malformed: a stat pass would
  // have found the missing files first.
  const std::string message = "3 of 43 feature files are missing in ";
  CHECK_THROWS_WITH(load_features(set.dir.path(), paths, ids, {}), Catch::StartsWith(message));
  CHECK_THROWS_WITH(load_features(set.dir.path(), paths, ids, {}, &all.schema),
                    Catch::StartsWith(message));
  test::write_text(set.dir / set.paths[0], "{\"lowlevel\": [");
  CHECK_THROWS_WITH(load_features(set.dir.path(), paths, ids, {}, &all.schema),
                    Catch::StartsWith(message));
  CHECK_THROWS_WITH(load_features(set.dir.path(), set.paths, set.ids, {}, &all.schema),
                    Catch::StartsWith(set.paths[0] + ": "));
}

TEST_CASE("load_features: a malformed file anywhere stops the load with its relative path",
          "[features][loading]") {
  Set set;
  fill(set, 30);
  test::write_text(set.dir / set.paths[17], doc(17).substr(0, 40));
  for (const int threads : {1, 2}) {
    FeatureOptions o;
    o.threads = threads;
    CHECK_THROWS_WITH(
        load_features(set.dir.path(), set.paths, set.ids, o),
        Catch::StartsWith(set.paths[17] + ": byte 40") && Catch::Contains("truncated"));
  }
  test::write_text(set.dir / set.paths[17], std::string(100, 'x'));
  FeatureOptions small;
  small.max_file_bytes = 99;
  CHECK_THROWS_WITH(load_features(set.dir.path(), set.paths, set.ids, small),
                    Catch::Contains("over the 99-byte limit"));
}

TEST_CASE("load_features: discovery takes the union of all files, beyond the sample",
          "[features][loading]") {
  Set set;
  fill(set, 40);
  // File 1 is not in the discovery sample (16 evenly spaced files of 40): only the full pass sees
  // its extra field, which makes the loader rediscover and parse again.
  test::write_text(set.dir / set.paths[1], doc(1, ", \"extra\": {\"mean\": [4, 5, 6]}"));
  const LoadedFeatures f = load_features(set.dir.path(), set.paths, set.ids, {});
  CHECK(f.report.schema_rediscovered);
  CHECK(f.report.discovery_files == 16 + 1);
  REQUIRE(f.schema.find("lowlevel.extra.mean.2"));
  CHECK(at(f, 1, "lowlevel.extra.mean.2") == 6.0f);
  CHECK(std::isnan(at(f, 0, "lowlevel.extra.mean.2")));
  CHECK(f.report.nan_cells == 39 * 3);
  CHECK(f.report.unknown_fields.empty());

  // With the schema of the first file only, the extra field is unknown: ignored and counted.
  const FeatureSchema narrow = schema_of_file(set.dir / set.paths[0], {});
  const LoadedFeatures g = load_features(set.dir.path(), set.paths, set.ids, {}, &narrow);
  CHECK(g.schema == narrow);
  CHECK(g.report.unknown_fields == std::map<std::string, std::size_t>{{"lowlevel.extra", 1}});
  CHECK(g.report.unknown_field_count() == 1);
  CHECK_THAT(g.report.summary(), Catch::Contains("lowlevel.extra (1 files)"));
}

TEST_CASE("load_features: files disagreeing on a field's shape are an error naming both",
          "[features][loading]") {
  Set set;
  fill(set, 40);
  // In the discovery sample (file 39 is always in it): found while merging the sample.
  test::write_text(set.dir / set.paths[39], "{\"lowlevel\": {\"mfcc\": {\"mean\": [1, 2, 3]}}}");
  CHECK_THROWS_WITH(
      load_features(set.dir.path(), set.paths, set.ids, {}),
      "feature files disagree on lowlevel.mfcc.mean: 39/39.json has 3 numbers (vector), "
      "00/0.json has 2 numbers (vector)");
  // Outside the sample (file 1): found by the full pass.
  test::write_text(set.dir / set.paths[39], doc(39));
  test::write_text(set.dir / set.paths[1], "{\"lowlevel\": {\"mfcc\": {\"mean\": [1, 2, 3]}}}");
  CHECK_THROWS_WITH(
      load_features(set.dir.path(), set.paths, set.ids, {}),
      "01/1.json: /lowlevel/mfcc/mean: expected 2 numbers, found 3 (the shape seen in 00/0.json)");
  // A field in one file, an object in another.
  test::write_text(set.dir / set.paths[39], "{\"lowlevel\": {\"loud\": {\"mean\": 1}}}");
  CHECK_THROWS_WITH(
      load_features(set.dir.path(), set.paths, set.ids, {}),
      "feature files disagree on lowlevel.loud: 00/0.json has a number, 39/39.json has an object "
      "holding lowlevel.loud.mean");
}

TEST_CASE("load_features: drop_constant removes constant columns in place", "[features][loading]") {
  Set set;
  fill(set, 5);
  test::write_text(set.dir / set.paths[0], doc(0, ", \"sometimes\": 3, \"never\": null"));
  FeatureOptions o;
  o.drop_constant = true;
  const LoadedFeatures all = load_features(set.dir.path(), set.paths, set.ids, {});
  const LoadedFeatures f = load_features(set.dir.path(), set.paths, set.ids, o);
  // flat (always 7), mfcc.mean.1 (always 2) and the 7 key columns no file uses are constant;
  // "sometimes" (3 in one file, NaN in the others) is kept; "never" (null: no column) is absent.
  CHECK(f.schema.column_names() == std::vector<std::string>{"lowlevel.loud", "lowlevel.mfcc.mean.0",
                                                            "lowlevel.sometimes", "tonal.key_key=A",
                                                            "tonal.key_key=B", "tonal.key_key=C",
                                                            "tonal.key_key=D", "tonal.key_key=E"});
  CHECK(f.report.dropped_constant_columns == all.schema.size() - 8);
  REQUIRE(f.matrix.rows() == 5);
  REQUIRE(f.matrix.cols() == 8);
  for (std::size_t r = 0; r < 5; ++r) {
    for (const auto& name : f.schema.column_names()) {
      const float a = at(all, r, name), b = at(f, r, name);
      CHECK(std::memcmp(&a, &b, sizeof(float)) == 0);
    }
  }
  CHECK(f.report.nan_cells == 4);
}

namespace {

// A MatrixTarget in a vector, which counts its calls.
struct VectorTarget final : MatrixTarget {
  std::vector<float> data;
  std::size_t rows = 0, cols = 0, allocations = 0;
  float* allocate(std::size_t r, std::size_t c) override {
    data.assign(r * c, -1.0f);
    ++allocations;
    return data.data();
  }
  float* shrink(std::size_t r, std::size_t c) override {
    rows = r;
    cols = c;
    data.resize(r * c);
    return data.data();
  }
  [[nodiscard]] FeatureMatrix matrix() const {
    return Eigen::Map<const FeatureMatrix>(data.data(), static_cast<Eigen::Index>(rows),
                                           static_cast<Eigen::Index>(cols));
  }
};

}  // namespace

TEST_CASE("load_features into a MatrixTarget: the matrix load_features returns, elsewhere",
          "[features][loading]") {
  // 30 files, one with a field the discovery sample lacks (a second pass), one missing, constant
  // columns dropped: each step that reallocates or compacts the matrix.
  Set set;
  fill(set, 30);
  test::write_text(set.dir / set.paths[8], doc(8, ", \"rare\": 3"));
  std::vector<std::string> paths = set.paths, ids = set.ids;
  paths.insert(paths.begin() + 1, "77/gone.json");
  ids.insert(ids.begin() + 1, "gone");
  FeatureOptions o;
  o.missing_files = MissingFilePolicy::kSkip;
  o.drop_constant = true;
  const LoadedFeatures expected = load_features(set.dir.path(), paths, ids, o);
  REQUIRE(expected.report.schema_rediscovered);
  REQUIRE(expected.report.dropped_constant_columns > 0);
  REQUIRE(expected.matrix.rows() == 30);

  VectorTarget target;
  const LoadedFeatures f = load_features(set.dir.path(), paths, ids, o, nullptr, target);
  CHECK(target.allocations == 2);
  CHECK(f.matrix.size() == 0);
  CHECK(same_matrix(target.matrix(), expected.matrix));
  CHECK(f.schema == expected.schema);
  CHECK(f.row_ids == expected.row_ids);
  CHECK(f.report.nan_cells == expected.report.nan_cells);
  CHECK(f.report.files_missing == 1);

  // A memory-mapped .npy file: the same bytes as writing the matrix.
  {
    MappedNpyWriter out(set.dir / "out.npy");
    (void)load_features(set.dir.path(), paths, ids, o, nullptr, out);
    out.commit();
  }
  write_feature_matrix(set.dir / "expected.npy", expected.matrix);
  CHECK(test::read_text(set.dir / "out.npy") == test::read_text(set.dir / "expected.npy"));

  // With a cache: the first load writes it from the target, the second copies it into one.
  test::TempDir cache;
  o.cache_dir = cache.path();
  VectorTarget first, second;
  CHECK(load_features(set.dir.path(), paths, ids, o, nullptr, first).report.cache ==
        CacheStatus::kMiss);
  CHECK(load_features(set.dir.path(), paths, ids, o, nullptr, second).report.cache ==
        CacheStatus::kHit);
  CHECK(same_matrix(first.matrix(), expected.matrix));
  CHECK(same_matrix(second.matrix(), expected.matrix));
  CHECK(same_matrix(load_features(set.dir.path(), paths, ids, o).matrix, expected.matrix));
}

// The first try of each file reads no NaN/Infinity tokens; a file with one is parsed again, and
// after it the parser's first tries read tokens too. Either way every value, token and error is
// the same.
TEST_CASE("load_features: files with NaN/Infinity tokens among plain ones, in any order",
          "[features][loading]") {
  Set set;
  const std::vector<std::string> loud = {"0.5", "NaN", "2.5",  "-Infinity",
                                         "Inf", "5.5", "-NaN", "7.5"};
  for (std::size_t k = 0; k < loud.size(); ++k) {
    std::string text = doc(static_cast<int>(k));
    const std::string plain = "\"loud\": " + std::to_string(k) + ".5";
    REQUIRE(text.find(plain) != std::string::npos);
    text.replace(text.find(plain), plain.size(), "\"loud\": " + loud[k]);
    set.add("0" + std::to_string(k) + "/" + std::to_string(k) + ".json", text);
  }
  FeatureOptions o;
  o.threads = 1;  // one parser meets the files in order
  const LoadedFeatures f = load_features(set.dir.path(), set.paths, set.ids, o);
  REQUIRE(f.matrix.rows() == 8);
  for (std::size_t k = 0; k < loud.size(); ++k) {
    CAPTURE(k);
    const float v = at(f, k, "lowlevel.loud");
    if (loud[k].find("NaN") != std::string::npos) {
      CHECK(std::isnan(v));
    } else if (loud[k].find("Inf") != std::string::npos) {
      CHECK(v == (loud[k][0] == '-' ? -1.0f : 1.0f) * std::numeric_limits<float>::infinity());
    } else {
      CHECK(v == static_cast<float>(k) + 0.5f);
    }
    CHECK(at(f, k, "lowlevel.mfcc.mean.0") == static_cast<float>(k));
  }
  CHECK(f.report.nonfinite_values == 4);

  // A token RapidJSON reads on from ("NaN.5") is refused at its byte, before and after the switch.
  for (const std::size_t bad : {std::size_t{0}, std::size_t{7}}) {
    Set broken;
    for (std::size_t k = 0; k < loud.size(); ++k) {
      std::string text = test::read_text(set.dir / set.paths[k]);
      if (k == bad) text.replace(text.find("\"loud\": "), 8, "\"loud\": NaN.5, \"x\": ");
      broken.add(set.paths[k], text);
    }
    CAPTURE(bad);
    // With the schema found above: no discovery, which would meet the token first.
    CHECK_THROWS_WITH(load_features(broken.dir.path(), broken.paths, broken.ids, o, &f.schema),
                      Catch::Contains(broken.paths[bad] + ": byte 22 (line 1, column 23)") &&
                          Catch::Contains("NaN.5"));
  }
}

TEST_CASE("load_features: the synthetic-data marker is reported", "[features][loading]") {
  Set set;
  fill(set, 2);
  CHECK_FALSE(load_features(set.dir.path(), set.paths, set.ids, {}).report.synthetic);
  test::write_text(set.dir / "moodboost-synthetic.json", "{\"generator\": \"moodboost synth\"}\n");
  const LoadedFeatures f = load_features(set.dir.path(), set.paths, set.ids, {});
  CHECK(f.report.synthetic);
  CHECK_THAT(f.report.summary(), Catch::Contains("SYNTHETIC"));
}

TEST_CASE("parse_files_noop: parses what the loader parses and fails the same way",
          "[features][loading]") {
  Set set;
  fill(set, 10);
  std::uintmax_t bytes = 0;
  for (const auto& p : set.paths) bytes += fs::file_size(set.dir / p);
  CHECK(parse_files_noop(set.dir.path(), set.paths, 2) == bytes);
  test::write_text(set.dir / set.paths[3], "{\"a\": ");
  CHECK_THROWS_WITH(parse_files_noop(set.dir.path(), set.paths, 1),
                    Catch::StartsWith(set.paths[3] + ": byte 6"));
}

TEST_CASE("load_features: the real samples match an independent flattening in Python",
          "[features][loading][shared]") {
  if (!test::require_shared(test::samples_dir())) return;
  const fs::path python = test::python_with({"numpy", "json"});
  if (python.empty()) return;
  test::TempDir dir;
  const std::vector<std::string> names = {
      "ab-server_0dad432b_lowlevel_2.1-beta2.json",
      "ab-server_335679c3_lowlevel_2.1-dev_raw-essentia.json",
      "ab-labs_00c47ea6-0_lowlevel_2.1-beta1.json",
      "mirdata_be9e01e5_lowlevel_2.1-beta2_ab-genre-dataset.json"};
  std::vector<std::string> paths, ids;
  for (std::size_t i = 0; i < names.size(); ++i) {
    paths.push_back("0" + std::to_string(i) + "/" + std::to_string(i) + ".json");
    ids.push_back(names[i]);
    fs::create_directories(dir / paths.back().substr(0, 2));
    fs::copy_file(test::samples_dir() / names[i], dir / paths.back());
  }
  FeatureOptions o;
  o.threads = 2;
  const LoadedFeatures f = load_features(dir.path(), paths, ids, o);
  REQUIRE(f.matrix.cols() == 2675);
  write_feature_matrix(dir / "X.npy", f.matrix);
  std::string column_list;
  for (const auto& n : f.schema.column_names()) column_list += n + "\n";
  test::write_text(dir / "names.txt", column_list);
  // Independent flattening: json.load, dotted paths, row-major matrices, one-hot keys, float32.
  const std::string script = R"(
import json, sys, numpy as np
d = sys.argv[1]
X = np.load(d + '/X.npy'); names = open(d + '/names.txt').read().split()
keys = 'A A# B C C# D D# E F F# G G#'.split()
def flat(prefix, v, out):
    if isinstance(v, dict):
        for k, x in v.items(): flat(prefix + [k], x, out)
    elif isinstance(v, list):
        if prefix == ['rhythm', 'beats_position']: return
        for i, x in enumerate(v):
            if isinstance(x, list):
                for j, y in enumerate(x): out['.'.join(prefix) + '.%d.%d' % (i, j)] = y
            else: out['.'.join(prefix) + '.%d' % i] = x
    elif isinstance(v, str):
        for k in (keys if prefix[-1].endswith('key') else ['major', 'minor']):
            out['.'.join(prefix) + '=' + k] = 1.0 if v == k else 0.0
    else: out['.'.join(prefix)] = float(v)
bad = 0
for i, p in enumerate(sys.argv[2:]):
    doc = json.load(open(d + '/' + p)); out = {}
    for s in ('lowlevel', 'rhythm', 'tonal'): flat([s], doc[s], out)
    assert sorted(out) == sorted(names), 'column sets differ'
    want = np.array([out[n] for n in names], dtype=np.float32)
    bad += int((want.view(np.uint32) != X[i].view(np.uint32)).sum())
print('mismatches', bad, 'rows', X.shape[0], 'cols', X.shape[1])
)";
  std::vector<std::string> args = {"-c", script, dir.path().string()};
  args.insert(args.end(), paths.begin(), paths.end());
  const test::RunResult r = test::run_program(python, args);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "mismatches 0 rows 4 cols 2675\n");
}

TEST_CASE("load_features: music-1.0 and music-2.0 files cannot share a discovered schema",
          "[features][loading][shared]") {
  if (!test::require_shared(test::samples_dir())) return;
  test::TempDir dir;
  fs::create_directories(dir / "00");
  fs::copy_file(test::samples_dir() / "ab-server_0dad432b_lowlevel_2.1-beta2.json",
                dir / "00/1.json");
  fs::copy_file(test::samples_dir() / "essentia-notebook_dubstep_music-2.0_mean-stdev.json",
                dir / "00/2.json");
  CHECK_THROWS_WITH(
      load_features(dir.path(), {"00/1.json", "00/2.json"}, {"a", "b"}, {}),
      Catch::StartsWith("feature files disagree on rhythm.bpm_histogram_first_peak_bpm: "));
}
