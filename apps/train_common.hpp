// What `train`, `predict` and `run` share: their options, loading the training data (train and
// validation splits only: the test split never reaches training), the SIGINT policy, progress
// and the summary table.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "feature_options.hpp"
#include "moodboost/features.hpp"
#include "moodboost/model.hpp"
#include "split_options.hpp"

namespace moodboost::app {

/// The options of `train` (and the training half of `run`).
struct TrainCliOptions {
  std::filesystem::path features;        ///< --features DIR
  std::filesystem::path out;             ///< --out MODEL_DIR
  std::vector<std::string> params;       ///< --param [linear:]KEY=VALUE (repeatable)
  int rounds = 0;                        ///< --rounds N (0 = default)
  int early_stopping = -1;               ///< --early-stopping N (-1 = default)
  std::string eval_metric;               ///< --eval-metric M
  int trials = -1;                       ///< --trials N (-1: not given)
  double budget_minutes = 0;             ///< --budget-minutes M
  bool tune_per_tag = false;             ///< --tune-per-tag
  std::string cv = "auto";               ///< --cv auto|K (0 = the validation split)
  std::string family = "auto";           ///< --family auto|tree|linear
  std::string scale_pos_weight;          ///< --scale-pos-weight (empty: default, searched)
  std::string refit = "none";            ///< --refit none|train+validation
  std::string device = "cpu";            ///< --device cpu|cuda|auto
  std::string thread_strategy = "auto";  ///< --thread-strategy
  std::uint64_t seed = 0;                ///< --seed S
  bool restart = false;                  ///< --restart
  /// The loader's options (feature_options.hpp), --threads and --cache included. Training
  /// defaults: --covariance upper (the duplicate lower triangle carries nothing new) and
  /// --drop-constant (a constant column cannot split).
  FeatureCliOptions loader = [] {
    FeatureCliOptions o;
    o.covariance = CovarianceColumns::kUpperTriangle;
    o.drop_constant = true;
    return o;
  }();
};

/// Declares the training options (not the split set), the feature options included, on \p app.
void add_train_options(CLI::App& app, TrainCliOptions& options);

/// Trains into options.out: resolves the device first (an impossible --device fails before any
/// work), reads the train and validation split files only, loads their features, trains with
/// progress on stderr, handles SIGINT (exit 130, finished tags kept) and prints the summary
/// table on stdout. \p splits must have train and validation; a test split is never opened.
/// Returns the process exit code.
int run_train(const TrainCliOptions& options, const SplitFiles& splits,
              const std::filesystem::path& tags_file, UnknownTagPolicy unknown_tags,
              const std::vector<std::string>& command_line);

/// Predicts \p split with the model in \p model_dir into \p out_dir: predictions.npy (float64),
/// decisions.npy (bool), rows in split order and columns in tag order; when \p evaluate, also
/// results.tsv (the official format) and results.json. Returns the exit code.
/// \p loader gives the parsing and execution options (the saved schema fixes the columns);
/// \p unknown_tags says what a split tag outside the model's tags does to the evaluation (the
/// labels are read before anything is written, so an error leaves no output).
int run_predict(const std::filesystem::path& model_dir, const std::filesystem::path& features,
                const std::filesystem::path& split, const std::filesystem::path& out_dir,
                ModelChoice choice, const FeatureCliOptions& loader, bool evaluate,
                UnknownTagPolicy unknown_tags);

/// The whole command line as given (for the manifest).
std::vector<std::string> command_line_of(const std::string& command, const CLI::App& app);

}  // namespace moodboost::app
