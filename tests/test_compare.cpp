// moodboost compare: every number in the four reports equals the metrics module's value for the
// same inputs, the TSV layout is exactly as specified, reports label synthetic data, escape
// everything, and are deterministic; the command line works end to end.
#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "moodboost/compare.hpp"
#include "moodboost/error.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/npy.hpp"
#include "report_test_util.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace moodboost;
using moodboost::test::number;
using moodboost::test::tsv_rows;

namespace {

struct Fixture {
  std::vector<std::string> tags;
  LabelMatrix truth;
  ScoreMatrix good, weak;
  LabelMatrix decisions;
  PublishedSystem baseline;
};

// 240 tracks x 5 tags, an informative and a weak system, and a "published" baseline whose
// per-tag PR-AUC is set relative to the good system's: tag 0 won, tag 1 lost, tag 2 tied at the
// fourth decimal, tags 3 and 4 won/lost by ROC-AUC only.
Fixture make_fixture() {
  Fixture f;
  f.tags = {"mood/theme---alpha", "mood/theme---beta", "mood/theme---gamma", "mood/theme---delta",
            "mood/theme---epsilon"};
  const Eigen::Index rows = 240, cols = 5;
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(0, 1);
  f.truth.resize(rows, cols);
  f.good.resize(rows, cols);
  f.weak.resize(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (Eigen::Index c = 0; c < cols; ++c) {
      const bool positive = u(rng) < 0.08 + 0.04 * static_cast<double>(c);
      f.truth(r, c) = positive ? 1 : 0;
      f.good(r, c) = 0.5 * u(rng) + (positive ? 0.35 : 0.0);
      f.weak(r, c) = 0.9 * u(rng) + (positive ? 0.1 : 0.0);
    }
  }
  f.decisions = apply_thresholds(f.good, std::vector<double>(5, 0.45));
  const Evaluation good = evaluate(f.truth, f.good);
  f.baseline.id = "paper";
  f.baseline.role = "baseline";
  f.baseline.name = "Paper CNN (published)";
  f.baseline.year = "2020";
  f.baseline.tracks = 240;
  f.baseline.source = "test fixture";
  f.baseline.tags = f.tags;
  const auto pr = [&](int t) { return good.tags[static_cast<std::size_t>(t)].values.pr_auc; };
  const auto roc = [&](int t) { return good.tags[static_cast<std::size_t>(t)].values.roc_auc; };
  f.baseline.pr_auc = {pr(0) - 0.1, pr(1) + 0.1, std::round(pr(2) * 1e4) / 1e4, pr(3), pr(4)};
  f.baseline.roc_auc = {roc(0), roc(1), roc(2), roc(3) - 0.2, roc(4) + 0.01};
  f.baseline.overall = {{"ROC-AUC-macro", 0.2}, {"PR-AUC-macro", 0.99}};
  return f;
}

std::vector<SystemPredictions> two_systems(const Fixture& f, bool synthetic = false) {
  std::vector<SystemPredictions> systems(2);
  systems[0].name = "boost";
  systems[0].predictions = f.good;
  systems[0].decisions = f.decisions;
  systems[0].predictions_file = "runs/boost/predictions.npy";
  systems[0].decisions_file = "runs/boost/decisions.npy";
  systems[0].provenance = {synthetic, true, synthetic ? "--synthetic" : "results.json", {}};
  systems[1].name = "weak_1";
  systems[1].predictions = f.weak;
  systems[1].provenance = {synthetic, true, synthetic ? "--synthetic" : "results.json", {}};
  return systems;
}

CompareOptions small_options() {
  CompareOptions options;
  options.resamples = 200;
  options.seed = 5;
  options.groundtruth_file = "gt.npy";
  return options;
}

// The cells of the Markdown table row whose first cell is \p first.
std::vector<std::string> markdown_row(const std::string& md, const std::string& first) {
  std::istringstream in(md);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| " + first + " |", 0) != 0) continue;
    std::vector<std::string> cells;
    std::size_t start = 1;
    for (std::size_t bar = line.find(" |", start); bar != std::string::npos;
         bar = line.find(" |", start)) {
      cells.push_back(line.substr(start + 1, bar - start - 1));
      start = bar + 2;
    }
    return cells;
  }
  FAIL("no Markdown row starting with " << first);
  return {};
}

