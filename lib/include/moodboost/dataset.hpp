/// \file dataset.hpp
/// MTG-Jamendo split files, tag vocabularies, label matrices and feature-file paths.
///
/// A split file is a TSV with the header `TRACK_ID ARTIST_ID ALBUM_ID PATH DURATION TAGS` and then
/// one track per line: five fixed columns and one tag per extra tab-separated column. CRLF (as in
/// the real files) and LF line endings are both accepted. Nothing here knows how many tags there
/// are or what they mean: any vocabulary and any split file works.
#pragma once

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/types.hpp"

namespace moodboost {

/// One row of a split file.
struct Track {
  std::string track_id;           ///< TRACK_ID, e.g. "track_0000948"
  std::string artist_id;          ///< ARTIST_ID, e.g. "artist_000087"
  std::string album_id;           ///< ALBUM_ID, e.g. "album_000149"
  std::string path;               ///< PATH of the audio file, e.g. "48/948.mp3"
  double duration_s = 0;          ///< DURATION in seconds
  std::vector<std::string> tags;  ///< the row's tags, in file order (no duplicates)
  std::size_t line = 0;           ///< 1-based line number in the split file (the header is line 1)
};

/// A parsed split file: its tracks in file order (the row order of every matrix built from it).
struct Split {
  std::filesystem::path file;  ///< where it was read from; empty for a split that was not loaded
  std::vector<Track> tracks;   ///< in file order

  /// True when this split was read from a file (see SplitSet: a command may load only some splits).
  [[nodiscard]] bool loaded() const noexcept { return !file.empty(); }
  /// Number of (track, tag) pairs, i.e. the number of labels in the file.
  [[nodiscard]] std::size_t label_count() const noexcept;
};

/// Reads a split TSV. Throws IoError when it cannot be read, and ParseError naming the file and
/// line for: an empty file, a UTF-8 byte-order mark, a wrong header, a file with a header but no
/// tracks, an empty line, a row with fewer than 6 tab-separated columns (five fixed columns and at
/// least one tag), an empty field, a carriage return other than a CRLF line ending, a DURATION
/// that is not a finite number >= 0, a tag listed twice in one row, and a TRACK_ID that appeared
/// on an earlier line.
Split read_split(const std::filesystem::path& tsv);

/// Parses split-file text already in memory; \p file is only used in error messages.
/// Same rules and errors as read_split().
Split parse_split(std::string_view text, const std::filesystem::path& file);

/// Reads a tag vocabulary: one tag per line, LF or CRLF, final newline optional. Throws IoError
/// when unreadable and ParseError naming the file and line for an empty file, a UTF-8 byte-order
/// mark, a blank line, a line with a tab or with a carriage return other than a CRLF ending, or a
/// tag that appeared on an earlier line.
std::vector<std::string> read_tag_list(const std::filesystem::path& file);

/// The three files of a split set.
struct SplitFiles {
  std::filesystem::path train;       ///< "*-train.tsv"; empty when not given/found
  std::filesystem::path validation;  ///< "*-validation.tsv"; empty when not given/found
  std::filesystem::path test;        ///< "*-test.tsv"; empty when not given/found
};

/// Finds the split files in \p dir (as in the real `splits/split-0/`): exactly one file whose
/// name ends in "-train.tsv", one ending in "-validation.tsv" and one ending in "-test.tsv".
/// Throws IoError when \p dir is not a readable directory and DataError, listing the .tsv files
/// that were found, when a kind matches more than one file or (with \p require_all) none. Without
/// \p require_all, a kind with no file is left empty.
SplitFiles find_split_files(const std::filesystem::path& dir, bool require_all = true);

/// What to do with a tag that a split file uses but the vocabulary lacks.
enum class UnknownTagPolicy {
  kError,   ///< throw ParseError naming the file, line and tag
  kIgnore,  ///< drop the label and count it
};

/// The tracks x tags label matrix of \p split, columns in \p tags order (1 = the track has the
/// tag). Tags are matched exactly (case-sensitive). With UnknownTagPolicy::kError a tag missing
/// from \p tags throws ParseError ("<file>: line 12: tag 'x' is not in the tag vocabulary (56
/// tags)"); with Ignore it is dropped and counted in \p unknown_count (when not null). Throws
/// DataError when \p tags contains a duplicate.
LabelMatrix label_matrix(const Split& split, const std::vector<std::string>& tags,
                         UnknownTagPolicy policy, std::size_t* unknown_count = nullptr);

/// The sorted set (byte order, as std::string compares) of the tags used in the given splits;
/// null pointers and splits that were not loaded are skipped. This is the default vocabulary.
std::vector<std::string> tags_in(std::initializer_list<const Split*> splits);

/// The path of \p track's feature file, relative to the features directory: PATH with ".json"
/// instead of its ".mp3" suffix ("48/948.mp3" -> "48/948.json"). Throws DataError naming the track
/// and line, after \p split_file when given, when PATH does not end in ".mp3", is absolute, or
/// has a ".." component (a PATH must stay inside the features directory).
std::filesystem::path feature_relpath(const Track& track,
                                      const std::filesystem::path& split_file = {});

/// feature_relpath() of every track of \p split, in order; errors name split.file.
std::vector<std::string> feature_relpaths(const Split& split);
/// The TRACK_ID of every track of \p split, in order (the row ids of its feature matrix).
std::vector<std::string> track_ids(const Split& split);

/// A tag's short name for tables and plots: "<category>---<name>" gives "<name>"
/// ("mood/theme---happy" -> "happy", "genre---rock" -> "rock"); any other tag is returned
/// unchanged.
std::string tag_display_name(std::string_view tag);

/// A split set: train/validation/test splits and the vocabulary that orders every label matrix.
/// A command may load only some splits (Split::loaded()).
struct SplitSet {
  Split train;                      ///< the training split (Split::loaded() false when not loaded)
  Split validation;                 ///< the validation split
  Split test;                       ///< the test split
  std::vector<std::string> tags;    ///< the vocabulary: column order of every label matrix
  std::filesystem::path tags_file;  ///< the vocabulary file; empty when tags = tags_in(splits)
  UnknownTagPolicy unknown_tag_policy = UnknownTagPolicy::kError;  ///< as passed to the loader
  /// Labels dropped because their tag is not in `tags` (UnknownTagPolicy::kIgnore), per split.
  std::size_t unknown_labels_train = 0, unknown_labels_validation = 0, unknown_labels_test = 0;

  /// label_matrix(split, tags, unknown_tag_policy) of one of this set's splits.
  [[nodiscard]] LabelMatrix labels(const Split& split) const;
  /// Total labels dropped for unknown tags, over all loaded splits.
  [[nodiscard]] std::size_t unknown_labels() const noexcept {
    return unknown_labels_train + unknown_labels_validation + unknown_labels_test;
  }
};

/// Loads every non-empty file of \p files and the vocabulary: \p tags_file when given, otherwise
/// the sorted union of the tags used in the loaded splits (all of them, so that a command needing
/// only some splits still sees the same columns as one needing all). Each split is checked against
/// the vocabulary under \p policy (errors as label_matrix()). Throws DataError when a TRACK_ID
/// appears in two splits (train/test leakage), and the errors of read_split()/read_tag_list().
SplitSet load_split_set(const SplitFiles& files,
                        const std::optional<std::filesystem::path>& tags_file,
                        UnknownTagPolicy policy = UnknownTagPolicy::kError);

}  // namespace moodboost
