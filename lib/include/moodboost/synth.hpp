/// \file synth.hpp
/// moodboost's built-in default dataset: synthetic MTG-Jamendo-shaped split files and
/// AcousticBrainz-shaped Essentia "music 1.0" feature files with a planted, documented,
/// seeded, tag-dependent signal. It lets the whole pipeline (load, train, predict, score) run
/// without the licensed download, in tests at small scale and in benchmarks at the real scale
/// (17,982 tracks). The data are NOT real audio features; every file says so (see
/// synth_model_markdown() for the model and the marker file kSynthMarkerFile).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/dataset.hpp"
#include "moodboost/progress.hpp"

namespace moodboost {

// ---------------------------------------------------------------------------------------------
// Facts of the real MTG-Jamendo autotagging_moodtheme split-0 (data/jamendo_moodtheme_split0_*.tsv)

/// Prefix of every mood/theme tag in the split files: "mood/theme---calm".
inline constexpr std::string_view kMoodThemePrefix = "mood/theme---";

/// The three splits of a split set, in this order everywhere in synth.
inline constexpr std::array<std::string_view, 3> kSynthSplitNames = {"train", "validation", "test"};

/// One of the 56 mood/theme tags of split-0 with its number of positive tracks per split.
struct JamendoTagFacts {
  std::string_view name;                 ///< without the prefix, e.g. "calm"
  std::array<std::size_t, 3> positives;  ///< train, validation, test
};

/// One split of split-0: sizes and the distribution of tags per track.
struct JamendoSplitFacts {
  std::string_view split;                         ///< "train", "validation" or "test"
  std::size_t tracks = 0;                         ///< rows of the split file
  std::size_t artists = 0;                        ///< distinct ARTIST_ID
  std::size_t albums = 0;                         ///< distinct ALBUM_ID
  std::size_t labels = 0;                         ///< (track, tag) pairs
  std::array<std::size_t, 8> tracks_with_k_tags;  ///< [k-1] = tracks with exactly k tags
};

/// The 56 split-0 tags in the dataset's (alphabetical) order with their real positive counts,
/// exactly as data/jamendo_moodtheme_split0_tags.tsv lists them.
std::span<const JamendoTagFacts> jamendo_split0_tags();

/// The three split-0 splits (train, validation, test), as data/jamendo_moodtheme_split0_splits.tsv.
std::span<const JamendoSplitFacts> jamendo_split0_splits();

/// Tracks in the union of the three split-0 splits (9,949 + 3,802 + 4,231).
inline constexpr std::size_t kJamendoSplit0Tracks = 17982;

// ---------------------------------------------------------------------------------------------
// Split sets

/// Three splits and the tag list, as synth generates them.
struct SynthSplitSet {
  std::vector<std::string> tags;             ///< full names, sorted
  std::array<std::vector<Track>, 3> splits;  ///< train, validation, test; rows by numeric id
};

/// Default seed of `moodboost synth` (the year of the MediaEval task).
inline constexpr std::uint64_t kDefaultSynthSeed = 2020;

/// Options of generate_synthetic_splits().
struct SynthSplitOptions {
  std::uint64_t seed = kDefaultSynthSeed;
  /// Tracks over the three splits. kJamendoSplit0Tracks gives exactly the real split sizes and
  /// per-tag counts; fewer scales every split and every count down proportionally.
  std::size_t tracks = kJamendoSplit0Tracks;
  /// Every tag keeps at least this many positives in every split (applies when scaling down).
  std::size_t min_positives = 3;
};

/// Generates a split set shaped like MTG-Jamendo split-0: real split sizes (scaled when
/// options.tracks < 17,982), per split and tag exactly the real number of positives (scaled,
/// at least min_positives), 1-8 tags per track distributed as in the real splits, artists
/// never shared between splits, albums within artists, ids `track_9NNNNNN` (synthetic ids all
/// start with 9, so they never collide with real ones), durations drawn from a log-normal fitted
/// to the real ones. Deterministic given the options. Throws InvalidArgument when options.tracks
/// is too small for the 56 tags (the message says the minimum, min_synthetic_tracks()) or above
/// 17,982, or when min_positives is 0.
SynthSplitSet generate_synthetic_splits(const SynthSplitOptions& options);

/// The smallest `tracks` for which generate_synthetic_splits() succeeds with \p options.
std::size_t min_synthetic_tracks(const SynthSplitOptions& options);

/// Text of a split file exactly as the real ones: CRLF line endings, header
/// `TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS`, one tag per extra column, DURATION
/// with one decimal, final CRLF.
std::string format_split_tsv(std::span<const Track> tracks);

/// Text of a tag list file: one full tag name per line, LF, final newline.
std::string format_tag_list(std::span<const std::string> tags);

// ---------------------------------------------------------------------------------------------
// Feature files

/// Version of the signal model; it changes whenever a generated value changes.
inline constexpr std::string_view kSynthModelVersion = "moodboost-synth-1";

/// Name of the marker file synth writes at the top of a features directory.
inline constexpr std::string_view kSynthMarkerFile = "moodboost-synthetic.json";

/// Options of write_synthetic_features().
struct SynthFeatureOptions {
  std::uint64_t seed = kDefaultSynthSeed;
  int threads = 0;      ///< OpenMP threads, 0 = all cores; the output does not depend on it
  ProgressFn progress;  ///< called with (files written, total); may be empty
  /// Flush the file system once (syncfs) after the feature files and before the marker, so that
  /// a marker on disk means its files are on disk. Files are written atomically (temporary file
  /// + rename) either way; without the flush a power cut may lose recent files.
  bool sync = true;
};

/// What write_synthetic_features() wrote.
struct SynthFeatureSummary {
  std::size_t files = 0;     ///< feature files (the marker file not counted)
  std::uintmax_t bytes = 0;  ///< their total size
  double seconds = 0.0;      ///< wall time
  int threads = 1;           ///< threads used
};

/// The AcousticBrainz/Essentia "music 1.0" JSON text of one synthetic track: the key set and
/// shapes of the real files (2647 numbers in lowlevel/rhythm/tonal, 4 key/scale strings,
/// beats_position with beats_count entries, metadata marked synthetic), in Essentia's own
/// layout, numbers with 12 significant digits. A function of (\p track's id, artist, album,
/// duration, PATH and tag names, \p seed) only: the signal depends on tag names, not on a tag
/// list's order.
std::string synthetic_feature_json(const Track& track, std::uint64_t seed);

/// Writes synthetic_feature_json() of every track to \p features_dir / feature_relpath(track)
/// (atomically, in parallel) and the marker file kSynthMarkerFile in \p features_dir. Files
/// are byte-identical whatever options.threads is. Throws IoError, DataError (a bad PATH, or
/// two tracks with the same feature file) or InvalidArgument (threads < 0).
SynthFeatureSummary write_synthetic_features(const std::filesystem::path& features_dir,
                                             std::span<const Track> tracks,
                                             const SynthFeatureOptions& options);

/// Contents of a synth marker file.
struct SynthMarker {
  std::uint64_t seed = 0;
  std::string model;              ///< kSynthModelVersion of the generator
  std::string moodboost_version;  ///< version() of the generator
  std::size_t files = 0;          ///< feature files written with the marker
};

/// Reads \p features_dir / kSynthMarkerFile: nullopt when there is none (real data), the marker
/// when there is one. Throws ParseError when the file exists but is not a valid marker.
std::optional<SynthMarker> read_synth_marker(const std::filesystem::path& features_dir);

/// The marker file's JSON text.
std::string format_synth_marker(const SynthMarker& marker);

/// SYNTHETIC.md: says plainly that the data are synthetic, documents the signal model exactly
/// (latent factors, tag loadings, descriptor effects, noise levels, all rendered from the
/// constants the generator uses) and how to use the real MTG-Jamendo download instead.
/// \p seed and \p split_summary (e.g. "9,949 / 3,802 / 4,231 tracks") are quoted in it.
std::string synth_model_markdown(std::uint64_t seed, std::string_view split_summary);

}  // namespace moodboost
