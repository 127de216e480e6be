#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/metrics_format.hpp"
#include "moodboost/npy.hpp"
#include "support.hpp"

using namespace moodboost;
namespace fs = std::filesystem;

namespace {

using Scores = std::vector<double>;
using Labels = std::vector<std::uint8_t>;

ScoreMatrix score_matrix(Eigen::Index rows, Eigen::Index cols, const Scores& values) {
  ScoreMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = values[static_cast<std::size_t>(i)];
  return m;
}

LabelMatrix label_matrix_of(Eigen::Index rows, Eigen::Index cols, const Labels& values) {
  LabelMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = values[static_cast<std::size_t>(i)];
  return m;
}

}  // namespace

TEST_CASE("roc_auc: perfect ranking is 1, reversed is 0", "[metrics]") {
  CHECK(roc_auc(Scores{0.9, 0.8, 0.3, 0.1}, Labels{1, 1, 0, 0}) == 1.0);
  CHECK(roc_auc(Scores{0.9, 0.8, 0.3, 0.1}, Labels{0, 0, 1, 1}) == 0.0);
  CHECK(average_precision(Scores{0.9, 0.8, 0.3, 0.1}, Labels{1, 1, 0, 0}) == 1.0);
  // Reversed: positives at ranks 3 and 4, so AP = 1/2 * 1/3 + 1/2 * 2/4.
  CHECK(average_precision(Scores{0.9, 0.8, 0.3, 0.1}, Labels{0, 0, 1, 1}) ==
        Approx(1.0 / 6 + 1.0 / 4).epsilon(1e-15));
}

TEST_CASE("roc_auc: tied scores count half", "[metrics]") {
  CHECK(roc_auc(Scores{0.5, 0.5}, Labels{1, 0}) == 0.5);
  // Pairs (positive, negative): (0.8, 0.5) 1, (0.8, 0.2) 1, (0.5, 0.5) 1/2, (0.5, 0.2) 1 -> 3.5/4.
  CHECK(roc_auc(Scores{0.8, 0.5, 0.5, 0.2}, Labels{1, 1, 0, 0}) == 0.875);
  // -0.0 and 0.0 are one score, as in numpy.
  CHECK(roc_auc(Scores{0.0, -0.0}, Labels{1, 0}) == 0.5);
  // sklearn's documented example.
  CHECK(roc_auc(Scores{0.1, 0.4, 0.35, 0.8}, Labels{0, 0, 1, 1}) == 0.75);
}

TEST_CASE("all-equal scores: ROC-AUC 1/2, PR-AUC the prevalence, threshold that score",
          "[metrics]") {
  const Scores same{0.3, 0.3, 0.3, 0.3};
  const Labels one_of_four{0, 1, 0, 0};
  CHECK(roc_auc(same, one_of_four) == 0.5);
  CHECK(average_precision(same, one_of_four) == 0.25);
  CHECK(best_f1_threshold(same, one_of_four) == 0.3);
  // Strict >: the decisions at that threshold are all 0.
  const ScoreMatrix m = score_matrix(4, 1, same);
  const std::vector<double> thresholds{0.3};
  CHECK(apply_thresholds(m, thresholds).cast<int>().sum() == 0);
}

TEST_CASE("one positive: ROC-AUC is the share of negatives below it, PR-AUC 1/rank", "[metrics]") {
  const Scores s{0.9, 0.7, 0.5, 0.3};
  const Labels y{0, 1, 0, 0};
  CHECK(roc_auc(s, y) == Approx(2.0 / 3).epsilon(1e-15));
  CHECK(average_precision(s, y) == 0.5);
  CHECK(best_f1_threshold(s, y) == 0.7);
}