// "0.1234 [0.1000, 0.1500]" -> {0.1234, 0.1, 0.15}.
std::vector<double> value_and_interval(const std::string& cell) {
  INFO(cell);
  const std::size_t open = cell.find(" [");
  const std::size_t comma = cell.find(", ", open);
  REQUIRE(open != std::string::npos);
  REQUIRE(comma != std::string::npos);
  REQUIRE(cell.back() == ']');
  return {number(cell.substr(0, open)), number(cell.substr(open + 2, comma - open - 2)),
          number(cell.substr(comma + 2, cell.size() - comma - 3))};
}

const rapidjson::Value& member(const rapidjson::Value& v, const char* key) {
  INFO(key);
  REQUIRE(v.IsObject());
  REQUIRE(v.HasMember(key));
  return v[key];
}

}  // namespace

TEST_CASE("compare: the TSV has exactly the specified columns and the metrics module's values",
          "[compare]") {
  const Fixture f = make_fixture();
  const Comparison c =
      compare_systems(f.truth, f.tags, two_systems(f), f.baseline, {}, small_options());
  const auto rows = tsv_rows(compare_tsv(c));
  REQUIRE(rows.size() == 6);
  CHECK(rows[0] == std::vector<std::string>{"tag", "positives", "boost.ROC-AUC", "boost.PR-AUC",
                                            "weak_1.ROC-AUC", "weak_1.PR-AUC", "baseline.ROC-AUC",
                                            "baseline.PR-AUC", "boost-baseline.ROC-AUC",
                                            "boost-baseline.PR-AUC", "weak_1-baseline.ROC-AUC",
                                            "weak_1-baseline.PR-AUC"});
  const Evaluation good = evaluate(f.truth, f.good);
  const Evaluation weak = evaluate(f.truth, f.weak);
  for (std::size_t t = 0; t < 5; ++t) {
    const auto& row = rows[t + 1];
    INFO(f.tags[t]);
    REQUIRE(row.size() == 12);
    CHECK(row[0] == f.tags[t]);
    CHECK(number(row[1]) == good.tags[t].positives);
    CHECK(number(row[2]) == Approx(good.tags[t].values.roc_auc).margin(5e-7));
    CHECK(number(row[3]) == Approx(good.tags[t].values.pr_auc).margin(5e-7));
    CHECK(number(row[4]) == Approx(weak.tags[t].values.roc_auc).margin(5e-7));
    CHECK(number(row[5]) == Approx(weak.tags[t].values.pr_auc).margin(5e-7));
    CHECK(number(row[6]) == Approx(f.baseline.roc_auc[t]).margin(5e-7));
    CHECK(number(row[7]) == Approx(f.baseline.pr_auc[t]).margin(5e-7));
    CHECK(number(row[8]) ==
          Approx(good.tags[t].values.roc_auc - f.baseline.roc_auc[t]).margin(5e-7));
    CHECK(number(row[9]) == Approx(good.tags[t].values.pr_auc - f.baseline.pr_auc[t]).margin(5e-7));
    CHECK(number(row[11]) ==
          Approx(weak.tags[t].values.pr_auc - f.baseline.pr_auc[t]).margin(5e-7));
  }
}

TEST_CASE("compare: tags won, lost and tied, and the published figure against our interval",
          "[compare]") {
  const Fixture f = make_fixture();
  const Comparison c =
      compare_systems(f.truth, f.tags, two_systems(f), f.baseline, {}, small_options());
  const SystemResult& boost = c.systems[0];
  CHECK(boost.pr_auc_vs_baseline.won == 1);   // tag 0
  CHECK(boost.pr_auc_vs_baseline.lost == 1);  // tag 1
  CHECK(boost.pr_auc_vs_baseline.tied == 3);  // tag 2 (fourth decimal), tags 3 and 4 (equal)
  CHECK(boost.pr_auc_vs_baseline.compared == 5);
  CHECK(boost.roc_auc_vs_baseline.won == 1);   // tag 3
  CHECK(boost.roc_auc_vs_baseline.lost == 1);  // tag 4
  CHECK(boost.roc_auc_vs_baseline.tied == 3);
  // The fixture's "published" macro figures: ROC-AUC 0.2 (below any interval), PR-AUC 0.99 (above).
  CHECK(boost.baseline_roc_auc_macro == IntervalPosition::kBelow);
  CHECK(boost.baseline_pr_auc_macro == IntervalPosition::kAbove);
  CHECK(boost.roc_auc_macro_interval.low <= boost.evaluation.macro.roc_auc);
  CHECK(boost.evaluation.macro.roc_auc <= boost.roc_auc_macro_interval.high);
  REQUIRE(c.pairs.size() == 1);
  CHECK(c.pairs[0].pr_auc.difference.low > 0);  // the informative system is clearly better
  CHECK(c.pairs[0].pr_auc_difference ==
        boost.evaluation.macro.pr_auc - c.systems[1].evaluation.macro.pr_auc);
}

