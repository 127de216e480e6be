#include "moodboost/blend.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "detail/enum_names.hpp"
#include "moodboost/bootstrap.hpp"
#include "moodboost/error.hpp"
#include "moodboost/metrics.hpp"

namespace moodboost {
namespace {

// Share of the resamples (both values defined) in which a > b.
double win_share(const std::vector<double>& a, const std::vector<double>& b) {
  std::size_t wins = 0, used = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) continue;
    ++used;
    wins += a[i] > b[i] ? 1 : 0;
  }
  return used > 0 ? static_cast<double>(wins) / static_cast<double>(used) : 0.0;
}

double standard_deviation(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0, sum_sq = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) continue;
    const double d = a[i] - b[i];
    sum += d;
    sum_sq += d * d;
    ++n;
  }
  if (n < 2) return std::numeric_limits<double>::infinity();
  const double mean = sum / static_cast<double>(n);
  return std::sqrt(std::max(0.0, sum_sq / static_cast<double>(n) - mean * mean));
}

std::string number(double value) {
  return std::isnan(value) ? std::string("-") : fmt::format("{:.4f}", value);
}

}  // namespace

namespace {
constexpr detail::EnumName<TagModel> kTagModelNames[] = {
    {TagModel::kTree, "tree"}, {TagModel::kLinear, "linear"}, {TagModel::kBlend, "blend"}};
}  // namespace

TagModel parse_tag_model(std::string_view text) {
  return detail::parse_name(kTagModelNames, text, "tag model");
}
std::string to_string(TagModel model) { return detail::name_of(kTagModelNames, model); }

std::vector<double> blend_scores(std::span<const double> tree, std::span<const double> linear) {
  if (tree.size() != linear.size()) {
    throw InvalidArgument("blend: " + std::to_string(tree.size()) + " tree scores and " +
                          std::to_string(linear.size()) + " linear scores");
  }
  std::vector<double> out(tree.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = kBlendWeight * tree[i] + kBlendWeight * linear[i];
  }
  return out;
}

TagModelChoice choose_tag_model(std::span<const double> tree, std::span<const double> linear,
                                std::span<const std::uint8_t> labels, std::size_t resamples,
                                std::uint64_t seed) {
  if (tree.size() != labels.size() || linear.size() != labels.size() || labels.empty()) {
    throw InvalidArgument("choose_tag_model: " + std::to_string(tree.size()) + " tree, " +
                          std::to_string(linear.size()) + " linear scores for " +
                          std::to_string(labels.size()) + " labels");
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  TagModelChoice c;
  c.tree_pr_auc = c.linear_pr_auc = c.blend_pr_auc = nan;
  c.tree_se = c.linear_se = nan;
  c.tree_wins = c.linear_wins = nan;
  const std::vector<double> blend = blend_scores(tree, linear);
  const auto positives = std::count(labels.begin(), labels.end(), std::uint8_t{1});
  if (positives == 0 || positives == static_cast<std::ptrdiff_t>(labels.size())) {
    c.reason = "blend (the held-out rows have a single class: nothing to choose on)";
    return c;
  }
  c.tree_pr_auc = average_precision(tree, labels);
  c.linear_pr_auc = average_precision(linear, labels);
  c.blend_pr_auc = average_precision(blend, labels);

  const auto rows = static_cast<Eigen::Index>(labels.size());
  LabelMatrix truth(rows, 1);
  ScoreMatrix systems[3] = {ScoreMatrix(rows, 1), ScoreMatrix(rows, 1), ScoreMatrix(rows, 1)};
  for (Eigen::Index r = 0; r < rows; ++r) {
    const auto i = static_cast<std::size_t>(r);
    truth(r, 0) = labels[i];
    systems[0](r, 0) = tree[i];
    systems[1](r, 0) = linear[i];
    systems[2](r, 0) = blend[i];
  }
  const ScoreMatrix* pointers[] = {&systems[0], &systems[1], &systems[2]};
  BootstrapOptions options;
  options.resamples = std::max<std::size_t>(resamples, 2);
  options.seed = seed;
  options.threads = 1;
  const BootstrapResult boot = paired_bootstrap(truth, pointers, options);
  c.tree_se = standard_deviation(boot.pr_auc_macro[0], boot.pr_auc_macro[2]);
  c.linear_se = standard_deviation(boot.pr_auc_macro[1], boot.pr_auc_macro[2]);
  c.tree_wins = win_share(boot.pr_auc_macro[0], boot.pr_auc_macro[2]);
  c.linear_wins = win_share(boot.pr_auc_macro[1], boot.pr_auc_macro[2]);
  const bool tree_wins = c.tree_wins >= kFamilyWinShare && c.tree_pr_auc > c.blend_pr_auc;
  const bool linear_wins = c.linear_wins >= kFamilyWinShare && c.linear_pr_auc > c.blend_pr_auc;
  if (tree_wins && (!linear_wins || c.tree_pr_auc >= c.linear_pr_auc)) {
    c.model = TagModel::kTree;
  } else if (linear_wins) {
    c.model = TagModel::kLinear;
  }
  c.reason = fmt::format(
      "{}: held-out PR-AUC tree {} (beats the blend in {:.0f}% of resamples), linear {} ({:.0f}%), "
      "blend {}",
      to_string(c.model), number(c.tree_pr_auc), 100 * c.tree_wins, number(c.linear_pr_auc),
      100 * c.linear_wins, number(c.blend_pr_auc));
  return c;
}

}  // namespace moodboost
