/// \file reference.hpp
/// Published figures that `moodboost compare` sets our systems against: the VGG-ish baseline's
/// overall and per-tag test-set figures, and reference lines (the popularity baseline, the best
/// 2019 and 2020 runs). They are the project's tables data/reference_systems.tsv and
/// data/reference_per_tag.tsv, compiled into the library (builtin_references()), so that the
/// program needs no data files at run time.
///
/// Published figures are results that someone else measured: there are no predictions behind
/// them here, so no bootstrap interval can be computed for them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moodboost {

/// One published system: its overall figures and, where published, its per-tag figures.
struct PublishedSystem {
  std::string id;    ///< short identifier, e.g. "vggish"
  std::string role;  ///< "baseline" (has per-tag figures) or "reference" (a line to compare to)
  std::string year;  ///< e.g. "2019/2020"
  /// Test tracks the figures were measured on (4231 for the MTG-Jamendo split-0 test set);
  /// 0 = unknown.
  std::size_t tracks = 0;
  std::string name;  ///< human-readable name, e.g. "VGG-ish CNN baseline (mel-spectrograms)"
  /// Overall figures in the table's column order, by official metric name ("PR-AUC-macro", ...);
  /// std::nullopt where the figure was not published.
  std::vector<std::pair<std::string, std::optional<double>>> overall;
  std::vector<std::string> tags;  ///< per-tag rows, in table order (empty: none published)
  std::vector<double> roc_auc;    ///< per tag, parallel to tags
  std::vector<double> pr_auc;     ///< per tag, parallel to tags
  std::string source;             ///< where the figures come from (file, or "built-in table")
  /// True for figures published by a third party (the built-in table); false for figures read
  /// with read_per_tag_figures(), whose origin moodboost cannot vouch for.
  bool published = false;

  /// The overall figure called \p metric, or std::nullopt when absent or not published.
  [[nodiscard]] std::optional<double> overall_value(std::string_view metric) const;
  /// True when per-tag figures are available.
  [[nodiscard]] bool has_per_tag() const noexcept { return !tags.empty(); }
  /// Row of \p tag in the per-tag figures, if present.
  [[nodiscard]] std::optional<std::size_t> find_tag(std::string_view tag) const;
};

/// A set of published systems.
struct ReferenceTable {
  std::vector<PublishedSystem> systems;  ///< in table order

  /// The system called \p id, or nullptr.
  [[nodiscard]] const PublishedSystem* find(std::string_view id) const noexcept;
};

/// The built-in table (data/reference_systems.tsv + data/reference_per_tag.tsv as compiled in).
/// Parsed once; the reference is valid for the life of the program.
const ReferenceTable& builtin_references();

/// The two built-in tables' text, exactly as in data/ (for tests and for `--help`).
std::string_view builtin_reference_systems_tsv() noexcept;
/// See builtin_reference_systems_tsv().
std::string_view builtin_reference_per_tag_tsv() noexcept;

/// Parses the two tables. Lines starting with '#' are comments. The systems table's header is
/// `id role year tracks name <metric>...`; each value is a number or "-" (not published). The
/// per-tag table's header is `system tag ROC-AUC PR-AUC`, and every system it names must be in the
/// systems table. \p systems_file and \p per_tag_file name the texts in error messages. Throws
/// ParseError (file, line, what was expected and found) for a wrong header, a wrong column count, a
/// value that is not a finite number (or not in [0, 1]), a duplicate id or (system, tag) pair, or
/// an unknown system.
ReferenceTable parse_reference_table(std::string_view systems_tsv,
                                     const std::filesystem::path& systems_file,
                                     std::string_view per_tag_tsv,
                                     const std::filesystem::path& per_tag_file);

/// Reads a per-tag figures file for `moodboost compare --baseline FILE`: '#' comment lines, then a
/// header naming at least the columns `tag`, `ROC-AUC` and `PR-AUC` (in any order; other columns
/// are ignored), then one row per tag, as in the organisers' vggish_per_tag.tsv. The overall
/// ROC-AUC-macro and PR-AUC-macro are the means of the per-tag values (the only overall figures
/// such a file can give). The result has id \p id, role "baseline" and source \p file. Throws
/// IoError, and ParseError naming the file and line for a missing column, a short row, a value that
/// is not a number in [0, 1], a duplicate tag, or a file without rows.
PublishedSystem read_per_tag_figures(const std::filesystem::path& file, std::string id);

}  // namespace moodboost
