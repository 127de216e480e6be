/// \file importance.hpp
/// "Which descriptors carry each tag?" Feature importance of a model directory's boosters, per tag
/// and over all tags, by column and grouped by descriptor family and by statistic; and per-track
/// explanations ("why was this track tagged dark?") from XGBoost's SHAP contributions.
///
/// Importance comes from XGBoost's feature scores (XGBoosterFeatureScore) of each tag's trees; a
/// linear model scores a column by |coefficient| x the column's training standard deviation (its
/// coefficient on the standardised column), and a blend by the weighted mean of its two models'
/// shares. A tag's scores are normalised to shares that sum to 1 (a booster without any split has
/// no shares and is listed), and the global importance of a column is its mean share over the
/// tags that have splits. Families are the loader's column groups (`lowlevel.mfcc`, `tonal.hpcp`,
/// `rhythm.bpm_histogram_*`, ...) and statistics (`mean`, `var`, `dmean`, ...; "(value)" for a
/// plain number); a family's share is the sum of its columns' shares. Columns that no split uses
/// are kept, with zero (XGBoost leaves them out).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/feature_schema.hpp"
#include "moodboost/model.hpp"
#include "moodboost/types.hpp"

namespace moodboost {

/// XGBoost's importance types.
enum class ImportanceType {
  kGain,        ///< average gain of the splits on the column
  kTotalGain,   ///< total gain of the splits on the column
  kWeight,      ///< number of splits on the column
  kCover,       ///< average cover (hessian sum) of the splits on the column
  kTotalCover,  ///< total cover of the splits on the column
};
/// "gain", "total_gain", "weight", "cover" or "total_cover"; throws InvalidArgument otherwise.
ImportanceType parse_importance_type(std::string_view text);
/// XGBoost's name of \p type ("gain", ...).
std::string to_string(ImportanceType type);

/// The label for a column without a statistic in the by-statistic grouping.
inline constexpr const char* kPlainValueStatistic = "(value)";

/// The family a column is grouped under: its loader group (Column::group), or its section when
/// it has none, or "(other)".
std::string column_family(const Column& column);
/// The statistic a column is grouped under: Column::statistic, or kPlainValueStatistic.
std::string column_statistic(const Column& column);

/// Feature importance of a model, ready for the reports.
struct ImportanceReport {
  std::string title;  ///< says "SYNTHETIC DATA" for a model trained on synthetic data
  std::filesystem::path model_dir;
  ImportanceType type = ImportanceType::kGain;
  bool synthetic = false;         ///< the model was trained on moodboost's synthetic data
  bool refit = false;             ///< the scores are the refit (train + validation) boosters'
  std::size_t top_k = 20;         ///< columns listed per tag and globally
  std::vector<std::string> tags;  ///< model tag order
  /// Per tag: "tree", "linear" or "blend" (empty when the scores came from elsewhere).
  std::vector<std::string> tag_models;
  std::vector<Column> columns;  ///< the schema's columns, in matrix order
  /// XGBoost's raw scores: tags x columns (0 for a column no split of the tag uses).
  Eigen::MatrixXd scores;
  /// scores normalised per tag (each row sums to 1; all 0 for a tag without splits).
  Eigen::MatrixXd shares;
  std::vector<std::size_t> tags_without_splits;  ///< rows of shares that are all 0
  std::vector<double> global;              ///< per column: mean share over the tags with splits
  std::vector<std::size_t> tags_using;     ///< per column: number of tags with a split on it
  std::vector<std::string> groups;         ///< family names, sorted by global share (largest first)
  Eigen::MatrixXd group_shares;            ///< tags x groups: sum of the tag's shares in the family
  std::vector<double> group_global;        ///< per group: sum of global shares
  std::vector<std::size_t> group_columns;  ///< per group: number of columns
  std::vector<std::string> statistics;     ///< statistic names, sorted by global share
  std::vector<double> statistic_global;    ///< per statistic: sum of global shares
  std::vector<std::size_t> statistic_columns;  ///< per statistic: number of columns
  std::size_t unused_columns = 0;              ///< columns with a global share of 0

