/// \file pipeline.hpp
/// The steps of the command line as library calls, so that a C++ program or the Python module
/// runs exactly what `moodboost train`, `predict` and `baseline` run: the training settings from
/// the command-line options (validated before any work), loading a split set's training data,
/// predicting a split with a model directory and writing the submission files, and the published
/// naive baselines. The library never prints: what a step has to say comes through its hooks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/dataset.hpp"
#include "moodboost/features.hpp"
#include "moodboost/metrics.hpp"
#include "moodboost/metrics_format.hpp"
#include "moodboost/model.hpp"
#include "moodboost/progress.hpp"
#include "moodboost/types.hpp"

namespace moodboost {

/// The training options as `moodboost train` takes them (the defaults are its defaults).
struct TrainOptions {
  /// "KEY=VALUE" for the trees, "linear:KEY=VALUE" for the linear family; fixed in the search.
  std::vector<std::string> params;
  std::optional<int> rounds;               ///< most rounds at eta >= 0.1 (>= 1); default 300
  std::optional<int> early_stopping;       ///< patience (>= 0, 0 = off); default 20
  std::optional<std::string> eval_metric;  ///< an XGBoost eval_metric or "ap"; default aucpr
  std::optional<int> trials;  ///< random tree configurations (>= 0; 0 = no search at all)
  double budget_minutes = 0;  ///< search + final training budget (finite, >= 0); 0 = none
  bool tune_per_tag = false;
  std::string cv = "auto";       ///< "auto", "0" (the validation split) or a number of folds
  std::string family = "auto";   ///< "auto", "tree" or "linear"
  std::string scale_pos_weight;  ///< "none", "sqrt", "ratio"; empty = the default, searched
  std::string refit = "none";    ///< "none" or "train+validation"
  std::string thread_strategy = "auto";  ///< "auto", "per-tag" or "tags-in-parallel"
  std::uint64_t seed = 0;
  int threads = 0;  ///< 0 = every core
  bool restart = false;
  /// --memory-limit in bytes (0 = none, else at least kMinMemoryLimit): training matrices whose
  /// in-memory estimate (in_memory_training_bytes()) exceeds it train out of core, from the
  /// feature cache (TrainingInputs::memory_limit). Refuses --cv K (K >= 2), --family linear and
  /// the GPU, whatever the matrix's size.
  std::uint64_t memory_limit = 0;
};

/// The smallest --memory-limit: 1 MiB (less cannot hold a batch of a real feature row and the
/// validation matrix).
inline constexpr std::uint64_t kMinMemoryLimit = std::uint64_t{1} << 20;

/// The settings of a run from \p options and a resolved \p device. Every option is checked here,
/// before any data is read or any file written: a malformed or unknown --param (by XGBoost's own
/// parameter validation for the family it is meant for), an eval metric XGBoost does not know, a
/// number out of its range (negative, zero where meaningless, not finite, a seed XGBoost cannot
/// take), an unknown name. Throws InvalidArgument naming the option.
RunSettings make_run_settings(const TrainOptions& options, Device device,
                              std::vector<std::string> command_line = {});

/// Completes \p settings once the training rows are known: the held-out data (--cv auto: 5-fold
/// cross-validation at most kCrossValidateRows rows, else the validation split) and the
/// small-data portfolio (searched when cross-validating without --trials/--budget-minutes).
/// Returns one line saying what was chosen and why. Throws InvalidArgument for a bad --cv.
/// With \p out_of_core (TrainingData::train_source is set), the validation split is held out and
/// only the tree family trains (XGBoost 1.7 cannot slice an external-memory matrix into folds),
/// and the line says so.
std::string resolve_selection(RunSettings& settings, const TrainOptions& options,
                              std::size_t train_rows, bool out_of_core = false);

/// The loader options training uses unless told otherwise: --covariance upper (the lower
/// triangle repeats the upper one) and --drop-constant (a constant column cannot split).
FeatureOptions training_feature_options();

/// Callbacks of the feature loads of a pipeline step. Every callback may be empty.
struct LoadHooks {
  /// A load starts: "train features", "validation features", "features".
  std::function<void(std::string_view what)> begin;
  /// Files parsed so far, of all (progress).
  ProgressFn progress;
  /// A load finished.
  std::function<void(std::string_view what, const LoadedFeatures& loaded)> end;
};

/// What training reads.
struct TrainingInputs {
  std::filesystem::path features;             ///< the features directory (NN/<id>.json)
  SplitFiles splits;                          ///< train and validation are read; test never is
  std::optional<std::filesystem::path> tags;  ///< tag list; default: the tags seen in the splits
  UnknownTagPolicy unknown_tags = UnknownTagPolicy::kError;
  FeatureOptions loader = training_feature_options();
  /// Bytes (0 = no limit): when the training matrix's in_memory_training_bytes() exceeds it, the
  /// matrix is left in the binary feature cache (loader.cache_dir is then required) and
  /// TrainingData::train_source reads it in row batches (load_features_on_disk()).
  std::uint64_t memory_limit = 0;
};

/// Loads the training data: the train and validation splits' labels and features (the schema
/// discovered from the training files), ARTIST_IDs for the folds, split hashes for the resume
/// check. The test split is never opened. With \p inputs.memory_limit the training features are
/// loaded with load_features_on_disk() first; a matrix within the limit is then read into
/// memory (a cache hit), a larger one stays on disk (TrainingData::train_source). Throws what
/// load_split_set() and load_features() throw, and InvalidArgument without a train or validation
/// split, or with a memory limit but no cache directory.
TrainingData load_training_data(const TrainingInputs& inputs, const LoadHooks& hooks = {});

/// A split predicted with a model directory.
struct SplitPrediction {
  ScoreMatrix scores;                    ///< tracks x tags (float64)
  LabelMatrix decisions;                 ///< score > threshold, per tag
  std::vector<std::string> track_ids;    ///< row order
  std::optional<Evaluation> evaluation;  ///< for a labelled split
  std::vector<std::string>
      excluded_tags;             ///< tags without both classes, left out of the macro AUCs
  ResultsProvenance provenance;  ///< results.json's provenance
  LoadReport report;             ///< the feature load
};

/// Predicts \p split with \p model (loaded from \p model_dir), reading the features with the
/// model's schema and \p loader's parsing and execution options; every row must have a feature
/// file. With \p evaluate, the split's labels (in the model's tag order, \p unknown_tags for tags
/// the model lacks) are read first, so that a labelling error stops before any work, and the
/// official metrics are computed (tags without both classes left out of the macro AUCs).
SplitPrediction predict_split(const LoadedModel& model, const std::filesystem::path& model_dir,
                              const std::filesystem::path& features,
                              const std::filesystem::path& split, const FeatureOptions& loader,
                              bool evaluate, UnknownTagPolicy unknown_tags,
                              const LoadHooks& hooks = {});

/// Writes predictions.npy (float64), decisions.npy (bool) and results.json, and with an
/// evaluation results.tsv (the official format), into \p out_dir, each atomically. Returns the
/// paths written.
std::vector<std::filesystem::path> write_split_prediction(const SplitPrediction& prediction,
                                                          const std::vector<std::string>& tags,
                                                          const std::filesystem::path& out_dir);

/// A published naive baseline's submission.
struct NaiveBaseline {
  ScoreMatrix predictions;  ///< test tracks x tags
  LabelMatrix decisions;    ///< test tracks x tags
  std::string description;  ///< one line: what it is
};

/// MediaEval's "popular" baseline: the most frequent training tag (the first in vocabulary order
/// on a tie, as numpy.argmax) is true, and scores 1, for every one of \p test_rows tracks.
NaiveBaseline popular_baseline(const LabelMatrix& train_labels,
                               const std::vector<std::string>& tags, std::size_t test_rows);
/// MediaEval's "random" baseline: every test track gets the training tag frequencies as scores;
/// no tag is decided.
NaiveBaseline random_baseline(const LabelMatrix& train_labels, std::size_t test_rows);

}  // namespace moodboost
