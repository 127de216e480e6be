// End-to-end tests of `moodboost train`, `predict` and `run` on a tiny generated dataset.
#include <rapidjson/document.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "detail/fnv1a.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/model.hpp"
#include "moodboost/npy.hpp"
#include "planted.hpp"
#include "support.hpp"

extern char** environ;

using namespace moodboost;
using namespace moodboost::test;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> model_files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "models")) {
    out[entry.path().filename().string()] = read_text(entry.path());
  }
  out["thresholds.tsv"] = read_text(dir / "thresholds.tsv");
  return out;
}

std::vector<std::pair<std::string, double>> read_thresholds(const fs::path& file) {
  std::vector<std::pair<std::string, double>> out;
  std::istringstream in(read_text(file));
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    out.emplace_back(line.substr(0, tab), std::stod(line.substr(tab + 1)));
  }
  return out;
}

// Starts the moodboost program with \p args, waits \p delay, then until \p ready() (or 60 s),
// and kills it with SIGKILL. True when the kill landed (the run had not finished).
template <typename Ready>
bool kill_when(std::vector<std::string> args, Ready ready, std::chrono::milliseconds delay) {
  args.insert(args.begin(), cli_path().string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
  std::this_thread::sleep_for(delay);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (!ready() && std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // finished (or failed) alone
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// Train-phase records on disk (finished tags, if their files check out).
std::size_t finished_records(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  if (!fs::is_directory(dir / "records", ec)) return 0;
  for (const auto& entry : fs::directory_iterator(dir / "records")) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".train.json") && name[0] != '.') ++n;
  }
  return n;
}

// The temporary files of AtomicFile (".<name>.tmp-<random>") under \p dir.
std::vector<std::string> temporary_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name[0] == '.' && name.find(".tmp-") != std::string::npos) out.push_back(name);
  }
  return out;
}

// Every visible file of a model directory is whole: JSON files parse, and every record's model
// file exists with the hash the record gives (the model is written before its record). A kill
// that lands before the run created \p dir leaves nothing to check.
void check_whole_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name[0] == '.') continue;
    INFO(entry.path().string());
    const std::string text = read_text(entry.path());
    if (entry.path().extension() == ".json") {
      rapidjson::Document doc;
      doc.Parse<rapidjson::kParseNanAndInfFlag>(text.data(), text.size());
      REQUIRE_FALSE(doc.HasParseError());
      if (entry.path().parent_path().filename() == "records" &&
          entry.path().string().ends_with(".train.json")) {
        REQUIRE(doc.HasMember("components"));
        REQUIRE(doc["components"].Size() > 0);
        for (const auto& component : doc["components"].GetArray()) {
          const std::string model = component["model"]["file"].GetString();
          REQUIRE(fs::exists(dir / model));
          CHECK(detail::fnv1a_hex(read_text(dir / model)) ==
                component["model"]["fnv1a64"].GetString());
        }
      }
    } else {
      CHECK((text.empty() || text.back() == '\n'));
    }
  }
}
// Runs `train` with \p extra arguments on a small planted dataset; the run must stop with exit
// code 2 before it creates the model directory. Returns what it printed on stderr.
std::string refused_train(const std::vector<std::string>& extra) {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 50, 40, 10, 6, 1, 51);
  auto args = planted_train_args(data, tmp / "model");
  args.insert(args.end(), extra.begin(), extra.end());
  const RunResult r = run_cli(args);
  CHECK(r.exit_code == 2);
  CHECK_FALSE(fs::exists(tmp / "model"));
  return r.err;
}
}  // namespace

