/// \file model.hpp
/// The model directory: training a whole run into it (tuning, one model per tag, thresholds,
/// optional refit on train + validation), resuming an interrupted run, and loading it back for
/// prediction.
///
/// A tag's model is the trees, the linear model (gblinear, the column scaler folded into its
/// weights) or their blend (the mean of the two probabilities), chosen per tag on held-out data
/// (blend.hpp). Held-out data is the validation split, or K-fold cross-validation on the training
/// split with folds grouped by ARTIST_ID (folds.hpp); either way the thresholds are fitted on the
/// validation split.
///
/// Layout of MODEL_DIR (every file written atomically):
///   manifest.json            versions, XGBoost build info, device, features, options, final
///                            parameters, selection, splits (rows + hash), tags, per-tag model,
///                            components and results
///   schema.json              the feature schema (columns in order): prediction uses exactly it
///   scaler.tsv               column, training mean, sd (when a tag has a linear model): a
///                            linear model needs a missing value replaced by its column's mean
///   run.json                 the run's arguments and data fingerprint (resume check)
///   tuning.json              the chosen configuration(s) per family, once the search is over
///   trials.tsv               one line per tuning trial
///   thresholds.tsv           tag<TAB>threshold, tag order (as `moodboost decide` writes)
///   models/NNN-<tag>.json, models/NNN-<tag>.linear.json        the train-only models (XGBoost
///                            JSON; .linear for the gblinear one)
///   models/NNN-<tag>.refit.json, models/NNN-<tag>.linear.refit.json   train + validation (--refit)
///   records/NNN.train.json, records/NNN.refit.json   per-tag results, written after the models;
///                            a tag is finished when its record parses, matches the run's
///                            fingerprint and its model files' hashes match
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moodboost/blend.hpp"
#include "moodboost/feature_record.hpp"
#include "moodboost/feature_schema.hpp"
#include "moodboost/linear.hpp"
#include "moodboost/train.hpp"
#include "moodboost/tune.hpp"
#include "moodboost/types.hpp"

namespace moodboost {

/// A split file a run used.
struct SplitRecord {
  std::string role;            ///< "train" or "validation"
  std::filesystem::path file;  ///< as given
  std::size_t rows = 0;        ///< tracks (matrix rows)
  std::string hash;            ///< FNV-1a 64 of the file's bytes, 16 hex digits
};

/// Everything a training run learns from. It holds the training and validation splits only:
/// the test split is never part of it.
struct TrainingData {
  FeatureMatrix train_x;            ///< training features
  LabelMatrix train_y;              ///< training labels (columns = tags)
  FeatureMatrix validation_x;       ///< validation features
  LabelMatrix validation_y;         ///< validation labels
  std::vector<std::string> tags;    ///< column order of the label matrices
  std::vector<SplitRecord> splits;  ///< the split files used
  /// Where the features came from and the loader options that shaped them (the manifest's
  /// "features"); given back to prediction.
  FeatureRecord features;
  /// The columns, in matrix order; saved as schema.json, so that the columns can never shift.
  FeatureSchema schema;
  /// ARTIST_ID of every training row: cross-validation folds keep an artist in one fold. May be
  /// empty without cross-validation.
  std::vector<std::string> train_groups;
  /// Out-of-core training: the training matrix left on disk (the binary feature cache), read in
  /// row batches; train_x is then empty (0 rows, the columns). Null when train_x holds it.
  std::shared_ptr<const RowBatchSource> train_source;