TEST_CASE("average_precision: tied scores enter the step sum together", "[metrics]") {
  // Thresholds 0.9: P=1, R=1/2; 0.5: P=2/3, R=1 (the tied positive and negative together);
  // 0.1: P=1/2, R=1 (no recall step). AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
  CHECK(average_precision(Scores{0.9, 0.5, 0.5, 0.1}, Labels{1, 0, 1, 0}) ==
        Approx(5.0 / 6).epsilon(1e-15));
  CHECK(average_precision(Scores{0.1, 0.4, 0.35, 0.8}, Labels{0, 0, 1, 1}) ==
        Approx(5.0 / 6).epsilon(1e-15));
}

TEST_CASE("best_f1_threshold: the best F point, decisions strictly above it", "[metrics]") {
  // F at 0.9: 2/3, 0.8: 1/2, 0.7: 4/5, 0.6: 2/3 -> 0.7.
  const Scores s{0.9, 0.8, 0.7, 0.6};
  const Labels y{1, 0, 1, 0};
  CHECK(best_f1_threshold(s, y) == 0.7);
  // Strict >, as calculate_decisions.py: the positive scoring exactly 0.7 is not selected.
  const ScoreMatrix m = score_matrix(4, 1, s);
  const Decisions d = decide(label_matrix_of(4, 1, y), m);
  REQUIRE(d.thresholds == std::vector<double>{0.7});
  CHECK(d.decisions(0, 0) == 1);
  CHECK(d.decisions(1, 0) == 1);
  CHECK(d.decisions(2, 0) == 0);
  CHECK(d.decisions(3, 0) == 0);
}

TEST_CASE("best_f1_threshold: equal best F picks the lowest threshold", "[metrics]") {
  // F at 0.9: (2*1*0.5)/1.5 and at 0.1: (2*0.5*1)/1.5, the same double; 0.8 and 0.2 are lower.
  CHECK(best_f1_threshold(Scores{0.9, 0.8, 0.2, 0.1}, Labels{1, 0, 0, 1}) == 0.1);
  // Ties inside one score: the threshold is that score.
  CHECK(best_f1_threshold(Scores{0.6, 0.6, 0.6, 0.1}, Labels{1, 1, 0, 0}) == 0.6);
  // No positive: every F is 0 and the lowest score is returned, as the reference does.
  CHECK(best_f1_threshold(Scores{0.6, 0.2, 0.4}, Labels{0, 0, 0}) == 0.2);
  CHECK_THROWS_AS(best_f1_threshold(Scores{}, Labels{}), DataError);
}

TEST_CASE("single binary problems: undefined cases and bad input throw", "[metrics]") {
  CHECK_THROWS_WITH(roc_auc(Scores{0.1, 0.2}, Labels{1, 1}), Catch::Contains("only one class"));
  CHECK_THROWS_WITH(roc_auc(Scores{0.1, 0.2}, Labels{0, 0}), Catch::Contains("only one class"));
  CHECK_THROWS_WITH(average_precision(Scores{0.1, 0.2}, Labels{0, 0}),
                    Catch::Contains("no positive"));
  CHECK(average_precision(Scores{0.1, 0.2}, Labels{1, 1}) == 1.0);
  CHECK_THROWS_WITH(roc_auc(Scores{0.1}, Labels{1, 0}), "1 scores but 2 labels");
  CHECK_THROWS_WITH(roc_auc(Scores{0.1, std::nan("")}, Labels{1, 0}),
                    "score nan at index 1 is not finite");
}

TEST_CASE("precision_recall_f: zero division gives 0", "[metrics]") {
  const PrecisionRecallF none = precision_recall_f({0, 0, 0});
  CHECK(none.precision == 0.0);
  CHECK(none.recall == 0.0);
  CHECK(none.f_score == 0.0);
  const PrecisionRecallF no_hit = precision_recall_f({0, 3, 2});
  CHECK(no_hit.precision == 0.0);
  CHECK(no_hit.recall == 0.0);
  CHECK(no_hit.f_score == 0.0);
  // P = 2/3, R = 2/5, F = 2PR/(P+R) = (8/15)/(16/15) = 1/2.
  const PrecisionRecallF some = precision_recall_f({2, 1, 3});
  CHECK(some.precision == 2.0 / 3);
  CHECK(some.recall == 2.0 / 5);
  CHECK(some.f_score == Approx(0.5).epsilon(1e-15));
}

