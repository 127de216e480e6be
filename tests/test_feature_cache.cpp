// The binary cache of load_features(): exact round trip, staleness (the key: size, mtime and ctime
// in ns, inode), torn and corrupted entries, least-recently-used eviction past the size limit.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <string>
#include <thread>
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
  // Another cache entry over the same files: other row ids.
  void rename_rows(const std::string& prefix) {
    for (std::size_t k = 0; k < ids.size(); ++k) ids[k] = prefix + std::to_string(k);
  }
};

// The cache entries (features-*.mbfc) in \p dir and their total size.
std::set<fs::path> entries_in(const fs::path& dir, std::uintmax_t* total = nullptr) {
  std::set<fs::path> out;
  if (total != nullptr) *total = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".mbfc") continue;
    out.insert(e.path());
    if (total != nullptr) *total += e.file_size();
  }
  return out;
}

// Replaces the first occurrence of \p from by \p to (same length) in \p file, then restores the
// file's modification time (as `touch -d` would). \p in_place: rewrite the same inode;
// otherwise write a new file and rename it over the old one (another inode, as editors save).
void rewrite_keeping_size_and_mtime(const fs::path& file, const std::string& from,
                                    const std::string& to, bool in_place) {
  REQUIRE(from.size() == to.size());
  const auto mtime = fs::last_write_time(file);
  std::string text = test::read_text(file);
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  // File timestamps come from a coarse clock (a few ms): let it move past the first write's.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (in_place) {
    test::write_text(file, text);
  } else {
    test::write_text(fs::path(file.string() + ".new"), text);
    fs::rename(fs::path(file.string() + ".new"), file);
  }
  fs::last_write_time(file, mtime);
  REQUIRE(fs::last_write_time(file) == mtime);
}

bool same_matrix(const LoadedFeatures& a, const LoadedFeatures& b) {
  return a.schema == b.schema && a.matrix.rows() == b.matrix.rows() &&
         a.matrix.cols() == b.matrix.cols() &&
         std::memcmp(a.matrix.data(), b.matrix.data(),
                     static_cast<std::size_t>(a.matrix.size()) * sizeof(float)) == 0;
}

bool identical(const LoadedFeatures& a, const LoadedFeatures& b) {
  return same_matrix(a, b) && a.row_ids == b.row_ids && a.kept_rows == b.kept_rows;
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
  SECTION("a file rewritten in place with the same size and its modification time restored") {
    const fs::path file = set.features / set.paths[3];
    const auto size = fs::file_size(file);
    rewrite_keeping_size_and_mtime(file, "3.25", "3.75", /*in_place=*/true);
    REQUIRE(fs::file_size(file) == size);
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kStale);
    CHECK(f.report.cache_detail ==
          "03/3.json changed (status-change time: rewritten or its metadata changed)");
    CHECK(f.matrix(3, static_cast<Eigen::Index>(*f.schema.find("lowlevel.a"))) == 3.75f);
    CHECK(set.load().report.cache == CacheStatus::kHit);
  }
  SECTION("a file replaced (renamed over) with the same size and modification time") {
    const fs::path file = set.features / set.paths[4];
    rewrite_keeping_size_and_mtime(file, "4.25", "4.50", /*in_place=*/false);
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kStale);
    CHECK(f.report.cache_detail == "04/4.json changed (replaced: another inode)");
    CHECK(f.matrix(4, static_cast<Eigen::Index>(*f.schema.find("lowlevel.a"))) == 4.5f);
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
  SECTION("torn at any length: detected, never read, rebuilt") {
    const std::string whole = test::read_text(file);
    std::vector<std::uintmax_t> lengths = {1,  7,  8,        12,       16,       24,
                                           31, 32, size - 9, size - 8, size - 7, size - 1};
    for (std::uintmax_t at = 40; at < size; at += size / 23) lengths.push_back(at);
    for (const std::uintmax_t length : lengths) {
      INFO("cut at " << length << " of " << size << " bytes");
      test::write_text(file, whole.substr(0, static_cast<std::size_t>(length)));
      const LoadedFeatures f = set.load();
      CHECK(f.report.cache == CacheStatus::kCorrupt);
      CHECK(identical(f, first));
      CHECK(fs::file_size(file) == size);  // rebuilt whole
    }
  }
  SECTION("torn: the right length but a tail that never reached the disk (zeros)") {
    std::string bytes = test::read_text(file);
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2), bytes.end(), '\0');
    test::write_text(file, bytes);
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kCorrupt);
    CHECK(identical(f, first));
    CHECK(set.load().report.cache == CacheStatus::kHit);
  }
}

