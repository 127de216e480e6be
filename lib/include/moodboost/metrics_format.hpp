/// \file metrics_format.hpp
/// The text forms of evaluation results and thresholds, byte for byte as the official MediaEval
/// scripts write them (evaluate.py, calculate_decisions.py), plus a JSON form with per-tag values.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "moodboost/metrics.hpp"

namespace moodboost {

/// One metric of an Evaluation under its official name.
struct NamedMetric {
  std::string_view name;  ///< "ROC-AUC-macro", "PR-AUC-micro", "F-score-macro", ...
  double value = 0;       ///< the value
};

/// The metrics in the reference order: ROC-AUC, PR-AUC, precision, recall, F-score for "macro",
/// then the same for "micro"; without decisions only the four AUC lines (ROC-AUC-macro,
/// PR-AUC-macro, ROC-AUC-micro, PR-AUC-micro).
std::vector<NamedMetric> named_metrics(const Evaluation& evaluation);

/// The official results file (evaluate.py -o): "name<TAB>value" with value as "%.6f", LF, no
/// header, named_metrics() order. A NaN value (SingleClassTagPolicy::kExclude) is written as an
/// empty field, as pandas writes NaN.
std::string format_results_file(const Evaluation& evaluation);

/// What evaluate.py prints: one '{:20}\t{:6f}' line per metric (name left-aligned in 20
/// columns, a tab, the value with 6 decimals; NaN prints as "nan").
std::string format_results_display(const Evaluation& evaluation);

/// The results as JSON: {"metrics": {name: value, ...}, "tags": [{"index", "tag", "positives",
/// "ROC-AUC", "PR-AUC" and, with decisions, "precision", "recall", "F-score", "tp", "fp",
/// "fn"}, ...], "excluded_tags": [index, ...]}. Values are shortest round-trip decimals; NaN is
/// null. "tag" is present when \p tag_names has a name for the column.
std::string format_results_json(const Evaluation& evaluation,
                                std::span<const std::string> tag_names = {});

/// Where the predictions of a results.json come from (`moodboost predict` writes it beside
/// predictions.npy; `compare` reads it).
struct ResultsProvenance {
  bool synthetic = false;  ///< the model or the split's features are moodboost's synthetic data
  std::filesystem::path model_dir;  ///< the model directory (absolute)
  std::filesystem::path split;      ///< the split file predicted (absolute)
  /// Per tag, in tag order: (tag, the model it used: "tree", "linear" or "blend").
  std::vector<std::pair<std::string, std::string>> tag_models;
};

/// results.json as `moodboost predict` writes it: "synthetic", "model_dir", "split",
/// "tag_models" ({tag: model}), then, when \p evaluation is given, format_results_json()'s members.
std::string format_results_json(const ResultsProvenance& provenance, const Evaluation* evaluation,
                                std::span<const std::string> tag_names = {});

/// The provenance of a results.json, or nothing when the file has no "synthetic" member (not
/// written by moodboost). "model_dir", "split" and "tag_models" may be absent (older files).
/// Throws ParseError naming \p file and the place.
std::optional<ResultsProvenance> parse_results_provenance(std::string_view text,
                                                          const std::filesystem::path& file);

/// The thresholds file of calculate_decisions.py (pandas DataFrame.to_csv(sep='\t',
/// header=None)): "tag<TAB>threshold" per tag, LF, the threshold as Python's repr(float) (the
/// shortest decimal that reads back to the same double). A tag containing '"' is quoted as the
/// csv module does. Throws DataError when the sizes differ.
std::string format_thresholds_file(std::span<const std::string> tags,
                                   std::span<const double> thresholds);

/// What calculate_decisions.py prints: one '{}\t{:6f}' line (tag, threshold) per tag.
/// Throws DataError when the sizes differ.
std::string format_thresholds_display(std::span<const std::string> tags,
                                      std::span<const double> thresholds);

/// Python's repr() of a float: "0.1", "1.0", "1e-05", "1e+16", "nan", "inf".
std::string python_float_repr(double value);

}  // namespace moodboost