TEST_CASE("compare: JSON and Markdown carry the metrics module's values and the intervals",
          "[compare]") {
  const Fixture f = make_fixture();
  const Comparison c =
      compare_systems(f.truth, f.tags, two_systems(f), f.baseline, {}, small_options());
  const Evaluation good = evaluate(f.truth, f.good, f.decisions);
  const Evaluation weak = evaluate(f.truth, f.weak);

  rapidjson::Document doc;
  const std::string json = compare_json(c);
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(member(doc, "format").GetString()) == "moodboost-compare");
  CHECK(member(doc, "synthetic").GetBool() == false);
  const auto& systems = member(doc, "systems");
  REQUIRE(systems.Size() == 2);
  const auto& overall = member(systems[0], "overall");
  CHECK(member(overall, "ROC-AUC-macro").GetDouble() == good.macro.roc_auc);
  CHECK(member(overall, "PR-AUC-macro").GetDouble() == good.macro.pr_auc);
  CHECK(member(overall, "F-score-macro").GetDouble() == good.macro.f_score);
  CHECK(member(overall, "precision-micro").GetDouble() == good.micro.precision);
  CHECK(member(overall, "PR-AUC-micro").GetDouble() == good.micro.pr_auc);
  // No decisions for the weak system: no precision, recall or F.
  CHECK(member(member(systems[1], "overall"), "F-score-macro").IsNull());
  CHECK(member(member(systems[1], "overall"), "ROC-AUC-micro").GetDouble() == weak.micro.roc_auc);
  const auto& interval = member(member(systems[0], "intervals"), "PR-AUC-macro");
  CHECK(interval[0].GetDouble() == c.systems[0].pr_auc_macro_interval.low);
  CHECK(interval[1].GetDouble() == c.systems[0].pr_auc_macro_interval.high);
  const auto& tags = member(doc, "tags");
  REQUIRE(tags.Size() == 5);
  for (rapidjson::SizeType t = 0; t < 5; ++t) {
    const auto& ours = member(member(tags[t], "systems"), "weak_1");
    CHECK(member(ours, "PR-AUC").GetDouble() == weak.tags[t].values.pr_auc);
    CHECK(member(ours, "ROC-AUC").GetDouble() == weak.tags[t].values.roc_auc);
  }
  const auto& pair = member(member(doc, "pairs")[0], "PR-AUC-macro");
  CHECK(member(pair, "a_better").GetDouble() == c.pairs[0].pr_auc.a_wins);

  const std::string md = compare_markdown(c);
  const auto pr_row = markdown_row(md, "PR-AUC-macro");
  REQUIRE(pr_row.size() == 4);  // metric, boost, weak_1, baseline
  const auto boost_pr = value_and_interval(pr_row[1]);
  CHECK(boost_pr[0] == Approx(good.macro.pr_auc).margin(5e-5));
  CHECK(boost_pr[1] == Approx(c.systems[0].pr_auc_macro_interval.low).margin(5e-5));
  CHECK(boost_pr[2] == Approx(c.systems[0].pr_auc_macro_interval.high).margin(5e-5));
  CHECK(number(pr_row[3]) == 0.99);
  CHECK(number(markdown_row(md, "recall-micro")[1]) == Approx(good.micro.recall).margin(5e-5));
  CHECK(markdown_row(md, "recall-micro")[2] == "n/a");
  const auto gamma = markdown_row(md, "gamma");
  CHECK(number(gamma[1]) == good.tags[2].positives);
  CHECK(number(gamma[5]) == Approx(weak.tags[2].values.pr_auc).margin(5e-5));
  CHECK(md.find("only our own interval is possible") != std::string::npos);
  const auto won = markdown_row(md, "boost");
  CHECK(won[1] == "1");
  CHECK(won[2] == "1");
  CHECK(won[3] == "3");
}

