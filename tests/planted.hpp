// Small generated data for the training tests: Gaussian features and tags planted on a few of
// them, so that a booster must learn them (and a shuffled one could not).
#pragma once

#include <cstdint>
#include <limits>
#include <random>

#include "moodboost/types.hpp"

namespace moodboost::test {

/// Features and labels of one split.
struct PlantedSplit {
  FeatureMatrix x;
  LabelMatrix y;
};

/// \p rows rows, \p cols Gaussian columns (every 7th value of the first noise column missing), \p tags tags:
/// tag t is positive when x[t] + 0.7 x[t + tags] + noise > 1.3 (about 15% positives). The same
/// seed always gives the same data.
inline PlantedSplit planted_split(int rows, int cols, int tags, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  PlantedSplit split{FeatureMatrix(rows, cols), LabelMatrix(rows, tags)};
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) split.x(r, c) = normal(rng);
    for (int t = 0; t < tags; ++t) {
      const float signal = split.x(r, t) + 0.7f * split.x(r, t + tags) + 0.6f * normal(rng);
      split.y(r, t) = signal > 1.3f ? 1 : 0;
    }
    if (cols > 2 * tags && r % 7 == 0) {
      split.x(r, 2 * tags) = std::numeric_limits<float>::quiet_NaN();
    }
  }
  return split;
}

}  // namespace moodboost::test
