#include "moodboost/importance.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "detail/enum_names.hpp"
#include "detail/linear_model.hpp"
#include "detail/xgb_explain.hpp"
#include "moodboost/dataset.hpp"
#include "moodboost/error.hpp"

namespace moodboost {
namespace {

namespace fs = std::filesystem;

constexpr detail::EnumName<ImportanceType> kTypeNames[] = {
    {ImportanceType::kGain, "gain"},
    {ImportanceType::kTotalGain, "total_gain"},
    {ImportanceType::kWeight, "weight"},
    {ImportanceType::kCover, "cover"},
    {ImportanceType::kTotalCover, "total_cover"}};

// Indices 0..n-1 ordered by descending value, ties by index (a stable, deterministic ranking).
std::vector<std::size_t> descending(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] > values[b]; });
  return order;
}

// Sums per-column values by key (family or statistic): keys sorted by descending total (ties by
// name), the totals and each key's column count; \p index_of receives each column's key index.
struct Grouping {
  std::vector<std::string> keys;
  std::vector<double> totals;
  std::vector<std::size_t> counts;
  std::vector<std::size_t> index_of;
};

template <typename KeyOf>
Grouping group_columns(const std::vector<Column>& columns, const std::vector<double>& values,
                       KeyOf key_of) {
  std::map<std::string, std::pair<double, std::size_t>> sums;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    auto& [total, count] = sums[key_of(columns[c])];
    total += values[c];
    ++count;
  }
  Grouping g;
  std::vector<double> totals;
  std::vector<std::string> keys;
  for (const auto& [key, sum] : sums) {
    keys.push_back(key);
    totals.push_back(sum.first);
  }
  std::map<std::string, std::size_t> position;
  for (std::size_t i : descending(totals)) {
    position[keys[i]] = g.keys.size();
    g.keys.push_back(keys[i]);
    g.totals.push_back(totals[i]);
    g.counts.push_back(sums[keys[i]].second);
  }
  for (const auto& column : columns) g.index_of.push_back(position.at(key_of(column)));
  return g;
}

std::string importance_title(const ImportanceReport& r) {
  const std::string what = fmt::format("feature importance ({}) of the boosters in {}",
                                       to_string(r.type), r.model_dir.string());
  if (r.synthetic) {
    return fmt::format("SYNTHETIC DATA: {} (trained on moodboost's synthetic dataset)", what);
  }
  return fmt::format("moodboost {}", what);
}

}  // namespace

std::string column_family(const Column& column) {
  if (!column.group.empty()) return column.group;
  return column.section.empty() ? std::string("(other)") : column.section;
}

std::string column_statistic(const Column& column) {
  return column.statistic.empty() ? std::string(kPlainValueStatistic) : column.statistic;
}

ImportanceType parse_importance_type(std::string_view text) {
  return detail::parse_name(kTypeNames, text, "importance type");
}

std::string to_string(ImportanceType type) { return detail::name_of(kTypeNames, type); }

std::vector<std::size_t> ImportanceReport::global_ranking() const { return descending(global); }

std::vector<std::size_t> ImportanceReport::tag_ranking(std::size_t tag) const {
  std::vector<double> row(static_cast<std::size_t>(shares.cols()));
  for (std::size_t c = 0; c < row.size(); ++c) {
    row[c] = shares(static_cast<Eigen::Index>(tag), static_cast<Eigen::Index>(c));
  }
  return descending(row);
}

