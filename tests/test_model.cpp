#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "detail/labels.hpp"
#include "detail/model_dir.hpp"
#include "moodboost/error.hpp"
#include "moodboost/feature_schema.hpp"
#include "moodboost/io.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/model.hpp"
#include "planted.hpp"
#include "support.hpp"

using namespace moodboost;
using moodboost::test::planted_split;
using moodboost::test::read_text;
using moodboost::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int kTags = 3;

// A real schema for \p columns plain columns (lowlevel.planted.mean.0, ...).
FeatureSchema planted_schema(int columns) {
  FeatureField field;
  field.path = {"lowlevel", "planted", "mean"};
  field.kind = FieldKind::kVector;
  field.cols = static_cast<std::size_t>(columns);
  return FeatureSchema({field}, FeatureSchema::column_names_of(field));
}

TrainingData planted_data(int tags = kTags) {
  auto train = planted_split(300, 16, tags, 21);
  auto valid = planted_split(200, 16, tags, 22);
  TrainingData data;
  data.train_x = train.x;
  data.train_y = train.y;
  data.validation_x = valid.x;
  data.validation_y = valid.y;
  for (int t = 0; t < tags; ++t) data.tags.push_back("mood/theme---tag" + std::to_string(t));
  data.splits = {{"train", "train.tsv", 300, "0000000000000001"},
                 {"validation", "validation.tsv", 200, "0000000000000002"}};
  data.features.features_dir = "planted";
  data.features.columns = 16;
  data.features.synthetic = true;
  data.schema = planted_schema(16);
  // Three tracks per artist.
  for (int r = 0; r < 300; ++r) data.train_groups.push_back("artist_" + std::to_string(r / 3));
  return data;
}

RunSettings small_settings() {
  RunSettings s;
  s.boost.params = {{"max_depth", "3"}, {"eta", "0.3"}, {"max_bin", "32"}, {"subsample", "0.8"}};
  s.boost.max_rounds = 25;
  s.boost.early_stopping = 4;
  s.boost.eval_metric = "aucpr";
  s.base_config.params = {{"max_depth", "3"}, {"eta", "0.3"}, {"max_bin", "32"}};
  s.engine = {Device::kCpu, 2, ThreadStrategy::kAuto};
  return s;
}