TEST_CASE("train cli: run trains, predicts the test split with the stored thresholds, evaluates",
          "[train][cli]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 300, 200, 150, 12, 3, 31);
  auto args = planted_train_args(data, tmp / "out");
  args[0] = "run";
  const RunResult run = run_cli(args);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("tree_rounds") && Catch::Contains("tag0") &&
                          Catch::Contains("macro") && Catch::Contains("PR-AUC-macro"));

  const ScoreMatrix scores = read_score_matrix(tmp / "out/test/predictions.npy");
  const LabelMatrix decisions = read_label_matrix(tmp / "out/test/decisions.npy");
  REQUIRE(scores.rows() == 150);
  REQUIRE(scores.cols() == 4);  // tag0..tag2 and "other"
  const auto thresholds = read_thresholds(tmp / "out/model/thresholds.tsv");
  REQUIRE(thresholds.size() == 4);
  CHECK(thresholds[0].first == "mood/theme---tag0");
  for (Eigen::Index r = 0; r < scores.rows(); ++r) {
    for (Eigen::Index t = 0; t < scores.cols(); ++t) {
      REQUIRE((decisions(r, t) != 0) == (scores(r, t) > thresholds[t].second));
    }
  }
  const std::string results = read_text(tmp / "out/test/results.tsv");
  CHECK(results.rfind("ROC-AUC-macro\t", 0) == 0);
  CHECK(std::count(results.begin(), results.end(), '\n') == 10);
  CHECK(fs::exists(tmp / "out/test/results.json"));

  // `predict` alone gives the same files.
  const RunResult predict = run_cli(
      {"predict", "--model", (tmp / "out/model").string(), "--features", data.features.string(),
       "--split", (data.splits / "tiny-test.tsv").string(), "--out-dir", (tmp / "again").string()});
  REQUIRE(predict.exit_code == 0);
  CHECK(read_text(tmp / "again/predictions.npy") == read_text(tmp / "out/test/predictions.npy"));
  CHECK(read_text(tmp / "again/decisions.npy") == read_text(tmp / "out/test/decisions.npy"));
}

TEST_CASE("train cli: a tag subset with --unknown-tags ignore trains, predicts and evaluates",
          "[train][cli]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 200, 120, 80, 8, 3, 33);
  // Two of the four tags: every split (test included) has labels outside this vocabulary.
  write_text(tmp / "two-tags.txt", data.tag_names[0] + "\n" + data.tag_names[1] + "\n");
  auto args = planted_train_args(data, tmp / "out");
  args[0] = "run";
  *(std::find(args.begin(), args.end(), "--tags") + 1) = (tmp / "two-tags.txt").string();
  args.insert(args.end(), {"--unknown-tags", "ignore"});
  const RunResult run = run_cli(args);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(read_score_matrix(tmp / "out/test/predictions.npy").cols() == 2);
  const std::string results = read_text(tmp / "out/test/results.tsv");
  CHECK(std::count(results.begin(), results.end(), '\n') == 10);

  // `predict` refuses the same split by default, before it writes anything, and names the tag.
  const std::vector<std::string> predict{"predict",
                                         "--model",
                                         (tmp / "out/model").string(),
                                         "--features",
                                         data.features.string(),
                                         "--split",
                                         (data.splits / "tiny-test.tsv").string(),
                                         "--out-dir",
                                         (tmp / "p").string()};
  const RunResult refused = run_cli(predict);
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err, Catch::Contains("tiny-test.tsv") && Catch::Contains("line") &&
                              Catch::Contains("not in the tag vocabulary"));
  CHECK_FALSE(fs::exists(tmp / "p/predictions.npy"));
  auto ignore = predict;
  ignore.insert(ignore.end(), {"--unknown-tags", "ignore"});
  const RunResult predicted = run_cli(ignore);
  INFO(predicted.err);
  REQUIRE(predicted.exit_code == 0);
  CHECK(read_text(tmp / "p/results.tsv") == results);
}

TEST_CASE("train cli: a misspelt or invalid --param is refused before any work", "[train][cli]") {
  CHECK_THAT(refused_train({"--param", "max_dpeth=3"}),
             Catch::Contains("--param max_dpeth") && Catch::Contains("misspelt"));
  CHECK_THAT(refused_train({"--param", "subsample=lots"}),
             Catch::Contains("--param") && Catch::Contains("subsample"));
}

TEST_CASE("train cli: training never reads the test split", "[train][cli]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 300, 200, 100, 12, 3, 41);
  // The test split's file becomes unparseable and its feature files disappear: any read of
  // either would fail the run.
  const Split test_split = read_split(data.splits / "tiny-test.tsv");
  for (const Track& track : test_split.tracks) fs::remove(data.features / feature_relpath(track));
  write_text(data.splits / "tiny-test.tsv", "not a split file\n");
  auto args = planted_train_args(data, tmp / "model");
  args.insert(args.end(), {"--trials", "3", "--budget-minutes", "5"});
  const RunResult train = run_cli(args);
  INFO(train.err);
  CHECK(train.exit_code == 0);
  CHECK(fs::exists(tmp / "model/manifest.json"));
  CHECK(read_text(tmp / "model/manifest.json").find("tiny-test") == std::string::npos);
}

