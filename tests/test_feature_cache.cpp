// The binary cache of load_features(): exact round trip, staleness, corruption.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../lib/src/detail/hash64.hpp"  // private header; self-contained
#include "moodboost/features.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

struct CachedSet {
  test::TempDir dir;
  fs::path features = dir / "features";
  fs::path cache = dir / "cache";
  std::vector<std::string> paths;
  std::vector<std::string> ids;
  FeatureOptions options;

  explicit CachedSet(int n) {
    for (int k = 0; k < n; ++k) {
      paths.push_back("0" + std::to_string(k % 10) + "/" + std::to_string(k) + ".json");
      ids.push_back("track_" + std::to_string(k));
      write(k, "");
    }
    options.cache_dir = cache;
    options.threads = 2;
  }
  void write(int k, const std::string& extra) {
    test::write_text(features / paths[static_cast<std::size_t>(k)],
                     "{\"lowlevel\": {\"a\": " + std::to_string(k) + ".25, \"v\": {\"mean\": [" +
                         std::to_string(k) + ", -1, 1e-30]}" + extra +
                         "}, \"tonal\": {\"key_key\": \"C#\", \"odd\": nan}}");
  }
  LoadedFeatures load(const FeatureSchema* schema = nullptr) const {
    return load_features(features, paths, ids, options, schema);
  }
  fs::path cache_file() const {
    for (const auto& e : fs::directory_iterator(cache)) {
      if (e.path().extension() == ".mbfc") return e.path();
    }
    return {};
  }
};

bool identical(const LoadedFeatures& a, const LoadedFeatures& b) {
  return a.schema == b.schema && a.row_ids == b.row_ids && a.kept_rows == b.kept_rows &&
         a.matrix.rows() == b.matrix.rows() && a.matrix.cols() == b.matrix.cols() &&
         std::memcmp(a.matrix.data(), b.matrix.data(),
                     static_cast<std::size_t>(a.matrix.size()) * sizeof(float)) == 0;
}

void flip_byte(const fs::path& file, std::uintmax_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x40));
}

}  // namespace

TEST_CASE("hash64: the XXH64 reference values", "[features][cache]") {
  CHECK(detail::hash64("", 0) == 0xEF46DB3751D8E999ULL);
  CHECK(detail::hash64("abc", 3) == 0x44BC2CF5AD770999ULL);
  // Streaming in odd pieces gives the one-shot digest.
  std::string text(1000, 'x');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + (i * 7) % 26);
  detail::Hash64 h(42);
  for (std::size_t at = 0, step = 1; at < text.size(); at += step, step = step * 2 % 37 + 1) {
    h.update(text.data() + at, std::min(step, text.size() - at));
  }
  CHECK(h.digest() == detail::hash64(text.data(), text.size(), 42));
}

TEST_CASE("feature cache: the round trip is exact and the second load reads the cache",
          "[features][cache]") {
  CachedSet set(12);
  const LoadedFeatures first = set.load();
  CHECK(first.report.cache == CacheStatus::kMiss);
  REQUIRE(fs::exists(first.report.cache_file));
  CHECK(first.report.cache_file.parent_path() == set.cache);
  const LoadedFeatures second = set.load();
  CHECK(second.report.cache == CacheStatus::kHit);
  CHECK(identical(first, second));
  CHECK(second.report.files_parsed == 0);
  CHECK(second.report.files_loaded == 12);
  CHECK(second.report.nonfinite_values == first.report.nonfinite_values);
  CHECK(second.report.nonfinite_values == 12);
  CHECK(second.report.nan_cells == first.report.nan_cells);
  // A given schema is a different cache entry, also exact.
  const LoadedFeatures given = set.load(&first.schema);
  CHECK(given.report.cache == CacheStatus::kMiss);
  CHECK(set.load(&first.schema).report.cache == CacheStatus::kHit);
  CHECK(identical(given, first));
}