TEST_CASE("feature cache: the least recently used entries are evicted past cache_max_bytes",
          "[features][cache]") {
  CachedSet set(6);
  set.options.cache_max_bytes = 0;  // no limit while the entries are made
  std::vector<fs::path> entry(4);
  for (int k = 0; k < 3; ++k) {
    set.rename_rows("set" + std::to_string(k) + "_");
    entry[static_cast<std::size_t>(k)] = set.load().report.cache_file;
  }
  std::uintmax_t total = 0;
  REQUIRE(entries_in(set.cache, &total).size() == 3);
  const std::uintmax_t one = fs::file_size(entry[0]);
  REQUIRE(total == 3 * one);  // same files and schema: entries of equal size
  // Written in the order 0, 1, 2; then entry 0 is used again, which makes it the most recent.
  const auto now = fs::file_time_type::clock::now();
  for (int k = 0; k < 3; ++k) {
    fs::last_write_time(entry[static_cast<std::size_t>(k)],
                        now - std::chrono::seconds(300 - 100 * k));
  }
  set.rename_rows("set0_");
  const LoadedFeatures hit = set.load();
  REQUIRE(hit.report.cache == CacheStatus::kHit);
  CHECK(fs::last_write_time(entry[0]) > now - std::chrono::seconds(60));  // its last use

  SECTION("a new entry past the limit evicts the least recently used one") {
    set.options.cache_max_bytes = 3 * one + one / 2;
    set.rename_rows("set3_");
    const LoadedFeatures f = set.load();
    entry[3] = f.report.cache_file;
    CHECK(f.report.cache == CacheStatus::kMiss);
    CHECK(f.report.cache_evicted == 1);
    CHECK(f.report.cache_evicted_bytes == one);
    CHECK(entries_in(set.cache, &total) == std::set<fs::path>{entry[0], entry[2], entry[3]});
    CHECK(total <= set.options.cache_max_bytes);
    CHECK_THAT(f.report.summary(), Catch::Contains("evicted 1 least recently used entry"));

    // A lower limit on a hit: the entry used stays, the least recently used others go.
    set.options.cache_max_bytes = 2 * one;
    set.rename_rows("set2_");
    // Explicit times: two uses within one tick of the file system's coarse clock would tie.
    fs::last_write_time(entry[0], now - std::chrono::seconds(50));
    fs::last_write_time(entry[3], now - std::chrono::seconds(40));
    fs::last_write_time(entry[2], now - std::chrono::seconds(500));
    const LoadedFeatures g = set.load();
    CHECK(g.report.cache == CacheStatus::kHit);
    CHECK(g.report.cache_evicted == 1);
    CHECK(entries_in(set.cache) == std::set<fs::path>{entry[2], entry[3]});  // entry 0 was older
  }
  SECTION("0 means no limit") {
    set.rename_rows("set3_");
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache_evicted == 0);
    CHECK(entries_in(set.cache).size() == 4);
  }
  SECTION("a matrix larger than the limit is not cached; the others are evicted to fit") {
    set.options.cache_max_bytes = 64;
    set.rename_rows("set3_");
    const LoadedFeatures f = set.load();
    CHECK(f.report.cache == CacheStatus::kMiss);
    CHECK_THAT(f.report.cache_detail,
               Catch::StartsWith("cache not written: the matrix (") &&
                   Catch::Contains("is larger than the cache size limit (--cache-max-bytes 64)"));
    CHECK(entries_in(set.cache).empty());
  }
  SECTION("an entry whose header alone breaks the limit is removed after the write") {
    set.options.cache_max_bytes = one - 1;  // the matrix fits, the whole file does not
    set.rename_rows("set3_");
    const LoadedFeatures f = set.load();
    CHECK_THAT(f.report.cache_detail, Catch::Contains("this entry alone exceeds the cache size "
                                                      "limit (--cache-max-bytes"));
    CHECK_FALSE(fs::exists(f.report.cache_file));
    std::uintmax_t left = 0;
    (void)entries_in(set.cache, &left);
    CHECK(left <= set.options.cache_max_bytes);
  }
  SECTION("temporaries of a writer that died are removed, those of a live one kept") {
    const fs::path dead = set.cache / ".features-0123456789abcdef.mbfc.tmp-deadbeef";
    const fs::path live = set.cache / ".features-0123456789abcdef.mbfc.tmp-a11ve000";
    test::write_text(dead, "half a cache");
    test::write_text(live, "half a cache");
    fs::last_write_time(dead, now - std::chrono::hours(2));
    (void)set.load();
    CHECK_FALSE(fs::exists(dead));
    CHECK(fs::exists(live));
  }
}

TEST_CASE("feature cache: loads sharing a cache directory under a tight limit stay correct",
          "[features][cache]") {
  // Threads stand in for processes: entries appear by rename and vanish by unlink, as between
  // processes. A load never fails for the cache and always returns the parsed matrix.
  CachedSet set(6);
  const LoadedFeatures reference = set.load();
  const std::uintmax_t one = fs::file_size(reference.report.cache_file);
  for (int round = 0; round < 4; ++round) {
    std::vector<std::future<LoadedFeatures>> loads;
    for (int k = 0; k < 3; ++k) {
      loads.push_back(std::async(std::launch::async, [&set, k, one] {
        FeatureOptions o = set.options;
        o.cache_max_bytes = 2 * one;
        std::vector<std::string> ids = set.ids;
        for (auto& id : ids) id += "_" + std::to_string(k);
        return load_features(set.features, set.paths, ids, o);
      }));
    }
    for (auto& load : loads) {
      const LoadedFeatures f = load.get();
      CHECK(same_matrix(f, reference));
    }
  }
  std::uintmax_t total = 0;
  (void)entries_in(set.cache, &total);
  CHECK(total <= 2 * one);
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
