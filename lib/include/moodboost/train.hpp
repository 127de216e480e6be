/// \file train.hpp
/// One-vs-rest training: one XGBoost booster (binary:logistic, hist) per tag, trained on the
/// training split with early stopping on the validation split. The feature matrices become
/// XGBoost matrices once per Trainer and are shared by every tag (only the label changes), so
/// XGBoost's quantised gradient index is built once, not once per tag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/error.hpp"
#include "moodboost/types.hpp"

namespace moodboost {

/// XGBoost parameters by name (sorted, so that a parameter set prints and hashes the same way
/// every time). Values are XGBoost's own strings ("0.1", "6", "hist").
using XgbParams = std::map<std::string, std::string>;

/// Where XGBoost builds trees.
enum class Device {
  kCpu,   ///< CPU hist
  kCuda,  ///< GPU hist: tree_method=gpu_hist (XGBoost 1.x) or device=cuda + hist (2.x)
  kAuto,  ///< the GPU when the linked XGBoost has CUDA and a device answers, else the CPU
};
/// "cpu", "cuda" or "auto"; throws InvalidArgument otherwise.
Device parse_device(std::string_view text);
/// "cpu", "cuda" or "auto".
std::string to_string(Device device);

/// The device a run will use, and a one-line note on how it was chosen.
struct DeviceChoice {
  Device device = Device::kCpu;  ///< kCpu or kCuda, never kAuto
  std::string note;              ///< e.g. "device auto: using the GPU (XGBoost built with CUDA)"
};
/// Resolves \p requested before any work. kCuda with an XGBoost built without CUDA throws
/// InvalidArgument naming the linked version; kAuto picks the GPU when the build has CUDA and a
/// CUDA device can train (probed with a one-row booster), else the CPU.
DeviceChoice resolve_device(Device requested);

/// How a tag's positive class is weighted (XGBoost scale_pos_weight), from the training
/// split's counts: none = 1, sqrt = sqrt(neg/pos), ratio = neg/pos.
enum class ScalePosWeight { kNone, kSqrt, kRatio };
/// "none", "sqrt" or "ratio"; throws InvalidArgument otherwise.
ScalePosWeight parse_scale_pos_weight(std::string_view text);
/// "none", "sqrt" or "ratio".
std::string to_string(ScalePosWeight mode);
/// The weight for \p positives and \p negatives training rows (1 when positives is 0).
double scale_pos_weight_value(ScalePosWeight mode, std::size_t positives, std::size_t negatives);

/// How CPU threads are spent.
enum class ThreadStrategy {
  kAuto,            ///< the measured faster of the two (see default_thread_strategy())
  kPerTag,          ///< one tag at a time, XGBoost using all threads on the shared matrices
  kTagsInParallel,  ///< one tag per thread, nthread=1 each, one matrix copy per thread
};
/// "auto", "per-tag" or "tags-in-parallel"; throws InvalidArgument otherwise.
ThreadStrategy parse_thread_strategy(std::string_view text);
/// "auto", "per-tag" or "tags-in-parallel".
std::string to_string(ThreadStrategy strategy);

/// The settings of one training run that change what a model is.
struct BoostOptions {
  /// XGBoost parameters applied to every booster after moodboost's own (objective, tree_method,
  /// nthread, seed, eval_metric, scale_pos_weight), so any XGBoost parameter can be set or
  /// overridden. Usually built by default_params() + tuned values + the user's --param.
  XgbParams params;
  /// Positive-class weighting per tag, unless params holds "scale_pos_weight".
  ScalePosWeight scale_pos_weight = ScalePosWeight::kNone;
  /// Most boosting rounds per tag.
  int max_rounds = 100;
  /// Stop when the validation metric has not improved for this many rounds; 0 = off (every
  /// round is kept).
  int early_stopping = 0;
  /// The validation metric for early stopping: any XGBoost eval_metric ("aucpr", "auc",
  /// "logloss", ...), or "ap" for moodboost's exact average precision (metrics module).
  std::string eval_metric = "aucpr";
  /// XGBoost "seed" (row and column sampling).
  std::uint64_t seed = 0;
};

/// moodboost's default CPU settings, chosen by measurement on the full-scale synthetic set (see
/// the README: same validation PR-AUC-macro as XGBoost's defaults in a fraction of the time):
/// params max_depth, eta, max_bin, colsample_bytree, subsample, min_child_weight, reg_lambda;
/// max_rounds; early_stopping; eval_metric aucpr; scale_pos_weight none.
BoostOptions default_boost_options();

/// True when a larger value of \p eval_metric is better (auc, aucpr, ap, map, ndcg, pre).
bool metric_maximize(std::string_view eval_metric);

/// Where and how fast to train; does not change the models (see ThreadStrategy).
struct EngineOptions {
  Device device = Device::kCpu;  ///< kCpu or kCuda (resolve kAuto first)
  int threads = 0;               ///< 0 = every core
  ThreadStrategy strategy = ThreadStrategy::kAuto;
};

/// One tag to train.
struct TagJob {
  std::size_t column = 0;  ///< the tag's column in the label matrices
  std::string tag;         ///< its name (stored in the model)
  /// Rounds to train; 0 = BoostOptions::max_rounds with early stopping. A positive value trains
  /// exactly that many rounds without early stopping (refit on train + validation).
  int rounds = 0;
  /// Parameters for this tag only, applied after BoostOptions::params (per-tag tuning).
  XgbParams params;
  /// Positive-class weighting for this tag, overriding BoostOptions::scale_pos_weight.
  std::optional<ScalePosWeight> scale_pos_weight;
};

/// A trained tag.
struct TagFit {
  std::string tag;                ///< the tag
  std::size_t column = 0;         ///< its label column
  int best_iteration = 0;         ///< 0-based round with the best validation metric (last without)
  int rounds_trained = 0;         ///< rounds boosted, including the early-stopping patience
  double best_score = 0.0;        ///< the validation metric at best_iteration (NaN without one)
  std::size_t positives = 0;      ///< positive training rows
  std::size_t negatives = 0;      ///< negative training rows
  double scale_pos_weight = 1.0;  ///< the weight used
  bool early_stopped = false;     ///< true when early stopping ended training before max_rounds
  double seconds = 0.0;           ///< wall time of this tag's training
  /// The model as XGBoost JSON, holding exactly rounds [0, best_iteration] (so XGBoost's
  /// default prediction uses the best iteration).
  std::string model_json;
  /// The kept model's probabilities on the validation rows (empty without validation).
  std::vector<double> validation_scores;
};

/// Training was stopped by FitHooks::stop_requested; finished tags were already reported.
class TrainingInterrupted : public Error {
 public:
  using Error::Error;
};

/// Callbacks of a fit. Every callback may be called from several threads; calls of
/// on_tag_done are serialised.
struct FitHooks {
  /// A tag finished (persist it here: an interruption after this call keeps it).
  std::function<void(const TagFit&)> on_tag_done;
  /// A round of \p tag finished (progress). Must not throw.
  std::function<void(const std::string& tag, int round)> on_round;
  /// Polled between rounds; true abandons unfinished tags and throws TrainingInterrupted.
  std::function<bool()> stop_requested;
};

/// Shared XGBoost matrices for one training set and an optional validation set, and the
/// one-vs-rest training loop over them. Not thread-safe: one fit() at a time.
class Trainer {
 public:
  /// Copies \p train (and \p validation, if given) into XGBoost matrices; NaN = missing.
  /// Throws InvalidArgument when the column counts differ or a matrix is empty, XgbError when
  /// XGBoost fails.
  Trainer(const FeatureMatrix& train, const FeatureMatrix* validation, const EngineOptions& engine);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Trains one booster per job: labels are the job's column of \p train_labels (rows = the
  /// training rows) and, for early stopping, of \p validation_labels. Returns the fits in job
  /// order. Each tag's model depends only on its labels, parameters and seed, never on the
  /// thread that trained it. Throws DataError for a tag without training positives,
  /// InvalidArgument for mismatched shapes, XgbError, TrainingInterrupted.
  std::vector<TagFit> fit(const LabelMatrix& train_labels, const LabelMatrix* validation_labels,
                          std::span<const TagJob> jobs, const BoostOptions& options,
                          const FitHooks& hooks = {});