  /// Columns by descending global share (ties by matrix order).
  [[nodiscard]] std::vector<std::size_t> global_ranking() const;
  /// Tag \p tag's columns by descending share (ties by matrix order).
  [[nodiscard]] std::vector<std::size_t> tag_ranking(std::size_t tag) const;
};

/// Builds the report from raw scores (tags x columns, non-negative) and the schema's columns.
/// Throws DataError when the shapes disagree or a score is negative or not finite.
ImportanceReport summarize_importance(const std::vector<std::string>& tags,
                                      const std::vector<Column>& columns,
                                      const Eigen::MatrixXd& scores, ImportanceType type,
                                      std::size_t top_k);

/// The feature importance of the boosters in \p model_dir (the default models: refit when the run
/// made them). Throws the errors of LoadedModel, ParseError for a bad schema.json, XgbError, and
/// DataError when a booster's columns disagree with the schema.
ImportanceReport model_importance(const std::filesystem::path& model_dir, ImportanceType type,
                                  std::size_t top_k);

/// importance.md.
std::string importance_markdown(const ImportanceReport& report);
/// importance.tsv: a header, then one row per column (every column, unused ones with 0), in
/// descending global share: `rank`, `column`, `group`, `statistic`, `global_share`, `tags_using`,
/// then one `<tag>` share column per tag. Shares are shortest round-trip decimals.
std::string importance_tsv(const ImportanceReport& report);
/// importance.json (format "moodboost-importance", version 1).
std::string importance_json(const ImportanceReport& report);
/// importance.html: bar charts (global top columns, families, statistics) and a tags x families
/// heatmap, self-contained.
std::string importance_html(const ImportanceReport& report);
/// Writes importance.md, .tsv, .json and .html into \p out_dir atomically; returns their paths.
std::vector<std::filesystem::path> write_importance_reports(const ImportanceReport& report,
                                                            const std::filesystem::path& out_dir);

/// One model's explanation of one tag for one track (a blended tag has two, one per family).
struct TagExplanation {
  std::size_t tag = 0;               ///< column in the model's tag order
  TagModel model = TagModel::kTree;  ///< what the tag uses
  Family family = Family::kTree;     ///< the model explained here
  double weight = 1;                 ///< its weight in the tag's score
  double tag_probability = 0;        ///< the tag's score (the blend's, for a blended tag)
  double probability = 0;            ///< this model's prediction
  double margin = 0;                 ///< log-odds: bias + sum of contributions
  /// The contribution every track gets: the model's base value (trees), or the linear model's
  /// value at the training means (contributions of a linear model are coefficient x (value -
  /// training mean): XGBoost's gblinear contributions, centred).
  double bias = 0;
  double threshold = 0;                     ///< the tag's decision threshold
  bool tagged = false;                      ///< tag_probability > threshold
  std::vector<double> contributions;        ///< per column (log-odds; sum + bias = margin)
  std::vector<std::string> groups;          ///< families, by descending |contribution|
  std::vector<double> group_contributions;  ///< parallel to groups
};

/// Explanations of one track.
struct TrackExplanation {
  std::string track_id;
  bool synthetic = false;
  std::vector<std::string> tags;          ///< model tag order
  std::vector<Column> columns;            ///< the schema's columns
  std::vector<TagExplanation> explained;  ///< the tags asked for, in the order asked
};

/// Explains the \p features row (1 x the schema's columns) of \p track_id with \p model (loaded
/// with the schema \p schema) for the tags \p tag_indices (model columns): one TagExplanation per
/// model of each tag, in the order asked (a blend's trees first). Throws InvalidArgument
/// for a bad tag index or a row of the wrong width, XgbError.
TrackExplanation explain_track(const LoadedModel& model, const FeatureSchema& schema,
                               const FeatureMatrix& features, const std::string& track_id,
                               const std::vector<std::size_t>& tag_indices);

/// A plain-text explanation for the terminal: per tag, probability, decision, and the families
/// (and within the top families, the columns) that push the log-odds up or down, \p top_k of each.
std::string explanation_text(const TrackExplanation& explanation, std::size_t top_k);
/// The explanation as JSON (format "moodboost-explain", version 1), every column included.
std::string explanation_json(const TrackExplanation& explanation);

}  // namespace moodboost
