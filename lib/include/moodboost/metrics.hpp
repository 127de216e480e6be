/// \file metrics.hpp
/// The MediaEval "Emotion and Theme Recognition" metrics, computed exactly as the official
/// scripts do (MTG/mtg-jamendo-dataset scripts/mediaeval/evaluate.py and calculate_decisions.py,
/// which call scikit-learn 1.2):
///
/// - ROC-AUC as sklearn roc_auc_score: the trapezoidal area under the ROC curve, so tied scores
///   count half (a tie between a positive and a negative adds 1/2 to the pair count).
/// - PR-AUC as sklearn average_precision_score: the non-interpolated step sum
///   sum_k (R_k - R_{k-1}) P_k over the distinct scores; tied scores enter together.
/// - precision, recall, F1 on binary decisions; a zero denominator gives 0 (sklearn's
///   zero_division default) and F is 2PR/(P+R), or 0 when P+R = 0.
/// - macro = unweighted mean of the per-tag values (macro F is the mean of the per-tag F, not the F
///   of macro P and R); micro = one binary problem over the flattened tracks x tags matrix.
/// - thresholds: per tag, the score that maximises F1 along the precision-recall curve (candidates
///   are the distinct scores; several equal best F pick the lowest such score); decisions are
///   score > threshold (strict), as the reference decision script does.
///
/// The arithmetic follows numpy's order of operations, including its pairwise summation, so the
/// values are normally bit-identical to the reference, not just close.
///
/// All functions are free functions without state. Scores must be finite (sklearn refuses NaN and
/// infinity too); labels and decisions are 0/1 bytes (any nonzero byte counts as 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "moodboost/types.hpp"

