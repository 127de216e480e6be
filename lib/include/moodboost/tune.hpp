/// \file tune.hpp
/// Hyper-parameter search on the validation split (never the test split): successive halving
/// over random configurations, scored by validation PR-AUC-macro (the leaderboard metric: the
/// mean over tags of the metrics module's average precision).
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

/// One point of the search space: XGBoost parameters and the positive-class weighting.
struct TuneConfig {
  XgbParams params;  ///< searched XGBoost parameters only (max_depth, eta, ...)
  ScalePosWeight scale_pos_weight = ScalePosWeight::kNone;
  /// "eta=0.1;max_bin=64;...;scale_pos_weight=sqrt": a stable key (trials.tsv, resume).
  [[nodiscard]] std::string key() const;
};

/// One evaluated (configuration, stage) pair.
struct Trial {
  int id = 0;                      ///< 0-based configuration number (0 = the base parameters)
  std::string stage;               ///< "halving-0", "halving-1", ..., or "per-tag"
  TuneConfig config;               ///< what was tried
  std::vector<std::string> tags;   ///< the tags it was trained on
  int max_rounds = 0;              ///< the round cap
  double mean_rounds = 0.0;        ///< mean best iteration + 1 over those tags
  double score = 0.0;              ///< validation PR-AUC-macro over those tags
  std::vector<double> tag_scores;  ///< validation average precision per tag (same order as tags)
  double seconds = 0.0;            ///< wall time
};

/// What and how long to search.
struct TuneOptions {
  /// Configurations in the first halving stage; 0 = no search (the base parameters only).
  int trials = 0;
  /// Wall-time budget in seconds of the search AND the final training of every tag (0 = none).
  /// The search spends at most half of it: the number of configurations comes from the cost of
  /// the first trial (trials, when given, caps it) and a later halving stage starts only when its
  /// expected cost fits. The winner is the best configuration whose final training (its last
  /// trial's time scaled to every tag) fits in what is left, or the base configuration
  /// (configuration 0, which always qualifies) if it ranks higher.
  double budget_seconds = 0.0;
  /// Halving factor: each stage keeps the best 1/eta of the configurations and trains them on
  /// eta times more tags.
  int eta = 3;
  /// Tags in the first stage (at least 2; every tag when there are fewer).
  std::size_t first_stage_tags = 4;
  /// Choose a configuration per tag among the finalists instead of one for all tags.
  bool per_tag = false;
  /// Seeds the random configurations and the tag subsets.
  std::uint64_t seed = 0;
  /// XGBoost parameters the user fixed (--param): removed from the search.
  std::set<std::string> fixed_params;
  /// True when the user fixed the scale_pos_weight mode: removed from the search.
  bool fixed_scale_pos_weight = false;
};

/// The outcome of a search.
struct TuneResult {
  TuneConfig best;                  ///< the configuration for every tag (the base when no search)
  double best_score = 0.0;          ///< its validation PR-AUC-macro in its last stage (NaN: none)
  std::vector<TuneConfig> per_tag;  ///< with TuneOptions::per_tag: one per tag (tag order)
  std::vector<Trial> trials;        ///< every trial, in the order run (reused ones included)
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

/// The random configuration number \p id (id 0 = \p base unchanged) drawn from the search
/// space: max_depth {3,4,5,6,8}, eta log-uniform [0.02, 0.3], min_child_weight log-uniform
/// [0.5, 20], subsample [0.5, 1], colsample_bytree [0.2, 1], reg_lambda log-uniform [0.3, 30],
/// max_bin {32, 64, 128, 256}, scale_pos_weight {none, sqrt, ratio}; keys in
/// TuneOptions::fixed_params keep their base value. Deterministic in (seed, id).
TuneConfig draw_config(const TuneConfig& base, const TuneOptions& options, int id);

/// Searches with successive halving: stage 0 trains `trials` configurations on
/// first_stage_tags tags (a seeded random subset), each later stage the best 1/eta on eta times
/// more tags, until one configuration is left; with per_tag the finalists are then trained on
/// every tag and each tag keeps its best. \p base holds the parameters and rounds every trial
/// starts from; the result's configs are applied on top of base.params. Only \p trainer's
/// training and validation matrices and the labels given are used: the test split never enters.
/// Tags without a validation positive are never used for scoring.
/// Throws what Trainer::fit throws.
TuneResult tune(Trainer& trainer, const LabelMatrix& train_labels,
                const LabelMatrix& validation_labels, const std::vector<std::string>& tags,
                const BoostOptions& base, const TuneConfig& base_config, const TuneOptions& options,
                const TuneHooks& hooks = {});

/// Validation PR-AUC-macro of \p fits: the mean over the fits of the metrics module's
/// average_precision(fit.validation_scores, the fit's column of \p labels). Throws DataError when
/// a column has no positive.
double pr_auc_macro(const LabelMatrix& labels, const std::vector<TagFit>& fits);

}  // namespace moodboost