  /// Rows of the training matrix (train_x or train_source).
  [[nodiscard]] std::size_t train_rows() const;
  /// Columns of the training matrix (train_x or train_source).
  [[nodiscard]] std::size_t train_cols() const;
};

/// The memory in-memory training takes per cell (row x column) of the training matrix, for
/// --memory-limit: 24 bytes, measured (bench/bench_out_of_core.sh on the synthetic set: the peak
/// resident memory of `train` grows by 23.2 bytes per training or validation cell, from 187 MB at
/// 5.3 million cells to 803 MB at 31.9 million). The float32 matrix (4 bytes), XGBoost's CSR copy
/// (8: column index and value), its gradient index and column matrix (about 2 at max_bin <= 256)
/// and XGBoost's transient copies while it sketches the quantiles and builds them.
inline constexpr std::uint64_t kInMemoryBytesPerCell = 24;

/// kInMemoryBytesPerCell * rows * cols, saturating at UINT64_MAX.
std::uint64_t in_memory_training_bytes(std::size_t rows, std::size_t cols);

/// Rows per out-of-core batch for \p memory_limit bytes and \p cols columns: a batch's float32
/// rows take at most a 32nd of the limit, at least 1 row. XGBoost 1.7 keeps up to 4 pages in
/// flight (3 prefetched), each a CSR page (8 bytes a cell) and a gradient-index page (1 byte a
/// cell), besides the 4-byte batch it converts: about 40 bytes a batch cell, 10 times the
/// batch's floats, so the batches take about a third of the limit; the rest is for the
/// validation matrix, the per-row gradients and the histograms. (XGBoost 1.7's hist also keeps
/// about 14 bytes per training cell whatever the batches: see the README, Out of core.)
std::size_t out_of_core_batch_rows(std::uint64_t memory_limit, std::size_t cols);

/// Refit policy.
enum class Refit {
  kNone,             ///< train-only models
  kTrainValidation,  ///< also retrain on train + validation (see RunSettings)
};
/// "none" or "train+validation"; throws InvalidArgument otherwise.
Refit parse_refit(std::string_view text);
/// "none" or "train+validation".
std::string to_string(Refit refit);

/// The settings of a training run.
struct RunSettings {
  BoostOptions boost;             ///< params = defaults + --param; max_rounds; early stopping; ...
  TuneConfig base_config;         ///< the tree family's starting point (default params)
  TuneConfig linear_base_config;  ///< the linear family's starting point
  TuneOptions tune;               ///< trials / budget / portfolio / families / per-tag
  /// Held-out data for the search, the rounds and the family choice: 0 = the validation split;
  /// K >= 2 = K-fold cross-validation on the training split, grouped by ARTIST_ID
  /// (TrainingData::train_groups).
  int cv_folds = 0;
  Refit refit = Refit::kNone;
  EngineOptions engine;  ///< device (resolved), threads, strategy
  /// The command line as given, stored in the manifest (informational).
  std::vector<std::string> command_line;
  /// Discard an existing run with other arguments instead of refusing it.
  bool restart = false;
  /// --memory-limit in bytes (0 = none): with TrainingData::train_source the training matrix is
  /// trained out of core in batches of out_of_core_batch_rows(memory_limit, columns) rows.
  std::uint64_t memory_limit = 0;
};

/// One trained model of a tag: one family's booster.
struct ComponentRecord {
  Family family = Family::kTree;
  double weight = 1.0;  ///< its weight in the tag's score (kBlendWeight in a blend)
  XgbParams params;     ///< its searched parameters (tuned values)
  std::string scale_pos_weight_mode;
  double scale_pos_weight = 1.0;
  double base_score = 0.5;      ///< XGBoost's base_score (the training prior)
  int best_iteration = 0;       ///< 0-based; the model holds rounds 0..best_iteration
  int rounds_trained = 0;       ///< rounds boosted while choosing (with the patience)
  double best_score = 0.0;      ///< the held-out eval metric at best_iteration
  double heldout_pr_auc = 0.0;  ///< held-out average precision of this model alone
  double seconds = 0.0;
  std::string model_file;  ///< models/NNN-<tag>[.linear].json (relative to the model dir)
  std::string model_hash;
  // Refit (empty model file when none).
  int refit_rounds = 0;
  double refit_seconds = 0.0;
  std::string refit_model_file;
  std::string refit_model_hash;
};

/// Per-tag result of a run (one manifest entry).
struct TagRecord {
  std::size_t index = 0;  ///< tag column
  std::string tag;
  TagModel model = TagModel::kTree;         ///< what predict uses
  std::vector<ComponentRecord> components;  ///< the models predict combines (1, or 2 for a blend)
  /// How the model was chosen (held-out average precision of each candidate; a single family's
  /// values only when one was trained).
  TagModelChoice choice;
  int folds = 0;                ///< 0: held out on the validation split; K: K-fold cross-validation
  double heldout_pr_auc = 0.0;  ///< held-out average precision of the chosen model
  double validation_roc_auc = 0.0;  ///< of the train-only model (NaN without both classes)
  double validation_pr_auc = 0.0;   ///< average precision, same
  double threshold = 0.5;           ///< F1-optimal on validation (decisions: score > threshold)
  std::size_t positives = 0;        ///< training positives
  std::size_t validation_positives = 0;
  double seconds = 0.0;        ///< training time of every family trained for the tag
  double refit_seconds = 0.0;  ///< refit time of its components
  /// The component of \p family, or nullptr.
  [[nodiscard]] const ComponentRecord* component(Family family) const;
};

/// What train_model_dir reports while running. Every callback may be empty.
struct RunHooks {
  /// One line of news ("tuning: 9 configurations...", "resuming: 12 of 56 tags finished").
  std::function<void(const std::string&)> message;
  /// A tag finished: (phase "train" | "refit", finished, total, record).
  std::function<void(const std::string& phase, std::size_t done, std::size_t total,
                     const TagRecord&)>
      tag_done;
  /// Progress and interruption of every fit.
  FitHooks fit;
  /// A tuning trial finished.
  std::function<void(const Trial&)> trial_done;
};

/// Trains a run into \p model_dir (created if missing): the search (if any), one booster per
/// tag, thresholds, the refit, then manifest.json. A directory holding an earlier run with the
/// same arguments and data resumes it (finished tags are kept after validating their record and
/// model file; anything corrupt or half-written is trained again); one with different arguments
/// is an InvalidArgument naming what differs unless settings.restart. Returns the per-tag
/// records in tag order. Throws TrainingInterrupted (everything finished is kept), DataError,
/// XgbError, IoError.
std::vector<TagRecord> train_model_dir(const TrainingData& data, const RunSettings& settings,
                                       const std::filesystem::path& model_dir,
                                       const RunHooks& hooks = {});

/// Which boosters to predict with.
enum class ModelChoice {
  kDefault,  ///< the refit models when the run made them, else the train-only models
  kTrain,    ///< the train-only models
  kRefit,    ///< the refit models (InvalidArgument when the run made none)
};
/// "default", "train" or "refit"; throws InvalidArgument otherwise.
ModelChoice parse_model_choice(std::string_view text);

/// One model of a loaded tag.
struct LoadedComponent {
  Family family = Family::kTree;
  double weight = 1.0;     ///< score = sum over components of weight * probability
  std::string model_json;  ///< XGBoost JSON (a linear one with the scaler folded in)
};

/// A model directory loaded for prediction.
class LoadedModel {
 public:
  /// Reads manifest.json and the chosen models; checks every model file against the hash in
  /// the manifest. Throws IoError / ParseError (naming the file and place) / DataError for a
  /// missing, corrupt or inconsistent directory, InvalidArgument for kRefit without refit models.
  LoadedModel(const std::filesystem::path& model_dir, ModelChoice choice, int threads = 0);
  ~LoadedModel();
  LoadedModel(LoadedModel&&) noexcept;
  LoadedModel& operator=(LoadedModel&&) noexcept;

