#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

const std::string kHeader = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS";

// A three-track split in the real files' format, with the given line ending.
std::string small_split(const std::string& eol) {
  return kHeader + eol +                                                                       //
         "track_0000948\tartist_000087\talbum_000149\t48/948.mp3\t212.7\tmood---calm" + eol +  //
         "track_0000950\tartist_000087\talbum_000149\t50/"
         "950.mp3\t248.0\tmood---calm\ttheme---film" +
         eol +  //
         "track_0001013\tartist_000090\talbum_000150\t13/1013.mp3\t93\ttheme---film" + eol;
}

// Parses \p text as a split and returns the error message (empty when it parsed).
std::string split_error(const std::string& text) {
  try {
    parse_split(text, "bad.tsv");
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

std::string row(const std::string& id, const std::string& rest) {
  return id + "\tartist_000001\talbum_000001\t01/1.mp3\t" + rest;
}

// Writes s-train.tsv and s-test.tsv into \p dir and names them (no validation split).
SplitFiles write_train_and_test(const test::TempDir& dir, const std::string& train,
                                const std::string& test) {
  test::write_text(dir / "s-train.tsv", train);
  test::write_text(dir / "s-test.tsv", test);
  SplitFiles files;
  files.train = dir / "s-train.tsv";
  files.test = dir / "s-test.tsv";
  return files;
}

}  // namespace

TEST_CASE("parse_split: CRLF and LF files give the same tracks, in file order", "[dataset]") {
  const Split crlf = parse_split(small_split("\r\n"), "a-train.tsv");
  const Split lf = parse_split(small_split("\n"), "a-train.tsv");
  REQUIRE(crlf.tracks.size() == 3);
  REQUIRE(lf.tracks.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(crlf.tracks[i].track_id == lf.tracks[i].track_id);
    CHECK(crlf.tracks[i].tags == lf.tracks[i].tags);
  }
  const Track& t = crlf.tracks[1];
  CHECK(t.track_id == "track_0000950");
  CHECK(t.artist_id == "artist_000087");
  CHECK(t.album_id == "album_000149");
  CHECK(t.path == "50/950.mp3");
  CHECK(t.duration_s == 248.0);
  CHECK(t.tags == std::vector<std::string>{"mood---calm", "theme---film"});
  CHECK(t.line == 3);
  CHECK(crlf.tracks[2].duration_s == 93.0);
  CHECK(crlf.label_count() == 4);
  CHECK(crlf.file == "a-train.tsv");
  CHECK(crlf.loaded());
  CHECK_FALSE(Split{}.loaded());
}

TEST_CASE("parse_split: a last line without a newline is still read", "[dataset]") {
  std::string text = small_split("\r\n");
  text.resize(text.size() - 2);
  CHECK(parse_split(text, "x.tsv").tracks.size() == 3);
}

TEST_CASE("parse_split: bad input names the file, the line and the problem", "[dataset]") {
  CHECK(split_error("") == "bad.tsv: empty file, expected a split TSV with a header");
  CHECK_THAT(split_error("TRACK_ID\tPATH\n"),
             Catch::StartsWith("bad.tsv: line 1: expected the header") &&
                 Catch::Contains("found 'TRACK_ID\tPATH'"));
  CHECK(split_error(kHeader + "\r\n") == "bad.tsv: has a header but no tracks");
  CHECK(split_error(kHeader + "\n" + row("track_1", "1.0") + "\n") ==
        "bad.tsv: line 2: expected at least 6 tab-separated columns (TRACK_ID, ARTIST_ID, "
        "ALBUM_ID, PATH, DURATION and at least one tag), found 5");
  CHECK(split_error(kHeader + "\n" + row("track_1", "1.0\ta") + "\n\n" + row("track_2", "1\tb")) ==
        "bad.tsv: line 3: empty line");
  CHECK(split_error(kHeader + "\n" + row("track_1", "1.0\ta\t")) ==
        "bad.tsv: line 2: tag column 2 is empty (column 7)");
  CHECK(split_error(kHeader + "\n\tartist\talbum\tp.mp3\t1\ta") ==
        "bad.tsv: line 2: TRACK_ID is empty (column 1)");
  for (const std::string bad : {"abc", "-1", "nan", "inf", "1.5s", ""}) {
    CAPTURE(bad);
    const std::string err = split_error(kHeader + "\n" + row("track_1", bad + "\ta"));
    if (bad.empty()) {
      CHECK(err == "bad.tsv: line 2: DURATION is empty (column 5)");
    } else {
      CHECK(err ==
            "bad.tsv: line 2: DURATION: expected a number of seconds >= 0, found '" + bad + "'");
    }
  }
  CHECK(split_error(kHeader + "\n" + row("track_1", "1\ta\tb\ta")) ==
        "bad.tsv: line 2: tag 'a' is listed twice for track_1");
  CHECK(split_error(kHeader + "\r\n" + row("track_1", "1\ta") + "\r\n" + row("track_2", "1\ta") +
                    "\r\n" + row("track_1", "2\tb") + "\r\n") ==
        "bad.tsv: line 4: duplicate TRACK_ID track_1 (first on line 2)");
}

TEST_CASE("read_split: a missing file is an IoError naming it", "[dataset]") {
  test::TempDir dir;
  REQUIRE_THROWS_AS(read_split(dir / "none-train.tsv"), IoError);
  REQUIRE_THROWS_WITH(read_split(dir / "none-train.tsv"), Catch::Contains("none-train.tsv"));
}

TEST_CASE("read_tag_list: one tag per line, LF or CRLF, final newline optional", "[dataset]") {
  test::TempDir dir;
  test::write_text(dir / "lf.txt", "b\na\nc\n");
  test::write_text(dir / "crlf.txt", "b\r\na\r\nc");
  const std::vector<std::string> expected{"b", "a", "c"};
  CHECK(read_tag_list(dir / "lf.txt") == expected);
  CHECK(read_tag_list(dir / "crlf.txt") == expected);
}

TEST_CASE("read_tag_list: blank lines, duplicates, tabs and empty files are errors", "[dataset]") {
  test::TempDir dir;
  const auto error_of = [&](const std::string& text) {
    test::write_text(dir / "tags.txt", text);
    try {
      read_tag_list(dir / "tags.txt");
    } catch (const ParseError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string file = (dir / "tags.txt").string();
  CHECK(error_of("") == file + ": empty file, expected one tag per line");
  CHECK(error_of("a\n\nb\n") == file + ": line 2: blank line, expected a tag");
  CHECK(error_of("a\nb\r\na\n") == file + ": line 3: duplicate tag 'a' (first on line 1)");
  CHECK(error_of("a\tx\n") == file + ": line 1: a tag cannot contain a tab: 'a\tx'");
}

TEST_CASE("find_split_files: exactly one file of each kind, else a listing", "[dataset]") {
  test::TempDir dir;
  test::write_text(dir / "x-train.tsv", "");
  test::write_text(dir / "x-validation.tsv", "");
  test::write_text(dir / "notes.txt", "");
  REQUIRE_THROWS_AS(find_split_files(dir.path()), DataError);
  CHECK_THROWS_WITH(
      find_split_files(dir.path()),
      dir.path().string() + ": no *-test.tsv file (found: x-train.tsv x-validation.tsv)");
  const SplitFiles partial = find_split_files(dir.path(), false);
  CHECK(partial.train == dir / "x-train.tsv");
  CHECK(partial.validation == dir / "x-validation.tsv");
  CHECK(partial.test.empty());

  test::write_text(dir / "x-test.tsv", "");
  const SplitFiles all = find_split_files(dir.path());
  CHECK(all.test == dir / "x-test.tsv");

  test::write_text(dir / "y-test.tsv", "");
  CHECK_THROWS_WITH(
      find_split_files(dir.path(), false),
      Catch::Contains("more than one *-test.tsv file") && Catch::Contains("x-test.tsv y-test.tsv"));
  REQUIRE_THROWS_AS(find_split_files(dir / "missing"), IoError);
}

TEST_CASE("label_matrix: columns in vocabulary order; unknown tags error or are counted",
          "[dataset]") {
  const Split split = parse_split(small_split("\n"), "s-test.tsv");
  const LabelMatrix labels =
      label_matrix(split, {"theme---film", "mood---calm", "x"}, UnknownTagPolicy::kError);
  REQUIRE(labels.rows() == 3);
  REQUIRE(labels.cols() == 3);
  CHECK(labels(0, 0) == 0);
  CHECK(labels(0, 1) == 1);
  CHECK(labels(1, 0) == 1);
  CHECK(labels(1, 1) == 1);
  CHECK(labels(2, 0) == 1);
  CHECK(labels(2, 1) == 0);
  CHECK(labels.col(2).sum() == 0);

  CHECK_THROWS_WITH(label_matrix(split, {"mood---calm"}, UnknownTagPolicy::kError),
                    "s-test.tsv: line 3: tag 'theme---film' is not in the tag vocabulary (1 tags)");
  std::size_t unknown = 99;
  const LabelMatrix kept =
      label_matrix(split, {"mood---calm"}, UnknownTagPolicy::kIgnore, &unknown);
  CHECK(unknown == 2);
  CHECK(kept.cast<int>().sum() == 2);
  CHECK_THROWS_AS(label_matrix(split, {"a", "a"}, UnknownTagPolicy::kError), DataError);
}

TEST_CASE("tags_in: the sorted set of tags used, skipping splits not loaded", "[dataset]") {
  const Split a = parse_split(small_split("\n"), "a.tsv");
  const Split b = parse_split(kHeader + "\n" + row("track_9", "1\tzzz\taaa"), "b.tsv");
  const Split empty;
  CHECK(tags_in({&a}) == std::vector<std::string>{"mood---calm", "theme---film"});
  CHECK(tags_in({&a, &b, &empty, nullptr}) ==
        std::vector<std::string>{"aaa", "mood---calm", "theme---film", "zzz"});
}

TEST_CASE("feature_relpath: PATH with .json for .mp3; other paths are refused", "[dataset]") {
  Track t;
  t.track_id = "track_0000948";
  t.line = 2;
  t.path = "48/948.mp3";
  CHECK(feature_relpath(t) == fs::path("48/948.json"));
  t.path = "48/948.wav";
  CHECK_THROWS_WITH(feature_relpath(t),
                    "track_0000948 (line 2): PATH '48/948.wav' does not end in .mp3, so its "
                    "feature file (.json) cannot be named");
  t.path = ".mp3";
  CHECK_THROWS_AS(feature_relpath(t), DataError);
  t.path = "/etc/948.mp3";
  CHECK_THROWS_WITH(feature_relpath(t), Catch::Contains("is absolute"));
  t.path = "48/../../948.mp3";
  CHECK_THROWS_WITH(feature_relpath(t), Catch::Contains("leaves the features directory"));
}

TEST_CASE("tag_display_name: the name after '<category>---', else the tag", "[dataset]") {
  CHECK(tag_display_name("mood/theme---happy") == "happy");
  CHECK(tag_display_name("genre---rock") == "rock");
  CHECK(tag_display_name("happy") == "happy");
  CHECK(tag_display_name("---x") == "---x");
  CHECK(tag_display_name("genre---") == "genre---");
  CHECK(tag_display_name("a---b---c") == "b---c");
}

TEST_CASE("load_split_set: default vocabulary is the union of every loaded split", "[dataset]") {
  test::TempDir dir;
  const SplitFiles files = write_train_and_test(
      dir, small_split("\r\n"), kHeader + "\n" + row("track_7", "1\tzzz\tmood---calm"));
  const SplitSet set = load_split_set(files, std::nullopt);
  CHECK(set.train.tracks.size() == 3);
  CHECK_FALSE(set.validation.loaded());
  CHECK(set.test.tracks.size() == 1);
  CHECK(set.tags == std::vector<std::string>{"mood---calm", "theme---film", "zzz"});
  CHECK(set.tags_file.empty());
  const LabelMatrix test_labels = set.labels(set.test);
  CHECK(test_labels(0, 0) == 1);
  CHECK(test_labels(0, 2) == 1);

  test::write_text(dir / "tags.txt", "mood---calm\ntheme---film\n");
  CHECK_THROWS_WITH(load_split_set(files, dir / "tags.txt"),
                    Catch::Contains("s-test.tsv: line 2: tag 'zzz' is not in the tag vocabulary"));
  const SplitSet ignored = load_split_set(files, dir / "tags.txt", UnknownTagPolicy::kIgnore);
  CHECK(ignored.unknown_labels_test == 1);
  CHECK(ignored.unknown_labels_train == 0);
  CHECK(ignored.unknown_labels() == 1);
  CHECK(ignored.labels(ignored.test).cast<int>().sum() == 1);
}

TEST_CASE("load_split_set: a track in two splits is an error", "[dataset]") {
  test::TempDir dir;
  const SplitFiles files = write_train_and_test(
      dir, small_split("\n"), kHeader + "\n" + row("track_0000950", "1\tmood---calm"));
  CHECK_THROWS_WITH(
      load_split_set(files, std::nullopt),
      Catch::Contains("track_0000950 is in two splits") && Catch::Contains("s-test.tsv (line 2)"));
}

TEST_CASE("real split-0: track, tag and label counts of MTG-Jamendo moodtheme",
          "[dataset][shared]") {
  const fs::path dir = test::jamendo_dir() / "splits" / "split-0";
  if (!test::require_shared(dir)) return;
  const SplitFiles files = find_split_files(dir);
  CHECK(files.train.filename() == "autotagging_moodtheme-train.tsv");
  CHECK(files.validation.filename() == "autotagging_moodtheme-validation.tsv");
  CHECK(files.test.filename() == "autotagging_moodtheme-test.tsv");

  const SplitSet set = load_split_set(files, std::nullopt);
  CHECK(set.train.tracks.size() == 9949);
  CHECK(set.validation.tracks.size() == 3802);
  CHECK(set.test.tracks.size() == 4231);
  CHECK(set.train.label_count() == 17885);
  CHECK(set.validation.label_count() == 6306);
  CHECK(set.test.label_count() == 7564);
  CHECK(set.tags.size() == 56);
  // The default vocabulary is exactly the official column order.
  CHECK(set.tags == read_tag_list(test::jamendo_dir() / "tags" / "moodtheme_split.txt"));
  for (const Split* split : {&set.train, &set.validation, &set.test}) {
    CHECK(tags_in({split}).size() == 56);
    CHECK(static_cast<std::size_t>(set.labels(*split).cast<int>().sum()) == split->label_count());
  }
  CHECK(set.train.tracks.front().track_id == "track_0000948");
  CHECK(feature_relpath(set.train.tracks.front()) == fs::path("48/948.json"));
  CHECK(tag_display_name(set.tags[26]) == "happy");

  // The full 59-tag vocabulary also works, and the whole subset file parses.
  const auto all_tags = read_tag_list(test::jamendo_dir() / "tags" / "moodtheme.txt");
  CHECK(all_tags.size() == 59);
  const Split full = read_split(test::jamendo_dir() / "autotagging_moodtheme.tsv");
  CHECK(full.tracks.size() == 18486);
  CHECK(tags_in({&full}).size() == 59);
  std::size_t unknown = 0;
  label_matrix(full, set.tags, UnknownTagPolicy::kIgnore, &unknown);
  CHECK(unknown > 0);
}