TEST_CASE("evaluate: macro F is the mean of per-tag F; micro pools the counts", "[metrics]") {
  // Tag 0: tp 1, fp 0, fn 1 (P 1, R 1/2, F 2/3). Tag 1: tp 1, fp 1, fn 0 (P 1/2, R 1, F 2/3).
  const LabelMatrix truth = label_matrix_of(3, 2, {1, 1, 1, 0, 0, 0});
  const LabelMatrix dec = label_matrix_of(3, 2, {1, 1, 0, 1, 0, 0});
  const ScoreMatrix scores = score_matrix(3, 2, {0.9, 0.8, 0.5, 0.7, 0.1, 0.2});
  const Evaluation ev = evaluate(truth, scores, dec);
  REQUIRE(ev.has_decisions);
  CHECK(ev.tags[0].values.f_score == Approx(2.0 / 3).epsilon(1e-15));
  CHECK(ev.tags[1].values.f_score == Approx(2.0 / 3).epsilon(1e-15));
  CHECK(ev.macro.precision == 0.75);
  CHECK(ev.macro.recall == 0.75);
  CHECK(ev.macro.f_score == Approx(2.0 / 3).epsilon(1e-15));  // not F(0.75, 0.75) = 0.75
  // Micro: tp 2, fp 1, fn 1.
  CHECK(ev.micro.precision == 2.0 / 3);
  CHECK(ev.micro.recall == 2.0 / 3);
  CHECK(ev.micro.f_score == Approx(2.0 / 3).epsilon(1e-15));
  CHECK(ev.tags[0].counts.tp == 1);
  CHECK(ev.tags[0].counts.fn == 1);
  CHECK(ev.tags[1].counts.fp == 1);
  CHECK(ev.tags[0].positives == 2);
  // AUCs: tag 0 ranks its positives 0.9, 0.5 above the negative 0.1 -> 1; tag 1: the positive
  // 0.8 is above 0.7 and 0.2 -> 1. Micro: positives {0.9, 0.5, 0.8}, negatives {0.7, 0.1, 0.2}:
  // 0.5 loses to 0.7 only -> 8/9.
  CHECK(ev.macro.roc_auc == 1.0);
  CHECK(ev.micro.roc_auc == Approx(8.0 / 9).epsilon(1e-15));
  CHECK(ev.excluded_tags.empty());

  const Evaluation no_dec = evaluate(truth, scores);
  CHECK_FALSE(no_dec.has_decisions);
  CHECK(std::isnan(no_dec.macro.f_score));
  CHECK(no_dec.micro.roc_auc == ev.micro.roc_auc);
}

TEST_CASE("evaluate: a single-class tag throws, or is excluded from the macro AUCs", "[metrics]") {
  const LabelMatrix truth = label_matrix_of(3, 3, {1, 0, 1, 0, 0, 1, 0, 0, 0});
  const ScoreMatrix scores = score_matrix(3, 3, {0.9, 0.8, 0.5, 0.1, 0.7, 0.45, 0.3, 0.6, 0.4});
  EvaluateOptions options;
  options.groundtruth_name = "gt.npy";
  options.tag_names = {"a", "b", "c"};
  CHECK_THROWS_WITH(evaluate(truth, scores, options),
                    "gt.npy column 1 (b) has no positive (all 3 tracks are 0): ROC-AUC is "
                    "undefined for it, and the reference evaluation stops here too (\"Only one "
                    "class present in y_true\")");
  const LabelMatrix all_one = label_matrix_of(2, 1, {1, 1});
  CHECK_THROWS_WITH(
      evaluate(all_one, score_matrix(2, 1, {0.1, 0.2})),
      Catch::StartsWith("ground truth column 0 has no negative (all 2 tracks are 1)"));

  options.single_class_tags = SingleClassTagPolicy::kExclude;
  const Evaluation ev = evaluate(truth, scores, truth, options);
  CHECK(ev.excluded_tags == std::vector<std::size_t>{1});
  CHECK(std::isnan(ev.tags[1].values.roc_auc));
  CHECK(std::isnan(ev.tags[1].values.pr_auc));
  CHECK(ev.tags[0].values.roc_auc == 1.0);
  CHECK(ev.tags[2].values.roc_auc == 1.0);
  CHECK(ev.macro.roc_auc == 1.0);  // the mean of tags 0 and 2 only
  CHECK(ev.macro.pr_auc == 1.0);
  // Decisions metrics keep the excluded tag: P = R = F = 0 for it (no prediction, no truth).
  CHECK(ev.tags[1].values.f_score == 0.0);
  CHECK(ev.macro.f_score == Approx(2.0 / 3).epsilon(1e-15));
  CHECK(ev.micro.f_score == 1.0);

  const Evaluation none =
      evaluate(label_matrix_of(2, 1, {0, 0}), score_matrix(2, 1, {0.1, 0.2}), options);
  CHECK(std::isnan(none.macro.roc_auc));
  CHECK(std::isnan(none.micro.roc_auc));
  CHECK(std::isnan(none.micro.pr_auc));
}

