// Column access to label matrices for the metrics module's spans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "moodboost/types.hpp"

namespace moodboost::detail {

/// Column \p column of \p labels as contiguous bytes.
inline std::vector<std::uint8_t> label_column(const LabelMatrix& labels, std::size_t column) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(labels.rows()));
  for (Eigen::Index r = 0; r < labels.rows(); ++r) {
    out[static_cast<std::size_t>(r)] = labels(r, static_cast<Eigen::Index>(column));
  }
  return out;
}

}  // namespace moodboost::detail
