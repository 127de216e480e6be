// Hostile and mistyped options: each is refused before any work and before anything is written,
// with a message that names the option and what it expects; thread counts beyond the machine are
// capped with a note; outputs that collide are refused; help states the real defaults.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "planted.hpp"
#include "support.hpp"

using namespace moodboost;
using moodboost::test::planted_train_args;
using moodboost::test::read_text;
using moodboost::test::run_cli;
using moodboost::test::RunResult;
using moodboost::test::TempDir;
using moodboost::test::write_planted_dataset;
using moodboost::test::write_text;
namespace fs = std::filesystem;

namespace {

// `train` with \p extra on a small planted dataset: must exit 2 and leave no model directory.
std::string refused(const std::vector<std::string>& extra) {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 50, 40, 10, 6, 1, 52);
  auto args = planted_train_args(data, tmp / "model");
  args.insert(args.end(), extra.begin(), extra.end());
  const RunResult r = run_cli(args);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK_FALSE(fs::exists(tmp / "model"));
  CHECK(r.err.size() < 600);  // a sentence, not a 309-digit range or a stack trace
  return r.err;
}

}  // namespace

TEST_CASE("cli options: numbers out of range are refused before any work, naming the option",
          "[cli][options]") {
  CHECK_THAT(refused({"--budget-minutes", "nan"}), Catch::Contains("--budget-minutes"));
  CHECK_THAT(refused({"--budget-minutes", "inf"}), Catch::Contains("--budget-minutes"));
  CHECK_THAT(refused({"--budget-minutes", "-1"}), Catch::Contains("--budget-minutes"));
  CHECK_THAT(refused({"--rounds", "0"}),
             Catch::Contains("--rounds") && Catch::Contains(">= 1") || Catch::Contains("from 1"));
  CHECK_THAT(refused({"--early-stopping", "-1"}), Catch::Contains("--early-stopping"));
  CHECK_THAT(refused({"--seed", "-1"}), Catch::Contains("--seed"));
  CHECK_THAT(refused({"--trials", "-3"}), Catch::Contains("--trials"));
  CHECK_THAT(refused({"--eval-metric", "bogus"}),
             Catch::Contains("--eval-metric bogus") && Catch::Contains("cannot evaluate it"));
}

TEST_CASE("cli options: thread counts beyond the machine are capped with a note",
          "[cli][options]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 60, 40, 20, 6, 1, 53);
  const RunResult flat =
      run_cli({"flatten", "--features", data.features.string(), "--split",
               (data.splits / "tiny-test.tsv").string(), "--out", (tmp / "x.npy").string(),
               "--names", (tmp / "n.txt").string(), "--threads", "4000"});
  INFO(flat.err);
  CHECK(flat.exit_code == 0);
  CHECK_THAT(flat.err, Catch::Contains("--threads 4000: using"));
  auto args = planted_train_args(data, tmp / "model");
  *(std::find(args.begin(), args.end(), "--threads") + 1) = "4000";
  const RunResult train = run_cli(args);
  INFO(train.err);
  CHECK(train.exit_code == 0);
  const RunResult compare =
      run_cli({"compare", "--groundtruth", (data.splits / "tiny-test.tsv").string(), "--tags",
               data.tags.string(), "--system", "a=" + (tmp / "x.npy").string(), "--threads",
               "100000", "--out-dir", (tmp / "cmp").string()});
  CHECK(compare.exit_code == 2);  // refused by its range, not a crash in libgomp
  CHECK_THAT(compare.err, Catch::Contains("--threads") && Catch::Contains("4096"));
}

TEST_CASE("cli options: colliding outputs are refused before anything is written",
          "[cli][options]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 30, 20, 20, 6, 1, 54);
  const std::string split = (data.splits / "tiny-test.tsv").string();
  const RunResult same = run_cli({"flatten", "--features", data.features.string(), "--split", split,
                                  "--out", (tmp / "x").string(), "--names", (tmp / "x").string()});
  CHECK(same.exit_code == 2);
  CHECK_THAT(same.err, Catch::Contains("--out and --names name the same file"));
  CHECK_FALSE(fs::exists(tmp / "x"));
  const RunResult over_input =
      run_cli({"flatten", "--features", data.features.string(), "--split", split, "--out",
               (tmp / "x.npy").string(), "--names", split});
  CHECK(over_input.exit_code == 2);
  CHECK_THAT(over_input.err, Catch::Contains("would destroy an input"));

  // decide with a directory as --decision-file: refused before the thresholds are written.
  fs::create_directories(tmp / "dir");
  const RunResult decide = run_cli({"decide", (tmp / "gt.npy").string(), (tmp / "p.npy").string(),
                                    (tmp / "thresholds.txt").string(), data.tags.string(),
                                    "--decision-file", (tmp / "dir").string()});
  CHECK(decide.exit_code != 0);
  CHECK_FALSE(fs::exists(tmp / "thresholds.txt"));
}

TEST_CASE("cli options: an unknown command is named; help states the real defaults",
          "[cli][options]") {
  const RunResult unknown = run_cli({"trian"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command 'trian'") && Catch::Contains("train"));

  const RunResult train = run_cli({"train", "--help"});
  CHECK(train.exit_code == 0);
  CHECK_THAT(train.out, Catch::Contains("(default upper)") &&
                            Catch::Contains("(default --drop-constant)") &&
                            Catch::Contains("in train and run, for training"));
  const RunResult flatten = run_cli({"flatten", "--help"});
  CHECK_THAT(flatten.out,
             Catch::Contains("(default full)") && Catch::Contains("(default --keep-constant)"));
  const RunResult synth = run_cli({"synth", "--help"});
  CHECK_THAT(synth.out, Catch::Contains("[201, 17982]"));
}

TEST_CASE("cli options: --keep-constant keeps the constant columns training drops by default",
          "[cli][options]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 60, 40, 20, 6, 1, 55);
  for (const char* flag : {"--drop-constant", "--keep-constant"}) {
    auto args = planted_train_args(data, tmp / flag);
    args.push_back(flag);
    const RunResult r = run_cli(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  const std::string dropped = read_text(tmp / "--drop-constant/manifest.json");
  const std::string kept = read_text(tmp / "--keep-constant/manifest.json");
  CHECK_THAT(dropped, Catch::Contains("\"drop_constant\":true"));
  CHECK_THAT(kept, Catch::Contains("\"drop_constant\":false"));
}

TEST_CASE("cli options: compare on another vocabulary points to --baseline", "[cli][options]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 30, 20, 40, 6, 1, 56);
  const RunResult flat = run_cli({"flatten", "--features", data.features.string(), "--split",
                                  (data.splits / "tiny-test.tsv").string(), "--out",
                                  (tmp / "x.npy").string(), "--names", (tmp / "n.txt").string()});
  REQUIRE(flat.exit_code == 0);
  // Scores of the right shape: one column per tag.
  auto args = planted_train_args(data, tmp / "model");
  args[0] = "run";
  REQUIRE(run_cli(args).exit_code == 0);
  const RunResult compare =
      run_cli({"compare", "--groundtruth", (data.splits / "tiny-test.tsv").string(), "--tags",
               data.tags.string(), "--system", "a=" + (tmp / "model/test").string(), "--out-dir",
               (tmp / "cmp").string()});
  CHECK(compare.exit_code != 0);
  CHECK_THAT(compare.err, Catch::Contains("--baseline FILE.tsv"));
}
