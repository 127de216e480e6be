/// \file tune.hpp
/// Hyper-parameter search on held-out data (the validation split, or cross-validation folds of
/// the training split; never the test split): successive halving over configurations of each
/// model family, scored by held-out PR-AUC-macro (the leaderboard metric: the mean over tags of
/// the metrics module's average precision of the held-out predictions).
///
/// The candidates of a family are its base configuration, a built-in portfolio that reaches the
/// small-data regime (see portfolio_configs()), and, when a search is asked for, random
/// configurations (draw_config()). Each family is halved on its own, so the search ends with the
/// best configuration of every family; which family a tag uses is decided later, per tag (see
/// model.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "moodboost/train.hpp"
#include "moodboost/types.hpp"

namespace moodboost {

/// One point of the search space: a family, its XGBoost parameters and the positive-class
/// weighting.
struct TuneConfig {
  Family family = Family::kTree;
  XgbParams params;  ///< searched XGBoost parameters of the family only (max_depth, eta, ...)
  ScalePosWeight scale_pos_weight = ScalePosWeight::kNone;
  /// "family=tree;eta=0.1;max_bin=64;...;scale_pos_weight=sqrt": a stable key (trials.tsv,
  /// resume).
  [[nodiscard]] std::string key() const;
};

/// One evaluated (configuration, stage) pair.
struct Trial {
  int id = 0;                      ///< configuration number (see TuneOptions)
  std::string stage;               ///< "halving-0", "halving-1", ..., or "per-tag"
  TuneConfig config;               ///< what was tried
  std::vector<std::string> tags;   ///< the tags it was trained on
  int max_rounds = 0;              ///< the round cap (at eta 0.1)
  double mean_rounds = 0.0;        ///< mean best iteration + 1 over those tags
  double score = 0.0;              ///< held-out PR-AUC-macro over those tags
  std::vector<double> tag_scores;  ///< held-out average precision per tag (same order as tags)
  double seconds = 0.0;            ///< wall time
};

/// What and how long to search.
struct TuneOptions {
  /// Random tree configurations in the first halving stage, on top of the portfolio; 0 = none.
  int trials = 0;
  /// Wall-time budget in seconds of the search AND the final training of every tag (0 = none).
  /// The search spends at most half of it: the number of random configurations comes from the
  /// cost of the first trial (trials, when given, caps it), every candidate and later halving
  /// stage starts only when its expected cost fits. A family's winner is its best configuration
  /// whose final training (its last trial's time scaled to every tag) fits in what is left (for
  /// the trees, less the linear winner's final training), or its base configuration (which
  /// always qualifies) if that ranks higher.
  double budget_seconds = 0.0;
  /// Search the built-in portfolio (portfolio_configs(), linear_grid()) even when trials and
  /// budget are 0. A search (trials or budget) always includes it.
  bool portfolio = false;
  /// The families in play, each searched on its own.
  std::vector<Family> families = {Family::kTree};
  /// Halving factor: each stage keeps the best 1/eta of a family's configurations and trains
  /// them on eta times more tags; when a stage already covers every tag, its ranking is final.
  int eta = 3;
  /// Tags in the first stage (at least 2); every tag when there are at most twice as many.
  std::size_t first_stage_tags = 4;
  /// Choose a configuration per tag among a family's finalists instead of one for all tags. The
  /// linear family always does so among the configurations its last stage ran on every tag.
  bool per_tag = false;
  /// Seeds the random configurations and the tag subsets.
  std::uint64_t seed = 0;
  /// Tree parameters the user fixed (--param): removed from the search.
  std::set<std::string> fixed_params;
  /// Linear parameters the user fixed (--param linear:KEY=VALUE): removed from the search.
  std::set<std::string> fixed_linear_params;
  /// True when the user fixed the scale_pos_weight mode: removed from the search.
  bool fixed_scale_pos_weight = false;
};

/// The outcome of a search for one family.
struct FamilyChoice {
  TuneConfig best;                  ///< the configuration for every tag (the base when no search)
  double best_score = 0.0;          ///< its held-out PR-AUC-macro in its last stage (NaN: none)
  std::vector<TuneConfig> per_tag;  ///< one per tag (tag order), or empty: best for all
  /// The configuration of tag \p index.
  [[nodiscard]] const TuneConfig& config(std::size_t index) const {
    return per_tag.empty() ? best : per_tag.at(index);
  }
};

/// The outcome of a search.
struct TuneResult {
  std::vector<FamilyChoice> families;  ///< one per TuneOptions::families, same order
  std::vector<Trial> trials;           ///< every trial, in the order run (reused ones included)
  /// The choice of \p family, or nullptr when it was not in play.
  [[nodiscard]] const FamilyChoice* find(Family family) const;
};

/// Callbacks of a search.
struct TuneHooks {
  /// A trial finished (log it here). Serialised.
  std::function<void(const Trial&)> on_trial;
  /// A trial logged by an earlier, interrupted run with the same key, stage and tags: returned
  /// instead of training it again (resume). May be empty.
  std::function<std::optional<Trial>(const Trial& planned)> find_done;
  /// Passed to every fit (progress, interruption).
  FitHooks fit;
};

/// Configuration numbers: the tree base is 0, the tree portfolio 1..3, random tree
/// configurations kFirstRandomTree.., the linear grid kFirstLinear..
inline constexpr int kFirstRandomTree = 4;
inline constexpr int kFirstLinear = 1000;

/// The tree portfolio: \p base (id 0) and three configurations for little data, fixed so that a
/// run without a search still reaches the small-data regime: depth-2 trees (eta 0.05,
/// colsample_bytree 0.3, min_child_weight 3), depth-3 trees under strong column subsampling and
/// L2 (eta 0.03, colsample_bytree 0.1, subsample 0.7, min_child_weight 5, reg_lambda 10) and
/// stumps (depth 1, eta 0.05, colsample_bytree 0.3), each with max_bin 32. Parameters in
/// TuneOptions::fixed_params keep their base value.
std::vector<TuneConfig> portfolio_configs(const TuneConfig& base, const TuneOptions& options);

/// The linear grid: reg_lambda in {0.03, 0.1, 0.3, 1, 3, 10} (per-row L2, as XGBoost scales it by
/// the sum of row weights), with reg_alpha 0; a search (trials or budget) adds reg_alpha 0.001 (L1)
/// at reg_lambda 0.1, 0.3 and 1 (0.01 measured far worse on the full-scale synthetic set).
/// Parameters in TuneOptions::fixed_linear_params keep their base value (duplicates are dropped).
std::vector<TuneConfig> linear_grid(const TuneConfig& base, const TuneOptions& options);

/// The random tree configuration number \p id (id 0 = \p base unchanged) drawn from the search
/// space: max_depth {1,2,3,4,5,6,8}, eta log-uniform [0.01, 0.3], min_child_weight log-uniform
/// [0.5, 50], subsample [0.5, 1], colsample_bytree log-uniform [0.05, 1], reg_lambda
/// log-uniform [0.3, 100], reg_alpha 0 or log-uniform [0.01, 10] (half each), max_bin {16, 32,
/// 64, 128, 256}, scale_pos_weight {none, sqrt, ratio}; keys in TuneOptions::fixed_params keep
/// their base value. Deterministic in (seed, id).
TuneConfig draw_config(const TuneConfig& base, const TuneOptions& options, int id);

/// Searches every family of options.families with successive halving (see TuneOptions) on
/// \p trainer's held-out data: its cross-validation folds, or the validation split with
/// \p validation_labels. \p bases holds each family's base configuration (any order; a family
/// in play without one is an InvalidArgument); \p base holds the parameters and rounds every
/// trial starts from, the configs being applied on top of the family's parameters. Tags without
/// both classes in the held-out data are never used for scoring. Only the training and
/// validation data given are used: the test split never enters. Throws what Trainer::fit throws.
TuneResult tune(Trainer& trainer, const LabelMatrix& train_labels,
                const LabelMatrix& validation_labels, const std::vector<std::string>& tags,
                const BoostOptions& base, const std::vector<TuneConfig>& bases,
                const TuneOptions& options, const TuneHooks& hooks = {});

/// Held-out PR-AUC-macro of \p fits: the mean of their heldout_pr_auc, NaN ones left out (NaN
/// when none is defined).
double heldout_pr_auc_macro(const std::vector<TagFit>& fits);

}  // namespace moodboost
