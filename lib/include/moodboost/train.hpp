/// \file train.hpp
/// One-vs-rest training: one XGBoost booster (binary:logistic) per tag, of one of two families:
/// trees (gbtree, hist) on the raw columns, or a linear model (gblinear) on standardised columns.
/// The number of rounds comes from held-out data: the validation split (XGBoost's own early
/// stopping), or K-fold cross-validation on the training split (K boosters in lockstep, rounds
/// from the mean curve over the folds, then one booster on the whole training split with that
/// many rounds). The feature matrices become XGBoost matrices once per Trainer and are shared by
/// every tag (only the label changes), so XGBoost's quantised gradient index is built once, not
/// once per tag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/error.hpp"
#include "moodboost/linear.hpp"
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

/// What a tag's booster is.
enum class Family {
  kTree,    ///< gbtree (hist) on the raw columns
  kLinear,  ///< gblinear on standardised columns; the saved model has the scaler folded in
};
/// "tree" or "linear"; throws InvalidArgument otherwise.
Family parse_family(std::string_view text);
/// "tree" or "linear".
std::string to_string(Family family);

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

/// The settings of one training run that change what a model is. A default-constructed
/// BoostOptions holds moodboost's documented defaults (README), chosen by measurement on the
/// full-scale synthetic set: the same validation PR-AUC-macro as XGBoost's defaults in a fraction
/// of the time.
struct BoostOptions {
  /// XGBoost parameters of the tree family, applied after moodboost's own (objective,
  /// tree_method, nthread, seed, eval_metric, scale_pos_weight, base_score), so any XGBoost
  /// parameter can be set or overridden. Usually these defaults + tuned values + --param.
  XgbParams params = {{"max_depth", "4"},          {"eta", "0.1"},       {"max_bin", "64"},
                      {"colsample_bytree", "0.5"}, {"subsample", "0.8"}, {"min_child_weight", "1"},
                      {"reg_lambda", "1"}};
  /// XGBoost parameters of the linear family (gblinear), applied the same way: reg_lambda,
  /// reg_alpha, eta (per-row penalties: XGBoost scales them by the sum of row weights).
  XgbParams linear_params = {{"reg_lambda", "0.1"}, {"reg_alpha", "0"}, {"eta", "0.5"}};
  /// Positive-class weighting per tag, unless params holds "scale_pos_weight".
  ScalePosWeight scale_pos_weight = ScalePosWeight::kNone;
  /// Most boosting rounds per tag at a learning rate (eta) of 0.1 or more; a smaller eta allows
  /// proportionally more (see rounds_for_learning_rate()).
  int max_rounds = 300;
  /// Stop when the held-out metric has not improved for this many rounds (scaled like
  /// max_rounds for a smaller eta); 0 = off (every round is kept).
  int early_stopping = 20;
  /// The held-out metric for early stopping: any XGBoost eval_metric ("aucpr", "auc",
  /// "logloss", ...), or "ap" for moodboost's exact average precision (metrics module).
  std::string eval_metric = "aucpr";
  /// XGBoost "seed" (row and column sampling).
  std::uint64_t seed = 0;
};

/// \p rounds scaled to the learning rate \p eta: rounds * max(1, 0.1 / eta), rounded up (the
/// patience and the round cap of a slow learner grow as its steps shrink: at eta 0.01 ten times
/// those at 0.1). \p eta <= 0 or not finite leaves \p rounds unchanged.
int rounds_for_learning_rate(int rounds, double eta);

/// BoostOptions{}: moodboost's defaults.
BoostOptions default_boost_options();

/// Checks that \p eval_metric is "ap" or a metric the linked XGBoost evaluates for
/// binary:logistic (one round and one evaluation on a 4-row matrix); throws InvalidArgument
/// naming --eval-metric and XGBoost's reason otherwise.
void check_eval_metric(const std::string& eval_metric);

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
  Family family = Family::kTree;
  /// Rounds to train; 0 = chosen on held-out data (BoostOptions::max_rounds with early
  /// stopping), or max_rounds when the Trainer has no held-out data at all (neither folds nor a
  /// validation split). A positive value trains exactly that many rounds on the whole training
  /// matrix, without held-out evaluation (the refit on train + validation).
  int rounds = 0;
  /// False: only the held-out evaluation is wanted (a search trial): with cross-validation no
  /// booster is trained on the whole training split, and TagFit::model_json stays empty.
  bool keep_model = true;
  /// Parameters for this tag only, applied after the family's BoostOptions parameters.
  XgbParams params;
  /// Positive-class weighting for this tag, overriding BoostOptions::scale_pos_weight.
  std::optional<ScalePosWeight> scale_pos_weight;
};