TEST_CASE("evaluate: shape mismatches and non-finite scores are named", "[metrics]") {
  const LabelMatrix truth = label_matrix_of(2, 2, {1, 0, 0, 1});
  const ScoreMatrix wrong = score_matrix(2, 1, {0.1, 0.2});
  CHECK_THROWS_WITH(evaluate(truth, wrong),
                    "predictions matrix dimensions (2, 1) don't match the ground truth (2, 2)");
  const ScoreMatrix scores =
      score_matrix(2, 2, {0.1, 0.2, std::numeric_limits<double>::infinity(), 0.3});
  CHECK_THROWS_WITH(evaluate(truth, scores),
                    "predictions row 1, column 0: score inf is not finite (the reference "
                    "evaluation refuses NaN and infinity too)");
  const ScoreMatrix good = score_matrix(2, 2, {0.1, 0.2, 0.3, 0.4});
  CHECK_THROWS_WITH(evaluate(truth, good, label_matrix_of(1, 2, {1, 1})),
                    "decisions matrix dimensions (1, 2) don't match the ground truth (2, 2)");
  CHECK_THROWS_WITH(evaluate(LabelMatrix(2, 0), ScoreMatrix(2, 0)),
                    "ground truth has no columns (no tags)");
  CHECK_THROWS_AS(fit_thresholds(truth, wrong), DataError);
  CHECK_THROWS_AS(fit_thresholds(LabelMatrix(0, 2), ScoreMatrix(0, 2)), DataError);
  CHECK_THROWS_AS(apply_thresholds(good, std::vector<double>{0.5}), DataError);
}

