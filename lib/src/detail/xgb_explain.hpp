// XGBoost calls that explain a booster rather than use it: feature scores (XGBoosterFeatureScore)
// and per-row SHAP contributions and margins (XGBoosterPredictFromDMatrix types 2 and 1). Kept
// apart from the training wrapper (xgb.hpp), which they build on.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "detail/xgb.hpp"

namespace moodboost::detail::xgb {

/// XGBoosterFeatureScore of \p booster with \p importance_type ("gain", "total_gain", "weight",
/// "cover", "total_cover"), as one score per feature column (0 for a column no split uses, which
/// XGBoost leaves out). \p columns is the model's number of columns; a feature XGBoost names
/// outside [0, columns) is an XgbError.
std::vector<double> feature_scores(BoosterHandle booster, std::string_view importance_type,
                                   std::size_t columns);

/// Number of feature columns \p booster was trained on (XGBoosterGetNumFeature).
std::size_t num_features(BoosterHandle booster);

/// Predictions of every row of \p dmat with all trees: XGBoost's margin (type 1: the raw score
/// before the logistic function), one value per row.
std::vector<double> predict_margins(BoosterHandle booster, DMatrixHandle dmat);

/// SHAP contributions of every row of \p dmat (type 2, pred_contribs): rows x (columns + 1),
/// row-major, the last value of a row being the bias; a row's values sum to its margin. Throws
/// XgbError when the shape XGBoost returns is not rows x (columns + 1).
std::vector<double> predict_contributions(BoosterHandle booster, DMatrixHandle dmat,
                                          std::size_t rows, std::size_t columns);

}  // namespace moodboost::detail::xgb