TEST_CASE("feature cache: changed inputs make it stale and it is rebuilt", "[features][cache]") {
  CachedSet set(6);
  (void)set.load();

  SECTION("a file changes size") {
    set.write(3, ", \"b\": 1");
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kStale);
    CHECK(f.report.cache_detail == "03/3.json changed (size 96 -> 104 bytes)");
    CHECK(f.schema.find("lowlevel.b"));
    CHECK(set.load().report.cache == CacheStatus::kHit);
  }
  SECTION("a file changes only its modification time") {
    const fs::path file = set.features / set.paths[2];
    fs::last_write_time(file, fs::last_write_time(file) + std::chrono::seconds(5));
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kStale);
    CHECK(f.report.cache_detail == "02/2.json changed (modification time)");
  }
  SECTION("the options differ") {
    set.options.covariance = CovarianceColumns::kNone;
    set.options.non_finite = NonFinitePolicy::kAccept;
    set.options.include = {"lowlevel.*"};
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kStale);
    CHECK_THAT(f.report.cache_detail, Catch::StartsWith("options differ"));
    CHECK_FALSE(f.schema.find("tonal.key_key=C#"));
    // Threads and progress do not change the matrix, so they do not make the cache stale.
    set.options.threads = 1;
    CHECK(set.load().report.cache == CacheStatus::kHit);
  }
  SECTION("the file list differs: another entry") {
    set.paths.pop_back();
    set.ids.pop_back();
    CHECK(set.load().report.cache == CacheStatus::kMiss);
  }
  SECTION("a missing file appears") {
    set.paths.push_back("09/late.json");
    set.ids.push_back("late");
    set.options.missing_files = MissingFilePolicy::kSkip;
    CHECK(set.load().matrix.rows() == 6);
    CHECK(set.load().report.cache == CacheStatus::kHit);
    test::write_text(set.features / "09/late.json", "{\"lowlevel\": {\"a\": 9}}");
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kStale);
    CHECK(f.report.cache_detail == "09/late.json appeared since the cache was written");
    CHECK(f.matrix.rows() == 7);
  }
}

TEST_CASE("feature cache: a corrupted or truncated cache is detected, never used",
          "[features][cache]") {
  CachedSet set(8);
  const LoadedFeatures first = set.load();
  const fs::path file = set.cache_file();
  REQUIRE(!file.empty());
  const auto size = fs::file_size(file);

  SECTION("a flipped byte in the matrix") {
    flip_byte(file, size - 8 - 5);
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kCorrupt);
    CHECK(f.report.cache_detail == "checksum mismatch (the cache file is corrupted)");
    CHECK(identical(f, first));
    CHECK(set.load().report.cache == CacheStatus::kHit);  // rebuilt
  }
  SECTION("a flipped byte in the stored schema") {
    const std::string bytes = test::read_text(file);
    const auto at = bytes.find("lowlevel.a");
    REQUIRE(at != std::string::npos);
    flip_byte(file, at + 2);
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kCorrupt);
    CHECK(identical(f, first));
  }
  SECTION("truncated") {
    fs::resize_file(file, size - 100);
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kCorrupt);
    CHECK_THAT(f.report.cache_detail, Catch::Contains("truncated"));
    CHECK(identical(f, first));
  }
  SECTION("cut inside the header") {
    fs::resize_file(file, 30);
    CHECK(set.load().report.cache == CacheStatus::kCorrupt);
  }
  SECTION("not a cache at all") {
    test::write_text(file, "hello");
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kCorrupt);
    CHECK_THAT(f.report.cache_detail, Catch::Contains("bad magic"));
  }
  SECTION("an empty file") {
    test::write_text(file, "");
    CHECK(set.load().report.cache == CacheStatus::kCorrupt);
  }
}

TEST_CASE("feature cache: an unwritable cache directory costs time, not the load",
          "[features][cache]") {
  CachedSet set(3);
  test::write_text(set.cache, "a file where the cache directory should be");
  const LoadedFeatures f = set.load();
  CHECK(f.matrix.rows() == 3);
  CHECK(f.report.cache == CacheStatus::kMiss);
  CHECK_THAT(f.report.cache_detail, Catch::StartsWith("cache not written: "));
}
