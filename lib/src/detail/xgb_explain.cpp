#include "detail/xgb_explain.hpp"

#include <fmt/format.h>

#include <charconv>

namespace moodboost::detail::xgb {
namespace {

// XGBoosterPredictFromDMatrix with prediction \p type over all trees, copied out of XGBoost's
// buffer; \p shape receives its shape.
std::vector<double> predict_type(BoosterHandle booster, DMatrixHandle dmat, int type,
                                 std::vector<std::size_t>& shape) {
  const std::string config =
      fmt::format(R"({{"type": {}, "training": false, "iteration_begin": 0, "iteration_end": 0, )"
                  R"("strict_shape": false}})",
                  type);
  const bst_ulong* out_shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  MOODBOOST_XGB_CHECK(
      XGBoosterPredictFromDMatrix(booster, dmat, config.c_str(), &out_shape, &dims, &result));
  shape.assign(out_shape, out_shape + dims);
  std::size_t size = 1;
  for (std::size_t d : shape) size *= d;
  return std::vector<double>(result, result + size);
}

// The column index of an XGBoost feature name: "f<index>" (the boosters are trained on unnamed
// matrices, so XGBoost names column i "fi").
std::size_t column_of(std::string_view name, std::size_t columns) {
  std::size_t index = columns;
  if (name.size() > 1 && name.front() == 'f') {
    const auto [end, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), index);
    if (ec != std::errc() || end != name.data() + name.size()) index = columns;
  }
  if (index >= columns) {
    throw XgbError("XGBoosterFeatureScore",
                   fmt::format("feature '{}' is not one of the model's {} columns (f0..f{})", name,
                               columns, columns - 1));
  }
  return index;
}

}  // namespace

std::vector<double> feature_scores(BoosterHandle booster, std::string_view importance_type,
                                   std::size_t columns) {
  const std::string config =
      fmt::format(R"({{"importance_type": "{}", "feature_map": ""}})", importance_type);
  bst_ulong n_features = 0, dims = 0;
  const char** names = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  MOODBOOST_XGB_CHECK(
      XGBoosterFeatureScore(booster, config.c_str(), &n_features, &names, &dims, &shape, &scores));
  std::vector<double> out(columns, 0.0);
  for (bst_ulong i = 0; i < n_features; ++i) out[column_of(names[i], columns)] = scores[i];
  return out;
}

std::size_t num_features(BoosterHandle booster) {
  bst_ulong n = 0;
  MOODBOOST_XGB_CHECK(XGBoosterGetNumFeature(booster, &n));
  return static_cast<std::size_t>(n);
}

std::vector<double> predict_margins(BoosterHandle booster, DMatrixHandle dmat) {
  std::vector<std::size_t> shape;
  return predict_type(booster, dmat, 1, shape);
}

std::vector<double> predict_contributions(BoosterHandle booster, DMatrixHandle dmat,
                                          std::size_t rows, std::size_t columns) {
  std::vector<std::size_t> shape;
  std::vector<double> values = predict_type(booster, dmat, 2, shape);
  if (shape.size() != 2 || shape[0] != rows || shape[1] != columns + 1) {
    throw XgbError("XGBoosterPredictFromDMatrix (pred_contribs)",
                   fmt::format("expected a {} x {} result, got shape ({})", rows, columns + 1,
                               fmt::join(shape, ", ")));
  }
  return values;
}

}  // namespace moodboost::detail::xgb