ImportanceReport summarize_importance(const std::vector<std::string>& tags,
                                      const std::vector<Column>& columns,
                                      const Eigen::MatrixXd& scores, ImportanceType type,
                                      std::size_t top_k) {
  if (scores.rows() != static_cast<Eigen::Index>(tags.size()) ||
      scores.cols() != static_cast<Eigen::Index>(columns.size())) {
    throw DataError(fmt::format("importance: a ({}, {}) score matrix for {} tags and {} columns",
                                scores.rows(), scores.cols(), tags.size(), columns.size()));
  }
  for (Eigen::Index t = 0; t < scores.rows(); ++t) {
    for (Eigen::Index c = 0; c < scores.cols(); ++c) {
      if (!std::isfinite(scores(t, c)) || scores(t, c) < 0) {
        throw DataError(
            fmt::format("importance: tag {} ({}), column {} ({}): score {} is not a "
                        "finite number >= 0",
                        t, tags[static_cast<std::size_t>(t)], c,
                        columns[static_cast<std::size_t>(c)].name, scores(t, c)));
      }
    }
  }
  ImportanceReport r;
  r.type = type;
  r.top_k = top_k;
  r.tags = tags;
  r.columns = columns;
  r.scores = scores;
  r.shares = Eigen::MatrixXd::Zero(scores.rows(), scores.cols());
  r.global.assign(columns.size(), 0.0);
  r.tags_using.assign(columns.size(), 0);
  std::size_t with_splits = 0;
  for (Eigen::Index t = 0; t < scores.rows(); ++t) {
    const double total = scores.row(t).sum();
    if (total <= 0) {
      r.tags_without_splits.push_back(static_cast<std::size_t>(t));
      continue;
    }
    ++with_splits;
    r.shares.row(t) = scores.row(t) / total;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const double share = r.shares(t, static_cast<Eigen::Index>(c));
      r.global[c] += share;
      if (share > 0) ++r.tags_using[c];
    }
  }
  if (with_splits > 0) {
    for (double& g : r.global) g /= static_cast<double>(with_splits);
  }
  r.unused_columns = static_cast<std::size_t>(std::count(r.global.begin(), r.global.end(), 0.0));

  const Grouping families = group_columns(columns, r.global, column_family);
  r.groups = families.keys;
  r.group_global = families.totals;
  r.group_columns = families.counts;
  r.group_shares = Eigen::MatrixXd::Zero(scores.rows(), static_cast<Eigen::Index>(r.groups.size()));
  for (Eigen::Index t = 0; t < scores.rows(); ++t) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      r.group_shares(t, static_cast<Eigen::Index>(families.index_of[c])) +=
          r.shares(t, static_cast<Eigen::Index>(c));
    }
  }
  const Grouping statistics = group_columns(columns, r.global, column_statistic);
  r.statistics = statistics.keys;
  r.statistic_global = statistics.totals;
  r.statistic_columns = statistics.counts;
  r.title = importance_title(r);
  return r;
}

namespace {

// One component's scores per column: XGBoost's feature scores (trees) or |coefficient| x sd
// (linear: the coefficient on the standardised column).
std::vector<double> component_scores(const LoadedComponent& component, const LoadedModel& model,
                                     ImportanceType type, std::size_t columns,
                                     const fs::path& model_dir, const std::string& tag) {
  const auto booster = detail::xgb::Booster::from_buffer(component.model_json);
  const std::size_t booster_columns = detail::xgb::num_features(booster.get());
  if (booster_columns != columns) {
    throw DataError(fmt::format(
        "{}: the {} model of tag {} has {} columns, schema.json {}: the directory is inconsistent",
        model_dir.string(), to_string(component.family), tag, booster_columns, columns));
  }
  if (component.family == Family::kTree) {
    return detail::xgb::feature_scores(booster.get(), to_string(type), columns);
  }
  const detail::LinearWeights linear = detail::gblinear_weights(component.model_json, columns);
  const ColumnScaler& scaler = *model.scaler();
  std::vector<double> out(columns);
  for (std::size_t c = 0; c < columns; ++c) out[c] = std::fabs(linear.weights[c]) * scaler.sd[c];
  return out;
}

}  // namespace

ImportanceReport model_importance(const fs::path& model_dir, ImportanceType type,
                                  std::size_t top_k) {
  const LoadedModel model(model_dir, ModelChoice::kDefault);
  const FeatureSchema& schema = model.schema();
  const std::size_t columns = schema.size();
  Eigen::MatrixXd scores(static_cast<Eigen::Index>(model.tags().size()),
                         static_cast<Eigen::Index>(columns));
  for (std::size_t t = 0; t < model.tags().size(); ++t) {
    const auto& components = model.components()[t];
    std::vector<double> row(columns, 0.0);
    if (components.size() == 1) {
      row = component_scores(components[0], model, type, columns, model_dir, model.tags()[t]);
    } else {
      // A blend: the weighted mean of its models' shares.
      for (const LoadedComponent& component : components) {
        const std::vector<double> part =
            component_scores(component, model, type, columns, model_dir, model.tags()[t]);
        const double total = std::accumulate(part.begin(), part.end(), 0.0);
        if (total <= 0) continue;
        for (std::size_t c = 0; c < columns; ++c) row[c] += component.weight * part[c] / total;
      }
    }
    for (std::size_t c = 0; c < columns; ++c) {
      scores(static_cast<Eigen::Index>(t), static_cast<Eigen::Index>(c)) = row[c];
    }
  }
  ImportanceReport r = summarize_importance(model.tags(), schema.columns(), scores, type, top_k);
  for (TagModel m : model.tag_models()) r.tag_models.push_back(to_string(m));
  r.model_dir = model_dir;
  r.synthetic = model.synthetic_features();
  r.refit = model.uses_refit();
  r.title = importance_title(r);
  return r;
}

