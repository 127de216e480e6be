// The evaluate, decide and baseline commands, end to end through the moodboost program.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "moodboost/npy.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

const std::string kHeader = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\r\n";

std::string track(int id, const std::string& tags) {
  return "track_" + std::to_string(id) + "\tartist_" + std::to_string(id) + "\talbum_1\t" +
         std::to_string(id % 100) + "/" + std::to_string(id) + ".mp3\t10.0\t" + tags + "\r\n";
}

// A 3-row, 2-tag problem: ground truth, scores and decisions.
void write_small_problem(const test::TempDir& dir) {
  LabelMatrix truth(3, 2);
  truth << 1, 1, 1, 0, 0, 0;
  ScoreMatrix scores(3, 2);
  scores << 0.9, 0.8, 0.5, 0.7, 0.1, 0.2;
  LabelMatrix decisions(3, 2);
  decisions << 1, 1, 0, 1, 0, 0;
  write_label_matrix(dir / "gt.npy", truth);
  write_score_matrix(dir / "pred.npy", scores);
  write_label_matrix(dir / "dec.npy", decisions);
  test::write_text(dir / "tags.txt", "mood---a\nmood---b\n");
}

}  // namespace

TEST_CASE("cli baseline popular + evaluate: the official popular results, byte for byte",
          "[cli][shared]") {
  const fs::path jamendo = test::jamendo_dir();
  if (!test::require_shared(jamendo)) return;
  test::TempDir dir;
  const auto made = test::run_cli(
      {"baseline", "popular", "--splits", (jamendo / "splits" / "split-0").string(), "--tags",
       (jamendo / "tags" / "moodtheme_split.txt").string(), "--out-dir", (dir / "out").string()});
  REQUIRE(made.err == "");
  REQUIRE(made.exit_code == 0);
  CHECK_THAT(made.out, Catch::Contains("mood/theme---happy (927 of 9949 training tracks)"));
  CHECK(test::read_text(dir / "out" / "decisions.npy") ==
        test::read_text(jamendo / "mediaeval" / "baseline_popular_decisions.npy"));

  const auto ev = test::run_cli({"evaluate", (jamendo / "mediaeval" / "groundtruth.npy").string(),
                                 (dir / "out" / "predictions.npy").string(), "-d",
                                 (dir / "out" / "decisions.npy").string(), "-o",
                                 (dir / "results.tsv").string()});
  REQUIRE(ev.exit_code == 0);
  CHECK(test::read_text(dir / "results.tsv") ==
        test::read_text(jamendo / "mediaeval" / "baseline_popular_results.tsv"));
  // evaluate.py's '{:20}\t{:6f}' lines.
  CHECK(ev.out.substr(0, 60) == "ROC-AUC-macro       \t0.500000\nPR-AUC-macro        \t0.031924\n");
}

TEST_CASE("cli baseline random + evaluate + decide: official results and thresholds, byte for byte",
          "[cli][shared]") {
  const fs::path jamendo = test::jamendo_dir();
  if (!test::require_shared(jamendo)) return;
  test::TempDir dir;
  // The default vocabulary (the tags of the split set) is the official column order.
  const auto made =
      test::run_cli({"baseline", "random", "--splits", (jamendo / "splits" / "split-0").string(),
                     "--out-dir", (dir / "out").string()});
  REQUIRE(made.exit_code == 0);
  const fs::path groundtruth = jamendo / "mediaeval" / "groundtruth.npy";
  const fs::path predictions = dir / "out" / "predictions.npy";
  const auto ev = test::run_cli({"evaluate", groundtruth.string(), predictions.string(),
                                 "--decision_file", (dir / "out" / "decisions.npy").string(),
                                 "--output-file", (dir / "results.tsv").string()});
  REQUIRE(ev.exit_code == 0);
  CHECK(test::read_text(dir / "results.tsv") ==
        test::read_text(jamendo / "mediaeval" / "baseline_random_results.tsv"));

  const auto dec = test::run_cli({"decide", groundtruth.string(), predictions.string(),
                                  (dir / "thresholds.txt").string(),
                                  (jamendo / "tags" / "moodtheme_split.txt").string(),
                                  "--decision-file", (dir / "dec.npy").string()});
  REQUIRE(dec.exit_code == 0);
  CHECK(test::read_text(dir / "thresholds.txt") ==
        test::read_text(jamendo / "mediaeval" / "baseline_random_thresholds.txt"));
  CHECK(dec.out.substr(0, 29) == "mood/theme---action\t0.029752\n");
  // Each threshold is the tag's constant score, and strict > decides nothing.
  CHECK(read_label_matrix(dir / "dec.npy").cast<int>().sum() == 0);
}

