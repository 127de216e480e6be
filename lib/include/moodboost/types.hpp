/// \file types.hpp
/// Matrix types shared by the modules. Rows are tracks, columns are features or tags; all
/// matrices are row-major so that a row is one track, as in the MediaEval .npy files.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace moodboost {

/// Dense features, float32, NaN = missing (XGBoost's missing value). Rows = tracks.
using FeatureMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Scores (predictions, probabilities), float64 as in the MediaEval submission. Rows = tracks.
using ScoreMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Binary labels or decisions, 0/1 bytes (NumPy |b1). Rows = tracks, columns = tags.
using LabelMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace moodboost
