// Feature importance and per-track explanations: hand-computed shares and groupings, a planted
// feature ranked first on a trained model, XGBoost's own scores (Python cross-check), the report
// layouts, synthetic labelling, and SHAP contributions that sum to the margin.
#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/features.hpp"
#include "moodboost/importance.hpp"
#include "moodboost/io.hpp"
#include "moodboost/model.hpp"
#include "planted.hpp"
#include "report_test_util.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace moodboost;
using moodboost::test::number;
using moodboost::test::tsv_rows;

namespace {

Column column(std::string name, std::string group, std::string statistic) {
  Column c;
  c.name = std::move(name);
  c.section = c.name.substr(0, c.name.find('.'));
  c.group = std::move(group);
  c.statistic = std::move(statistic);
  return c;
}

// Columns of two families and three statistics, and hand-made scores for three tags (the third
// without any split).
struct HandMade {
  std::vector<std::string> tags = {"mood/theme---a", "mood/theme---b", "mood/theme---c"};
  std::vector<Column> columns = {column("lowlevel.mfcc.mean.0", "lowlevel.mfcc", "mean"),
                                 column("lowlevel.mfcc.var.0", "lowlevel.mfcc", "var"),
                                 column("rhythm.bpm", "rhythm.bpm", ""),
                                 column("tonal.hpcp.mean.0", "tonal.hpcp", "mean")};
  Eigen::MatrixXd scores;
  HandMade() : scores(3, 4) {
    scores << 6, 2, 0, 0,  //
        0, 1, 3, 0,        //
        0, 0, 0, 0;
  }
};

// A model trained by the command line on the planted dataset: tag t depends on column t (and,
// less, on column t + 3) of lowlevel.planted.mean.
struct TrainedModel {
  test::TempDir dir;
  test::PlantedDataset data;
  fs::path model;
  explicit TrainedModel(bool synthetic, const std::string& family = "tree") {
    data = test::write_planted_dataset(dir / "data", 400, 200, 20, 10, 3, 91);
    if (synthetic) test::write_text(data.features / "moodboost-synthetic.json", "{}\n");
    model = dir / "model";
    auto args = test::planted_train_args(data, model);
    *(std::find(args.begin(), args.end(), "--family") + 1) = family;
    const auto run = test::run_cli(args);
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
  }
};

}  // namespace

TEST_CASE("importance: shares, global mean, families and statistics by hand", "[importance]") {
  const HandMade h;
  const ImportanceReport r =
      summarize_importance(h.tags, h.columns, h.scores, ImportanceType::kGain, 3);
  // Tag a: 6/8, 2/8; tag b: 1/4, 3/4; tag c has no split and is left out of the mean.
  CHECK(r.shares(0, 0) == 0.75);
  CHECK(r.shares(0, 1) == 0.25);
  CHECK(r.shares(1, 2) == 0.75);
  CHECK(r.shares.row(2).sum() == 0);
  CHECK(r.tags_without_splits == std::vector<std::size_t>{2});
  CHECK(r.global == std::vector<double>{0.375, 0.25, 0.375, 0.0});
  CHECK(r.tags_using == std::vector<std::size_t>{1, 2, 1, 0});
  CHECK(r.unused_columns == 1);
  CHECK(r.global_ranking() == std::vector<std::size_t>{0, 2, 1, 3});  // ties by column order
  CHECK(r.tag_ranking(1) == std::vector<std::size_t>{2, 1, 0, 3});
  // Families: mfcc 0.625, bpm 0.375, hpcp 0 (listed, with its column count).
  CHECK(r.groups == std::vector<std::string>{"lowlevel.mfcc", "rhythm.bpm", "tonal.hpcp"});
  CHECK(r.group_global == std::vector<double>{0.625, 0.375, 0.0});
  CHECK(r.group_columns == std::vector<std::size_t>{2, 1, 1});
  CHECK(r.group_shares(0, 0) == 1.0);
  CHECK(r.group_shares(1, 0) == 0.25);
  CHECK(r.group_shares(1, 1) == 0.75);
  // Statistics: mean 0.375 (mfcc mean + hpcp mean), "(value)" 0.375, var 0.25.
  CHECK(r.statistics == std::vector<std::string>{"(value)", "mean", "var"});
  CHECK(r.statistic_global == std::vector<double>{0.375, 0.375, 0.25});

  Eigen::MatrixXd negative = h.scores;
  negative(1, 1) = -1;
  CHECK_THROWS_WITH(summarize_importance(h.tags, h.columns, negative, ImportanceType::kGain, 3),
                    Catch::Matchers::Contains("column 1 (lowlevel.mfcc.var.0): score -1"));
  CHECK_THROWS_AS(summarize_importance({"x"}, h.columns, h.scores, ImportanceType::kGain, 3),
                  DataError);
  CHECK(parse_importance_type("total_cover") == ImportanceType::kTotalCover);
  CHECK(to_string(ImportanceType::kWeight) == "weight");
  CHECK_THROWS_AS(parse_importance_type("shap"), InvalidArgument);
}

