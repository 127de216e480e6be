/// \file types.hpp
/// Matrix types shared by the modules. Rows are tracks, columns are features or tags; all
/// matrices are row-major so that a row is one track, as in the MediaEval .npy files.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>

namespace moodboost {

/// Dense features, float32, NaN = missing (XGBoost's missing value). Rows = tracks.
using FeatureMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Scores (predictions, probabilities), float64 as in the MediaEval submission. Rows = tracks.
using ScoreMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Binary labels or decisions, 0/1 bytes (NumPy |b1). Rows = tracks, columns = tags.
using LabelMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A float32 feature matrix that stays on disk and is read in row batches (out-of-core training:
/// a FeatureMatrix would hold it all in memory). Same layout and meaning as FeatureMatrix.
class RowBatchSource {
 public:
  virtual ~RowBatchSource() = default;
  /// Number of rows (tracks).
  [[nodiscard]] virtual std::size_t rows() const = 0;
  /// Number of columns (features).
  [[nodiscard]] virtual std::size_t cols() const = 0;
  /// Copies rows [first, first + count) into \p out (count * cols() floats, row-major). May be
  /// called from one thread at a time. Throws IoError when the rows cannot be read, and
  /// InvalidArgument for rows out of range.
  virtual void read_rows(std::size_t first, std::size_t count, float* out) const = 0;
};

}  // namespace moodboost