TEST_CASE("cli evaluate: without decisions only the four AUC lines; JSON has per-tag values",
          "[cli]") {
  test::TempDir dir;
  write_small_problem(dir);
  const auto ev = test::run_cli({"evaluate", (dir / "gt.npy").string(), (dir / "pred.npy").string(),
                                 "-o", (dir / "r.tsv").string()});
  REQUIRE(ev.exit_code == 0);
  CHECK(ev.out ==
        "ROC-AUC-macro       \t1.000000\nPR-AUC-macro        \t1.000000\n"
        "ROC-AUC-micro       \t0.888889\nPR-AUC-micro        \t0.916667\n");
  CHECK(test::read_text(dir / "r.tsv") ==
        "ROC-AUC-macro\t1.000000\nPR-AUC-macro\t1.000000\nROC-AUC-micro\t0.888889\n"
        "PR-AUC-micro\t0.916667\n");

  const auto json = test::run_cli({"evaluate", (dir / "gt.npy").string(),
                                   (dir / "pred.npy").string(), "-d", (dir / "dec.npy").string(),
                                   "--format", "json", "--tags", (dir / "tags.txt").string()});
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.out, Catch::Contains("\"tag\": \"mood---b\"") &&
                           Catch::Contains("\"F-score-macro\": 0.6666666666666666") &&
                           Catch::Contains("\"precision\": 0.5"));
}

TEST_CASE("cli evaluate: bad input is reported with the file and exit code 1", "[cli]") {
  test::TempDir dir;
  write_small_problem(dir);
  ScoreMatrix narrow(3, 1);
  narrow << 0.1, 0.2, 0.3;
  write_score_matrix(dir / "narrow.npy", narrow);
  const auto shape =
      test::run_cli({"evaluate", (dir / "gt.npy").string(), (dir / "narrow.npy").string()});
  CHECK(shape.exit_code == 1);
  CHECK(shape.err == "moodboost evaluate: error: " + (dir / "narrow.npy").string() +
                         " matrix dimensions (3, 1) don't match the " + (dir / "gt.npy").string() +
                         " (3, 2)\n");

  const auto not_npy =
      test::run_cli({"evaluate", (dir / "tags.txt").string(), (dir / "pred.npy").string()});
  CHECK(not_npy.exit_code == 1);
  CHECK_THAT(not_npy.err, Catch::Contains("tags.txt: byte 0: not a NumPy .npy file"));

  // A tag without positives stops the evaluation, as evaluate.py does, unless excluded.
  LabelMatrix one_class(3, 2);
  one_class << 1, 0, 1, 0, 0, 0;
  write_label_matrix(dir / "one.npy", one_class);
  const auto single =
      test::run_cli({"evaluate", (dir / "one.npy").string(), (dir / "pred.npy").string(), "--tags",
                     (dir / "tags.txt").string()});
  CHECK(single.exit_code == 1);
  CHECK_THAT(single.err, Catch::Contains("column 1 (mood---b) has no positive"));
  const auto excluded =
      test::run_cli({"evaluate", (dir / "one.npy").string(), (dir / "pred.npy").string(),
                     "--exclude-single-class-tags", "-o", (dir / "ex.tsv").string()});
  CHECK(excluded.exit_code == 0);
  CHECK_THAT(excluded.err,
             Catch::Contains("1 single-class tag(s) left out of the macro AUCs (columns 1)"));
  CHECK_THAT(test::read_text(dir / "ex.tsv"), Catch::StartsWith("ROC-AUC-macro\t1.000000\n"));

  const auto missing =
      test::run_cli({"evaluate", (dir / "none.npy").string(), (dir / "pred.npy").string()});
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.err, Catch::Contains("none.npy"));
}