  /// The tags, in column order.
  [[nodiscard]] const std::vector<std::string>& tags() const noexcept { return tags_; }
  /// Per-tag thresholds (fitted on validation with the train-only models).
  [[nodiscard]] const std::vector<double>& thresholds() const noexcept { return thresholds_; }
  /// Per tag: trees, linear or blend.
  [[nodiscard]] const std::vector<TagModel>& tag_models() const noexcept { return tag_models_; }
  /// The manifest's "features": where the features came from and the loader options.
  [[nodiscard]] const FeatureRecord& features() const noexcept { return features_; }
  /// schema.json: the columns the models were trained on, in order.
  [[nodiscard]] const FeatureSchema& schema() const noexcept { return schema_; }
  /// True when predictions come from the refit (train + validation) models.
  [[nodiscard]] bool uses_refit() const noexcept { return uses_refit_; }
  /// manifest.json's "synthetic_features": the run trained on moodboost's synthetic data.
  [[nodiscard]] bool synthetic_features() const noexcept { return synthetic_features_; }
  /// The chosen models per tag, in tag order (for feature importance and per-track
  /// explanations, which need XGBoost calls that prediction does not).
  [[nodiscard]] const std::vector<std::vector<LoadedComponent>>& components() const noexcept {
    return components_;
  }
  /// scaler.tsv (the training means and sds of the columns), when a tag has a linear model.
  [[nodiscard]] const std::optional<ColumnScaler>& scaler() const noexcept { return scaler_; }
  /// Scores: rows = feature rows, columns = tags. A linear model sees missing values replaced
  /// by the training means.
  [[nodiscard]] ScoreMatrix predict(const FeatureMatrix& features) const;
  /// Decisions: score > threshold (strict), per tag.
  [[nodiscard]] LabelMatrix decide(const ScoreMatrix& scores) const;

 private:
  std::vector<std::string> tags_;
  std::vector<double> thresholds_;
  std::vector<TagModel> tag_models_;
  FeatureRecord features_;
  FeatureSchema schema_;
  bool uses_refit_ = false;
  bool synthetic_features_ = false;
  std::vector<std::vector<LoadedComponent>> components_;
  std::optional<ColumnScaler> scaler_;
  int threads_ = 0;
  // One family's boosters: boosters[i] adds weight[i] times its probability to tag owner[i].
  struct BoosterGroup {
    std::vector<TagBooster> boosters;
    std::vector<std::size_t> owner;
    std::vector<double> weight;
  };
  BoosterGroup trees_;
  BoosterGroup linears_;
};

/// The cross-validation rule of `--cv auto`: 5-fold cross-validation when the training split has
/// at most kCrossValidateRows rows (there a validation split of a few hundred rows, with a few
/// dozen positives per tag, is too noisy to choose on, and five trainings cost little), else the
/// validation split (0).
inline constexpr std::size_t kCrossValidateRows = 5000;
inline constexpr int kAutoFolds = 5;
int auto_cv_folds(std::size_t train_rows);

/// Rounds for the train + validation refit of a tag whose early stopping kept
/// \p best_rounds rounds on \p train_rows rows: round(best_rounds * (train_rows +
/// validation_rows) / train_rows), at least 1 (more data supports proportionally more rounds at
/// the same learning rate).
int refit_rounds(int best_rounds, std::size_t train_rows, std::size_t validation_rows);

}  // namespace moodboost
