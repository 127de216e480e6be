/// \file bootstrap.hpp
/// Paired bootstrap over test tracks for the macro ROC-AUC and PR-AUC of one or more systems
/// scored on the same ground truth: how much the leaderboard metrics would move on another test
/// set drawn like this one, and whether the difference between two systems is more than that.
///
/// Each resample draws as many tracks as the test set has, uniformly with replacement (a track
/// may appear several times or not at all). The same resample is applied to every system, so
/// differences are paired. Within a resample, a tag's ROC-AUC and PR-AUC are exactly what the
/// metrics module (sklearn's roc_auc_score / average_precision_score) gives on the resampled rows,
/// computed from counts over rows presorted once per tag instead of by re-sorting.
///
/// Policy for tags without both classes in a resample (no positive or no negative track drawn):
/// their AUCs are undefined, so the tag is left out of that resample's macro means, for every
/// system alike (which tags are left out depends only on the ground truth and the resample, so
/// the systems stay paired). BootstrapResult counts such (resample, tag) pairs. A resample in which
/// every tag is left out has NaN macro values and is not used by the intervals.
///
/// Resample b is drawn from its own random stream derived from (seed, b) (splitmix64), so the
/// result depends on the seed only, never on the number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "moodboost/progress.hpp"
#include "moodboost/types.hpp"

namespace moodboost {

/// Options of paired_bootstrap().
struct BootstrapOptions {
  std::size_t resamples = 1000;  ///< number of resamples (at least 1)
  std::uint64_t seed = 0;        ///< random seed
  int threads = 0;               ///< OpenMP threads; 0 = all cores
  ProgressFn progress;           ///< called with (resamples done, resamples); may be empty
};

/// Per-resample macro values of every system.
struct BootstrapResult {
  std::size_t resamples = 0;  ///< as requested
  std::uint64_t seed = 0;     ///< as requested
  std::size_t tracks = 0;     ///< rows of the ground truth (tracks drawn per resample)
  /// roc_auc_macro[s][b]: system s's macro ROC-AUC on resample b (NaN when every tag was left
  /// out of resample b).
  std::vector<std::vector<double>> roc_auc_macro;
  /// pr_auc_macro[s][b]: the same for PR-AUC.
  std::vector<std::vector<double>> pr_auc_macro;
  /// (resample, tag) pairs left out because the tag had a single class in the resample.
  std::size_t single_class_tag_resamples = 0;
  /// Resamples in which every tag had a single class (their macro values are NaN).
  std::size_t empty_resamples = 0;
};

/// Runs the paired bootstrap. \p systems are score matrices of the shape of \p groundtruth (rows =
/// tracks, columns = tags). Throws InvalidArgument when there is no system or resamples is 0, and
/// DataError when a shape differs from the ground truth, the ground truth is empty, or a score is
/// not finite (naming system, row and column).
BootstrapResult paired_bootstrap(const Eigen::Ref<const LabelMatrix>& groundtruth,
                                 std::span<const ScoreMatrix* const> systems,
                                 const BootstrapOptions& options);

/// How often resample \p resample (0-based) of a bootstrap seeded with \p seed draws each of
/// \p rows rows; the counts sum to \p rows. paired_bootstrap() uses exactly these counts, so a
/// caller can rebuild any resample (tests do, to check it against the metrics module).
std::vector<std::uint32_t> bootstrap_counts(std::size_t rows, std::uint64_t seed,
                                            std::size_t resample);

/// A two-sided interval.
struct Interval {
  double low = 0;   ///< lower end
  double high = 0;  ///< upper end
};

/// The central \p confidence percentile interval of \p samples (e.g. 0.95: the 2.5th and 97.5th
/// percentiles), with NumPy's default linear interpolation (numpy.percentile). NaN samples are
/// ignored; with no finite sample both ends are NaN. Throws InvalidArgument unless 0 < confidence
/// < 1.
Interval percentile_interval(std::span<const double> samples, double confidence);

/// The bootstrap comparison of two systems on one metric.
struct PairedDifference {
  Interval difference;   ///< percentile interval of a - b over the resamples
  double a_wins = 0;     ///< share of resamples with a > b
  double b_wins = 0;     ///< share of resamples with b > a
  double ties = 0;       ///< share of resamples with a == b
  std::size_t used = 0;  ///< resamples used (both values finite)
};

/// Compares per-resample values \p a and \p b (the same resamples, e.g. two rows of
/// BootstrapResult::pr_auc_macro). Resamples where either value is NaN are skipped. Throws
/// InvalidArgument when the sizes differ or the confidence is not in (0, 1).
PairedDifference paired_difference(std::span<const double> a, std::span<const double> b,
                                   double confidence);

}  // namespace moodboost
