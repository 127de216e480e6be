// What `train`, `predict` and `run` share: their options, loading the training data (train and
// validation splits only: the test split never reaches training), the SIGINT policy, progress
// and the summary table.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "moodboost/features.hpp"
#include "moodboost/model.hpp"
#include "split_options.hpp"

namespace moodboost::app {

/// The feature-loader options a command line can set (--cov, --preset, ...).
struct FeatureCliOptions {
  std::string covariance = "upper";  ///< --cov full|upper|none
  std::string preset = "full";       ///< --preset full|basic
  std::vector<std::string> include;  ///< --include GLOB
  std::vector<std::string> exclude;  ///< --exclude GLOB
  bool drop_constant = true;         ///< --keep-constant turns it off
  bool summarize_beats = false;      ///< --beats
  bool lenient = false;              ///< --lenient: wrong shapes become NaN
  std::string missing = "error";     ///< --missing error|skip
  std::filesystem::path cache_dir;   ///< --cache DIR
};

/// The options of `train` (and the training half of `run`).
struct TrainCliOptions {
  std::filesystem::path features;      ///< --features DIR
  std::filesystem::path out;           ///< --out MODEL_DIR
  std::vector<std::string> params;     ///< --param KEY=VALUE (repeatable)
  int rounds = 0;                      ///< --rounds N (0 = default)
  int early_stopping = -1;             ///< --early-stopping N (-1 = default)
  std::string eval_metric;             ///< --eval-metric M
  int trials = -1;                     ///< --trials N (-1: not given)
  double budget_minutes = 0;           ///< --budget-minutes M
  bool tune_per_tag = false;           ///< --tune-per-tag
  std::string scale_pos_weight;        ///< --scale-pos-weight (empty: default, searched)
  std::string refit = "none";          ///< --refit none|train+validation
  std::string device = "cpu";          ///< --device cpu|cuda|auto
  std::string thread_strategy = "auto";  ///< --thread-strategy
  int threads = 0;                     ///< --threads N
  std::uint64_t seed = 0;              ///< --seed S
  bool restart = false;                ///< --restart
  FeatureCliOptions loader;
};

/// Declares the feature-loader options on \p app.
void add_feature_options(CLI::App& app, FeatureCliOptions& options);
/// Declares the training options (not the split set) on \p app.
void add_train_options(CLI::App& app, TrainCliOptions& options);

/// The loader options for \p cli, threads and progress included.
FeatureOptions feature_options(const FeatureCliOptions& cli, int threads);

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
int run_predict(const std::filesystem::path& model_dir, const std::filesystem::path& features,
                const std::filesystem::path& split, const std::filesystem::path& out_dir,
                ModelChoice choice, int threads, bool evaluate);

/// The whole command line as given (for the manifest).
std::vector<std::string> command_line_of(const std::string& command, const CLI::App& app);

}  // namespace moodboost::app
