/// \file feature_schema.hpp
/// The feature schema: which JSON fields of an Essentia/AcousticBrainz low-level file become which
/// columns of the feature matrix, in which order.
///
/// A schema has two parts:
/// - **fields**: every field of the `lowlevel`, `rhythm` and `tonal` sections that the training
///   files contained, with its shape (scalar, vector of n numbers, r x c matrix, categorical
///   string, variable-length sequence, or ignored). Fields stay in the schema even when none of
///   their columns is selected, so that loading can tell "known but not used" from "unknown".
/// - **columns**: the selected columns, in matrix order. A column is one number of one field.
///
/// Column names are the JSON path joined by '.', then the element index:
/// `lowlevel.spectral_centroid.mean`, `lowlevel.mfcc.mean.3`, `lowlevel.mfcc.cov.3.7` (row-major),
/// `tonal.thpcp.0`; a categorical string is one-hot: `tonal.key_key=A#`; the summary of
/// `rhythm.beats_position` is `rhythm.beats_position.count`, `.interval_mean`, `.interval_std`.
///
/// Canonical order (used whenever a schema is discovered): sections `lowlevel`, `rhythm`, `tonal`;
/// inside a section, keys sorted by byte value at every level; vector elements in index order,
/// matrices row-major, one-hot columns in vocabulary order. The order never depends on the key
/// order of any file. A saved schema keeps the order it was saved with.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moodboost {

/// The 12 keys of Essentia's key and chord estimators, spelled with sharps (one-hot vocabulary).
inline constexpr const char* kKeyVocabulary[] = {"A",  "A#", "B", "C",  "C#", "D",
                                                 "D#", "E",  "F", "F#", "G",  "G#"};
/// The scales of Essentia's key and chord estimators (one-hot vocabulary).
inline constexpr const char* kScaleVocabulary[] = {"major", "minor"};

/// Kinds of field in an Essentia low-level file.
enum class FieldKind {
  kScalar,  ///< one number (`lowlevel.average_loudness`, `lowlevel.dissonance.mean`); bools are 0/1
  kVector,  ///< a fixed-length list of numbers (`lowlevel.barkbands.mean`, `tonal.thpcp`)
  kMatrix,  ///< a fixed-size list of lists, row-major (`lowlevel.mfcc.cov`)
  kCategory,  ///< a string over a fixed vocabulary, one-hot encoded (`tonal.key_key`)
  kSequence,  ///< a variable-length list of numbers (`rhythm.beats_position`); at most summarised
  kIgnored,   ///< a value no column can come from (e.g. a list of strings); skipped when loading
};

/// "scalar", "vector", "matrix", "category", "sequence" or "ignored".
std::string_view to_string(FieldKind kind) noexcept;

/// One field (leaf) of the JSON tree and its shape.
struct FeatureField {
  std::vector<std::string> path;  ///< JSON keys from the top, e.g. {"lowlevel", "mfcc", "cov"}
  FieldKind kind = FieldKind::kScalar;
  std::size_t rows = 1;                 ///< kVector: 1; kMatrix: number of rows; otherwise 1
  std::size_t cols = 1;                 ///< kVector: length; kMatrix: numbers per row; otherwise 1
  std::vector<std::string> vocabulary;  ///< kCategory: the one-hot values, in column order

  /// The path joined by '.', e.g. "lowlevel.mfcc.cov".
  [[nodiscard]] std::string name() const;
  /// Numbers the field holds in a file: 1, cols, rows * cols; 0 for the other kinds.
  [[nodiscard]] std::size_t numbers() const noexcept;
  /// Shape for messages: "a number", "36 numbers", "13x13 numbers", "a string over 12 values", ...
  [[nodiscard]] std::string shape_text() const;

  friend bool operator==(const FeatureField&, const FeatureField&) = default;
};

/// The vocabulary a string field is one-hot encoded with, chosen by its last key: "key" or
/// "*_key" -> kKeyVocabulary; "scale" or "*_scale" -> kScaleVocabulary. Empty for any other
/// string field (such a field is FieldKind::kIgnored).
std::vector<std::string> category_vocabulary(std::string_view last_key);

/// True for `rhythm.beats_position`, the one variable-length list of the music extractor.
bool is_sequence_field(const std::vector<std::string>& path);

