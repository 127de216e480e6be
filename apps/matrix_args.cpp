#include "matrix_args.hpp"

#include "moodboost/npy.hpp"

namespace moodboost::app {

void MatrixArgs::add_to(CLI::App& sub) {
  sub.add_option("GROUNDTRUTH", groundtruth,
                 "NPY file with the ground truth (tracks x tags, bool or 0/1 integers)")
      ->required()
      ->check(CLI::ExistingFile);
  sub.add_option("PREDICTIONS", predictions,
                 "NPY file with the predicted scores (tracks x tags, float64)")
      ->required()
      ->check(CLI::ExistingFile);
}

LabelMatrix MatrixArgs::read_groundtruth() const { return read_label_matrix(groundtruth); }

ScoreMatrix MatrixArgs::read_predictions() const { return read_score_matrix(predictions); }

}  // namespace moodboost::app