TEST_CASE("importance: the reports list every column and carry the computed shares",
          "[importance]") {
  const HandMade h;
  ImportanceReport r =
      summarize_importance(h.tags, h.columns, h.scores, ImportanceType::kTotalGain, 2);
  r.model_dir = "models/run-1";
  const auto rows = tsv_rows(importance_tsv(r));
  REQUIRE(rows.size() == 5);
  CHECK(rows[0] == std::vector<std::string>{"rank", "column", "group", "statistic", "global_share",
                                            "tags_using", "mood/theme---a", "mood/theme---b",
                                            "mood/theme---c"});
  CHECK(rows[1] == std::vector<std::string>{"1", "lowlevel.mfcc.mean.0", "lowlevel.mfcc", "mean",
                                            "0.375", "1", "0.75", "0", "0"});
  CHECK(rows[2][1] == "rhythm.bpm");
  CHECK(rows[2][3] == "(value)");
  // The unused column is listed, with zero.
  CHECK(rows[4] == std::vector<std::string>{"4", "tonal.hpcp.mean.0", "tonal.hpcp", "mean", "0",
                                            "0", "0", "0", "0"});

  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(importance_json(r).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["importance_type"].GetString()) == "total_gain");
  CHECK(doc["unused_columns"].GetUint() == 1);
  REQUIRE(doc["global"].Size() == 2);  // top_k
  CHECK(doc["global"][1]["share"].GetDouble() == 0.375);
  CHECK(std::string(doc["families"][0]["name"].GetString()) == "lowlevel.mfcc");
  CHECK(doc["tags"][1]["families"]["rhythm.bpm"].GetDouble() == 0.75);
  CHECK(std::string(doc["tags_without_splits"][0].GetString()) == "mood/theme---c");
  CHECK(doc["tags"][2]["top"].Size() == 0);

  const std::string md = importance_markdown(r);
  CHECK(md.find("| 1 | lowlevel.mfcc.mean.0 | lowlevel.mfcc | 0.3750 | 1 |") != std::string::npos);
  CHECK(md.find("| lowlevel.mfcc | 0.6250 | 2 |") != std::string::npos);
  CHECK(md.find("1 tags have boosters without any split") != std::string::npos);
  CHECK(md.find("SYNTHETIC") == std::string::npos);
  const std::string html = importance_html(r);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find(">lowlevel.mfcc.mean.0<") != std::string::npos);
}

TEST_CASE("importance: a trained model ranks each tag's planted column first", "[importance]") {
  const TrainedModel trained(false);
  const ImportanceReport r = model_importance(trained.model, ImportanceType::kGain, 5);
  CHECK_FALSE(r.synthetic);
  CHECK(r.title.rfind("moodboost feature importance (gain)", 0) == 0);
  REQUIRE(r.tags.size() == 4);  // tag0..tag2 and "other"
  for (std::size_t t = 0; t < 3; ++t) {
    INFO(r.tags[t]);
    CHECK(r.columns[r.tag_ranking(t).front()].name == "lowlevel.planted.mean." + std::to_string(t));
  }
  // Noise columns are rarely used; the families are the loader's groups.
  CHECK(r.groups.front() == "lowlevel.planted");

  // The scores are XGBoost's own: Python's Booster.get_score on the same model files agrees.
  const fs::path python = test::python_with({"xgboost", "json"});
  if (python.empty()) return;
  const LoadedModel model(trained.model, ModelChoice::kDefault);
  test::TempDir tmp;
  for (std::size_t t = 0; t < 3; ++t) {
    REQUIRE(model.components()[t].size() == 1);
    test::write_text(tmp / ("m" + std::to_string(t) + ".json"),
                     model.components()[t][0].model_json);
  }
  const std::string script =
      "import json, sys, xgboost\n"
      "out = []\n"
      "for t in range(3):\n"
      "    b = xgboost.Booster(model_file=sys.argv[1] + '/m%d.json' % t)\n"
      "    out.append(b.get_score(importance_type='gain'))\n"
      "print(json.dumps(out))\n";
  test::write_text(tmp / "score.py", script);
  const auto run = test::run_program(python, {(tmp / "score.py").string(), tmp.path().string()});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(run.out.c_str());
  REQUIRE(doc.IsArray());
  for (rapidjson::SizeType t = 0; t < 3; ++t) {
    std::size_t used = 0;
    for (Eigen::Index c = 0; c < r.scores.cols(); ++c) {
      const std::string name = "f" + std::to_string(c);
      const double python_score =
          doc[t].HasMember(name.c_str()) ? doc[t][name.c_str()].GetDouble() : 0.0;
      INFO("tag " << t << " column " << c);
      CHECK(r.scores(t, c) == Approx(python_score).epsilon(1e-6));
      used += python_score > 0 ? 1 : 0;
    }
    CHECK(used > 0);
  }
}