TEST_CASE("compare: the HTML page is self-contained and shows the same numbers", "[compare]") {
  const Fixture f = make_fixture();
  const Comparison c =
      compare_systems(f.truth, f.tags, two_systems(f), f.baseline, {}, small_options());
  const std::string html = compare_html(c);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("default-src 'none'") != std::string::npos);
  // Two interval charts, the per-tag bars and two scatter plots.
  std::size_t charts = 0;
  for (std::size_t at = html.find("<svg class=\"chart\""); at != std::string::npos;
       at = html.find("<svg class=\"chart\"", at + 1)) {
    ++charts;
  }
  CHECK(charts == 5);
  const Evaluation good = evaluate(f.truth, f.good);
  for (std::size_t t = 0; t < 5; ++t) {
    char text[32];
    std::snprintf(text, sizeof text, ">%.4f<", good.tags[t].values.pr_auc);
    CHECK(html.find(text) != std::string::npos);
  }
  CHECK(html.find("y = x") == std::string::npos);  // the diagonal is drawn, not labelled
  CHECK(html.find("above the diagonal: ours better") != std::string::npos);
}

TEST_CASE("compare: synthetic predictions are labelled in every report", "[compare]") {
  Fixture f = make_fixture();
  // Figures read from a file: moodboost cannot vouch for them, so synthetic predictions are
  // labelled synthetic but the comparison is not called a demonstration.
  const Comparison own =
      compare_systems(f.truth, f.tags, two_systems(f, true), f.baseline, {}, small_options());
  CHECK(own.synthetic);
  CHECK_FALSE(own.demonstration);
  CHECK(own.title.rfind("SYNTHETIC DATA:", 0) == 0);
  CHECK(own.title.find("demonstration") == std::string::npos);
  CHECK(own.notes.front().rfind("Synthetic data:", 0) == 0);

  // Published (real) figures: a demonstration of the report, not a result.
  f.baseline.published = true;
  const Comparison c =
      compare_systems(f.truth, f.tags, two_systems(f, true), f.baseline, {}, small_options());
  CHECK(c.synthetic);
  CHECK(c.demonstration);
  CHECK(c.title.rfind("SYNTHETIC DATA:", 0) == 0);
  CHECK(c.title.find("a demonstration of the report, not a result") != std::string::npos);
  const std::string md = compare_markdown(c);
  CHECK(md.rfind("# SYNTHETIC DATA:", 0) == 0);
  CHECK(md.find("> **Synthetic data: a demonstration of the report, not a result.**") !=
        std::string::npos);
  const std::string html = compare_html(c);
  CHECK(html.find("<title>SYNTHETIC DATA:") != std::string::npos);
  CHECK(html.find("<h1>SYNTHETIC DATA:") != std::string::npos);
  CHECK(html.find("class=\"banner\"") != std::string::npos);
  rapidjson::Document doc;
  doc.Parse(compare_json(c).c_str());
  CHECK(member(doc, "synthetic").GetBool());
  CHECK(member(doc, "demonstration").GetBool());
  CHECK(std::string(member(doc, "title").GetString()).rfind("SYNTHETIC DATA:", 0) == 0);

  // Real predictions: no such label; unknown provenance: a note asking to check.
  auto unknown = two_systems(f);
  unknown[1].provenance = {};
  const Comparison u = compare_systems(f.truth, f.tags, unknown, f.baseline, {}, small_options());
  CHECK(u.title.rfind("moodboost comparison:", 0) == 0);
  CHECK(compare_markdown(u).find("Where the predictions of weak_1 come from is not recorded") !=
        std::string::npos);
}