// Every file of a model directory except the volatile ones (timings differ between runs).
std::map<std::string, std::string> model_files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), dir).string();
    if (rel.rfind("models/", 0) == 0 || rel == "thresholds.tsv" || rel == "schema.json" ||
        rel == "scaler.tsv") {
      out[rel] = read_text(entry.path());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("model dir: manifest, thresholds and predictions of a finished run", "[model]") {
  TempDir tmp;
  const TrainingData data = planted_data();
  RunSettings settings = small_settings();
  settings.command_line = {"moodboost", "train", "--test-only"};
  const auto records = train_model_dir(data, settings, tmp.path());
  REQUIRE(records.size() == kTags);

  const std::string manifest = read_text(tmp / "manifest.json");
  for (const char* key : {"\"moodboost_version\"",
                          "\"xgboost_version\"",
                          "\"xgboost_build_info\"",
                          "\"device\": \"cpu\"",
                          "\"features\"",
                          "\"schema_file\"",
                          "\"synthetic_features\": true",
                          "\"splits\"",
                          "\"rows\": 300",
                          "\"final_params\"",
                          "\"best_iteration\"",
                          "\"validation_roc_auc\"",
                          "\"validation_pr_auc\"",
                          "\"threshold\"",
                          "\"positives\"",
                          "\"seconds\"",
                          "\"fnv1a64\"",
                          "\"default_models\": \"train\"",
                          "\"--test-only\"",
                          "mood/theme---tag2"}) {
    INFO(key);
    CHECK(manifest.find(key) != std::string::npos);
  }

  const LoadedModel model(tmp.path(), ModelChoice::kDefault);
  CHECK(model.tags() == data.tags);
  CHECK_FALSE(model.uses_refit());
  const ScoreMatrix scores = model.predict(data.validation_x);
  std::string expected_thresholds;
  for (std::size_t t = 0; t < records.size(); ++t) {
    const auto labels = detail::label_column(data.validation_y, t);
    std::vector<double> column(scores.rows());
    for (Eigen::Index r = 0; r < scores.rows(); ++r) column[r] = scores(r, t);
    // The stored metrics and threshold are those of the saved model's validation predictions.
    CHECK(records[t].validation_pr_auc == average_precision(column, labels));
    CHECK(records[t].validation_roc_auc == roc_auc(column, labels));
    CHECK(records[t].validation_roc_auc > 0.8);
    CHECK(records[t].threshold == best_f1_threshold(column, labels));
    CHECK(model.thresholds()[t] == records[t].threshold);
  }
  const LabelMatrix decisions = model.decide(scores);
  for (Eigen::Index r = 0; r < scores.rows(); ++r) {
    for (Eigen::Index t = 0; t < scores.cols(); ++t) {
      REQUIRE((decisions(r, t) != 0) == (scores(r, t) > records[t].threshold));
    }
  }
  CHECK(read_text(tmp / "thresholds.tsv").rfind("mood/theme---tag0\t", 0) == 0);
}

TEST_CASE("model dir: an interrupted run resumes to exactly the uninterrupted result", "[model]") {
  const TrainingData data = planted_data();
  TempDir full, resumed;
  (void)train_model_dir(data, small_settings(), full.path());

  RunHooks hooks;
  int finished = 0;
  hooks.tag_done = [&](const std::string&, std::size_t, std::size_t, const TagRecord&) {
    ++finished;
  };
  hooks.fit.stop_requested = [&] { return finished >= 1; };
  RunSettings settings = small_settings();
  settings.engine.strategy = ThreadStrategy::kPerTag;  // one tag at a time: a clean cut
  CHECK_THROWS_AS(train_model_dir(data, settings, resumed.path(), hooks), TrainingInterrupted);
  CHECK(fs::exists(resumed / "records/000.train.json"));
  CHECK_FALSE(fs::exists(resumed / "manifest.json"));
  CHECK_THROWS_AS(LoadedModel(resumed.path(), ModelChoice::kDefault), IoError);

  std::vector<std::string> messages;
  RunHooks resume_hooks;
  resume_hooks.message = [&](const std::string& m) { messages.push_back(m); };
  (void)train_model_dir(data, small_settings(), resumed.path(), resume_hooks);
  REQUIRE_FALSE(messages.empty());
  CHECK_THAT(messages.back(), Catch::Contains("1 of 3 tags already trained"));
  const auto got = model_files(resumed.path());
  const auto want = model_files(full.path());
  for (const auto& [name, text] : want) {
    INFO(name);
    CHECK(got.at(name) == text);
  }
}

TEST_CASE("model dir: a damaged model file is detected and its tag retrained", "[model]") {
  const TrainingData data = planted_data();
  TempDir dir;
  (void)train_model_dir(data, small_settings(), dir.path());
  const auto before = model_files(dir.path());
  const fs::path victim = dir / "models/001-mood_theme---tag1.json";
  REQUIRE(fs::exists(victim));
  const std::string bytes = read_text(victim);
  moodboost::test::write_text(victim, bytes.substr(0, bytes.size() / 2));  // a half-written file

  CHECK_THROWS_WITH(LoadedModel(dir.path(), ModelChoice::kDefault),
                    Catch::Contains("001-mood_theme---tag1.json") && Catch::Contains("damaged"));
  std::vector<std::string> messages;
  RunHooks hooks;
  hooks.message = [&](const std::string& m) { messages.push_back(m); };
  (void)train_model_dir(data, small_settings(), dir.path(), hooks);
  CHECK_THAT(messages.back(), Catch::Contains("2 of 3 tags already trained"));
  CHECK(model_files(dir.path()) == before);

  moodboost::test::write_text(dir / "records/002.train.json", "{\"fingerprint\": ");  // torn record
  (void)train_model_dir(data, small_settings(), dir.path(), hooks);
  CHECK(model_files(dir.path()) == before);
}

TEST_CASE("model dir: other arguments are refused unless --restart", "[model]") {
  const TrainingData data = planted_data();
  TempDir dir;
  (void)train_model_dir(data, small_settings(), dir.path());
  RunSettings other = small_settings();
  other.boost.max_rounds = 10;
  CHECK_THROWS_WITH(train_model_dir(data, other, dir.path()), Catch::Contains("other arguments") &&
                                                                  Catch::Contains("rounds") &&
                                                                  Catch::Contains("--restart"));
  other.restart = true;
  const auto records = train_model_dir(data, other, dir.path());
  for (const auto& r : records) CHECK(r.components.at(0).rounds_trained <= 10);
  // Threads never change a model, so they may differ on resume.
  RunSettings threads = other;
  threads.restart = false;
  threads.engine.threads = 1;
  CHECK_NOTHROW(train_model_dir(data, threads, dir.path()));
}

TEST_CASE("model dir: refit on train + validation beside the train-only models", "[model]") {
  const TrainingData data = planted_data();
  TempDir dir;
  RunSettings settings = small_settings();
  settings.refit = Refit::kTrainValidation;
  const auto records = train_model_dir(data, settings, dir.path());
  for (const auto& r : records) {
    REQUIRE(r.components.size() == 1);
    const ComponentRecord& c = r.components[0];
    CHECK(c.refit_rounds == refit_rounds(c.best_iteration + 1, 300, 200));
    CHECK(fs::exists(dir / c.refit_model_file));
    CHECK(fs::exists(dir / c.model_file));
  }
  CHECK(refit_rounds(30, 300, 200) == 50);
  CHECK(refit_rounds(1, 9949, 3802) == 1);

  const LoadedModel refit(dir.path(), ModelChoice::kDefault);
  const LoadedModel train_only(dir.path(), ModelChoice::kTrain);
  CHECK(refit.uses_refit());
  CHECK_FALSE(train_only.uses_refit());
  CHECK(refit.thresholds() == train_only.thresholds());  // thresholds from the train-only fit
  CHECK(refit.predict(data.validation_x) != train_only.predict(data.validation_x));
  CHECK(read_text(dir / "manifest.json").find("\"default_models\": \"refit\"") !=
        std::string::npos);

  TempDir no_refit;
  (void)train_model_dir(data, small_settings(), no_refit.path());
  CHECK_THROWS_AS(LoadedModel(no_refit.path(), ModelChoice::kRefit), InvalidArgument);
}

TEST_CASE("model dir: a search logs every trial and is reproducible", "[model][tune]") {
  const TrainingData data = planted_data(6);
  TempDir a, b;
  RunSettings settings = small_settings();
  settings.tune.trials = 4;
  settings.tune.first_stage_tags = 2;
  settings.tune.seed = 5;
  (void)train_model_dir(data, settings, a.path());
  (void)train_model_dir(data, settings, b.path());
  const std::string trials = read_text(a / "trials.tsv");
  // Header, the 4 portfolio and 4 random configurations on 2 tags, then the best 3 on all 6.
  CHECK(std::count(trials.begin(), trials.end(), '\n') == 1 + 8 + 3);
  CHECK(trials.find("halving-1") != std::string::npos);
  CHECK(model_files(a.path()) == model_files(b.path()));
  CHECK(read_text(a / "tuning.json") == read_text(b / "tuning.json"));
}

TEST_CASE("model dir: with few tags, the first stage runs every tag and decides", "[model][tune]") {
  const TrainingData data = planted_data();
  TempDir dir;
  RunSettings settings = small_settings();
  settings.tune.trials = 2;
  settings.tune.first_stage_tags = 2;  // 3 tags <= 2 x 2: every tag from the start
  (void)train_model_dir(data, settings, dir.path());
  const std::string trials = read_text(dir / "trials.tsv");
  CHECK(std::count(trials.begin(), trials.end(), '\n') == 1 + 4 + 2);
  CHECK(trials.find("halving-1") == std::string::npos);
  CHECK(trials.find("tag0,mood/theme---tag") != std::string::npos);
}

TEST_CASE("model dir: a per-tag search gives every tag one of the finalists", "[model][tune]") {
  const TrainingData data = planted_data(6);
  TempDir dir;
  RunSettings settings = small_settings();
  settings.tune.trials = 3;
  settings.tune.first_stage_tags = 2;
  settings.tune.per_tag = true;
  settings.tune.fixed_params = {"max_bin"};
  const auto records = train_model_dir(data, settings, dir.path());
  const std::string trials = read_text(dir / "trials.tsv");
  for (const auto& r : records) {
    const XgbParams& params = r.components.at(0).params;
    CHECK(params.at("max_bin") == "32");  // fixed: never searched
    CHECK(trials.find(params.at("eta")) != std::string::npos);
  }
  const std::string tuning = read_text(dir / "tuning.json");
  CHECK(std::count(tuning.begin(), tuning.end(), '{') >= 2 * 6);
}

TEST_CASE("tune: configurations are seeded, fixed parameters stay, id 0 is the base", "[tune]") {
  TuneConfig base;
  base.params = {{"max_depth", "4"}, {"eta", "0.1"}};
  TuneOptions options;
  options.seed = 3;
  options.fixed_params = {"eta"};
  CHECK(draw_config(base, options, 0).key() == base.key());
  const TuneConfig a = draw_config(base, options, 5);
  CHECK(a.key() == draw_config(base, options, 5).key());
  CHECK(a.key() != draw_config(base, options, 6).key());
  CHECK(a.params.at("eta") == "0.1");
  for (const char* key : {"max_depth", "min_child_weight", "subsample", "colsample_bytree",
                          "reg_lambda", "reg_alpha", "max_bin"}) {
    CHECK(a.params.contains(key));
  }
  options.seed = 4;
  CHECK(a.key() != draw_config(base, options, 5).key());
}

TEST_CASE("tune: a budget too small for a search keeps the base configuration", "[tune]") {
  const TrainingData data = planted_data();
  Trainer trainer(data.train_x, &data.validation_x, {Device::kCpu, 2, ThreadStrategy::kAuto});
  RunSettings settings = small_settings();
  TuneOptions options;
  options.budget_seconds = 1e-6;  // the first trial alone exceeds it
  options.first_stage_tags = 2;
  std::vector<Trial> logged;
  TuneHooks hooks;
  hooks.on_trial = [&](const Trial& t) { logged.push_back(t); };
  const TuneResult result = tune(trainer, data.train_y, data.validation_y, data.tags,
                                 settings.boost, {settings.base_config}, options, hooks);
  CHECK(logged.size() == 1);
  REQUIRE(result.families.size() == 1);
  CHECK(result.families[0].best.key() == settings.base_config.key());
  CHECK(result.families[0].best_score == logged[0].score);
}

namespace {

// Both families, held out by 3-fold cross-validation grouped by artist.
RunSettings cross_validated_settings() {
  RunSettings s = small_settings();
  s.cv_folds = 3;
  s.tune.families = {Family::kTree, Family::kLinear};
  s.linear_base_config.family = Family::kLinear;
  s.linear_base_config.params = {{"reg_lambda", "0.3"}};
  s.boost.linear_params = {{"reg_lambda", "0.3"}, {"reg_alpha", "0"}, {"eta", "0.5"}};
  return s;
}

}  // namespace

TEST_CASE("model dir: both families, cross-validated: every tag's model, manifest, predictions",
          "[model][cv]") {
  const TrainingData data = planted_data();
  TempDir dir;
  const auto records = train_model_dir(data, cross_validated_settings(), dir.path());
  REQUIRE(records.size() == kTags);
  const LoadedModel model(dir.path(), ModelChoice::kDefault);
  const ScoreMatrix scores = model.predict(data.validation_x);
  for (std::size_t t = 0; t < records.size(); ++t) {
    const TagRecord& r = records[t];
    INFO(r.tag << ": " << r.choice.reason);
    CHECK(r.folds == 3);
    CHECK(model.tag_models()[t] == r.model);
    CHECK(r.components.size() == (r.model == TagModel::kBlend ? 2u : 1u));
    CHECK_FALSE(std::isnan(r.choice.tree_pr_auc));
    CHECK_FALSE(std::isnan(r.choice.linear_pr_auc));
    CHECK_FALSE(std::isnan(r.choice.blend_pr_auc));
    for (const ComponentRecord& c : r.components) CHECK(fs::exists(dir / c.model_file));
    // The loaded model predicts exactly the scores the threshold was fitted on.
    std::vector<double> column(static_cast<std::size_t>(scores.rows()));
    for (Eigen::Index row = 0; row < scores.rows(); ++row) {
      column[static_cast<std::size_t>(row)] = scores(row, static_cast<Eigen::Index>(t));
    }
    const auto labels = detail::label_column(data.validation_y, t);
    CHECK(r.validation_roc_auc == roc_auc(column, labels));
    CHECK(r.threshold == best_f1_threshold(column, labels));
  }
  const std::string manifest = read_text(dir / "manifest.json");
  for (const char* key : {"\"format_version\": 2", "\"heldout\": \"cross-validation\"",
                          "\"folds_grouped_by\": \"ARTIST_ID\"", "\"tag_model\"", "\"components\"",
                          "\"scaler_file\": \"scaler.tsv\"", "score > threshold (strict)",
                          "\"family\": \"linear\""}) {
    INFO(key);
    CHECK(manifest.find(key) != std::string::npos);
  }
  CHECK(model.scaler().has_value());
  CHECK(fs::exists(dir / "scaler.tsv"));
}

TEST_CASE("model dir: an interrupted cross-validated run resumes to the same models",
          "[model][cv]") {
  const TrainingData data = planted_data();
  TempDir full, resumed;
  (void)train_model_dir(data, cross_validated_settings(), full.path());

  RunHooks hooks;
  int finished = 0;
  hooks.tag_done = [&](const std::string&, std::size_t, std::size_t, const TagRecord&) {
    ++finished;
  };
  hooks.fit.stop_requested = [&] { return finished >= 1; };
  RunSettings settings = cross_validated_settings();
  settings.engine.strategy = ThreadStrategy::kPerTag;
  CHECK_THROWS_AS(train_model_dir(data, settings, resumed.path(), hooks), TrainingInterrupted);
  CHECK_FALSE(fs::exists(resumed / "manifest.json"));

  std::vector<std::string> messages;
  RunHooks resume_hooks;
  resume_hooks.message = [&](const std::string& m) { messages.push_back(m); };
  (void)train_model_dir(data, cross_validated_settings(), resumed.path(), resume_hooks);
  REQUIRE_FALSE(messages.empty());
  CHECK_THAT(messages.back(), Catch::Contains("1 of 3 tags already trained"));
  CHECK(model_files(resumed.path()) == model_files(full.path()));
}

TEST_CASE("model dir: cross-validation needs every training row's artist", "[model][cv]") {
  TrainingData data = planted_data();
  data.train_groups.pop_back();
  TempDir dir;
  CHECK_THROWS_WITH(train_model_dir(data, cross_validated_settings(), dir.path()),
                    Catch::Contains("ARTIST_ID"));
  CHECK_FALSE(fs::exists(dir / "run.json"));
}

TEST_CASE("model dir: a second writer is refused while a run holds the directory", "[model]") {
  const TrainingData data = planted_data();
  TempDir dir;
  const detail::RunLock held(dir.path());
  CHECK_THROWS_WITH(
      train_model_dir(data, small_settings(), dir.path()),
      Catch::Contains("being written by another moodboost process") && Catch::Contains("pid"));
  CHECK_FALSE(fs::exists(dir / "run.json"));
}

TEST_CASE("model dir: a start that finished no tag does not block the corrected command",
          "[model]") {
  const TrainingData data = planted_data();
  TempDir dir;
  RunHooks stop_at_once;
  stop_at_once.fit.stop_requested = [] { return true; };
  CHECK_THROWS_AS(train_model_dir(data, small_settings(), dir.path(), stop_at_once),
                  TrainingInterrupted);
  REQUIRE(fs::exists(dir / "run.json"));
  RunSettings corrected = small_settings();
  corrected.boost.max_rounds = 12;
  std::vector<std::string> messages;
  RunHooks hooks;
  hooks.message = [&](const std::string& m) { messages.push_back(m); };
  CHECK_NOTHROW(train_model_dir(data, corrected, dir.path(), hooks));
  CHECK_THAT(messages.front(), Catch::Contains("finished no tag"));
  // Once a tag is finished, other arguments are refused again.
  RunSettings other = small_settings();
  other.boost.max_rounds = 13;
  CHECK_THROWS_WITH(train_model_dir(data, other, dir.path()), Catch::Contains("--restart"));
}