TEST_CASE("train cli: --device cuda on a CPU-only XGBoost fails before any work", "[train][cli]") {
  const RunResult version = run_cli({"version"});
  if (version.out.find("(CUDA)") != std::string::npos) {
    WARN("MOODBOOST-SKIP: the linked XGBoost has CUDA");
    return;
  }
  CHECK_THAT(refused_train({"--device", "cuda"}),
             Catch::Contains("--device cuda") && Catch::Contains("without CUDA"));
}

TEST_CASE("train cli: other arguments in an existing model directory are refused", "[train][cli]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 120, 80, 10, 8, 2, 61);
  REQUIRE(run_cli(planted_train_args(data, tmp / "model")).exit_code == 0);
  auto other = planted_train_args(data, tmp / "model");
  other.insert(other.end(), {"--early-stopping", "3"});
  const RunResult refused = run_cli(other);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("early_stopping") && Catch::Contains("--restart"));
  other.push_back("--restart");
  CHECK(run_cli(other).exit_code == 0);
}

TEST_CASE("train cli: SIGKILL mid-run, then the same command, equals an uninterrupted run",
          "[train][cli]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 800, 300, 60, 30, 6, 71);
  auto slow = [&](const fs::path& out) {
    auto args = planted_train_args(data, out);
    *(std::find(args.begin(), args.end(), "--rounds") + 1) = "300";
    args.insert(args.end(), {"--early-stopping", "0"});
    return args;
  };
  REQUIRE(run_cli(slow(tmp / "full")).exit_code == 0);

  // The same run, killed three times: early (loading or the first fits), once a first tag's
  // record is on disk, and once three more are; after each kill every file a reader can see is
  // whole (temporary files aside), and each record's model file is the one it names.
  const fs::path killed_dir = tmp / "killed";
  int kills = 0;
  for (const int more_records : {-1, 1, 3}) {
    const std::size_t before = finished_records(killed_dir);
    const bool killed = kill_when(
        slow(killed_dir),
        [&] {
          return more_records < 0 ? true : finished_records(killed_dir) >= before + more_records;
        },
        more_records < 0 ? std::chrono::milliseconds(50) : std::chrono::milliseconds(0));
    if (!killed) break;  // the run finished first: nothing left to interrupt
    ++kills;
    CHECK_FALSE(fs::exists(killed_dir / "manifest.json"));
    check_whole_files(killed_dir);
  }
  if (kills < 3) WARN("only " << kills << " kill(s) landed before the run finished");

  const std::size_t finished_before = finished_records(killed_dir);
  const RunResult resumed = run_cli(slow(killed_dir));
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  if (finished_before > 0) {
    CHECK_THAT(resumed.err, Catch::Contains("already trained"));
  }
  check_whole_files(killed_dir);
  CHECK(temporary_files(killed_dir).empty());
  CHECK(model_files(killed_dir) == model_files(tmp / "full"));

  // The predictions of the two model directories are the same bytes.
  for (const auto& dir : {tmp / "full", killed_dir}) {
    const RunResult predict =
        run_cli({"predict", "--model", dir.string(), "--features", data.features.string(),
                 "--split", (data.splits / "tiny-test.tsv").string(), "--out-dir",
                 (dir.string() + "-test"), "--threads", "2"});
    INFO(predict.err);
    REQUIRE(predict.exit_code == 0);
  }
  for (const char* name : {"predictions.npy", "decisions.npy", "results.tsv"}) {
    INFO(name);
    CHECK(read_text(tmp / ("killed-test/" + std::string(name))) ==
          read_text(tmp / ("full-test/" + std::string(name))));
  }
}