namespace moodboost {

/// ROC-AUC of one binary problem (sklearn roc_auc_score). \p scores and \p labels have one entry
/// per item. Throws DataError when the sizes differ, a score is not finite, or \p labels has only
/// one class (the AUC is undefined, as sklearn says).
double roc_auc(std::span<const double> scores, std::span<const std::uint8_t> labels);

/// PR-AUC of one binary problem (sklearn average_precision_score). Throws DataError when the sizes
/// differ, a score is not finite, or there is no positive (sklearn would warn and return 0).
double average_precision(std::span<const double> scores, std::span<const std::uint8_t> labels);

/// The decision threshold of one binary problem: the distinct score whose precision-recall point
/// has the highest F1 = nan_to_num(2PR/(P+R)), the lowest such score on ties; with no positive all
/// F are 0 and the lowest score is returned (as the reference script does). Decisions are then
/// score > threshold. Throws DataError for empty input, differing sizes or a non-finite score.
/// -0.0 is returned as 0.0.
double best_f1_threshold(std::span<const double> scores, std::span<const std::uint8_t> labels);

/// True positives, false positives and false negatives of binary decisions.
struct ConfusionCounts {
  std::int64_t tp = 0;  ///< decision 1, label 1
  std::int64_t fp = 0;  ///< decision 1, label 0
  std::int64_t fn = 0;  ///< decision 0, label 1
};

/// Precision, recall and F1 of one binary problem.
struct PrecisionRecallF {
  double precision = 0;  ///< tp / (tp + fp), 0 when tp + fp = 0
  double recall = 0;     ///< tp / (tp + fn), 0 when tp + fn = 0
  double f_score = 0;    ///< 2PR / (P + R), 0 when P + R = 0
};

/// Precision, recall and F1 from counts, with sklearn's zero_division=0 rule.
PrecisionRecallF precision_recall_f(const ConfusionCounts& counts) noexcept;

/// What evaluate() does with a tag whose ground-truth column has only one class (no positive or
/// no negative track), for which ROC-AUC is undefined.
enum class SingleClassTagPolicy {
  /// Throw DataError naming the tag and the matrix, as the reference evaluation does (it stops
  /// with sklearn's "Only one class present in y_true"). The default, and what `evaluate` uses.
  kThrow,
  /// Give the tag NaN ROC-AUC and PR-AUC and leave it out of both macro AUC means (it is listed in
  /// Evaluation::excluded_tags). Its precision, recall and F, which are defined, are computed and
  /// averaged as usual, and it stays in the micro problem. For validation during training, where a
  /// small validation split may lack a rare tag. If every tag is excluded the macro AUCs are NaN;
  /// if the whole matrix has one class the micro AUCs are NaN.
  kExclude,
};

/// Options of evaluate().
struct EvaluateOptions {
  SingleClassTagPolicy single_class_tags = SingleClassTagPolicy::kThrow;  ///< see the enum
  std::string groundtruth_name = "ground truth";  ///< names the matrix in error messages
  std::string predictions_name = "predictions";   ///< names the matrix in error messages
  std::string decisions_name = "decisions";       ///< names the matrix in error messages
  std::vector<std::string> tag_names;             ///< optional column names for error messages
};

/// The five metrics, per tag or averaged. The decision metrics are NaN without decisions.
struct MetricValues {
  double roc_auc = 0;    ///< ROC-AUC
  double pr_auc = 0;     ///< PR-AUC (average precision)
  double precision = 0;  ///< precision of the decisions
  double recall = 0;     ///< recall of the decisions
  double f_score = 0;    ///< F1 of the decisions
};

/// One tag's metrics and counts.
struct TagEvaluation {
  MetricValues values;         ///< NaN AUCs for an excluded (single-class) tag
  std::int64_t positives = 0;  ///< ground-truth positives in the column
  ConfusionCounts counts;      ///< of the decisions (all 0 without decisions)
};

/// The result of evaluate().
struct Evaluation {
  MetricValues macro;               ///< means of the per-tag values
  MetricValues micro;               ///< the flattened matrix as one problem
  std::vector<TagEvaluation> tags;  ///< per tag, in column order
  bool has_decisions = false;       ///< false: precision/recall/F are NaN everywhere
  /// Columns left out of the macro AUCs (SingleClassTagPolicy::kExclude), ascending.
  std::vector<std::size_t> excluded_tags;
};

/// Evaluates \p predictions (tracks x tags scores) and optionally binary \p decisions against
/// \p groundtruth, as evaluate.py does. Throws DataError when a shape differs from the ground
/// truth ("predictions matrix dimensions (4231, 55) don't match the ground truth (4231, 56)"),
/// when the matrices have no column, when a score is not finite (naming row and column), and for a
/// single-class tag under SingleClassTagPolicy::kThrow ("ground truth column 7
/// (mood/theme---x) has no positive: ROC-AUC is undefined ...").
Evaluation evaluate(const Eigen::Ref<const LabelMatrix>& groundtruth,
                    const Eigen::Ref<const ScoreMatrix>& predictions,
                    const EvaluateOptions& options = {});

/// evaluate() with decisions: precision, recall and F are computed too.
Evaluation evaluate(const Eigen::Ref<const LabelMatrix>& groundtruth,
                    const Eigen::Ref<const ScoreMatrix>& predictions,
                    const Eigen::Ref<const LabelMatrix>& decisions,
                    const EvaluateOptions& options = {});

/// Per-tag thresholds (best_f1_threshold() of each column), as calculate_decisions.py computes
/// them. Throws DataError when the shapes differ, the matrices have no rows, or a score is not
/// finite.
std::vector<double> fit_thresholds(const Eigen::Ref<const LabelMatrix>& groundtruth,
                                   const Eigen::Ref<const ScoreMatrix>& predictions);

/// Decisions score > threshold (strict), column by column. Throws DataError when
/// thresholds.size() != predictions.cols().
LabelMatrix apply_thresholds(const Eigen::Ref<const ScoreMatrix>& predictions,
                             std::span<const double> thresholds);

/// Thresholds and the decisions they give.
struct Decisions {
  std::vector<double> thresholds;  ///< per tag
  LabelMatrix decisions;           ///< predictions > thresholds
};

/// fit_thresholds() then apply_thresholds(): what calculate_decisions.py does.
Decisions decide(const Eigen::Ref<const LabelMatrix>& groundtruth,
                 const Eigen::Ref<const ScoreMatrix>& predictions);

}  // namespace moodboost
