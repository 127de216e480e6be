// `moodboost flatten` and `moodboost schema` end to end.
#include <catch2/catch.hpp>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "moodboost/feature_schema.hpp"
#include "moodboost/features.hpp"
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
  // `flatten` of the training split into \p out (X.npy and n.txt there).
  [[nodiscard]] std::vector<std::string> flatten_args(const fs::path& out) const {
    return {"flatten",
            "--features",
            features.string(),
            "--split",
            train.string(),
            "--out",
            (out / "X.npy").string(),
            "--names",
            (out / "n.txt").string()};
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
  const std::vector<std::string> base = fx.flatten_args(fx.dir.path());
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
  const std::vector<std::string> base = fx.flatten_args(fx.dir.path());
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

TEST_CASE("moodboost flatten: --cache-max-bytes is checked before any work", "[features][cli]") {
  Fixture fx;
  std::vector<std::string> base = fx.flatten_args(fx.dir / "out");
  base.insert(base.end(), {"--cache", (fx.dir / "out/cache").string()});
  for (const std::string bad : {"-1", "abc", "1.5", "1e9", "", "99999999999999999999"}) {
    INFO("--cache-max-bytes '" << bad << "'");
    auto args = base;
    args.insert(args.end(), {"--cache-max-bytes", bad});
    const auto r = test::run_cli(args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--cache-max-bytes"));
    CHECK_FALSE(fs::exists(fx.dir / "out"));  // nothing read, nothing written
  }
  auto with_equals = base;
  with_equals.push_back("--cache-max-bytes=-5");
  const auto negative = test::run_cli(with_equals);
  CHECK(negative.exit_code == 2);
  CHECK_THAT(negative.err,
             Catch::Contains("expected a number of bytes >= 0") && Catch::Contains("'-5'"));
  CHECK_FALSE(fs::exists(fx.dir / "out"));

  // The help states the default and what 0 means.
  const auto help = test::run_cli({"flatten", "--help"});
  CHECK_THAT(help.out, Catch::Contains("--cache-max-bytes") &&
                           Catch::Contains("default 4294967296 = 4 GiB; 0 = no limit"));

  // 0 (no limit) runs; a limit below the matrix says why nothing was cached.
  auto unlimited = base;
  unlimited.insert(unlimited.end(), {"--cache-max-bytes", "0"});
  const auto ok = test::run_cli(unlimited);
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.err, Catch::Contains("cache: miss"));
  // A limit below the entry just read removes it; the next run does not cache the matrix.
  auto tiny = base;
  tiny.insert(tiny.end(), {"--cache-max-bytes", "16"});
  const auto hit = test::run_cli(tiny);
  CHECK(hit.exit_code == 0);
  CHECK_THAT(hit.err, Catch::Contains("cache: hit (this entry alone exceeds the cache size limit "
                                      "(--cache-max-bytes 16) and was removed); evicted 1 least "
                                      "recently used entry"));
  const auto small = test::run_cli(tiny);
  CHECK(small.exit_code == 0);
  CHECK_THAT(small.err,
             Catch::Contains("is larger than the cache size limit (--cache-max-bytes 16)"));
  CHECK(fs::is_empty(fx.dir / "out/cache"));
}

TEST_CASE("moodboost flatten: a torn cache entry is rebuilt with a note", "[features][cli]") {
  Fixture fx;
  std::vector<std::string> args = fx.flatten_args(fx.dir.path());
  args.insert(args.end(), {"--cache", (fx.dir / "cache").string()});
  REQUIRE(test::run_cli(args).exit_code == 0);
  const std::string first = test::read_text(fx.dir / "X.npy");
  fs::path entry;
  for (const auto& e : fs::directory_iterator(fx.dir / "cache")) entry = e.path();
  REQUIRE(entry.extension() == ".mbfc");
  const auto size = fs::file_size(entry);
  fs::resize_file(entry, size / 2);
  const auto r = test::run_cli(args);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("cache: corrupt (") && Catch::Contains("truncated"));
  CHECK(test::read_text(fx.dir / "X.npy") == first);
  CHECK(fs::file_size(entry) == size);
  CHECK_THAT(test::run_cli(args).err, Catch::Contains("read from the cache"));
}

TEST_CASE("load_features and flatten: no more threads than files", "[features][cli]") {
  Fixture fx;
  FeatureOptions o;
  o.threads = 20000;  // the library caps what the program's --threads check would refuse
  const LoadedFeatures one = load_features(fx.features, {"11/11.json"}, {"track_11"}, o, nullptr);
  CHECK(one.report.threads == 1);
  CHECK(one.report.threads_capped_by_files);
  CHECK_THAT(one.report.summary(), Catch::Contains("on 1 threads (one per file at most)"));
  const LoadedFeatures three = load_features(
      fx.features, {"11/11.json", "12/12.json", "13/13.json"}, {"a", "b", "c"}, o, nullptr);
  CHECK(three.report.threads >= 1);
  CHECK(three.report.threads <= 3);
  o.threads = 1;
  CHECK_FALSE(
      load_features(fx.features, {"11/11.json"}, {"a"}, o, nullptr).report.threads_capped_by_files);

  // The program: --threads 4096 on 3 files runs at most 3 threads and says so.
  const auto r = test::run_cli({"flatten", "--features", fx.features.string(), "--split",
                                fx.train.string(), "--out", (fx.dir / "X.npy").string(), "--names",
                                (fx.dir / "n.txt").string(), "--threads", "4096"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("--threads 4096: using"));
  const auto at = r.err.find("MB/s on ");
  REQUIRE(at != std::string::npos);
  const int used = std::stoi(r.err.substr(at + 8));
  CHECK(used >= 1);
  CHECK(used <= 3);
  // Capped by the files (rather than by the cores) exactly when the machine has more cores.
  if (r.err.find("threads (one per file at most)") != std::string::npos) CHECK(used == 3);
}
