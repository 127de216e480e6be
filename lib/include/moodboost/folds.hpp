/// \file folds.hpp
/// K-fold cross-validation folds for multi-label data with groups: every row of a group (an
/// ARTIST_ID) lands in the same fold, as MTG-Jamendo's splits keep artists apart, and every tag's
/// positives spread over the folds as evenly as the groups allow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "moodboost/types.hpp"

namespace moodboost {

/// The fold (0 .. \p folds - 1) of every row of \p labels. Rows with equal \p groups entries share
/// a fold. Iterative stratification (Sechidis, Tsoumakas and Vlahavas, ECML PKDD 2011) over
/// groups instead of rows: the tag with the fewest positives left is placed first, each of its
/// groups (largest first) going to the fold that still wants the most of that tag's positives
/// (ties: the fold that wants the most rows, then a seeded random order); groups without
/// positives fill the folds by size last. Deterministic in (labels, groups, folds, seed), the
/// same on every platform. Throws InvalidArgument when \p folds < 2, when there are fewer groups
/// than folds, or when \p groups does not have one entry per row.
std::vector<int> grouped_stratified_folds(const LabelMatrix& labels,
                                          std::span<const std::string> groups, int folds,
                                          std::uint64_t seed);

/// The rows of fold \p fold (held_out = true) or of every other fold (held_out = false), in
/// increasing order.
std::vector<std::size_t> fold_rows(std::span<const int> folds, int fold, bool held_out);

}  // namespace moodboost