TEST_CASE("importance CLI: writes the four reports; a synthetic model says so in every title",
          "[importance][cli]") {
  const TrainedModel trained(true);
  test::TempDir out;
  const auto run = test::run_cli({"importance", "--model", trained.model.string(), "--out-dir",
                                  out.path().string(), "--type", "weight", "--top", "4"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.rfind("SYNTHETIC DATA: feature importance (weight)", 0) == 0);
  CHECK(test::read_text(out / "importance.md").rfind("# SYNTHETIC DATA:", 0) == 0);
  CHECK(test::read_text(out / "importance.html").find("<title>SYNTHETIC DATA:") !=
        std::string::npos);
  CHECK(test::read_text(out / "importance.html").find("class=\"banner\"") != std::string::npos);
  rapidjson::Document doc;
  doc.Parse(test::read_text(out / "importance.json").c_str());
  CHECK(doc["synthetic"].GetBool());
  // Every schema column appears in the TSV, the unused ones with 0.
  const auto schema =
      FeatureSchema::from_json(test::read_text(trained.model / "schema.json"), "schema.json");
  CHECK(tsv_rows(test::read_text(out / "importance.tsv")).size() == schema.size() + 1);

  const auto bad = test::run_cli({"importance", "--model", trained.model.string(), "--out-dir",
                                  out.path().string(), "--type", "shap"});
  CHECK(bad.exit_code != 0);
  const auto missing = test::run_cli(
      {"importance", "--model", out.path().string(), "--out-dir", out.path().string()});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("manifest") != std::string::npos);
}