TEST_CASE("format: the official results file, the display lines and JSON", "[metrics]") {
  const LabelMatrix truth = label_matrix_of(3, 2, {1, 1, 1, 0, 0, 0});
  const LabelMatrix dec = label_matrix_of(3, 2, {1, 1, 0, 1, 0, 0});
  const ScoreMatrix scores = score_matrix(3, 2, {0.9, 0.8, 0.5, 0.7, 0.1, 0.2});
  const Evaluation ev = evaluate(truth, scores, dec);
  CHECK(format_results_file(ev) ==
        "ROC-AUC-macro\t1.000000\nPR-AUC-macro\t1.000000\nprecision-macro\t0.750000\n"
        "recall-macro\t0.750000\nF-score-macro\t0.666667\nROC-AUC-micro\t0.888889\n"
        "PR-AUC-micro\t0.916667\nprecision-micro\t0.666667\nrecall-micro\t0.666667\n"
        "F-score-micro\t0.666667\n");
  const std::string display = format_results_display(ev);
  CHECK(display.substr(0, 30) == "ROC-AUC-macro       \t1.000000\n");
  CHECK(std::count(display.begin(), display.end(), '\n') == 10);

  const Evaluation no_dec = evaluate(truth, scores);
  CHECK(format_results_file(no_dec) ==
        "ROC-AUC-macro\t1.000000\nPR-AUC-macro\t1.000000\nROC-AUC-micro\t0.888889\n"
        "PR-AUC-micro\t0.916667\n");

  const std::vector<std::string> names{"mood---a", "mood---\"b\""};
  const std::string json = format_results_json(ev, names);
  CHECK_THAT(json, Catch::Contains("\"F-score-macro\": 0.6666666666666666"));
  CHECK_THAT(json, Catch::Contains("\"tag\": \"mood---\\\"b\\\"\""));
  CHECK_THAT(json, Catch::Contains("\"positives\": 2"));
  CHECK_THAT(json, Catch::Contains("\"excluded_tags\": []"));
  CHECK_THAT(format_results_json(no_dec),
             !Catch::Contains("precision") && Catch::Contains("\"index\": 1"));

  EvaluateOptions exclude;
  exclude.single_class_tags = SingleClassTagPolicy::kExclude;
  const Evaluation excluded = evaluate(label_matrix_of(2, 2, {1, 0, 0, 0}),
                                       score_matrix(2, 2, {0.5, 0.1, 0.2, 0.3}), exclude);
  CHECK_THAT(
      format_results_json(excluded),
      Catch::Contains("\"ROC-AUC\": null") && Catch::Contains("\"excluded_tags\": [\n    1\n  ]"));
}