/// A trained tag.
struct TagFit {
  std::string tag;                ///< the tag
  std::size_t column = 0;         ///< its label column
  Family family = Family::kTree;  ///< the booster's family
  int best_iteration = 0;         ///< 0-based round with the best held-out metric (last without)
  int rounds_trained = 0;         ///< rounds boosted, including the early-stopping patience
  /// The held-out metric at best_iteration: on the validation split, or the mean over the folds
  /// (NaN without a held-out set with both classes).
  double best_score = 0.0;
  /// 0 when the validation split was the held-out set; K for K-fold cross-validation.
  int folds = 0;
  /// Held-out predictions at best_iteration: one per validation row (folds 0), or one per
  /// training row from the fold that held it out (cross-validation). Empty for fixed rounds.
  std::vector<double> heldout_scores;
  /// Average precision of heldout_scores (NaN when they cover a single class).
  double heldout_pr_auc = 0.0;
  std::size_t positives = 0;      ///< positive training rows
  std::size_t negatives = 0;      ///< negative training rows
  double scale_pos_weight = 1.0;  ///< the weight used
  /// XGBoost's base_score: the training prior (weighted by scale_pos_weight) unless a parameter
  /// fixed it, so that the first rounds model the tag rather than the step from 0.5 to its
  /// prior (as LightGBM's boost_from_average).
  double base_score = 0.5;
  bool early_stopped = false;  ///< true when early stopping ended training before its cap
  double seconds = 0.0;        ///< wall time of this tag's training
  /// The model as XGBoost JSON (empty with TagJob::keep_model false and cross-validation).
  /// Trees hold exactly rounds [0, best_iteration]; a linear model has the scaler folded in, so
  /// both predict on raw features (a linear model needs NaN replaced by the column means).
  std::string model_json;
  /// The kept model's probabilities on the validation rows (empty without validation or model).
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

/// Throws DataError, before any work, when \p train or \p validation (may be null) hold +-infinity,
/// which XGBoost refuses ("Input data contains inf or nan"): Inf tokens or finite decimals beyond
/// the float32 range, read under NonFinitePolicy::kAccept. The message gives each matrix's count
/// of infinite values. NaN (a missing value) is fine.
void check_no_infinity(const FeatureMatrix& train, const FeatureMatrix* validation);
/// The same for an out-of-core training matrix, read from \p train in batches of at most
/// \p batch_rows rows (>= 1).
void check_no_infinity(const RowBatchSource& train, const FeatureMatrix* validation,
                       std::size_t batch_rows);

/// How an out-of-core Trainer hands its training matrix to XGBoost.
struct ExternalMemoryOptions {
  /// Rows per batch read from the RowBatchSource and handed to XGBoost (>= 1): one XGBoost page.
  std::size_t batch_rows = 0;
  /// Directory for XGBoost's page files (created if missing). Each Trainer writes into its own
  /// subdirectory and removes it when it goes.
  std::filesystem::path cache_dir;
};

/// Shared XGBoost matrices for one training set, an optional validation set and optional
/// cross-validation folds, and the one-vs-rest training loop over them. Not thread-safe: one
/// fit() at a time. The matrices, the folds and the scaler are borrowed or copied at
/// construction and must outlive the Trainer when borrowed (train, validation).
class Trainer {
 public:
  /// Borrows \p train (and \p validation, if given; both must outlive the Trainer). With \p folds
  /// (one fold id 0..K-1 per training row, K >= 2) the held-out evaluation is K-fold
  /// cross-validation; without, it is the validation split. \p scaler standardises the columns
  /// of the linear family (default: fitted on \p train). NaN = missing. Throws InvalidArgument
  /// when the column counts differ, a matrix is empty or the folds do not fit, DataError when a
  /// matrix holds infinity (check_no_infinity()), XgbError when XGBoost fails.
  Trainer(const FeatureMatrix& train, const FeatureMatrix* validation, const EngineOptions& engine,
          std::vector<int> folds = {}, std::optional<ColumnScaler> scaler = std::nullopt);
  /// The out-of-core Trainer: \p train (borrowed; must outlive the Trainer) is handed to XGBoost
  /// in batches of \p external.batch_rows rows, once, as an external-memory matrix (its pages on
  /// disk under \p external.cache_dir, read back page by page while training), so the whole
  /// matrix is never in memory. The tree family only, held out on \p validation (in memory; may
  /// be null for fixed rounds), one tag at a time (ThreadStrategy::kPerTag): XGBoost 1.7 cannot
  /// slice an external-memory matrix into folds, and gblinear would need the standardised matrix.
  /// fit() throws InvalidArgument for a linear job. Throws as the other constructor, and
  /// InvalidArgument for a device other than the CPU or batch_rows 0.
  Trainer(const RowBatchSource& train, const FeatureMatrix* validation, const EngineOptions& engine,
          ExternalMemoryOptions external);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Trains one booster per job: labels are the job's column of \p train_labels (rows = the
  /// training rows) and, for the held-out evaluation on the validation split, of \p
  /// validation_labels. Returns the fits in job order. Each tag's model depends only on its
  /// labels, parameters, seed and folds, never on the thread that trained it. Throws DataError for
  /// a tag without training positives, InvalidArgument for mismatched shapes, XgbError,
  /// TrainingInterrupted.
  std::vector<TagFit> fit(const LabelMatrix& train_labels, const LabelMatrix* validation_labels,
                          std::span<const TagJob> jobs, const BoostOptions& options,
                          const FitHooks& hooks = {});