/// One column of the feature matrix.
///
/// Family: `section` is the first key; `statistic` is the last key of the field when it names an
/// Essentia statistic (mean, stdev, var, median, min, max, dmean, dmean2, dvar, dvar2, cov, icov)
/// and the field is inside a descriptor, otherwise empty; `descriptor` is what lies between
/// (e.g. "mfcc", "loudness_ebu128.momentary", "key_edma.key"). For the beats summary, descriptor is
/// "beats_position" and statistic "count", "interval_mean" or "interval_std".
///
/// Group (for reports): "<section>.<first key after the section>", except that descriptors
/// starting with one of the bundle prefixes below share one group named "<section>.<prefix>*":
/// lowlevel: barkbands_, erbbands_, melbands_, silence_rate_, spectral_contrast_,
/// spectral_energyband_; rhythm: bpm_histogram_; tonal: chords_, key_, tuning_.
/// So `lowlevel.mfcc.cov.3.7` -> "lowlevel.mfcc", `tonal.hpcp.mean.3` -> "tonal.hpcp",
/// `rhythm.bpm_histogram_first_peak_bpm.mean` -> "rhythm.bpm_histogram_*",
/// `lowlevel.silence_rate_20dB.mean` -> "lowlevel.silence_rate_*",
/// `tonal.key_key=A#` -> "tonal.key_*" (but `lowlevel.barkbands.mean.0` -> "lowlevel.barkbands").
struct Column {
  std::string name;         ///< e.g. "lowlevel.mfcc.cov.3.7", "tonal.key_key=A#"
  std::string section;      ///< "lowlevel", "rhythm" or "tonal"
  std::string descriptor;   ///< e.g. "mfcc"
  std::string statistic;    ///< e.g. "cov"; empty for a plain value
  std::string group;        ///< e.g. "lowlevel.mfcc", "rhythm.bpm_histogram_*"
  std::size_t field = 0;    ///< index into FeatureSchema::fields()
  std::size_t element = 0;  ///< position inside the field: flat row-major index, vocabulary
                            ///< position, or 0/1/2 for the beats summary

  friend bool operator==(const Column&, const Column&) = default;
};

/// Names of the beats summary columns, appended to "rhythm.beats_position.".
inline constexpr const char* kSequenceSummary[] = {"count", "interval_mean", "interval_std"};

/// An ordered set of fields and selected columns. Immutable once built; cheap to copy.
class FeatureSchema {
 public:
  /// Format version written by to_json() and accepted by from_json().
  static constexpr int kFormatVersion = 1;

  /// An empty schema (no fields, no columns).
  FeatureSchema() = default;

  /// Builds a schema from fields and the names of the selected columns, in matrix order. Every
  /// name must be a column that one of the fields generates (see Column), at most once.
  /// Throws DataError naming the first offending field or column.
  FeatureSchema(std::vector<FeatureField> fields, const std::vector<std::string>& column_names);

  /// All columns every field generates, in canonical order (sequence summaries only when
  /// \p summarize_sequences). \p fields must already be in canonical order.
  static FeatureSchema all_columns(std::vector<FeatureField> fields, bool summarize_sequences);

  /// Every column name \p field generates, in element order (empty for kIgnored; the three
  /// summary names for kSequence).
  static std::vector<std::string> column_names_of(const FeatureField& field);

  /// The fields, in canonical order.
  [[nodiscard]] const std::vector<FeatureField>& fields() const noexcept { return fields_; }
  /// The columns, in matrix order.
  [[nodiscard]] const std::vector<Column>& columns() const noexcept { return columns_; }
  /// Number of columns.
  [[nodiscard]] std::size_t size() const noexcept { return columns_.size(); }
  /// Column names in matrix order.
  [[nodiscard]] std::vector<std::string> column_names() const;
  /// Position of the column called \p name, if any.
  [[nodiscard]] std::optional<std::size_t> find(std::string_view name) const;
  /// Number of columns per section ("lowlevel", "rhythm", "tonal"; sections without columns are
  /// absent).
  [[nodiscard]] std::map<std::string, std::size_t> counts_per_section() const;
  /// Number of columns per group (see Column::group).
  [[nodiscard]] std::map<std::string, std::size_t> counts_per_group() const;
  /// Number of columns that come from numbers (everything except one-hot columns).
  [[nodiscard]] std::size_t numeric_count() const noexcept;

  /// A schema with the same fields and only the columns for which \p keep(column) is true.
  template <typename Predicate>
  [[nodiscard]] FeatureSchema filtered(Predicate keep) const {
    std::vector<std::string> names;
    for (const Column& c : columns_) {
      if (keep(c)) names.push_back(c.name);
    }
    return FeatureSchema(fields_, names);
  }

  /// The schema as JSON text (format "moodboost-feature-schema", version kFormatVersion):
  /// {"format", "version", "column_count", "fields": [{"path": [...], "kind", "rows"?, "cols"?,
  /// "values"?}], "columns": ["name", ...]}.
  [[nodiscard]] std::string to_json() const;
  /// Parses to_json() output. \p file is used in messages only. Throws ParseError (naming \p file
  /// and the JSON pointer) for malformed text, a wrong format name or version, or inconsistent
  /// content.
  static FeatureSchema from_json(std::string_view text, const std::filesystem::path& file);
  /// Writes to_json() atomically to \p path. Throws IoError.
  void save(const std::filesystem::path& path) const;
  /// Reads a schema saved by save(). Throws IoError or ParseError.
  static FeatureSchema load(const std::filesystem::path& path);

  /// Same fields and same columns in the same order.
  friend bool operator==(const FeatureSchema& a, const FeatureSchema& b) {
    return a.fields_ == b.fields_ && a.columns_ == b.columns_;
  }

 private:
  std::vector<FeatureField> fields_;
  std::vector<Column> columns_;
};

}  // namespace moodboost
