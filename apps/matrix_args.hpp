// Arguments shared by the commands that mirror the official MediaEval scripts (evaluate, decide):
// the ground-truth and prediction matrices, named and checked the same way, and read with the
// file names in every error message.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "moodboost/types.hpp"

namespace moodboost::app {

/// The GROUNDTRUTH and PREDICTIONS positionals and the matrices they name.
struct MatrixArgs {
  std::string groundtruth;  ///< GROUNDTRUTH: .npy tracks x tags, bool or 0/1 integers
  std::string predictions;  ///< PREDICTIONS: .npy tracks x tags scores (float64)

  /// Declares both positionals (required, existing files) on \p sub.
  void add_to(CLI::App& sub);
  /// Reads GROUNDTRUTH as a label matrix (moodboost::read_label_matrix).
  [[nodiscard]] LabelMatrix read_groundtruth() const;
  /// Reads PREDICTIONS as a score matrix (moodboost::read_score_matrix).
  [[nodiscard]] ScoreMatrix read_predictions() const;
};

}  // namespace moodboost::app
