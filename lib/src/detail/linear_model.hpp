// XGBoost gblinear models as JSON: folding the linear family's column scaler into the weights,
// and reading the weights back (importance, explanations).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "moodboost/linear.hpp"

namespace moodboost::detail {

/// A gblinear model's parameters (one output group).
struct LinearWeights {
  std::vector<double> weights;  ///< per column
  double bias = 0;              ///< the bias weight (base_score's margin comes on top)
};

/// True when \p model_json is an XGBoost JSON model whose booster is gblinear.
bool is_gblinear(std::string_view model_json);

/// The weights of a gblinear JSON model with \p columns features; throws DataError when the model
/// is not gblinear or its shape differs.
LinearWeights gblinear_weights(std::string_view model_json, std::size_t columns);

/// The gblinear model \p model_json trained on standardize(x, scaler), rewritten to predict the
/// same margins on raw x: w_j / sd_j per column (0 for an ignored column) and bias - sum_j
/// w_j mean_j / sd_j, each stored as the float XGBoost keeps. Throws DataError when the model
/// is not gblinear or has another number of columns.
std::string fold_scaler_into_gblinear(std::string_view model_json, const ColumnScaler& scaler);

}  // namespace moodboost::detail
