#include <atomic>
#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <vector>

#include "detail/labels.hpp"
#include "moodboost/error.hpp"
#include "moodboost/linear.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/train.hpp"
#include "moodboost/version.hpp"
#include "planted.hpp"

using namespace moodboost;
using moodboost::test::planted_split;

namespace {

constexpr int kTags = 3;

std::vector<TagJob> all_jobs(int tags) {
  std::vector<TagJob> jobs;
  for (int t = 0; t < tags; ++t) {
    TagJob job;
    job.column = static_cast<std::size_t>(t);
    job.tag = "tag" + std::to_string(t);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

BoostOptions small_options() {
  BoostOptions options;
  options.params = {{"max_depth", "3"}, {"eta", "0.3"}, {"max_bin", "32"}};
  options.max_rounds = 30;
  options.early_stopping = 5;
  options.eval_metric = "auc";
  return options;
}

}  // namespace

TEST_CASE("train: planted tags are learned with early stopping on validation", "[train]") {
  const auto train = planted_split(400, 20, kTags, 1);
  const auto valid = planted_split(300, 20, kTags, 2);
  Trainer trainer(train.x, &valid.x, {Device::kCpu, 2, ThreadStrategy::kAuto});
  const auto jobs = all_jobs(kTags);
  const auto fits = trainer.fit(train.y, &valid.y, jobs, small_options());
  REQUIRE(fits.size() == kTags);
  for (const TagFit& fit : fits) {
    INFO(fit.tag);
    CHECK(fit.best_score > 0.85);  // validation ROC-AUC from XGBoost; chance is 0.5
    CHECK(fit.positives == static_cast<std::size_t>(train.y.col(fit.column).cast<int>().sum()));
    CHECK(fit.positives + fit.negatives == 400);
    CHECK(fit.best_iteration < fit.rounds_trained);
    if (fit.early_stopped) CHECK(fit.rounds_trained - 1 - fit.best_iteration == 5);
    CHECK(fit.validation_scores.size() == 300);
    CHECK_FALSE(fit.model_json.empty());
  }
}

TEST_CASE("train: a saved model predicts exactly the scores kept at training", "[train]") {
  const auto train = planted_split(300, 16, 2, 3);
  const auto valid = planted_split(200, 16, 2, 4);
  Trainer trainer(train.x, &valid.x, {Device::kCpu, 1, ThreadStrategy::kPerTag});
  const auto jobs = all_jobs(2);
  const auto fits = trainer.fit(train.y, &valid.y, jobs, small_options());
  for (const TagFit& fit : fits) {
    const TagBooster loaded(fit.model_json);
    CHECK(loaded.rounds() == fit.best_iteration + 1);
    CHECK(loaded.predict(valid.x) == fit.validation_scores);
  }
  std::vector<TagBooster> boosters;
  for (const TagFit& fit : fits) boosters.emplace_back(fit.model_json);
  const ScoreMatrix scores = predict_tags(boosters, valid.x);
  for (std::size_t t = 0; t < fits.size(); ++t) {
    for (Eigen::Index r = 0; r < scores.rows(); ++r) {
      REQUIRE(scores(r, static_cast<Eigen::Index>(t)) ==
              fits[t].validation_scores[static_cast<std::size_t>(r)]);
    }
  }
}

TEST_CASE("train: a tag's model depends neither on the thread strategy nor on the other tags",
          "[train]") {
  const auto train = planted_split(300, 16, kTags, 5);
  const auto valid = planted_split(200, 16, kTags, 6);
  BoostOptions options = small_options();
  options.params["subsample"] = "0.7";
  options.params["colsample_bytree"] = "0.6";
  options.seed = 11;
  const auto jobs = all_jobs(kTags);

  Trainer per_tag(train.x, &valid.x, {Device::kCpu, 2, ThreadStrategy::kPerTag});
  Trainer parallel(train.x, &valid.x, {Device::kCpu, 2, ThreadStrategy::kTagsInParallel});
  REQUIRE(parallel.strategy() == ThreadStrategy::kTagsInParallel);
  const auto a = per_tag.fit(train.y, &valid.y, jobs, options);
  const auto b = parallel.fit(train.y, &valid.y, jobs, options);
  const std::vector<TagJob> last_only{jobs.back()};
  Trainer single(train.x, &valid.x, {Device::kCpu, 1, ThreadStrategy::kPerTag});
  const auto c = single.fit(train.y, &valid.y, last_only, options);
  for (int t = 0; t < kTags; ++t) {
    CHECK(a[t].model_json == b[t].model_json);
    CHECK(a[t].validation_scores == b[t].validation_scores);
  }
  CHECK(c[0].model_json == a.back().model_json);
}

TEST_CASE("train: scale_pos_weight modes follow the training counts", "[train]") {
  CHECK(scale_pos_weight_value(ScalePosWeight::kNone, 10, 90) == 1.0);
  CHECK(scale_pos_weight_value(ScalePosWeight::kRatio, 10, 90) == 9.0);
  CHECK(scale_pos_weight_value(ScalePosWeight::kSqrt, 10, 90) == 3.0);
  CHECK(scale_pos_weight_value(ScalePosWeight::kRatio, 0, 90) == 1.0);
  CHECK(parse_scale_pos_weight("sqrt") == ScalePosWeight::kSqrt);
  CHECK_THROWS_AS(parse_scale_pos_weight("half"), InvalidArgument);

  const auto train = planted_split(300, 12, 1, 7);
  Trainer trainer(train.x, nullptr, {Device::kCpu, 1, ThreadStrategy::kAuto});
  BoostOptions options = small_options();
  options.scale_pos_weight = ScalePosWeight::kRatio;
  options.max_rounds = 3;
  const auto fits = trainer.fit(train.y, nullptr, all_jobs(1), options);
  CHECK(fits[0].scale_pos_weight ==
        Approx(static_cast<double>(fits[0].negatives) / static_cast<double>(fits[0].positives)));
  CHECK(fits[0].rounds_trained == 3);  // no validation: no early stopping
  CHECK(fits[0].best_iteration == 2);
}

TEST_CASE("train: --device cuda on an XGBoost without CUDA fails before any work", "[train]") {
  if (xgboost_has_cuda()) {
    WARN("MOODBOOST-SKIP: the linked XGBoost has CUDA; this test covers CPU-only builds");
    return;
  }
  try {
    (void)resolve_device(Device::kCuda);
    FAIL("resolve_device(kCuda) should throw");
  } catch (const InvalidArgument& e) {
    CHECK_THAT(e.what(), Catch::Contains("built without CUDA") &&
                             Catch::Contains(xgboost_version()) && Catch::Contains("--device cpu"));
  }
  const DeviceChoice choice = resolve_device(Device::kAuto);
  CHECK(choice.device == Device::kCpu);
  CHECK_THAT(choice.note, Catch::Contains("using the CPU"));
  CHECK(engine_params(Device::kCpu, 2).at("tree_method") == "hist");
  CHECK(engine_params(Device::kCuda, 2).at("tree_method") ==
        (xgboost_version().rfind("1.", 0) == 0 ? "gpu_hist" : "hist"));
}

TEST_CASE("train: XgbError carries the failed call and XGBoost's message", "[train]") {
  const auto train = planted_split(100, 8, 1, 8);
  Trainer trainer(train.x, nullptr, {Device::kCpu, 1, ThreadStrategy::kAuto});
  BoostOptions options = small_options();
  options.params["max_depth"] = "not-a-number";
  try {
    (void)trainer.fit(train.y, nullptr, all_jobs(1), options);
    FAIL("an invalid parameter should throw");
  } catch (const XgbError& e) {
    CHECK_THAT(e.call(), Catch::Contains("XGBoosterUpdateOneIter"));
    CHECK_THAT(e.what(), Catch::Contains("max_depth"));
  }
}

TEST_CASE("train: a stop request abandons the current tag and keeps the finished ones", "[train]") {
  const auto train = planted_split(200, 10, kTags, 9);
  Trainer trainer(train.x, nullptr, {Device::kCpu, 1, ThreadStrategy::kPerTag});
  std::vector<std::string> done;
  std::atomic<int> rounds{0};
  FitHooks hooks;
  hooks.on_tag_done = [&](const TagFit& fit) { done.push_back(fit.tag); };
  hooks.on_round = [&](const std::string&, int) { ++rounds; };
  BoostOptions options = small_options();
  options.max_rounds = 4;
  hooks.stop_requested = [&] { return rounds.load() >= 6; };  // during the second tag
  CHECK_THROWS_AS(trainer.fit(train.y, nullptr, all_jobs(kTags), options, hooks),
                  TrainingInterrupted);
  CHECK(done == std::vector<std::string>{"tag0"});
}

TEST_CASE("train: a tag without training positives is a clear DataError", "[train]") {
  auto train = planted_split(100, 8, 2, 10);
  train.y.col(1).setZero();
  Trainer trainer(train.x, nullptr, {Device::kCpu, 1, ThreadStrategy::kAuto});
  CHECK_THROWS_WITH(trainer.fit(train.y, nullptr, all_jobs(2), small_options()),
                    Catch::Contains("tag1") && Catch::Contains("no positive"));
}

TEST_CASE("train: eval metric ap early-stops on the exact average precision", "[train]") {
  const auto train = planted_split(300, 12, 2, 12);
  const auto valid = planted_split(200, 12, 2, 13);
  Trainer trainer(train.x, &valid.x, {Device::kCpu, 1, ThreadStrategy::kAuto});
  BoostOptions options = small_options();
  options.eval_metric = "ap";
  const auto fits = trainer.fit(train.y, &valid.y, all_jobs(2), options);
  for (const TagFit& fit : fits) {
    // The best round's score is the metrics module's AP of the kept model's predictions.
    CHECK(fit.best_score ==
          average_precision(fit.validation_scores, detail::label_column(valid.y, fit.column)));
    CHECK(fit.best_score > 0.5);
  }
  CHECK(metric_maximize("ap"));
  CHECK(metric_maximize("aucpr"));
  CHECK(metric_maximize("ndcg@5"));
  CHECK_FALSE(metric_maximize("logloss"));
  CHECK_FALSE(metric_maximize("error"));
}

TEST_CASE("train: XGBoost's parameter validation finds a misspelt parameter", "[train]") {
  // Every parameter the search varies, and a few more users set, is used.
  const XgbParams good{{"max_depth", "3"},           {"eta", "0.2"},
                       {"learning_rate", "0.2"},     {"min_child_weight", "2"},
                       {"subsample", "0.8"},         {"colsample_bytree", "0.5"},
                       {"reg_lambda", "2"},          {"max_bin", "32"},
                       {"scale_pos_weight", "3"},    {"gamma", "0.1"},
                       {"reg_alpha", "0.5"},         {"seed", "7"},
                       {"grow_policy", "lossguide"}, {"max_leaves", "8"},
                       {"eval_metric", "aucpr"}};
  CHECK(unused_xgboost_params(good).empty());
  XgbParams typo = good;
  typo["max_dpeth"] = "3";
  typo["colsample_by_tree"] = "0.5";
  CHECK(unused_xgboost_params(typo) == std::vector<std::string>{"colsample_by_tree", "max_dpeth"});
  CHECK_THROWS_AS(unused_xgboost_params({{"max_depth", "deep"}}), XgbError);
}

TEST_CASE("train: the linear family's parameters are checked against gblinear", "[train][linear]") {
  CHECK(unused_xgboost_params({{"reg_lambda", "0.3"}, {"reg_alpha", "0.01"}, {"eta", "0.5"}},
                              Family::kLinear)
            .empty());
  CHECK(unused_xgboost_params({{"max_depth", "3"}}, Family::kLinear) ==
        std::vector<std::string>{"max_depth"});
  CHECK(parse_family("linear") == Family::kLinear);
  CHECK(to_string(Family::kTree) == "tree");
  CHECK_THROWS_AS(parse_family("forest"), InvalidArgument);
}

namespace {

std::vector<TagJob> linear_jobs(int tags) {
  std::vector<TagJob> jobs = all_jobs(tags);
  for (TagJob& job : jobs) job.family = Family::kLinear;
  return jobs;
}

}  // namespace

TEST_CASE("train: a linear tag's saved model predicts on raw features what training scored",
          "[train][linear]") {
  // Column 4 (= 2 x tags) misses every 7th value: a linear model reads it as the training mean.
  const auto train = planted_split(300, 16, 2, 31);
  const auto valid = planted_split(200, 16, 2, 32);
  Trainer trainer(train.x, &valid.x, {Device::kCpu, 2, ThreadStrategy::kAuto});
  const BoostOptions options = small_options();
  const auto fits = trainer.fit(train.y, &valid.y, linear_jobs(2), options);
  const FeatureMatrix imputed = impute_means(valid.x, trainer.scaler());
  for (const TagFit& fit : fits) {
    INFO(fit.tag);
    CHECK(fit.family == Family::kLinear);
    const TagBooster saved(fit.model_json);
    CHECK(saved.predict(imputed) == fit.validation_scores);
    CHECK(roc_auc(fit.validation_scores, detail::label_column(valid.y, fit.column)) > 0.85);
    // On the validation split, the held-out scores are those of the kept rounds: the same model
    // before its scaler was folded in (equal up to float32 rounding).
    REQUIRE(fit.heldout_scores.size() == fit.validation_scores.size());
    for (std::size_t r = 0; r < fit.heldout_scores.size(); ++r) {
      REQUIRE(fit.heldout_scores[r] == Approx(fit.validation_scores[r]).margin(1e-5));
    }
  }

  // Folding is exact up to float rounding: the same model trained on the standardised columns
  // with an identity scaler (nothing to fold) scores the standardised rows alike.
  const ColumnScaler& scaler = trainer.scaler();
  const FeatureMatrix train_z = standardize(train.x, scaler);
  const FeatureMatrix valid_z = standardize(valid.x, scaler);
  ColumnScaler identity;
  identity.mean.assign(16, 0.0);
  identity.sd.assign(16, 1.0);
  Trainer plain(train_z, &valid_z, {Device::kCpu, 2, ThreadStrategy::kAuto}, {}, identity);
  const auto unfolded = plain.fit(train.y, &valid.y, linear_jobs(2), options);
  for (std::size_t t = 0; t < fits.size(); ++t) {
    CHECK(unfolded[t].best_iteration == fits[t].best_iteration);
    const std::vector<double> z_scores = TagBooster(unfolded[t].model_json).predict(valid_z);
    for (std::size_t r = 0; r < z_scores.size(); ++r) {
      REQUIRE(z_scores[r] == Approx(fits[t].validation_scores[r]).margin(1e-5));
    }
  }
}

TEST_CASE("train: cross-validation picks the rounds on the folds, then trains the whole split",
          "[train][cv]") {
  const auto train = planted_split(300, 16, 2, 41);
  const auto valid = planted_split(200, 16, 2, 42);
  std::vector<int> folds(300);
  for (int r = 0; r < 300; ++r) folds[static_cast<std::size_t>(r)] = (r * 7) % 3;
  Trainer trainer(train.x, &valid.x, {Device::kCpu, 2, ThreadStrategy::kAuto}, folds);
  CHECK(trainer.folds() == 3);
  std::vector<TagJob> jobs = all_jobs(2);
  const auto linear = linear_jobs(2);
  jobs.insert(jobs.end(), linear.begin(), linear.end());
  const auto fits = trainer.fit(train.y, &valid.y, jobs, small_options());
  for (const TagFit& fit : fits) {
    INFO(fit.tag << " " << to_string(fit.family));
    CHECK(fit.folds == 3);
    // One held-out score per training row, from the fold that held it out.
    REQUIRE(fit.heldout_scores.size() == 300);
    const auto labels = detail::label_column(train.y, fit.column);
    CHECK(fit.heldout_pr_auc == average_precision(fit.heldout_scores, labels));
    CHECK(roc_auc(fit.heldout_scores, labels) > 0.8);
    // The saved model: the whole training split, the chosen number of rounds.
    const TagBooster saved(fit.model_json);
    if (fit.family == Family::kTree) {
      CHECK(saved.rounds() == fit.best_iteration + 1);
      CHECK(saved.predict(valid.x) == fit.validation_scores);
    } else {
      CHECK(saved.predict(impute_means(valid.x, trainer.scaler())) == fit.validation_scores);
    }
  }
  // A search trial wants the held-out scores only: the same ones, no model.
  std::vector<TagJob> trial = jobs;
  for (TagJob& job : trial) job.keep_model = false;
  const auto scored = trainer.fit(train.y, &valid.y, trial, small_options());
  for (std::size_t i = 0; i < fits.size(); ++i) {
    CHECK(scored[i].model_json.empty());
    CHECK(scored[i].heldout_scores == fits[i].heldout_scores);
    CHECK(scored[i].best_iteration == fits[i].best_iteration);
  }
  // The same models whatever the thread strategy.
  Trainer one_at_a_time(train.x, &valid.x, {Device::kCpu, 2, ThreadStrategy::kPerTag}, folds);
  const auto again = one_at_a_time.fit(train.y, &valid.y, jobs, small_options());
  for (std::size_t i = 0; i < fits.size(); ++i) CHECK(again[i].model_json == fits[i].model_json);

  CHECK_THROWS_AS(Trainer(train.x, &valid.x, {Device::kCpu, 1, ThreadStrategy::kAuto},
                          std::vector<int>(300, 0)),
                  InvalidArgument);
  CHECK_THROWS_AS(
      Trainer(train.x, &valid.x, {Device::kCpu, 1, ThreadStrategy::kAuto}, std::vector<int>(10, 1)),
      InvalidArgument);
}

TEST_CASE("train: boosting starts from the tag's prior unless base_score is fixed", "[train]") {
  const auto train = planted_split(300, 12, 1, 51);
  Trainer trainer(train.x, nullptr, {Device::kCpu, 1, ThreadStrategy::kAuto});
  BoostOptions options = small_options();
  options.max_rounds = 2;
  const auto fits = trainer.fit(train.y, nullptr, all_jobs(1), options);
  const double prior =
      static_cast<double>(fits[0].positives) / (fits[0].positives + fits[0].negatives);
  CHECK(fits[0].base_score == Approx(prior).epsilon(1e-12));
  CHECK(fits[0].model_json.find("\"base_score\":\"") != std::string::npos);
  // Weighted positives move the prior: with the ratio weighting it is one half.
  options.scale_pos_weight = ScalePosWeight::kRatio;
  CHECK(trainer.fit(train.y, nullptr, all_jobs(1), options)[0].base_score == Approx(0.5));
  options.params["base_score"] = "0.25";
  CHECK(trainer.fit(train.y, nullptr, all_jobs(1), options)[0].base_score == 0.25);
}

TEST_CASE("train: the patience and the round cap grow as the learning rate falls", "[train]") {
  CHECK(rounds_for_learning_rate(20, 0.1) == 20);
  CHECK(rounds_for_learning_rate(20, 0.3) == 20);
  CHECK(rounds_for_learning_rate(20, 0.01) == 200);
  CHECK(rounds_for_learning_rate(300, 0.03) == 1000);
  CHECK(rounds_for_learning_rate(20, 0.0) == 20);
  CHECK(rounds_for_learning_rate(20, std::numeric_limits<double>::quiet_NaN()) == 20);

  const auto train = planted_split(300, 12, 1, 61);
  const auto valid = planted_split(200, 12, 1, 62);
  Trainer trainer(train.x, &valid.x, {Device::kCpu, 1, ThreadStrategy::kAuto});
  BoostOptions options = small_options();
  options.params["eta"] = "0.01";
  options.max_rounds = 3;  // 30 at eta 0.01
  options.early_stopping = 0;
  const auto fits = trainer.fit(train.y, &valid.y, all_jobs(1), options);
  CHECK(fits[0].rounds_trained == 30);
}