TEST_CASE("format: thresholds as pandas writes them, floats as Python's repr", "[metrics]") {
  CHECK(python_float_repr(0.0) == "0.0");
  CHECK(python_float_repr(1.0) == "1.0");
  CHECK(python_float_repr(100.0) == "100.0");
  CHECK(python_float_repr(0.1) == "0.1");
  CHECK(python_float_repr(1e-5) == "1e-05");
  CHECK(python_float_repr(0.0001) == "0.0001");
  CHECK(python_float_repr(1e16) == "1e+16");
  CHECK(python_float_repr(1e15) == "1000000000000000.0");
  CHECK(python_float_repr(0.029751733842597244) == "0.029751733842597244");
  CHECK(python_float_repr(-0.5) == "-0.5");
  CHECK(python_float_repr(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(python_float_repr(std::nan("")) == "nan");

  const std::vector<std::string> tags{"mood/theme---a", "b\"c"};
  const std::vector<double> thresholds{0.25, 1e-7};
  CHECK(format_thresholds_file(tags, thresholds) == "mood/theme---a\t0.25\n\"b\"\"c\"\t1e-07\n");
  CHECK(format_thresholds_display(tags, thresholds) ==
        "mood/theme---a\t0.250000\nb\"c\t0.000000\n");
  CHECK_THROWS_AS(format_thresholds_file(tags, std::vector<double>{1}), DataError);
}

TEST_CASE("real baselines: popular and random reproduce the official results and thresholds",
          "[metrics][shared]") {
  const fs::path jamendo = test::jamendo_dir();
  if (!test::require_shared(jamendo)) return;
  const fs::path mediaeval = jamendo / "mediaeval";
  const LabelMatrix groundtruth = read_label_matrix(mediaeval / "groundtruth.npy");

  // Popular: predictions = decisions = the "happy" column everywhere.
  const LabelMatrix popular = read_label_matrix(mediaeval / "baseline_popular_decisions.npy");
  const Evaluation pop = evaluate(groundtruth, popular.cast<double>(), popular);
  CHECK(format_results_file(pop) == test::read_text(mediaeval / "baseline_popular_results.tsv"));

  // Random: every test row gets the training-split tag frequencies.
  const SplitSet set =
      load_split_set(find_split_files(jamendo / "splits" / "split-0"), std::nullopt);
  const LabelMatrix train = set.labels(set.train);
  ScoreMatrix random(groundtruth.rows(), groundtruth.cols());
  for (Eigen::Index c = 0; c < random.cols(); ++c) {
    random.col(c).setConstant(train.col(c).cast<double>().sum() /
                              static_cast<double>(train.rows()));
  }
  const LabelMatrix none = LabelMatrix::Zero(groundtruth.rows(), groundtruth.cols());
  const Evaluation rnd = evaluate(groundtruth, random, none);
  CHECK(format_results_file(rnd) == test::read_text(mediaeval / "baseline_random_results.tsv"));
  // The published PR-AUC-macro of a constant predictor is the mean test prevalence.
  CHECK(rnd.macro.pr_auc == Approx(0.031924).margin(5e-7));

  const std::vector<double> thresholds = fit_thresholds(groundtruth, random);
  CHECK(format_thresholds_file(set.tags, thresholds) ==
        test::read_text(mediaeval / "baseline_random_thresholds.txt"));
}

// Seeded matrices with many ties, written as .npy, scored here and by scikit-learn 1.2 through
// the reference formulas; every metric must agree to 1e-12 and every threshold exactly.
TEST_CASE("metrics agree with scikit-learn on random matrices with ties", "[metrics][python]") {
  const fs::path python = test::python_with({"numpy", "sklearn"});
  if (python.empty()) return;
  test::TempDir dir;
  struct Case {
    Eigen::Index rows, cols;
    int levels;  // distinct score values (0 = continuous)
    double prevalence;
  };
  // The last case has > 8192 distinct micro scores, so numpy sums in several buffers.
  const std::vector<Case> cases{{300, 7, 5, 0.2},
                                {500, 5, 40, 0.03},
                                {1500, 4, 1000, 0.1},
                                {60, 3, 2, 0.5},
                                {3000, 6, 0, 0.05}};
  std::mt19937_64 rng(20200623);
  std::vector<Evaluation> ours;
  std::vector<std::vector<double>> our_thresholds;
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    LabelMatrix truth(c.rows, c.cols), dec(c.rows, c.cols);
    ScoreMatrix scores(c.rows, c.cols);
    for (Eigen::Index r = 0; r < c.rows; ++r) {
      for (Eigen::Index t = 0; t < c.cols; ++t) {
        const bool positive = r == 0 || (r != 1 && uniform(rng) < c.prevalence);
        truth(r, t) = positive ? 1 : 0;
        double s = uniform(rng) + (positive ? 0.3 : 0.0);
        if (c.levels > 0) s = std::floor(s * c.levels) / c.levels - 0.25;  // ties, some < 0
        scores(r, t) = s;
        dec(r, t) = uniform(rng) < (positive ? 0.6 : 0.1) ? 1 : 0;
      }
    }
    if (k == 1) dec.col(2).setZero();  // a tag without predictions: zero division
    const fs::path sub = dir / std::to_string(k);
    write_label_matrix(sub / "gt.npy", truth);
    write_score_matrix(sub / "pred.npy", scores);
    write_label_matrix(sub / "dec.npy", dec);
    ours.push_back(evaluate(truth, scores, dec));
    our_thresholds.push_back(fit_thresholds(truth, scores));
  }
  // Doubles across magnitudes for Python's repr.
  ScoreMatrix reprs(1, 400);
  std::uniform_int_distribution<std::uint64_t> bits;
  for (Eigen::Index i = 0; i < reprs.cols(); ++i) {
    double v = 0;
    do {
      v = std::bit_cast<double>(bits(rng));
    } while (!std::isfinite(v));
    if (i % 4 == 1) v = std::ldexp(std::fmod(std::abs(v), 1.0), static_cast<int>(i % 80) - 40);
    if (i % 4 == 2) v = std::round(std::fmod(std::abs(v), 1e18));
    reprs(0, i) = v;
  }
  write_score_matrix(dir / "repr.npy", reprs);

  const std::string script = R"(
import sys, warnings
import numpy as np
from sklearn import metrics
warnings.filterwarnings('ignore')
d, n = sys.argv[1], int(sys.argv[2])
for k in range(n):
    gt = np.load(f'{d}/{k}/gt.npy'); pr = np.load(f'{d}/{k}/pred.npy'); de = np.load(f'{d}/{k}/dec.npy')
    for avg in ['macro', 'micro', None]:
        roc = np.atleast_1d(metrics.roc_auc_score(gt, pr, average=avg))
        ap = np.atleast_1d(metrics.average_precision_score(gt, pr, average=avg))
        p, r, f, _ = metrics.precision_recall_fscore_support(gt, de, average=avg)
        for name, vals in [('roc', roc), ('ap', ap), ('p', np.atleast_1d(p)), ('r', np.atleast_1d(r)), ('f', np.atleast_1d(f))]:
            print(k, f'{name}-{avg}', ' '.join(repr(float(v)) for v in vals))
    thr = []
    for i in range(gt.shape[1]):
        precision, recall, threshold = metrics.precision_recall_curve(gt[:, i], pr[:, i])
        f_score = np.nan_to_num((2 * precision * recall) / (precision + recall))
        thr.append(repr(float(threshold[np.argmax(f_score)])))
    print(k, 'thresholds', ' '.join(thr))
print('repr', 'values', ' '.join(repr(float(v)) for v in np.load(f'{d}/repr.npy')[0]))
)";
  const auto run =
      test::run_program(python, {"-c", script, dir.path().string(), std::to_string(cases.size())});
  REQUIRE(run.err == "");
  REQUIRE(run.exit_code == 0);

  std::map<std::string, std::vector<std::string>> reference;  // "k key" -> values
  std::istringstream lines(run.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string k, key, value;
    fields >> k >> key;
    auto& values = reference[k + " " + key];
    while (fields >> value) values.push_back(value);
  }
  std::size_t compared = 0, identical = 0;
  const auto compare = [&](const std::string& key, const std::vector<double>& mine) {
    const auto& theirs = reference[key];
    REQUIRE(theirs.size() == mine.size());
    for (std::size_t i = 0; i < mine.size(); ++i) {
      INFO(key << " [" << i << "]: sklearn " << theirs[i] << ", moodboost "
               << python_float_repr(mine[i]));
      CHECK(std::abs(std::stod(theirs[i]) - mine[i]) <= 1e-12);
      ++compared;
      identical += theirs[i] == python_float_repr(mine[i]);
    }
  };
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const Evaluation& ev = ours[k];
    const std::string p = std::to_string(k) + " ";
    for (const auto& [avg, v] : {std::pair{"macro", ev.macro}, std::pair{"micro", ev.micro}}) {
      compare(p + "roc-" + avg, {v.roc_auc});
      compare(p + "ap-" + avg, {v.pr_auc});
      compare(p + "p-" + avg, {v.precision});
      compare(p + "r-" + avg, {v.recall});
      compare(p + "f-" + avg, {v.f_score});
    }
    std::vector<double> roc, ap, pr, rc, f;
    for (const auto& tag : ev.tags) {
      roc.push_back(tag.values.roc_auc);
      ap.push_back(tag.values.pr_auc);
      pr.push_back(tag.values.precision);
      rc.push_back(tag.values.recall);
      f.push_back(tag.values.f_score);
    }
    compare(p + "roc-None", roc);
    compare(p + "ap-None", ap);
    compare(p + "p-None", pr);
    compare(p + "r-None", rc);
    compare(p + "f-None", f);
    // Thresholds: exactly the same doubles.
    std::vector<std::string> mine;
    for (const double t : our_thresholds[k]) mine.push_back(python_float_repr(t));
    CHECK(mine == reference[p + "thresholds"]);
  }
  // numpy's summation order is reproduced, so the values are not just close but identical.
  CHECK(identical == compared);

  std::vector<std::string> our_reprs;
  for (Eigen::Index i = 0; i < reprs.cols(); ++i)
    our_reprs.push_back(python_float_repr(reprs(0, i)));
  CHECK(our_reprs == reference["repr values"]);
}