TEST_CASE("compare: reports escape names and are byte-identical across runs and threads",
          "[compare]") {
  Fixture f = make_fixture();
  f.tags[1] = "mood/theme---<script>alert(1)</script>|x&y";
  f.baseline.tags[1] = f.tags[1];
  CompareOptions options = small_options();
  options.threads = 1;
  const Comparison a = compare_systems(f.truth, f.tags, two_systems(f), f.baseline, {}, options);
  options.threads = 2;
  const Comparison b = compare_systems(f.truth, f.tags, two_systems(f), f.baseline, {}, options);
  CHECK(compare_html(a) == compare_html(b));
  CHECK(compare_markdown(a) == compare_markdown(b));
  CHECK(compare_json(a) == compare_json(b));
  CHECK(compare_tsv(a) == compare_tsv(b));

  const std::string html = compare_html(a);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;|x&amp;y") != std::string::npos);
  const std::string md = compare_markdown(a);
  CHECK(md.find("\\<script\\>alert(1)\\</script\\>\\|x&y") != std::string::npos);
  rapidjson::Document doc;
  doc.Parse(compare_json(a).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(member(member(doc, "tags")[1], "tag").GetString()) == f.tags[1]);
}

TEST_CASE("compare: single-class tags are left out and reported; bad inputs are refused",
          "[compare]") {
  Fixture f = make_fixture();
  f.truth.col(3).setZero();
  const Comparison c =
      compare_systems(f.truth, f.tags, two_systems(f), f.baseline, {}, small_options());
  CHECK(c.excluded_tags == std::vector<std::size_t>{3});
  CHECK(c.notes.back().find("mood/theme---delta") != std::string::npos);
  const auto rows = tsv_rows(compare_tsv(c));
  CHECK(rows[4][2].empty());  // delta's ROC-AUC is undefined: an empty field
  CHECK(std::isnan(c.systems[0].pr_auc_difference[3]));
  CHECK(c.systems[0].pr_auc_vs_baseline.compared == 4);

  auto systems = two_systems(f);
  systems[1].name = "boost";
  CHECK_THROWS_WITH(compare_systems(f.truth, f.tags, systems, f.baseline, {}, {}),
                    Catch::Matchers::Contains("'boost' is given twice"));
  systems[1].name = "bad.name";
  CHECK_THROWS_WITH(compare_systems(f.truth, f.tags, systems, f.baseline, {}, {}),
                    Catch::Matchers::Contains("only letters, digits"));
  systems[1].name = "baseline";
  CHECK_THROWS_AS(compare_systems(f.truth, f.tags, systems, f.baseline, {}, {}), InvalidArgument);
  systems = two_systems(f);
  systems[1].predictions = f.weak.leftCols(4);
  CHECK_THROWS_WITH(compare_systems(f.truth, f.tags, systems, f.baseline, {}, {}),
                    Catch::Matchers::Contains("predictions of weak_1"));
  const std::vector<std::string> four(f.tags.begin(), f.tags.end() - 1);
  CHECK_THROWS_WITH(compare_systems(f.truth, four, two_systems(f), f.baseline, {}, {}),
                    Catch::Matchers::Contains("4 tags in the tag list"));
  PublishedSystem other = f.baseline;
  other.tags = {"a", "b", "c", "d", "e"};
  CHECK_THROWS_WITH(compare_systems(f.truth, f.tags, two_systems(f), other, {}, {}),
                    Catch::Matchers::Contains("none of the 5 tags has a figure"));
}

TEST_CASE("compare: provenance is read from results.json beside the predictions", "[compare]") {
  test::TempDir dir;
  CHECK_FALSE(read_provenance(dir / "predictions.npy").known);
  test::write_text(dir / "results.json", R"({"metrics": {}, "synthetic": true})");
  const Provenance synthetic = read_provenance(dir / "predictions.npy");
  CHECK(synthetic.known);
  CHECK(synthetic.synthetic);
  CHECK(synthetic.source.find("results.json") != std::string::npos);
  test::write_text(dir / "results.json", R"({"synthetic": false})");
  CHECK_FALSE(read_provenance(dir / "predictions.npy").synthetic);
  CHECK(read_provenance(dir / "predictions.npy").known);
  test::write_text(dir / "results.json", R"({"synthetic": "yes"})");
  CHECK_THROWS_WITH(read_provenance(dir / "predictions.npy"),
                    Catch::Matchers::Contains("/synthetic: expected true or false"));
  test::write_text(dir / "results.json", "{oops");
  CHECK_THROWS_AS(read_provenance(dir / "predictions.npy"), ParseError);
}