TEST_CASE("explain: SHAP contributions plus the bias sum to the margin of the prediction",
          "[importance][explain]") {
  const TrainedModel trained(false);
  const LoadedModel model(trained.model, ModelChoice::kDefault);
  const FeatureSchema& schema = model.schema();
  // The first test track's features, loaded as predict loads them.
  const Split test_split = read_split(trained.data.splits / "tiny-test.tsv");
  const Track& track = test_split.tracks.front();
  const LoadedFeatures loaded =
      load_features(trained.data.features, {feature_relpath(track).string()}, {track.track_id},
                    FeatureOptions{}, &schema);
  const ScoreMatrix predicted = model.predict(loaded.matrix);
  const LabelMatrix decided = model.decide(predicted);

  const TrackExplanation x =
      explain_track(model, schema, loaded.matrix, track.track_id, {0, 1, 2, 3});
  REQUIRE(x.explained.size() == 4);
  for (const TagExplanation& e : x.explained) {
    INFO(x.tags[e.tag]);
    double sum = e.bias;
    for (double c : e.contributions) sum += c;
    CHECK(sum == Approx(e.margin).margin(1e-4));
    CHECK(e.probability == Approx(1 / (1 + std::exp(-e.margin))).margin(1e-5));
    CHECK(e.probability == Approx(predicted(0, static_cast<Eigen::Index>(e.tag))).margin(1e-7));
    CHECK(e.tagged == (decided(0, static_cast<Eigen::Index>(e.tag)) != 0));
    double group_sum = 0;
    for (double g : e.group_contributions) group_sum += g;
    CHECK(group_sum + e.bias == Approx(e.margin).margin(1e-4));
    for (std::size_t g = 1; g < e.group_contributions.size(); ++g) {
      CHECK(std::fabs(e.group_contributions[g - 1]) >= std::fabs(e.group_contributions[g]));
    }
  }
  CHECK_THROWS_AS(explain_track(model, schema, loaded.matrix, track.track_id, {9}),
                  InvalidArgument);

  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(explanation_json(x).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  double sum = doc["tags"][0]["bias"].GetDouble();
  for (const auto& m : doc["tags"][0]["columns"].GetObject()) sum += m.value.GetDouble();
  CHECK(sum == Approx(doc["tags"][0]["margin"].GetDouble()).margin(1e-4));

  // The command line finds the track through the split file and explains the chosen tag.
  const auto run = test::run_cli(
      {"explain", "--model", trained.model.string(), "--features", trained.data.features.string(),
       "--track", track.track_id, "--split", (trained.data.splits / "tiny-test.tsv").string(),
       "--tag", "tag1", "--json", (trained.dir / "explain.json").string()});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("mood/theme---tag1: probability") != std::string::npos);
  CHECK(run.out.find("lowlevel.planted") != std::string::npos);
  CHECK(fs::exists(trained.dir / "explain.json"));
  const auto unknown =
      test::run_cli({"explain", "--model", trained.model.string(), "--features",
                     trained.data.features.string(), "--track", track.track_id, "--split",
                     (trained.data.splits / "tiny-test.tsv").string(), "--tag", "nonesuch"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("--tag nonesuch") != std::string::npos);
}

TEST_CASE("importance: a linear tag scores a column by |coefficient| x its standard deviation",
          "[importance][linear]") {
  const TrainedModel trained(false, "linear");
  const ImportanceReport r = model_importance(trained.model, ImportanceType::kGain, 5);
  REQUIRE(r.tag_models.size() == 4);
  for (const auto& m : r.tag_models) CHECK(m == "linear");
  for (std::size_t t = 0; t < 3; ++t) {
    INFO(r.tags[t]);
    CHECK(r.columns[r.tag_ranking(t).front()].name == "lowlevel.planted.mean." + std::to_string(t));
  }
  // By hand from the saved files: the model's (folded) weights and scaler.tsv's sds.
  const LoadedModel model(trained.model, ModelChoice::kDefault);
  REQUIRE(model.scaler().has_value());
  for (std::size_t t = 0; t < 4; ++t) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(model.components()[t][0].model_json.c_str());
    const auto& weights = doc["learner"]["gradient_booster"]["model"]["weights"];
    REQUIRE(weights.Size() == r.columns.size() + 1);
    for (std::size_t c = 0; c < r.columns.size(); ++c) {
      INFO("tag " << t << " column " << c);
      CHECK(r.scores(static_cast<Eigen::Index>(t), static_cast<Eigen::Index>(c)) ==
            std::fabs(weights[static_cast<rapidjson::SizeType>(c)].GetDouble()) *
                model.scaler()->sd[c]);
    }
  }
  const std::string md = importance_markdown(r);
  CHECK_THAT(md, Catch::Contains("(linear)") && Catch::Contains("coefficient"));
}

TEST_CASE("explain: a linear model's contributions are centred on the training means",
          "[importance][explain][linear]") {
  const TrainedModel trained(false, "linear");
  const LoadedModel model(trained.model, ModelChoice::kDefault);
  const FeatureSchema& schema = model.schema();
  const Split test_split = read_split(trained.data.splits / "tiny-test.tsv");
  const Track& track = test_split.tracks.front();
  const LoadedFeatures loaded =
      load_features(trained.data.features, {feature_relpath(track).string()}, {track.track_id},
                    FeatureOptions{}, &schema);
  const ScoreMatrix predicted = model.predict(loaded.matrix);
  const TrackExplanation x = explain_track(model, schema, loaded.matrix, track.track_id, {0, 1});
  REQUIRE(x.explained.size() == 2);
  for (const TagExplanation& e : x.explained) {
    CHECK(e.family == Family::kLinear);
    double sum = e.bias;
    for (double c : e.contributions) sum += c;
    CHECK(sum == Approx(e.margin).margin(1e-4));
    CHECK(e.probability == Approx(predicted(0, static_cast<Eigen::Index>(e.tag))).margin(1e-7));
  }
  // A track at the training means: nothing moves it, its log-odds are the bias.
  FeatureMatrix means(1, static_cast<Eigen::Index>(schema.size()));
  for (std::size_t c = 0; c < schema.size(); ++c) {
    means(0, static_cast<Eigen::Index>(c)) = static_cast<float>(model.scaler()->mean[c]);
  }
  const TrackExplanation average = explain_track(model, schema, means, "average", {0});
  for (double c : average.explained[0].contributions) CHECK(c == Approx(0).margin(1e-4));
  CHECK(average.explained[0].margin == Approx(average.explained[0].bias).margin(1e-4));
  CHECK_THAT(explanation_text(x, 3), Catch::Contains("(linear model)"));
}
