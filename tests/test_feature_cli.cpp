// `moodboost flatten` and `moodboost schema` end to end.
#include <catch2/catch.hpp>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "moodboost/feature_schema.hpp"
#include "moodboost/npy.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

const std::string kHeader = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\n";

std::string split_line(int id) {
  return "track_" + std::to_string(id) + "\tartist_1\talbum_1\t" + std::to_string(id % 100) + "/" +
         std::to_string(id) + ".mp3\t200.0\tmood/theme---happy\n";
}

std::string feature_doc(int id) {
  return "{\"lowlevel\": {\"loud\": " + std::to_string(id) + ", \"mfcc\": {\"mean\": [1, " +
         std::to_string(id) +
         "]}}, \"rhythm\": {\"beats_position\": [0.5, 1.5]}, \"tonal\": {\"key_scale\": "
         "\"major\"}}";
}

// A features directory and two split files: train (ids 11, 12, 13) and test (ids 21, 22).
struct Fixture {
  test::TempDir dir;
  fs::path features = dir / "features";
  fs::path train = dir / "train.tsv";
  fs::path test = dir / "test.tsv";
  Fixture() {
    std::string t = kHeader, s = kHeader;
    for (const int id : {13, 11, 12}) t += split_line(id);
    for (const int id : {21, 22}) s += split_line(id);
    test::write_text(train, t);
    test::write_text(test, s);
    for (const int id : {11, 12, 13, 21, 22}) {
      test::write_text(features / (std::to_string(id) + "/" + std::to_string(id) + ".json"),
                       feature_doc(id));
    }
  }
};

}  // namespace

TEST_CASE("moodboost flatten: float32 .npy in split order, names and ids", "[features][cli]") {
  Fixture fx;
  const auto r =
      test::run_cli({"flatten", "--features", fx.features.string(), "--split", fx.train.string(),
                     "--split", fx.test.string(), "--out", (fx.dir / "X.npy").string(), "--names",
                     (fx.dir / "names.txt").string(), "--ids", (fx.dir / "ids.txt").string(),
                     "--beats-summary", "--save-schema", (fx.dir / "schema.json").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("5 of 5 feature files"));
  const NpyArray x = read_npy(fx.dir / "X.npy");
  CHECK(x.header.dtype == NpyDtype::kFloat32);
  CHECK(x.header.shape == std::vector<std::size_t>{5, 8});
  CHECK(test::read_text(fx.dir / "names.txt") ==
        "lowlevel.loud\nlowlevel.mfcc.mean.0\nlowlevel.mfcc.mean.1\nrhythm.beats_position.count\n"
        "rhythm.beats_position.interval_mean\nrhythm.beats_position.interval_std\ntonal.key_scale="
        "major\n"
        "tonal.key_scale=minor\n");
  CHECK(test::read_text(fx.dir / "ids.txt") ==
        "track_13\ntrack_11\ntrack_12\ntrack_21\ntrack_22\n");
  const FeatureMatrix m = read_feature_matrix(fx.dir / "X.npy");
  const std::vector<float> loud = {13, 11, 12, 21, 22};
  for (Eigen::Index r2 = 0; r2 < 5; ++r2) {
    CHECK(m(r2, 0) == loud[static_cast<std::size_t>(r2)]);
    CHECK(m(r2, 2) == loud[static_cast<std::size_t>(r2)]);
    CHECK(m(r2, 4) == 1.0f);
    CHECK(m(r2, 6) == 1.0f);
  }
  CHECK(FeatureSchema::load(fx.dir / "schema.json").size() == 8);

  // With the saved schema: the same columns for the test split alone.
  const auto p = test::run_cli({"flatten", "--features", fx.features.string(), "--split",
                                fx.test.string(), "--out", (fx.dir / "T.npy").string(), "--names",
                                (fx.dir / "tnames.txt").string(), "--schema",
                                (fx.dir / "schema.json").string()});
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  CHECK(test::read_text(fx.dir / "tnames.txt") == test::read_text(fx.dir / "names.txt"));
  CHECK(read_feature_matrix(fx.dir / "T.npy").bottomRows(2) == m.bottomRows(2));
}

TEST_CASE("moodboost flatten: errors name the file; usage errors exit 2", "[features][cli]") {
  Fixture fx;
  test::write_text(fx.features / "12/12.json",
                   "{\"lowlevel\": {\"loud\": 1, \"mfcc\": {\"mean\": [1, 2, 3]}}}");
  const std::vector<std::string> base = {"flatten",
                                         "--features",
                                         fx.features.string(),
                                         "--split",
                                         fx.train.string(),
                                         "--out",
                                         (fx.dir / "X.npy").string(),
                                         "--names",
                                         (fx.dir / "n.txt").string()};
  const auto r = test::run_cli(base);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("moodboost flatten: error: ") && Catch::Contains("12/12.json"));
  CHECK_FALSE(fs::exists(fx.dir / "X.npy"));

  fs::remove(fx.features / "12/12.json");
  const auto missing = test::run_cli(base);
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err,
             Catch::Contains("1 of 3 feature files are missing") && Catch::Contains("12/12.json"));
  auto skip = base;
  skip.insert(skip.end(), {"--missing", "skip", "--ids", (fx.dir / "ids.txt").string()});
  REQUIRE(test::run_cli(skip).exit_code == 0);
  CHECK(test::read_text(fx.dir / "ids.txt") == "track_13\ntrack_11\n");

  auto both = base;
  both.insert(both.end(), {"--schema", fx.train.string(), "--basic"});
  CHECK(test::run_cli(both).exit_code == 2);
}