TEST_CASE("compare CLI: writes the four reports and labels --synthetic runs", "[compare][cli]") {
  const Fixture f = make_fixture();
  test::TempDir dir;
  write_label_matrix(dir / "gt.npy", f.truth);
  write_score_matrix(dir / "a" / "predictions.npy", f.good);
  write_label_matrix(dir / "a" / "decisions.npy", f.decisions);
  write_score_matrix(dir / "b" / "predictions.npy", f.weak);
  std::string tags;
  for (const auto& t : f.tags) tags += t + "\n";
  test::write_text(dir / "tags.txt", tags);
  std::string baseline = "tag\tROC-AUC\tPR-AUC\n";
  for (std::size_t t = 0; t < 5; ++t) {
    baseline += f.tags[t] + "\t" + std::to_string(f.baseline.roc_auc[t]) + "\t" +
                std::to_string(f.baseline.pr_auc[t]) + "\n";
  }
  test::write_text(dir / "baseline.tsv", baseline);
  test::write_text(dir / "b" / "results.json", R"({"synthetic": true})");

  const auto run = test::run_cli({"compare", "--groundtruth", (dir / "gt.npy").string(), "--tags",
                                  (dir / "tags.txt").string(), "--system",
                                  "A=" + (dir / "a" / "predictions.npy").string() + ":" +
                                      (dir / "a" / "decisions.npy").string(),
                                  "--system", "B=" + (dir / "b").string(), "--baseline",
                                  (dir / "baseline.tsv").string(), "--bootstrap", "50", "--out-dir",
                                  (dir / "out").string()});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  for (const char* name : {"compare.md", "compare.tsv", "compare.json", "compare.html"}) {
    CHECK(fs::exists(dir / "out" / name));
  }
  // B's results.json says synthetic: the title says so.
  CHECK(run.out.rfind("SYNTHETIC DATA:", 0) == 0);
  CHECK(run.out.find("open " + (dir / "out" / "compare.html").string()) != std::string::npos);
  const auto rows = tsv_rows(test::read_text(dir / "out" / "compare.tsv"));
  CHECK(rows[0][2] == "A.ROC-AUC");
  const Evaluation good = evaluate(f.truth, f.good);
  CHECK(number(rows[1][3]) == Approx(good.tags[0].values.pr_auc).margin(5e-7));
  CHECK(test::read_text(dir / "out" / "compare.md").find("| precision-macro |") !=
        std::string::npos);
  // B was given as a directory: its predictions.npy (no decisions there).
  CHECK(rows[0][4] == "B.ROC-AUC");
  const Evaluation weak = evaluate(f.truth, f.weak);
  CHECK(number(rows[2][5]) == Approx(weak.tags[1].values.pr_auc).margin(5e-7));

  const auto bad = test::run_cli({"compare", "--groundtruth", (dir / "gt.npy").string(), "--tags",
                                  (dir / "tags.txt").string(), "--system", "no-equals-sign",
                                  "--out-dir", (dir / "out2").string()});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("expected NAME=PREDICTIONS.npy") != std::string::npos);
  const auto missing = test::run_cli(
      {"compare", "--groundtruth", (dir / "gt.npy").string(), "--tags", (dir / "tags.txt").string(),
       "--system", "A=" + (dir / "nope.npy").string(), "--out-dir", (dir / "out3").string()});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("nope.npy") != std::string::npos);
}