TrackExplanation explain_track(const LoadedModel& model, const FeatureSchema& schema,
                               const FeatureMatrix& features, const std::string& track_id,
                               const std::vector<std::size_t>& tag_indices) {
  const std::size_t columns = schema.size();
  if (features.rows() != 1 || features.cols() != static_cast<Eigen::Index>(columns)) {
    throw InvalidArgument(fmt::format("explain: expected one row of {} columns, got ({}, {})",
                                      columns, features.rows(), features.cols()));
  }
  TrackExplanation out;
  out.track_id = track_id;
  out.synthetic = model.synthetic_features();
  out.tags = model.tags();
  out.columns = schema.columns();
  const ScoreMatrix tag_scores = model.predict(features);
  const auto raw = detail::xgb::make_dmatrix(features.data(), 1, columns, 1);
  // A linear model sees a missing value as its column's training mean.
  FeatureMatrix imputed;
  detail::xgb::DMatrixPtr linear_input;
  if (model.scaler()) {
    imputed = impute_means(features, *model.scaler());
    linear_input = detail::xgb::make_dmatrix(imputed.data(), 1, columns, 1);
  }
  for (const std::size_t tag : tag_indices) {
    if (tag >= model.tags().size()) {
      throw InvalidArgument(fmt::format(
          "explain: tag index {} out of range (the model has {} tags)", tag, model.tags().size()));
    }
    for (const LoadedComponent& component : model.components()[tag]) {
      const bool linear = component.family == Family::kLinear;
      const DMatrixHandle dmat = linear ? linear_input.get() : raw.get();
      auto booster = detail::xgb::Booster::from_buffer(component.model_json);
      TagExplanation e;
      e.tag = tag;
      e.model = model.tag_models()[tag];
      e.family = component.family;
      e.weight = component.weight;
      e.tag_probability = tag_scores(0, static_cast<Eigen::Index>(tag));
      // XGBoost's own probability (float, as `predict` writes it), so that `tagged` agrees with
      // the decisions predict makes.
      e.probability = booster.predict(dmat).at(0);
      e.margin = detail::xgb::predict_margins(booster.get(), dmat).at(0);
      std::vector<double> values =
          detail::xgb::predict_contributions(booster.get(), dmat, 1, columns);
      e.bias = values.back();
      values.pop_back();
      if (linear) {
        // XGBoost gives w_j x_j; centred on the training means, w_j (x_j - mean_j) says how far
        // this track's value moves the log-odds from an average track's.
        const detail::LinearWeights weights =
            detail::gblinear_weights(component.model_json, columns);
        for (std::size_t c = 0; c < columns; ++c) {
          const double shift = weights.weights[c] * model.scaler()->mean[c];
          values[c] -= shift;
          e.bias += shift;
        }
      }
      e.contributions = std::move(values);
      e.threshold = model.thresholds()[tag];
      e.tagged = e.tag_probability > e.threshold;  // strict, as decide() does
      std::map<std::string, double> by_group;
      for (std::size_t c = 0; c < columns; ++c)
        by_group[column_family(out.columns[c])] += e.contributions[c];
      std::vector<std::string> names;
      std::vector<double> magnitudes;
      for (const auto& [name, value] : by_group) {
        names.push_back(name);
        magnitudes.push_back(std::fabs(value));
      }
      for (std::size_t i : descending(magnitudes)) {
        e.groups.push_back(names[i]);
        e.group_contributions.push_back(by_group[names[i]]);
      }
      out.explained.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace moodboost
