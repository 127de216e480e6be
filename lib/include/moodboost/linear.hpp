/// \file linear.hpp
/// The linear family's column scaling. XGBoost's gblinear is trained on standardised columns
/// (mean and standard deviation of the training rows; a missing value is the mean, i.e. 0 after
/// scaling). The saved model has the scaler folded into its weights (w_j / sd_j, and the bias
/// minus sum_j w_j mean_j / sd_j), so it predicts on raw feature values like a tree model; the
/// only step left for a raw row is to replace a missing value (NaN) by the column's training
/// mean, which moodboost does and scaler.tsv holds for anyone else.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/types.hpp"

namespace moodboost {

/// Per-column statistics of the training rows.
struct ColumnScaler {
  /// Mean of the finite values (0 for a column without any).
  std::vector<double> mean;
  /// Population standard deviation of the finite values; 0 marks a column the linear family
  /// ignores: constant, without finite values, below 1e-30, or below 1e-4 of |mean| (after
  /// folding, float32 sums could not honour so small a spread around so large a value).
  std::vector<double> sd;
  [[nodiscard]] std::size_t size() const noexcept { return mean.size(); }
};

/// The scaler of \p x's rows (NaN and +-inf ignored).
ColumnScaler fit_column_scaler(const FeatureMatrix& x);

/// (x - mean) / sd per column; a missing value, and every value of an ignored column, is 0.
/// Throws InvalidArgument when the column counts differ.
FeatureMatrix standardize(const FeatureMatrix& x, const ColumnScaler& scaler);

/// \p x with every NaN replaced by its column's mean (float32): what a folded linear model
/// needs. Throws InvalidArgument when the column counts differ.
FeatureMatrix impute_means(const FeatureMatrix& x, const ColumnScaler& scaler);

/// True when \p x holds a NaN.
bool has_missing(const FeatureMatrix& x);

/// scaler.tsv: a header `column<TAB>mean<TAB>sd`, then one line per column in matrix order
/// (shortest round-trip decimals). \p names are the schema's column names.
std::string scaler_tsv(const ColumnScaler& scaler, const std::vector<std::string>& names);

/// Reads scaler.tsv; checks the names against \p names. Throws ParseError naming the file and
/// line.
ColumnScaler parse_scaler_tsv(std::string_view text, const std::vector<std::string>& names,
                              const std::filesystem::path& file);

}  // namespace moodboost