TEST_CASE("train cli: Python's xgboost loads a saved model and predicts the same scores",
          "[train][cli][python]") {
  const fs::path python = python_with({"xgboost", "numpy"});
  if (python.empty()) return;
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 200, 100, 60, 10, 2, 81);
  REQUIRE(run_cli(planted_train_args(data, tmp / "model")).exit_code == 0);
  const RunResult predict = run_cli(
      {"predict", "--model", (tmp / "model").string(), "--features", data.features.string(),
       "--split", (data.splits / "tiny-test.tsv").string(), "--out-dir", (tmp / "pred").string()});
  REQUIRE(predict.exit_code == 0);
  // The same rows as a plain matrix (the columns of the saved schema) for Python.
  const RunResult flat = run_cli(
      {"flatten", "--features", data.features.string(), "--split",
       (data.splits / "tiny-test.tsv").string(), "--schema", (tmp / "model/schema.json").string(),
       "--out", (tmp / "x.npy").string(), "--names", (tmp / "names.txt").string()});
  INFO(flat.err);
  REQUIRE(flat.exit_code == 0);
  const std::string script =
      "import sys, numpy as np, xgboost as xgb\n"
      "x = np.load(sys.argv[1]); p = np.load(sys.argv[2])\n"
      "for t, f in enumerate(sys.argv[3:]):\n"
      "    b = xgb.Booster(model_file=f)\n"
      "    q = b.predict(xgb.DMatrix(x, missing=np.nan))\n"
      "    d = float(np.max(np.abs(q.astype(np.float64) - p[:, t])))\n"
      "    print(f, d)\n"
      "    assert d == 0.0, d\n"
      "print('OK')\n";
  write_text(tmp / "check.py", script);
  std::vector<std::string> args{(tmp / "check.py").string(), (tmp / "x.npy").string(),
                                (tmp / "pred/predictions.npy").string()};
  for (int t = 0; t < 3; ++t) {
    const std::string name = t < 2 ? "tag" + std::to_string(t) : "other";
    args.push_back(
        (tmp / "model/models" / ("00" + std::to_string(t) + "-mood_theme---" + name + ".json"))
            .string());
  }
  const RunResult py = run_program(python, args);
  INFO(py.out + py.err);
  CHECK(py.exit_code == 0);
  CHECK_THAT(py.out, Catch::Contains("OK"));
}

TEST_CASE("train cli: the defaults cross-validate a small training split and say so in one line",
          "[train][cli][cv]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 240, 120, 40, 10, 2, 83);
  const RunResult run =
      run_cli({"train", "--features", data.features.string(), "--splits", data.splits.string(),
               "--tags", data.tags.string(), "--out", (tmp / "model").string(), "--threads", "2"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.err, Catch::Contains("selection: held out on 5-fold cross-validation on the "
                                      "training split, folds grouped by ARTIST_ID (--cv auto: "
                                      "240 training rows <= 5000)"));
  CHECK_THAT(run.err, Catch::Contains("the small-data portfolio"));
  CHECK_THAT(run.out, Catch::Contains("cv_PR-AUC") && Catch::Contains("models: "));
  const std::string manifest = read_text(tmp / "model/manifest.json");
  CHECK_THAT(manifest, Catch::Contains("\"heldout\": \"cross-validation\""));
  const std::string trials = read_text(tmp / "model/trials.tsv");
  CHECK(std::count(trials.begin(), trials.end(), '\n') == 1 + 4 + 6);  // the portfolio, all tags

  // Explicit choices are said as such; a bad --cv fails before any work.
  const RunResult holdout = run_cli({"train", "--features", data.features.string(), "--splits",
                                     data.splits.string(), "--tags", data.tags.string(), "--out",
                                     (tmp / "holdout").string(), "--cv", "0", "--family", "tree"});
  INFO(holdout.err);
  REQUIRE(holdout.exit_code == 0);
  CHECK_THAT(holdout.err, Catch::Contains("held out on the validation split (--cv 0)"));
  for (const char* bad : {"1", "-2", "many", "101"}) {
    const RunResult refused =
        run_cli({"train", "--features", data.features.string(), "--splits", data.splits.string(),
                 "--out", (tmp / "bad").string(), "--cv", bad});
    INFO(bad << ": " << refused.err);
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.err, Catch::Contains("--cv"));
    CHECK_FALSE(fs::exists(tmp / "bad"));
  }
}

