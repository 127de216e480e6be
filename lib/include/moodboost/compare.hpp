/// \file compare.hpp
/// "Did the boosters beat the CNN baseline, on which tags, and is the difference real?"
///
/// compare_systems() scores one or more systems (prediction matrices, optional decisions) on a
/// ground truth with the metrics module, sets them against a published baseline (per tag and
/// overall) and reference lines, and adds what no reference tool gives: a paired bootstrap over
/// the test tracks (bootstrap.hpp) for each system's macro ROC-AUC and PR-AUC and for the
/// difference between every two systems. A published baseline has no predictions here, so no
/// interval exists for it or for the difference to it; the reports say so instead of inventing one.
///
/// The reports (Markdown, TSV, JSON, one self-contained HTML page with SVG charts) know where
/// their numbers come from: when a system's predictions come from moodboost's synthetic dataset,
/// every report says so in its title, and setting them against the published (real) figures is
/// labelled a demonstration of the report, not a result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "moodboost/bootstrap.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/progress.hpp"
#include "moodboost/reference.hpp"
#include "moodboost/types.hpp"

namespace moodboost {

/// Where a system's predictions come from, as far as moodboost can tell.
struct Provenance {
  /// True when the predictions come from moodboost's synthetic data (generated features and
  /// labels, not real music).
  bool synthetic = false;
  /// True when the origin is recorded (a results.json beside the predictions, or the caller
  /// said so); false: unknown, and the reports ask the reader to check.
  bool known = false;
  /// How it is known, for the reports: e.g. "results.json beside the predictions", "--synthetic".
  std::string source;
  /// Per tag, the model moodboost used ("tree", "linear" or "blend"), from results.json's
  /// "tag_models" when predict recorded it; empty otherwise.
  std::map<std::string, std::string> tag_models;
};

/// Reads the provenance recorded beside a predictions file: `results.json` in the same directory,
/// as `moodboost predict` writes it, with a top-level boolean "synthetic". Without that file (or
/// without the field) the provenance is unknown (known = false). Throws ParseError (naming the
/// file and the JSON pointer) when results.json exists but is not valid JSON or "synthetic" is not
/// a boolean, and IoError when it cannot be read.
Provenance read_provenance(const std::filesystem::path& predictions_file);

/// A system to compare: its predictions and, optionally, decisions.
struct SystemPredictions {
  /// Name used in every report and as the compare.tsv column prefix: 1-40 characters from
  /// [A-Za-z0-9_+-], not "baseline", unique among the systems.
  std::string name;
  ScoreMatrix predictions;                 ///< tracks x tags scores
  std::optional<LabelMatrix> decisions;    ///< tracks x tags binary decisions, if any
  std::filesystem::path predictions_file;  ///< for the reports (may be empty)
  std::filesystem::path decisions_file;    ///< for the reports (may be empty)
  Provenance provenance;                   ///< where the predictions come from
};

/// Checks a system name (see SystemPredictions::name); throws InvalidArgument saying what is
/// wrong.
void check_system_name(const std::string& name);

/// Options of compare_systems().
struct CompareOptions {
  std::size_t resamples = 1000;  ///< bootstrap resamples (0: no bootstrap, no intervals)
  std::uint64_t seed = 0;        ///< bootstrap seed
  double confidence = 0.95;      ///< interval coverage
  int threads = 0;               ///< bootstrap threads; 0 = all cores
  ProgressFn progress;           ///< bootstrap progress (resamples done, total); may be empty
  std::filesystem::path groundtruth_file;  ///< for the reports (may be empty)
  /// A per-tag difference to the baseline within this tolerance counts as a tie: half a unit of
  /// the published figures' fourth decimal, the precision they are known to.
  double tie_tolerance = 0.00005;
};

/// Tags won, lost and tied against the baseline on one metric.
struct WinLoss {
  std::size_t won = 0;       ///< difference > tie_tolerance
  std::size_t lost = 0;      ///< difference < -tie_tolerance
  std::size_t tied = 0;      ///< |difference| <= tie_tolerance
  std::size_t compared = 0;  ///< tags with both values (won + lost + tied)
};

/// Where a published macro figure lies relative to a system's bootstrap interval.
enum class IntervalPosition {
  kUnknown,  ///< no interval or no published figure
  kBelow,    ///< the published figure is below the whole interval
  kInside,   ///< inside the interval
  kAbove,    ///< above the whole interval
};

/// One system's results.
struct SystemResult {
  std::string name;                        ///< as given
  std::filesystem::path predictions_file;  ///< as given
  std::filesystem::path decisions_file;    ///< as given (empty: no decisions)
  Provenance provenance;                   ///< as given
  /// The metrics module's evaluation (single-class tags excluded from the macro AUCs, see
  /// Comparison::excluded_tags).
  Evaluation evaluation;
  Interval roc_auc_macro_interval;  ///< bootstrap interval (NaN without bootstrap)
  Interval pr_auc_macro_interval;   ///< bootstrap interval (NaN without bootstrap)
  /// Mean of the resampled macro ROC-AUC (NaN without bootstrap). Its distance to the point
  /// estimate is the bootstrap's bias.
  double roc_auc_macro_bootstrap_mean = 0;
  /// Mean of the resampled macro PR-AUC (NaN without bootstrap). Average precision on resampled
  /// tracks is biased upward when tags have few positives (a positive drawn twice ties with
  /// itself), which shifts the percentile interval; the reports flag it.
  double pr_auc_macro_bootstrap_mean = 0;
  std::vector<double> roc_auc_difference;  ///< per tag: ours - baseline (NaN: no baseline figure)
  std::vector<double> pr_auc_difference;   ///< per tag: ours - baseline (NaN: no baseline figure)
  WinLoss roc_auc_vs_baseline;             ///< tags won/lost on ROC-AUC
  WinLoss pr_auc_vs_baseline;              ///< tags won/lost on PR-AUC
  IntervalPosition baseline_roc_auc_macro = IntervalPosition::kUnknown;  ///< published vs interval
  IntervalPosition baseline_pr_auc_macro = IntervalPosition::kUnknown;   ///< published vs interval
};

/// The paired bootstrap comparison of two systems.
struct PairResult {
  std::size_t a = 0;              ///< index into Comparison::systems
  std::size_t b = 0;              ///< index into Comparison::systems (b > a)
  double roc_auc_difference = 0;  ///< point estimate: macro ROC-AUC of a - b
  double pr_auc_difference = 0;   ///< point estimate: macro PR-AUC of a - b
  PairedDifference roc_auc;       ///< bootstrap interval and win shares
  PairedDifference pr_auc;        ///< bootstrap interval and win shares
};

/// Everything the compare reports show.
struct Comparison {
  std::string title;       ///< the reports' title (says "synthetic" when synthetic)
  bool synthetic = false;  ///< some system's predictions come from synthetic data
  /// True when synthetic predictions are set against published (real) figures
  /// (PublishedSystem::published, the baseline or a reference line): the reports call the
  /// comparison a demonstration, not a result.
  bool demonstration = false;
  std::vector<std::string> notes;  ///< caveats every report prints (provenance, test set, ...)
  std::filesystem::path groundtruth_file;
  std::size_t tracks = 0;
  std::vector<std::string> tags;           ///< column order
  std::vector<std::int64_t> positives;     ///< ground-truth positives per tag
  std::vector<std::size_t> excluded_tags;  ///< tags with a single class, out of the macro AUCs
  std::vector<SystemResult> systems;
  PublishedSystem baseline;                        ///< the published baseline
  std::vector<double> baseline_roc_auc;            ///< per tag (NaN: not published for this tag)
  std::vector<double> baseline_pr_auc;             ///< per tag (NaN: not published for this tag)
  std::vector<std::string> tags_without_baseline;  ///< our tags the baseline has no figure for
  std::vector<PublishedSystem> references;         ///< reference lines (no per-tag figures needed)
  std::vector<PairResult> pairs;                   ///< every two systems, when there are several
  std::size_t resamples = 0;                       ///< bootstrap resamples (0: none)
  std::uint64_t seed = 0;                          ///< bootstrap seed
  double confidence = 0.95;                        ///< interval coverage
  std::size_t single_class_tag_resamples = 0;      ///< see BootstrapResult
  std::size_t empty_resamples = 0;                 ///< see BootstrapResult
  double tie_tolerance = 0.00005;                  ///< see CompareOptions
};

/// Scores \p systems on \p groundtruth (tracks x tags, columns named by \p tags) and compares
/// them with \p baseline (per-tag figures matched by tag name) and \p references. Tags with a
/// single class in the ground truth are reported and left out of the macro AUCs
/// (SingleClassTagPolicy::kExclude), instead of stopping as the official evaluation would.
/// Throws InvalidArgument for no system, a bad or repeated name, or a baseline without per-tag
/// figures; DataError when a matrix's shape differs from the ground truth, tags.size() differs
/// from its columns, a score is not finite, or no tag has a baseline figure.
Comparison compare_systems(const Eigen::Ref<const LabelMatrix>& groundtruth,
                           const std::vector<std::string>& tags,
                           const std::vector<SystemPredictions>& systems,
                           const PublishedSystem& baseline,
                           const std::vector<PublishedSystem>& references,
                           const CompareOptions& options = {});

/// compare.md: for a README or a paper.
std::string compare_markdown(const Comparison& comparison);
/// compare.tsv: a header, then one row per tag: `tag`, `positives`, `<name>.ROC-AUC`,
/// `<name>.PR-AUC` for every system and for `baseline`, then `<name>-baseline.ROC-AUC`,
/// `<name>-baseline.PR-AUC` for every system. Values "%.6f"; an undefined value is an empty field.
std::string compare_tsv(const Comparison& comparison);
/// compare.json: everything above, for scripts (format "moodboost-compare", version 1).
std::string compare_json(const Comparison& comparison);
/// compare.html: one self-contained page (no script, no external resource) with SVG charts.
std::string compare_html(const Comparison& comparison);

/// Writes compare.md, compare.tsv, compare.json and compare.html into \p out_dir (created when
/// missing), each atomically. Returns their paths in that order. Throws IoError.
std::vector<std::filesystem::path> write_compare_reports(const Comparison& comparison,
                                                         const std::filesystem::path& out_dir);

}  // namespace moodboost
