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
#include "moodboost/pipeline.hpp"
#include "split_options.hpp"

namespace moodboost::app {

/// The options of `train` (and the training half of `run`): the library's TrainOptions plus the
/// paths, the device and the loader's options.
struct TrainCliOptions {
  std::filesystem::path features;  ///< --features DIR
  std::filesystem::path out;       ///< --out MODEL_DIR
  TrainOptions train;              ///< --param, --rounds, --cv, --family, ...
  std::string device = "cpu";      ///< --device cpu|cuda|auto
  std::string memory_limit;  ///< --memory-limit BYTES (validated by byte_size()); empty = none
  /// The loader's options (feature_options.hpp), --threads and --cache included. Training
  /// defaults: --covariance upper and --drop-constant (training_feature_options()).
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