  /// The strategy in use (kAuto resolved).
  [[nodiscard]] ThreadStrategy strategy() const noexcept;
  /// Threads in use.
  [[nodiscard]] int threads() const noexcept;
  /// Number of cross-validation folds (0: the validation split is the held-out set).
  [[nodiscard]] int folds() const noexcept;
  /// Batches the external-memory training matrix was built from (0: in memory, or not built
  /// yet: it is built by the first fit()).
  [[nodiscard]] std::size_t external_batches() const noexcept;
  /// The linear family's column scaler.
  [[nodiscard]] const ColumnScaler& scaler() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The strategy kAuto resolves to on the CPU (chosen by measurement; see the README).
ThreadStrategy default_thread_strategy();

/// XGBoost parameters moodboost sets on every tree booster for \p device and \p threads:
/// objective binary:logistic, tree_method hist (gpu_hist on XGBoost 1.x with CUDA, device=cuda
/// on 2.x), nthread, verbosity 0.
XgbParams engine_params(Device device, int threads);

/// How one tag's booster is trained: the one rule Trainer follows, given to trainers outside the
/// library (the Dask path of the Python module) so that their boosters are set up alike.
struct BoosterPlan {
  /// Every XGBoost parameter: the engine's (engine_params() / linear_engine_params()), seed,
  /// scale_pos_weight, eval_metric (absent for "ap"), base_score (the training prior unless a
  /// parameter fixes it), then the family's BoostOptions parameters, then the tag's own.
  XgbParams params;
  double scale_pos_weight = 1.0;  ///< the weight in params
  double base_score = 0.5;        ///< the base_score in params
  int max_rounds = 0;             ///< BoostOptions::max_rounds scaled to the learning rate
  int patience = 0;               ///< BoostOptions::early_stopping scaled the same way (0 = off)
};

/// The plan of a \p family booster for a tag with \p positives and \p negatives training rows,
/// weighted by \p mode, with \p tag_params applied last (see BoosterPlan), on \p device with
/// \p threads (nthread; 0 = every core).
BoosterPlan booster_plan(Family family, const BoostOptions& options, const XgbParams& tag_params,
                         ScalePosWeight mode, std::size_t positives, std::size_t negatives,
                         Device device = Device::kCpu, int threads = 0);

/// XGBoost parameters moodboost sets on every linear booster: objective binary:logistic, booster
/// gblinear, updater shotgun with nthread 1 (cyclic coordinate descent: with one thread it is
/// deterministic and as exact as coord_descent, and 6x faster here), verbosity 0. The linear
/// family runs on the CPU.
XgbParams linear_engine_params();

/// The keys of \p params that the linked XGBoost would not use in moodboost's boosters of \p
/// family (e.g. a misspelt `--param max_dpeth=3`), found by one round on a 4-row matrix with
/// XGBoost's own parameter validation; empty when all are used. A value XGBoost rejects throws
/// XgbError.
std::vector<std::string> unused_xgboost_params(const XgbParams& params,
                                               Family family = Family::kTree);

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