TEST_CASE("cli decide: thresholds in tag order; a tag list of the wrong length is an error",
          "[cli]") {
  test::TempDir dir;
  write_small_problem(dir);
  const auto ok = test::run_cli({"decide", (dir / "gt.npy").string(), (dir / "pred.npy").string(),
                                 (dir / "thr.txt").string(), (dir / "tags.txt").string(),
                                 "--decision-file", (dir / "dec_out.npy").string()});
  REQUIRE(ok.exit_code == 0);
  // Tag a: positives 0.9, 0.5, negative 0.1: best F at 0.5 (P = R = 1). Tag b: the positive 0.8
  // is highest: best F at 0.8.
  CHECK(test::read_text(dir / "thr.txt") == "mood---a\t0.5\nmood---b\t0.8\n");
  CHECK(ok.out == "mood---a\t0.500000\nmood---b\t0.800000\n");
  const LabelMatrix decisions = read_label_matrix(dir / "dec_out.npy");
  CHECK(decisions(0, 0) == 1);  // 0.9 > 0.5
  CHECK(decisions(1, 0) == 0);  // 0.5 is not > 0.5
  CHECK(decisions(0, 1) == 0);  // 0.8 is not > 0.8

  test::write_text(dir / "one_tag.txt", "mood---a\n");
  const auto bad = test::run_cli({"decide", (dir / "gt.npy").string(), (dir / "pred.npy").string(),
                                  (dir / "thr2.txt").string(), (dir / "one_tag.txt").string()});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("number of tags in") &&
                          Catch::Contains("one_tag.txt (1) doesn't match the matrices (2)"));
  CHECK_FALSE(fs::exists(dir / "thr2.txt"));
}

TEST_CASE("cli baseline: split options name files one by one; unknown tags error or are counted",
          "[cli]") {
  test::TempDir dir;
  test::write_text(dir / "s-train.tsv",
                   kHeader + track(1, "b\ta") + track(2, "a") + track(3, "b") + track(4, "c"));
  test::write_text(dir / "s-test.tsv", kHeader + track(5, "a") + track(6, "c"));
  const auto popular =
      test::run_cli({"baseline", "popular", "--train", (dir / "s-train.tsv").string(), "--test",
                     (dir / "s-test.tsv").string(), "--out-dir", (dir / "pop").string()});
  REQUIRE(popular.exit_code == 0);
  // a and b are both on 2 training tracks: the first in vocabulary order wins, as numpy.argmax.
  CHECK_THAT(popular.out, Catch::Contains("popular baseline: a (2 of 4 training tracks)"));
  const ScoreMatrix pop = read_score_matrix(dir / "pop" / "predictions.npy");
  REQUIRE(pop.rows() == 2);
  REQUIRE(pop.cols() == 3);
  CHECK(pop.col(0).sum() == 2.0);
  CHECK(pop.col(1).sum() == 0.0);
  CHECK(read_label_matrix(dir / "pop" / "decisions.npy").cast<int>().sum() == 2);

  const auto random = test::run_cli(
      {"baseline", "random", "--splits", dir.path().string(), "--out-dir", (dir / "rnd").string()});
  REQUIRE(random.exit_code == 0);
  const ScoreMatrix rnd = read_score_matrix(dir / "rnd" / "predictions.npy");
  CHECK(rnd(1, 0) == 0.5);   // a: 2 of 4
  CHECK(rnd(1, 2) == 0.25);  // c: 1 of 4
  CHECK(read_label_matrix(dir / "rnd" / "decisions.npy").cast<int>().sum() == 0);

  test::write_text(dir / "ab.txt", "a\nb\n");
  const auto unknown =
      test::run_cli({"baseline", "random", "--splits", dir.path().string(), "--tags",
                     (dir / "ab.txt").string(), "--out-dir", (dir / "x").string()});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err == "moodboost baseline: error: " + (dir / "s-train.tsv").string() +
                           ": line 5: tag 'c' is not in the tag vocabulary (2 tags)\n");
  const auto ignored = test::run_cli({"baseline", "random", "--splits", dir.path().string(),
                                      "--tags", (dir / "ab.txt").string(), "--unknown-tags",
                                      "ignore", "--out-dir", (dir / "x").string()});
  CHECK(ignored.exit_code == 0);
  CHECK_THAT(ignored.err, Catch::Contains("ignored 2 labels whose tag is not in") &&
                              Catch::Contains("(train 1, validation 0, test 1)"));
  CHECK(read_score_matrix(dir / "x" / "predictions.npy").cols() == 2);

  fs::remove(dir / "s-test.tsv");
  const auto no_test = test::run_cli(
      {"baseline", "random", "--splits", dir.path().string(), "--out-dir", (dir / "y").string()});
  CHECK(no_test.exit_code == 2);
  CHECK(no_test.err == "moodboost baseline: error: no test split: " + dir.path().string() +
                           " has no *-test.tsv; give --test FILE\n");
}