  /// The strategy in use (kAuto resolved).
  [[nodiscard]] ThreadStrategy strategy() const noexcept;
  /// Threads in use.
  [[nodiscard]] int threads() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Column \p column of \p labels as contiguous bytes (the metrics module's label spans).
std::vector<std::uint8_t> label_column(const LabelMatrix& labels, std::size_t column);

/// The strategy kAuto resolves to on the CPU (chosen by measurement; see the README).
ThreadStrategy default_thread_strategy();

/// XGBoost parameters moodboost sets on every booster for \p device and \p threads: objective
/// binary:logistic, tree_method hist (gpu_hist on XGBoost 1.x with CUDA, device=cuda on 2.x),
/// nthread, verbosity 0.
XgbParams engine_params(Device device, int threads);

/// The keys of \p params that the linked XGBoost would not use in moodboost's boosters (e.g. a
/// misspelt `--param max_dpeth=3`), found by one round on a 4-row matrix with XGBoost's own
/// parameter validation; empty when all are used. A value XGBoost rejects throws XgbError.
std::vector<std::string> unused_xgboost_params(const XgbParams& params);

/// A model saved by Trainer, loaded for prediction.
class TagBooster {
 public:
  /// Loads an XGBoost model (JSON) from \p model; throws XgbError when XGBoost rejects it.
  explicit TagBooster(std::string_view model, int threads = 0);
  ~TagBooster();
  TagBooster(TagBooster&&) noexcept;
  TagBooster& operator=(TagBooster&&) noexcept;
  /// Probabilities for every row of \p features (all trees of the saved model).
  /// Throws XgbError (e.g. a column count the model was not trained with).
  [[nodiscard]] std::vector<double> predict(const FeatureMatrix& features) const;
  /// Number of boosting rounds in the model.
  [[nodiscard]] int rounds() const;

 private:
  friend ScoreMatrix predict_tags(std::span<const TagBooster> boosters,
                                  const FeatureMatrix& features, int threads);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Predicts every tag of \p boosters for \p features: rows = feature rows, columns = boosters
/// in order. The matrix is copied into XGBoost once and shared by every booster.
ScoreMatrix predict_tags(std::span<const TagBooster> boosters, const FeatureMatrix& features,
                         int threads = 0);

}  // namespace moodboost