TEST_CASE("train cli: the README's Python recipe reproduces predict: linear models and blends",
          "[train][cli][python][linear]") {
  const fs::path python = python_with({"xgboost", "numpy"});
  if (python.empty()) return;
  // The recipe is the README's own code block, run as it is written but for its two paths.
  const std::string readme = read_text(moodboost::test::source_dir() / "README.md");
  const auto marker = readme.find("A tag's score, exactly as `moodboost predict` computes it:");
  REQUIRE(marker != std::string::npos);
  const auto begin = readme.find("```python\n", marker);
  const auto end = readme.find("```\n", begin + 10);
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  std::string recipe = readme.substr(begin + 10, end - begin - 10);
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = recipe.find(from);
    REQUIRE(at != std::string::npos);
    recipe.replace(at, from.size(), to);
  };
  replace("model = \"out/jamendo/model\"", "import sys\nmodel = sys.argv[1]");
  replace("np.load(\"x.npy\")", "np.load(sys.argv[2])");
  recipe +=
      "p = np.load(sys.argv[3]); d = np.load(sys.argv[4])\n"
      "assert np.array_equal(scores, p), float(np.max(np.abs(scores - p)))\n"
      "assert np.array_equal(decisions, d)\n"
      "print('OK', ' '.join(sorted(set(tag['tag_model'] for tag in manifest['tags']))))\n";

  TempDir tmp;
  write_text(tmp / "recipe.py", recipe);
  // Column 4 misses every 7th value: the recipe replaces it by scaler.tsv's mean.
  const auto data = write_planted_dataset(tmp / "data", 240, 120, 70, 10, 2, 85);
  const fs::path test_split = data.splits / "tiny-test.tsv";
  for (const char* family : {"linear", "auto"}) {
    const fs::path model = tmp / (std::string("model-") + family);
    auto args = planted_train_args(data, model);
    *(std::find(args.begin(), args.end(), "--family") + 1) = family;
    *(std::find(args.begin(), args.end(), "--cv") + 1) = "3";
    const RunResult train = run_cli(args);
    INFO(train.err);
    REQUIRE(train.exit_code == 0);
    const RunResult predict =
        run_cli({"predict", "--model", model.string(), "--features", data.features.string(),
                 "--split", test_split.string(), "--out-dir", (model.string() + "-pred")});
    INFO(predict.err);
    REQUIRE(predict.exit_code == 0);
    const RunResult x =
        run_cli({"flatten", "--features", data.features.string(), "--split", test_split.string(),
                 "--schema", (model / "schema.json").string(), "--out", (model.string() + "-x.npy"),
                 "--names", (model.string() + "-names.txt")});
    INFO(x.err);
    REQUIRE(x.exit_code == 0);
    const RunResult py = run_program(
        python, {(tmp / "recipe.py").string(), model.string(), model.string() + "-x.npy",
                 model.string() + "-pred/predictions.npy", model.string() + "-pred/decisions.npy"});
    INFO(py.out + py.err);
    CHECK(py.exit_code == 0);
    CHECK_THAT(py.out, Catch::Contains(std::string(family) == "linear" ? "OK linear" : "OK"));
  }
}

TEST_CASE("train cli: infinity in the features (beyond float32) is refused before any work",
          "[train][cli][numbers]") {
  TempDir tmp;
  const auto data = write_planted_dataset(tmp / "data", 60, 40, 10, 6, 1, 71);
  // Training rows are tracks 1..60, validation rows 61..100.
  auto replace_bpm = [&](const std::string& rel, const std::string& value) {
    const fs::path file = data.features / rel;
    std::string text = read_text(file);
    const auto at = text.find("\"bpm\": 120");
    REQUIRE(at != std::string::npos);
    text.replace(at, 10, "\"bpm\": " + value);
    write_text(file, text);
  };
  replace_bpm("01/1.json", "1e39");
  replace_bpm("02/2.json", "-3.5e38");
  replace_bpm("03/3.json", "1e39");
  replace_bpm("61/61.json", "Infinity");

  const RunResult accepted = run_cli(planted_train_args(data, tmp / "model"));
  INFO(accepted.err);
  CHECK(accepted.exit_code == 1);
  CHECK_THAT(accepted.err,
             Catch::Contains("the training features hold 3 infinite values, the validation "
                             "features 1 infinite value") &&
                 Catch::Contains("--non-finite reject"));
  CHECK_FALSE(fs::exists(tmp / "model/run.json"));
  CHECK_FALSE(fs::exists(tmp / "model/manifest.json"));

  // The planted features hold NaN (missing values), which the reject policy would find first.
  for (const auto& entry : fs::recursive_directory_iterator(data.features)) {
    if (!entry.is_regular_file()) continue;
    std::string text = read_text(entry.path());
    for (auto at = text.find("NaN"); at != std::string::npos; at = text.find("NaN", at)) {
      text.replace(at, 3, "0");
    }
    write_text(entry.path(), text);
  }
  auto reject = planted_train_args(data, tmp / "model");
  reject.insert(reject.end(), {"--non-finite", "reject"});
  const RunResult rejected = run_cli(reject);
  INFO(rejected.err);
  CHECK(rejected.exit_code == 1);
  CHECK_THAT(rejected.err,
             Catch::Contains("01/1.json: /rhythm/bpm: non-finite number: 1e39 is beyond the "
                             "float32 range"));
  CHECK_FALSE(fs::exists(tmp / "model/run.json"));
}