TEST_CASE("moodboost flatten: a number beyond float32 is counted, or refused naming file and field",
          "[features][cli][numbers]") {
  Fixture fx;
  test::write_text(fx.features / "12/12.json",
                   "{\"lowlevel\": {\"loud\": 1e39, \"mfcc\": {\"mean\": [1, -3.5e38]}}}");
  const std::vector<std::string> base = {"flatten",
                                         "--features",
                                         fx.features.string(),
                                         "--split",
                                         fx.train.string(),
                                         "--out",
                                         (fx.dir / "X.npy").string(),
                                         "--names",
                                         (fx.dir / "n.txt").string()};
  auto reject = base;
  reject.insert(reject.end(), {"--non-finite", "reject"});
  const auto refused = test::run_cli(reject);
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("12/12.json: /lowlevel/loud: non-finite number: 1e39 "
                                          "is beyond the float32 range"));
  CHECK_FALSE(fs::exists(fx.dir / "X.npy"));

  const auto accepted = test::run_cli(base);
  INFO(accepted.err);
  REQUIRE(accepted.exit_code == 0);
  CHECK_THAT(accepted.err, Catch::Contains("NaN/Inf numbers read: 2"));
  const FeatureMatrix x = read_feature_matrix(fx.dir / "X.npy");
  const std::string names = test::read_text(fx.dir / "n.txt");
  // Rows in split order (13, 11, 12): the third row holds +inf and -inf.
  std::size_t inf = 0, minus_inf = 0;
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    inf += x(2, c) == std::numeric_limits<float>::infinity() ? 1 : 0;
    minus_inf += x(2, c) == -std::numeric_limits<float>::infinity() ? 1 : 0;
  }
  CHECK(inf == 1);
  CHECK(minus_inf == 1);
}

TEST_CASE("moodboost schema: columns with families and counts per section", "[features][cli]") {
  Fixture fx;
  const fs::path file = fx.features / "11/11.json";
  const auto r = test::run_cli({"schema", file.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(": 5 columns (3 numeric, 2 one-hot) from 4 fields\n"));
  CHECK_THAT(r.out, Catch::Contains("# per section: lowlevel 3, tonal 2\n"));
  CHECK_THAT(r.out, Catch::Contains("index\tname\tsection\tdescriptor\tstatistic\tgroup\n"));
  CHECK_THAT(r.out,
             Catch::Contains("2\tlowlevel.mfcc.mean.1\tlowlevel\tmfcc\tmean\tlowlevel.mfcc\n"));
  CHECK_THAT(r.out, Catch::Contains("4\ttonal.key_scale=minor\ttonal\tkey_scale\t\ttonal.key_*\n"));

  const auto saved = test::run_cli({"schema", file.string(), "--include", "lowlevel.*", "--counts",
                                    "--save", (fx.dir / "s.json").string()});
  REQUIRE(saved.exit_code == 0);
  CHECK_THAT(saved.out, Catch::Contains(": 3 columns (3 numeric, 0 one-hot)"));
  CHECK(saved.out.find("index\t") == std::string::npos);
  const auto again =
      test::run_cli({"schema", (fx.dir / "s.json").string(), "--counts"});  // a saved schema
  CHECK_THAT(again.out, Catch::Contains(": 3 columns (3 numeric, 0 one-hot)"));

  test::write_text(fx.dir / "bad.json", "{\"lowlevel\": {\"a\": [1");
  const auto bad = test::run_cli({"schema", (fx.dir / "bad.json").string()});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("bad.json: byte 21 (line 1, column 22)") &&
                          Catch::Contains("truncated"));
}