TEST_CASE("compare CLI: the popular baseline reproduces the official results in compare.json",
          "[compare][cli][shared]") {
  const fs::path mediaeval = test::jamendo_dir() / "mediaeval";
  if (!test::require_shared(mediaeval)) return;
  test::TempDir dir;
  const fs::path popular = mediaeval / "baseline_popular_decisions.npy";
  const auto run =
      test::run_cli({"compare", "--groundtruth", (mediaeval / "groundtruth.npy").string(), "--tags",
                     (test::jamendo_dir() / "tags" / "moodtheme_split.txt").string(), "--system",
                     "popular=" + popular.string() + ":" + popular.string(), "--bootstrap", "20",
                     "--out-dir", dir.path().string()});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(test::read_text(dir / "compare.json").c_str());
  REQUIRE_FALSE(doc.HasParseError());
  const auto& overall = member(member(doc, "systems")[0], "overall");
  // The official file has six decimals; every value must round to it.
  std::istringstream official(test::read_text(mediaeval / "baseline_popular_results.tsv"));
  std::string name, value;
  int lines = 0;
  while (std::getline(official, name, '\t') && std::getline(official, value)) {
    INFO(name);
    CHECK(member(overall, name.c_str()).GetDouble() == Approx(number(value)).margin(5e-7));
    ++lines;
  }
  CHECK(lines == 10);
  // The built-in VGG-ish baseline covers all 56 tags; the popular system loses every one.
  const auto& vs = member(member(member(doc, "systems")[0], "vs_baseline"), "PR-AUC");
  CHECK(member(vs, "lost").GetUint() == 56);
  CHECK(std::string(member(member(doc, "baseline"), "id").GetString()) == "vggish");

  // The test split file as the ground truth gives the same labels, so the same report.
  test::TempDir again;
  const auto from_split = test::run_cli(
      {"compare", "--groundtruth",
       (test::jamendo_dir() / "splits" / "split-0" / "autotagging_moodtheme-test.tsv").string(),
       "--tags", (test::jamendo_dir() / "tags" / "moodtheme_split.txt").string(), "--system",
       "popular=" + popular.string() + ":" + popular.string(), "--bootstrap", "20", "--out-dir",
       again.path().string()});
  INFO(from_split.err);
  REQUIRE(from_split.exit_code == 0);
  CHECK(test::read_text(again / "compare.tsv") == test::read_text(dir / "compare.tsv"));
  CHECK(test::read_text(again / "compare.md").find("autotagging_moodtheme-test.tsv") !=
        std::string::npos);
}

TEST_CASE("compare: a biased bootstrap (few positives) is flagged, with its mean", "[compare]") {
  // 150 tracks, 6 tags with 3 positives each, uninformative scores: the average precision of a
  // resample is often raised by a positive drawn twice.
  const Eigen::Index rows = 150, cols = 6;
  LabelMatrix truth = LabelMatrix::Zero(rows, cols);
  ScoreMatrix scores(rows, cols);
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> u(0, 1);
  for (Eigen::Index c = 0; c < cols; ++c) {
    for (Eigen::Index k = 0; k < 3; ++k) truth(20 * k + c, c) = 1;
    for (Eigen::Index r = 0; r < rows; ++r) scores(r, c) = u(rng);
  }
  std::vector<std::string> tags;
  PublishedSystem baseline;
  baseline.id = "b";
  baseline.name = "B";
  for (Eigen::Index c = 0; c < cols; ++c) {
    tags.push_back("t" + std::to_string(c));
    baseline.tags.push_back(tags.back());
    baseline.roc_auc.push_back(0.5);
    baseline.pr_auc.push_back(0.02);
  }
  std::vector<SystemPredictions> systems(1);
  systems[0].name = "noise";
  systems[0].predictions = scores;
  CompareOptions options;
  options.resamples = 300;
  options.seed = 8;
  const Comparison c = compare_systems(truth, tags, systems, baseline, {}, options);
  const SystemResult& s = c.systems[0];

  // The mean is the mean of the very resamples the bootstrap drew.
  const ScoreMatrix* inputs[] = {&scores};
  BootstrapOptions again;
  again.resamples = 300;
  again.seed = 8;
  const BootstrapResult result = paired_bootstrap(truth, inputs, again);
  double sum = 0;
  for (double v : result.pr_auc_macro[0]) sum += v;
  CHECK(s.pr_auc_macro_bootstrap_mean == Approx(sum / 300).epsilon(1e-12));
  CHECK(s.pr_auc_macro_bootstrap_mean > s.evaluation.macro.pr_auc);
  bool flagged = false;
  for (const auto& note : c.notes) {
    flagged = flagged || note.find("The bootstrap of the PR-AUC-macro of noise is biased") == 0;
  }
  INFO("point " << s.evaluation.macro.pr_auc << " mean " << s.pr_auc_macro_bootstrap_mean << " ["
                << s.pr_auc_macro_interval.low << ", " << s.pr_auc_macro_interval.high << "]");
  CHECK(flagged);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(compare_json(c).c_str());
  CHECK(doc["systems"][0]["bootstrap_means"]["PR-AUC-macro"].GetDouble() ==
        s.pr_auc_macro_bootstrap_mean);

  // The informative fixture has enough positives: nothing to flag.
  const Fixture f = make_fixture();
  const Comparison fine =
      compare_systems(f.truth, f.tags, two_systems(f), f.baseline, {}, small_options());
  for (const auto& note : fine.notes) CHECK(note.find("is biased") == std::string::npos);
}
