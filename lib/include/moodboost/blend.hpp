/// \file blend.hpp
/// Which family a tag uses when both were trained: the trees, the linear model, or their blend
/// (the mean of the two probabilities). The blend is the default: averaging two different
/// models rarely loses to either and halves the variance of the choice. A single family replaces
/// it only when its held-out average precision beats the blend's significantly: in at least 95%
/// of the resamples of a paired bootstrap over the held-out rows (a one-sided test at 5%). With
/// 20 held-out positives, differences of a few points are noise, and the held-out scores of the
/// trees are the more optimistic ones (their rounds were chosen on the same noisy curve);
/// choosing on noise is what loses on the test split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace moodboost {

/// A tag's model: one family or the blend of both.
enum class TagModel { kTree, kLinear, kBlend };
/// "tree", "linear" or "blend"; throws InvalidArgument otherwise.
TagModel parse_tag_model(std::string_view text);
/// "tree", "linear" or "blend".
std::string to_string(TagModel model);

/// Each family's weight in a blend: score = kBlendWeight * p_tree + kBlendWeight * p_linear.
inline constexpr double kBlendWeight = 0.5;

/// The outcome of choose_tag_model().
struct TagModelChoice {
  TagModel model = TagModel::kBlend;
  double tree_pr_auc = 0;    ///< held-out average precision of the trees (NaN: single class)
  double linear_pr_auc = 0;  ///< of the linear model
  double blend_pr_auc = 0;   ///< of the blend
  /// Bootstrap standard error of (trees - blend) and (linear - blend) in average precision.
  double tree_se = 0;
  double linear_se = 0;
  /// Share of the resamples in which the trees (the linear model) beat the blend.
  double tree_wins = 0;
  double linear_wins = 0;
  /// One line for the log and the manifest, e.g. "blend: tree 0.412, linear 0.398, blend 0.431".
  std::string reason;
};

/// The share of paired bootstrap resamples a single family must win against the blend.
inline constexpr double kFamilyWinShare = 0.95;

/// Chooses between the trees, the linear model and their blend from their held-out predictions
/// \p tree and \p linear of the same rows, labelled \p labels: the blend, unless a family's
/// average precision exceeds the blend's in at least kFamilyWinShare of \p resamples paired
/// bootstrap resamples of the rows (seeded by \p seed) and on all rows; when both families do,
/// the one further ahead on all rows. Without both classes in \p labels the blend is kept. Throws
/// InvalidArgument when the sizes differ or are 0.
TagModelChoice choose_tag_model(std::span<const double> tree, std::span<const double> linear,
                                std::span<const std::uint8_t> labels, std::size_t resamples,
                                std::uint64_t seed);

/// The blend of \p tree and \p linear, row by row.
std::vector<double> blend_scores(std::span<const double> tree, std::span<const double> linear);

}  // namespace moodboost
